// What `npm pack` would publish: the agent, the watchdog, genresolv, what they share, deploy/ and
// the docs. The demo, the simulation and the compiled tests run from a checkout only, and the
// built .deb under dist/ is no part of an npm package.
import { execFile } from 'node:child_process';
import { expect, test } from '@jest/globals';
import { REPO_ROOT } from '../helpers/agent-process.js';

function packedFiles(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout) => {
      if (err) return reject(err);
      const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
      resolve(pack.files.map((f) => f.path));
    });
  });
}

test('npm pack ships the commands, deploy/ and docs/, and nothing of the demo, sim/, the tests or the .deb', async () => {
  const files = await packedFiles();
  for (const main of ['dist/agent/main.js', 'dist/watchdog/main.js', 'dist/genresolv/main.js']) expect(files).toContain(main);
  expect(files).toContain('deploy/systemd/phalanx-dns.service');
  expect(files).toContain('docs/configuration.md');
  const stray = files.filter((f) => /^(dist\/(sim|demo|deb)\/|dist-test\/|sim\/|demo\/|test\/|deploy\/demo\/)/.test(f));
  expect(stray).toEqual([]);
  for (const f of files) expect(f).toMatch(/^(dist\/(agent|common|watchdog|genresolv)\/|deploy\/|docs\/|README\.md$|package\.json$)/);
});
