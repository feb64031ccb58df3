// Case 2, property tests: the packet path's invariants under fast-check's generated inputs. They
// live in the jest suite (test/unit/parse-properties.test.ts, part of `npm test`); the chaos run
// runs that suite too, so that its table covers every case.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runToCompletion } from '../../helpers/agent-process.js';
import type { ChaosCase } from '../context.js';
import { check } from '../report.js';

const SUITE = 'test/unit/parse-properties.test.ts';

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; duration?: number; failureMessages: string[] }> }>;
}

export const propertiesCase: ChaosCase = {
  n: '2',
  id: 'properties',
  title: 'property tests (fast-check): parse, scan, shape',
  async run(ctx, c) {
    const out = join(ctx.dir, 'properties.json');
    const jest = join(REPO_ROOT, 'node_modules/jest/bin/jest.js');
    const r = await runToCompletion(
      [
        process.execPath,
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        jest,
        '--config',
        join(REPO_ROOT, 'jest.config.js'),
        '--json',
        `--outputFile=${out}`,
        join(REPO_ROOT, SUITE),
      ],
      120_000,
    );
    let json: JestJson | undefined;
    try {
      json = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
    } catch {
      c.details.push(`jest wrote no results (exit ${r.code}): ${r.stderr.slice(-1500)}`);
    }
    const tests = json?.testResults.flatMap((t) => t.assertionResults) ?? [];
    for (const t of tests)
      c.details.push(
        `${t.status === 'passed' ? 'ok  ' : 'FAIL'} ${t.title}${t.duration ? ` (${t.duration} ms)` : ''}${t.failureMessages.length ? `\n${t.failureMessages.join('\n').slice(0, 1500)}` : ''}`,
      );
    check(
      c,
      r.code === 0 && tests.length >= 5,
      `every property of ${SUITE} holds`,
      `${json?.numPassedTests ?? 0} passed, ${json?.numFailedTests ?? 0} failed (jest exit ${r.code})`,
    );
    c.data = { suite: SUITE, tests };
  },
};
