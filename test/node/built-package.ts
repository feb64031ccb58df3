// The package the node suites test: the one `npm run package` built from this checkout (test/run.sh
// builds it before running them), and a second build with a higher version for upgrades.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/agent-process.js';

export const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;

/** dist/deb/phalanx-dns_<version>_amd64.deb; throws when it is missing or older than the build. */
export function builtPackage(): string {
  const deb = join(REPO_ROOT, 'dist/deb', `phalanx-dns_${PACKAGE_VERSION}_amd64.deb`);
  const built = join(REPO_ROOT, 'dist/agent/main.js');
  if (!existsSync(deb) || statSync(deb).mtimeMs < statSync(built).mtimeMs) {
    throw new Error(`${deb} is missing or older than dist/: run npm run test:node (it builds the package first), or npm run package`);
  }
  return deb;
}

/** Builds the same tree as `version` into `outputDir` (gzip -1: a test build), for upgrade tests. */
export function buildPackage(version: string, outputDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(REPO_ROOT, 'deploy/package.sh'), '--version', version, '--fast', '--output', outputDir],
      { timeout: 180_000, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) =>
        err
          ? reject(new Error(`deploy/package.sh --version ${version} failed: ${stderr || err.message}`))
          : resolve(join(outputDir, `phalanx-dns_${version}_amd64.deb`)),
    );
  });
}
