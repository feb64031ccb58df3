// A case's figures and assertions, the summary table and the results file (pure, but for the
// file write).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Check {
  what: string;
  ok: boolean;
  /** What was seen, e.g. "0 wrong of 20,000". */
  seen: string;
}

export interface CaseResult {
  n: string;
  id: string;
  title: string;
  /** Queries (packets, frames) sent; null when the case sends none of its own. */
  sent: number | null;
  answered: number | null;
  /** Replies that were not what a correct resolver sends (a forged address, a wrong record set, an answer to a response…). */
  wrong: number | null;
  /** Queries that should have been answered and were not. */
  lost: number | null;
  /** Agent process exits or pid changes during the case. */
  restarts: number;
  peakRssKb: number | null;
  checks: Check[];
  /** Lines printed under the table. */
  details: string[];
  /** Everything else, for test-results/chaos.json. */
  data: Record<string, unknown>;
  /** An exception that ended the case early. */
  error?: string;
  seconds: number;
}

export function newCase(n: string, id: string, title: string): CaseResult {
  return {
    n,
    id,
    title,
    sent: null,
    answered: null,
    wrong: null,
    lost: null,
    restarts: 0,
    peakRssKb: null,
    checks: [],
    details: [],
    data: {},
    seconds: 0,
  };
}

/** Records an assertion; the case fails when any is false. */
export function check(c: CaseResult, ok: boolean, what: string, seen: string): void {
  c.checks.push({ what, ok, seen });
}

export const passed = (c: CaseResult): boolean => c.error === undefined && c.checks.length > 0 && c.checks.every((k) => k.ok);

export const fmtInt = (v: number | null | undefined): string =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US');
export const mib = (kb: number | null | undefined): string =>
  kb === null || kb === undefined || Number.isNaN(kb) ? '-' : `${(kb / 1024).toFixed(1)} MiB`;

export function summaryTable(cases: CaseResult[]): string {
  const rows = [
    '| case | sent | answered | wrong | lost | agent restarts | peak RSS | verdict |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...cases.map(
      (c) =>
        `| ${c.n} ${c.title} | ${fmtInt(c.sent)} | ${fmtInt(c.answered)} | ${fmtInt(c.wrong)} | ${fmtInt(c.lost)} | ${c.restarts} | ${mib(c.peakRssKb)} | ${passed(c) ? 'pass' : 'FAIL'} |`,
    ),
  ];
  return rows.join('\n');
}

export function caseText(c: CaseResult): string {
  const lines = [`${c.n} ${c.title} (${c.seconds.toFixed(0)} s): ${passed(c) ? 'pass' : 'FAIL'}`];
  for (const d of c.details) lines.push(`    ${d}`);
  for (const k of c.checks) lines.push(`  ${k.ok ? 'ok  ' : 'FAIL'} ${k.what}: ${k.seen}`);
  if (c.error) lines.push(`  FAIL the case stopped: ${c.error}`);
  return lines.join('\n');
}

export function writeResults(path: string, results: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n');
}
