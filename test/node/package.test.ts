// The package `npm run package` built: Debian's own tools read it as an operator's node would.
// lintian finds nothing (every override carries its reason), the control fields name no nodejs,
// the config is a conffile, the alert rules and the dashboard are in it, and its tree is exactly the one install.sh installs on nodes without
// dpkg.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { REPO_ROOT } from '../helpers/agent-process.js';
import { PACKAGE_VERSION, builtPackage } from './built-package.js';

let deb: string;
const dir = mkdtempSync(join(tmpdir(), 'phalanx-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  deb = builtPackage();
});

function sh(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      { env: { ...process.env, ...env }, timeout: 170_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const field = async (name: string) => (await sh(['dpkg-deb', '--field', deb, name])).stdout.trim();

describe('the Debian package', () => {
  test('is named for its version and architecture, and lintian finds nothing', async () => {
    expect(deb.endsWith(`/phalanx-dns_${PACKAGE_VERSION}_amd64.deb`)).toBe(true);
    const r = await sh(['lintian', '--fail-on', 'error,warning', deb]);
    expect({ code: r.code, tags: r.stdout.split('\n').filter((l) => /^[EW]: /.test(l)) }).toEqual({ code: 0, tags: [] });
  }, 180_000);

  test('depends on what the node needs, and on no nodejs: it carries its runtime', async () => {
    expect(await field('Package')).toBe('phalanx-dns');
    expect(await field('Version')).toBe(PACKAGE_VERSION);
    expect(await field('Architecture')).toBe('amd64');
    const depends = (await field('Depends')).split(/,\s*/).map((d) => d.split(' ')[0]);
    expect(depends).toEqual(expect.arrayContaining(['libc6', 'libstdc++6', 'iproute2', 'procps', 'systemd', 'passwd']));
    expect(depends.filter((d) => d.startsWith('nodejs'))).toEqual([]);
  });

  test('the config is a conffile, and the maintainer scripts are the ones install.sh runs', async () => {
    const control = join(dir, 'control');
    expect((await sh(['dpkg-deb', '--control', deb, control])).code).toBe(0);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/phalanx-dns/config.json\n');
    const tree = join(dir, 'tree');
    expect((await sh(['dpkg-deb', '--extract', deb, tree])).code).toBe(0);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = readFileSync(join(control, script), 'utf8');
      expect({ script, same: text === readFileSync(join(tree, 'usr/lib/phalanx-dns/maintainer', script), 'utf8') }).toEqual({
        script,
        same: true,
      });
      expect({ script, syntax: (await sh(['sh', '-n', join(control, script)])).code }).toEqual({ script, syntax: 0 });
      expect(text.split('\n')).not.toContain('#LAYOUT#'); // the layout is inlined
    }
  });

  test('ships the alert rules and the dashboard as they are in the checkout, under /usr/share/phalanx-dns', async () => {
    const tree = join(dir, 'shipped');
    expect((await sh(['dpkg-deb', '--extract', deb, tree])).code).toBe(0);
    for (const [shipped, source] of [
      ['usr/share/phalanx-dns/prometheus/phalanx-dns.rules.yml', 'deploy/prometheus/phalanx-dns.rules.yml'],
      ['usr/share/phalanx-dns/grafana/phalanx-dns.json', 'deploy/grafana/phalanx-dns.json'],
    ]) {
      expect({ shipped, same: readFileSync(join(tree, shipped), 'utf8') === readFileSync(join(REPO_ROOT, source), 'utf8') }).toEqual({
        shipped,
        same: true,
      });
    }
    const listing = (await sh(['dpkg-deb', '--contents', deb])).stdout;
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* \.\/usr\/share\/phalanx-dns\/prometheus\/phalanx-dns\.rules\.yml$/m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* \.\/usr\/share\/phalanx-dns\/grafana\/phalanx-dns\.json$/m);
  });

  test('holds exactly the tree install.sh installs', async () => {
    const staged = join(dir, 'staged');
    const install = await sh([join(REPO_ROOT, 'deploy/install.sh')], { DESTDIR: staged });
    expect(install.code).toBe(0);
    const listing = (await sh(['dpkg-deb', '--contents', deb])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) =>
        l
          .split(/\s+/)
          .slice(5)
          .join(' ')
          .replace(/^\./, '')
          .replace(/ -> .*$/, '')
          .replace(/\/$/, ''),
      )
      .filter((p) => p !== '');
    const found = (await sh(['find', staged, '-mindepth', '1'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((p) => p.slice(staged.length))
      .filter((p) => p !== '/usr/lib/phalanx-dns/installed-files'); // install.sh's own record of what it installed
    // The package also names the directories it shares with the system (/usr, /lib/systemd, …).
    const files = (paths: string[]) => paths.filter((p) => !paths.some((q) => q.startsWith(`${p}/`))).sort();
    expect(files(found)).toEqual(files(listing));
  }, 120_000);
});
