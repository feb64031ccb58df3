// The whole life of phalanx-dns on a node, under a real systemd (test/helpers/systemd-node.ts: its
// own root, PID, mount and network namespaces), checked as an operator would check it, with dpkg,
// systemctl, journalctl, dig, glibc (getent) and /proc: install with a placeholder config (nothing
// starts), configure, crash (kill -9), hang (SIGSTOP: the watchdog timer restarts it), stop (the
// next genresolv run lists the upstreams), reload, warnings in the journal at their priority, an
// upgrade and a restart while a getent loop counts failed lookups, and a purge that leaves the node
// as it was. Simulated masters (127.0.0.11-13:61053) and upstreams (127.0.0.21-22:53) run inside
// the node; nothing leaves it.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { REPO_ROOT } from '../helpers/agent-process.js';
import { FAKE_DNS_MAIN } from '../helpers/logged-process.js';
import { NGINX_IPS } from '../helpers/cluster.js';
import { SystemdNode } from '../helpers/systemd-node.js';
import { sleep, waitFor } from '../helpers/time.js';
import { PACKAGE_VERSION, buildPackage, builtPackage } from './built-package.js';

const AGENT_V4 = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const AGENT_V6 = 'fd01:d::c633:6401';
const AGENT_ADDRESSES = [...AGENT_V4, AGENT_V6];
/** What resolv.conf lists of the four (glibc reads three): two IPv4 addresses and the IPv6 one. */
const LISTED = ['198.51.100.1', '198.51.100.2', AGENT_V6];
const UPGRADE_VERSION = `${PACKAGE_VERSION}+upgrade1`;
const ORIGINAL_RESOLV_CONF = '# the node before phalanx-dns\nnameserver 127.0.0.21\noptions timeout:1\n';
/** The lookup loop: one `getent hosts` every 20 ms, as many lookups at most. */
const LOOP_MAX = 3000;

const CONFIG = {
  upstreams: ['127.0.0.21', '127.0.0.22'],
  mesos: { masters: ['127.0.0.11', '127.0.0.12', '127.0.0.13'] },
  // The test's stand-ins for 5 s probes and a 60 s retry delay.
  watchdog: { timeoutMs: 500, retryDelayMs: 1000 },
  genresolv: { search: ['marathon.mesos'], timeoutMs: 1000 },
};

let node: SystemdNode;
let dir: string;
let upgradeDeb: string;
const report: string[] = [];

/** Runs a command inside the node and returns its stdout; throws with everything when it fails. */
async function run(argv: string[], timeoutMs = 60_000): Promise<string> {
  const r = await node.exec(argv, { timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}\n${await node.diagnostics()}`);
  return r.stdout;
}

/** Polls until `probe` holds; bounded in tries and time. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  if (await waitFor(probe, { timeoutMs, everyMs: 50 })) return Date.now() - started;
  throw new Error(`${what}: not within ${timeoutMs} ms\n${await node.diagnostics()}`);
}

const mainPid = async () => Number((await run(['systemctl', 'show', '--value', '-p', 'MainPID', 'phalanx-dns.service'])).trim());
const digShort = async (server: string, name: string) =>
  (await node.exec(['dig', '+short', '+tries=1', '+timeout=1', `@${server}`, name])).stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'));
const answers = async (server: string) => (await digShort(server, 'ready.spartan')).includes('127.0.0.1');
const resolvConf = () => readFileSync(node.path('/etc/resolv.conf'), 'utf8');
const nameservers = () =>
  resolvConf()
    .split('\n')
    .filter((l) => l.startsWith('nameserver '))
    .map((l) => l.slice('nameserver '.length));
const getent = async (name: string) =>
  (await node.exec(['getent', 'ahostsv4', name], { timeoutMs: 20_000 })).stdout.split('\n')[0]?.split(/\s+/)[0];
/** Files named for the product in the system's directories (the harness's own journald drop-in aside). */
const leftovers = async () =>
  (
    await run([
      'sh',
      '-c',
      'find /etc /usr /lib /var /run -name "*phalanx*" ! -path "/var/log/journal/*" ! -path "/run/log/*" ' +
        '! -path /etc/systemd/journald.conf.d/phalanx-node.conf',
    ])
  ).trim();
/** Processes of the node whose executable lies under `prefix`. */
function processesRunning(prefix: string): string[] {
  return readdirSync(node.path('/proc'))
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        return `${pid} ${readlinkSync(node.path(`/proc/${pid}/exe`))}`;
      } catch {
        return `${pid} (gone)`;
      }
    })
    .filter((p) => p.includes(prefix));
}
const procStatus = (pid: number) => readFileSync(node.path(`/proc/${pid}/status`), 'utf8');
const writeConfig = (config: object) => writeFileSync(node.path('/etc/phalanx-dns/config.json'), JSON.stringify(config, null, 2) + '\n');
/** GET on the agent's HTTP API, from inside the node. */
async function api(path: string): Promise<unknown> {
  const out = await run([
    process.execPath,
    '-e',
    `fetch('http://127.0.0.1:62080${path}').then(r => r.text()).then(t => process.stdout.write(t))`,
  ]);
  return JSON.parse(out);
}

/**
 * A getent loop inside the node while `during` runs: what an application sees. Each lookup is
 * timed; a failed one is a lookup the application lost.
 */
async function lookupsDuring(during: () => Promise<void>): Promise<{ lookups: number; failed: number; slowestMs: number }> {
  const out = '/tmp/lookups';
  await run(['rm', '-f', out]);
  const loop = node.spawn([
    'sh',
    '-c',
    `i=0; while [ $i -lt ${LOOP_MAX} ] && [ ! -e /tmp/lookups.stop ]; do
       s=$(date +%s%3N); if getent hosts nginx.marathon.mesos >/dev/null && getent hosts www.example.org >/dev/null; then r=ok; else r=fail; fi
       echo "$r $(( $(date +%s%3N) - s ))" >>${out}; i=$((i+1)); sleep 0.02; done`,
  ]);
  // Wall time is the point: a second of lookups before the step and two after it, all answered.
  await sleep(1000);
  await during();
  await sleep(2000);
  writeFileSync(node.path('/tmp/lookups.stop'), '');
  await loop.waitForExit(15_000);
  rmSync(node.path('/tmp/lookups.stop'));
  const lines = readFileSync(node.path(out), 'utf8').trim().split('\n');
  const failed = lines.filter((l) => l.startsWith('fail')).length;
  return { lookups: lines.length, failed, slowestMs: Math.max(...lines.map((l) => Number(l.split(' ')[1]))) };
}

beforeAll(async () => {
  const deb = builtPackage();
  dir = mkdtempSync(join(tmpdir(), 'phalanx-node-'));
  upgradeDeb = await buildPackage(UPGRADE_VERSION, dir);
  // The checkout shown inside: the simulated servers, the runtime they run on, install.sh.
  node = await SystemdNode.boot({ name: 'phalanx-node-lifecycle', lifetimeMs: 600_000, show: [REPO_ROOT] });
  writeFileSync(node.path('/tmp/phalanx-dns.deb'), readFileSync(deb));
  writeFileSync(node.path('/tmp/phalanx-dns-upgrade.deb'), readFileSync(upgradeDeb));
  writeFileSync(node.path('/etc/resolv.conf'), ORIGINAL_RESOLV_CONF);
  // A node with no Node.js of its own: the package must bring what it runs on.
  await run(['rm', '-f', '/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node']);
  const masters = node.spawn([
    process.execPath,
    FAKE_DNS_MAIN,
    '--zone',
    'mesos',
    ...CONFIG.mesos.masters.flatMap((m) => ['--listen', `${m}:61053`]),
  ]);
  const upstreams = node.spawn([process.execPath, FAKE_DNS_MAIN, ...CONFIG.upstreams.flatMap((u) => ['--listen', `${u}:53`])]);
  await Promise.all([masters.waitForLog((l) => 'listening' in l), upstreams.waitForLog((l) => 'listening' in l)]);
}, 240_000);

afterAll(async () => {
  if (report.length > 0) process.stdout.write(`\nnode lifecycle figures:\n${report.map((l) => `  ${l}`).join('\n')}\n`);
  await node?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('phalanx-dns on a node under a real systemd', () => {
  test('dpkg -i with the placeholder config installs everything, starts nothing, and clears out an install.sh of 0.1', async () => {
    // What install.sh of 0.1 left: the code in /opt, links in /usr/local/bin, units in /etc that would shadow the package's.
    mkdirSync(node.path('/opt/phalanx-dns/dist/agent'), { recursive: true });
    writeFileSync(node.path('/opt/phalanx-dns/dist/agent/main.js'), '');
    await run(['ln', '-s', '/opt/phalanx-dns/dist/agent/main.js', '/usr/local/bin/phalanx-dns']);
    writeFileSync(
      node.path('/etc/systemd/system/phalanx-dns.service'),
      '[Service]\nExecStart=/usr/local/bin/phalanx-dns --config /etc/phalanx-dns/config.json\n',
    );

    const out = await run(['dpkg', '-i', '/tmp/phalanx-dns.deb']);
    for (const legacy of ['/opt/phalanx-dns', '/usr/local/bin/phalanx-dns', '/etc/systemd/system/phalanx-dns.service']) {
      expect({ legacy, gone: (await node.exec(['test', '-e', legacy, '-o', '-L', legacy])).code === 1 }).toEqual({ legacy, gone: true });
    }
    expect(out).toContain('/etc/phalanx-dns/config.json is the example, with placeholder upstreams and masters, so nothing was started');
    expect((await node.systemctl('is-active', 'phalanx-dns.service')).stdout.trim()).toBe('inactive');
    expect((await node.systemctl('is-enabled', 'phalanx-dns.service')).stdout.trim()).toBe('disabled');
    expect(resolvConf()).toBe(ORIGINAL_RESOLV_CONF);
    expect(await run(['getent', 'passwd', 'phalanx-dns'])).toMatch(/^phalanx-dns:x:\d+:\d+::\/nonexistent:\/usr\/sbin\/nologin\n$/);
    // The node has no node: the commands run on the runtime the package carries.
    expect((await node.exec(['sh', '-c', 'command -v node'])).code).not.toBe(0);
    expect((await run(['phalanx-dns', '--version'])).trim()).toBe(`phalanx-dns ${PACKAGE_VERSION}`);
    expect(await run(['dpkg-query', '-W', '-f', '${Conffiles}', 'phalanx-dns'])).toContain('/etc/phalanx-dns/config.json');
  });

  test(
    'a real config and dpkg-reconfigure: the agent runs as phalanx-dns with only CAP_NET_BIND_SERVICE ' +
      'on the spartan interface, and glibc resolves through it',
    async () => {
      writeConfig(CONFIG);
      const out = await run(['dpkg-reconfigure', 'phalanx-dns'], 120_000);
      expect(out).toContain(`phalanx-dns ${PACKAGE_VERSION} is running on its sockets`);
      for (const unit of ['phalanx-dns.socket', 'phalanx-dns.service', 'phalanx-watchdog.timer', 'phalanx-genresolv.timer']) {
        expect({
          unit,
          active: (await node.systemctl('is-active', unit)).stdout.trim(),
          enabled: (await node.systemctl('is-enabled', unit)).stdout.trim(),
        }).toEqual({
          unit,
          active: 'active',
          enabled: 'enabled',
        });
      }

      const pid = await mainPid();
      const uid = (await run(['id', '-u', 'phalanx-dns'])).trim();
      const status = procStatus(pid);
      expect(status).toMatch(new RegExp(`\\nUid:\\t${uid}\\t${uid}\\t${uid}\\t${uid}\\n`));
      expect(status).toMatch(/\nCapEff:\t0000000000000400\n/); // exactly CAP_NET_BIND_SERVICE (bit 10)
      expect(status).toMatch(/\nCapBnd:\t0000000000000400\n/);
      // The bundled runtime, started through the #! line with the agent's memory settings.
      expect(processesRunning('/usr/lib/phalanx-dns/')).toEqual([`${pid} /usr/lib/phalanx-dns/runtime/bin/node`]);
      expect(readFileSync(node.path(`/proc/${pid}/cmdline`), 'utf8').split('\0')).toEqual(
        expect.arrayContaining(['--max-semi-space-size=2', '--heap-growing-percent=80']),
      );
      expect(readFileSync(node.path(`/proc/${pid}/environ`), 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=1');

      expect((await run(['ip', '-o', 'address', 'show', 'dev', 'spartan', 'scope', 'global'])).match(/inet6? (\S+)/g)).toEqual([
        ...AGENT_V4.map((a) => `inet ${a}/32`),
        `inet6 ${AGENT_V6}/128`,
      ]);
      for (const a of AGENT_ADDRESSES) expect({ a, answers: await answers(a) }).toEqual({ a, answers: true });
      expect(await digShort(AGENT_V6, 'www.example.org')).toEqual(['192.0.2.80']);
      // Its sockets came from phalanx-dns.socket, so they outlive the process.
      expect(await node.journal('phalanx-dns.service')).toContain(
        '"fromSystemd":["udp 198.51.100.1:53","tcp 198.51.100.1:53","udp 198.51.100.2:53"',
      );
      expect(await node.journal('phalanx-dns.service')).toContain('"udp [fd01:d::c633:6401]:53","tcp [fd01:d::c633:6401]:53"');
      expect((await run(['systemctl', 'show', '--value', '-p', 'StatusText', 'phalanx-dns.service'])).trim()).toBe(
        'serving 198.51.100.1:53, 198.51.100.2:53, 198.51.100.3:53, [fd01:d::c633:6401]:53',
      );

      // resolv.conf, written by genresolv once the agent was ready.
      expect(nameservers()).toEqual(LISTED);
      expect(resolvConf()).toContain('search marathon.mesos\noptions timeout:1 attempts:3\n');
      expect(readFileSync(node.path('/etc/resolv.conf.orig'), 'utf8')).toBe(ORIGINAL_RESOLV_CONF);
      expect(NGINX_IPS).toContain(await getent('nginx.marathon.mesos'));
      expect(await getent('www.example.org')).toBe('192.0.2.80');
    },
    120_000,
  );

  test('kill -9: systemd starts the agent again within 2 s', async () => {
    const before = await mainPid();
    const lookups = await lookupsDuring(async () => {
      await run(['kill', '-9', String(before)]);
      const ms = await eventually(
        async () => (await mainPid()) !== before && (await mainPid()) !== 0 && (await answers('198.51.100.1')),
        10_000,
        'the agent back after kill -9',
      );
      report.push(`kill -9: answering again after ${ms} ms`);
      expect(ms).toBeLessThan(2000);
    });
    report.push(`kill -9: ${lookups.failed} of ${lookups.lookups} lookups failed, the slowest took ${lookups.slowestMs} ms`);
    expect(lookups.failed).toBe(0);
  }, 60_000);

  test('kill -STOP: the watchdog timer restarts the hung agent after two failed rounds, and the journal says what it saw', async () => {
    mkdirSync(node.path('/etc/systemd/system/phalanx-watchdog.timer.d'), { recursive: true });
    // Every 2 s from now on, instead of a minute after boot and every minute.
    writeFileSync(
      node.path('/etc/systemd/system/phalanx-watchdog.timer.d/test.conf'),
      '[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=2s\nAccuracySec=100ms\n',
    );
    await run(['systemctl', 'daemon-reload']);
    await run(['systemctl', 'restart', 'phalanx-watchdog.timer']);
    const hung = await mainPid();
    await run(['kill', '-STOP', String(hung)]);
    const ms = await eventually(
      async () => (await mainPid()) !== hung && (await answers('198.51.100.1')),
      30_000,
      'the hung agent restarted by the watchdog',
    );
    report.push(`SIGSTOP: restarted by the watchdog and answering ${ms} ms later (timer every 2 s, two rounds 1 s apart)`);
    const errors = await node.journal('phalanx-watchdog.service', ['-p', 'err']);
    expect(errors).toContain(`pid ${hung} (node) stopped; restarting it`);
    const restart = ['systemctl', 'kill', '--signal', 'SIGKILL', '--kill-who', 'main', 'phalanx-dns.service'];
    expect(errors).toContain(`"command":${JSON.stringify(restart)}`);
    rmSync(node.path('/etc/systemd/system/phalanx-watchdog.timer.d'), { recursive: true });
    await run(['systemctl', 'daemon-reload']);
    await run(['systemctl', 'restart', 'phalanx-watchdog.timer']);
  }, 60_000);

  test('the agent stopped: the next genresolv run lists the upstreams, and upstream names still resolve', async () => {
    await run(['systemctl', 'stop', 'phalanx-dns.socket', 'phalanx-dns.service']);
    expect(await answers('198.51.100.1')).toBe(false);
    await node.systemctl('start', 'phalanx-genresolv.service');
    expect(nameservers()).toEqual(CONFIG.upstreams);
    expect(await getent('www.example.org')).toBe('192.0.2.80');
    const warnings = await node.journal('phalanx-genresolv.service', ['-p', 'warning']);
    expect(warnings).toContain('it lists the upstreams, since the agent does not answer');

    await run(['systemctl', 'start', 'phalanx-dns.socket', 'phalanx-dns.service']);
    await run(['systemctl', 'start', 'phalanx-genresolv.service']);
    expect(nameservers()).toEqual(LISTED);
  });

  test('systemctl reload: the changed config is in /v1/config, with no restart', async () => {
    const pid = await mainPid();
    writeConfig({ ...CONFIG, upstreams: ['127.0.0.22', '127.0.0.21'], rateLimit: { perClientQps: 777 } });
    await run(['systemctl', 'reload', 'phalanx-dns.service']);
    const config = (await api('/v1/config')) as { upstreams: string[]; rateLimit: { perClientQps: number } };
    expect(config.upstreams).toEqual(['127.0.0.22:53', '127.0.0.21:53']);
    expect(config.rateLimit.perClientQps).toBe(777);
    expect(await mainPid()).toBe(pid);
    expect(
      (await run(['systemctl', 'show', '--value', '-p', 'ActiveState,SubState', 'phalanx-dns.service'])).split('\n').slice(0, 2),
    ).toEqual(['active', 'running']);
  });

  test('warnings and errors reach the journal at their own priority', async () => {
    writeConfig({ ...CONFIG, listen: ['198.51.100.1:53'] }); // needs a restart: a warning
    await run(['systemctl', 'reload', 'phalanx-dns.service']);
    writeFileSync(node.path('/etc/phalanx-dns/config.json'), '{ not json'); // refused: an error
    await run(['systemctl', 'reload', 'phalanx-dns.service']);
    writeConfig(CONFIG);
    await run(['systemctl', 'reload', 'phalanx-dns.service']);

    const warnings = await node.journal('phalanx-dns.service', ['-p', 'warning']);
    expect(warnings).toContain('config reloaded, but \\"listen\\" changes need a restart');
    expect(warnings).toContain('config reload failed; keeping the running config');
    expect(warnings).not.toContain('phalanx-dns listening'); // info stays out
    const errors = await node.journal('phalanx-dns.service', ['-p', 'err']);
    expect(errors).toContain('config reload failed; keeping the running config');
    expect(errors).not.toContain('changes need a restart');
    // Of the agent's own lines (systemd's about the unit are there too), only warnings and worse,
    // with the priority prefix taken off by journald: JSON as the agent wrote it.
    const lines = warnings.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('<'))).toEqual([]);
    const levels = new Set(lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { level: string }).level));
    expect([...levels].sort()).toEqual(['error', 'warn']);
  });

  test('IPv6 disabled on the node: the sockets and the agent still start, and serve the IPv4 addresses', async () => {
    const restart = async () => {
      await run(['systemctl', 'stop', 'phalanx-dns.socket', 'phalanx-dns.service']);
      await run(['/usr/lib/phalanx-dns/deploy/spartan-interface.sh', 'down']);
      await run(['systemctl', 'start', 'phalanx-dns.socket', 'phalanx-dns.service']);
    };
    await run(['sysctl', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    try {
      await restart();
      expect((await node.systemctl('is-active', 'phalanx-dns.socket', 'phalanx-dns.service')).stdout.split('\n').slice(0, 2)).toEqual([
        'active',
        'active',
      ]);
      // The interface script said why; FreeBind let systemd bind the IPv6 socket without the address.
      expect(await node.journal('phalanx-dns.socket')).toContain(
        'leaving out fd01:d::c633:6401/128: IPv6 is disabled on spartan (net.ipv6.conf.spartan.disable_ipv6 = 1)',
      );
      expect((await run(['ip', '-o', 'address', 'show', 'dev', 'spartan'])).match(/inet6? (\S+)/g)).toEqual(
        AGENT_V4.map((a) => `inet ${a}/32`),
      );
      await eventually(async () => answers('198.51.100.1'), 10_000, 'the agent answering with IPv6 disabled');
      for (const a of AGENT_V4) expect({ a, answers: await answers(a) }).toEqual({ a, answers: true });
      await run(['systemctl', 'start', 'phalanx-genresolv.service']);
      expect(nameservers()).toEqual(AGENT_V4);
      expect(await getent('www.example.org')).toBe('192.0.2.80');
      // Content: a oneshot that exits 0 (1 would mean it restarted the agent, and start would fail).
      await run(['systemctl', 'start', 'phalanx-watchdog.service']);
    } finally {
      await run(['sysctl', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
      await restart();
    }
    await eventually(async () => answers(AGENT_V6), 10_000, 'the agent answering on its IPv6 address again');
    await run(['systemctl', 'start', 'phalanx-genresolv.service']);
    expect(nameservers()).toEqual(LISTED);
  }, 120_000);

  test('an upgrade, then systemctl restart, with a lookup every 20 ms: none fails', async () => {
    const upgrade = await lookupsDuring(async () => {
      const out = await run(['dpkg', '-i', '/tmp/phalanx-dns-upgrade.deb'], 120_000);
      expect(out).toContain(`phalanx-dns ${UPGRADE_VERSION} is running on its sockets`);
    });
    expect((await api('/v1/version')) as object).toEqual({ Service: 'phalanx-dns', Version: UPGRADE_VERSION });
    // The operator's config survived the upgrade (a conffile).
    expect(JSON.parse(readFileSync(node.path('/etc/phalanx-dns/config.json'), 'utf8'))).toEqual(CONFIG);
    const restart = await lookupsDuring(async () => {
      await run(['systemctl', 'restart', 'phalanx-dns.service']);
    });
    report.push(`upgrade (dpkg -i): ${upgrade.failed} of ${upgrade.lookups} lookups failed, the slowest took ${upgrade.slowestMs} ms`);
    report.push(`systemctl restart: ${restart.failed} of ${restart.lookups} lookups failed, the slowest took ${restart.slowestMs} ms`);
    expect({ upgradeFailed: upgrade.failed, restartFailed: restart.failed }).toEqual({ upgradeFailed: 0, restartFailed: 0 });
  }, 180_000);

  test('dpkg --purge: resolv.conf is back byte for byte, and no unit, user, interface or file of the package is left', async () => {
    await run(['dpkg', '--purge', 'phalanx-dns'], 120_000);
    expect(resolvConf()).toBe(ORIGINAL_RESOLV_CONF);
    expect(await node.exec(['ls', '/etc/resolv.conf.orig'])).toMatchObject({ code: 2 });
    expect((await run(['systemctl', 'list-units', '--all', '--plain', '--no-legend', 'phalanx*'])).trim()).toBe('');
    expect((await node.systemctl('list-unit-files', '--plain', '--no-legend', 'phalanx*')).stdout.trim()).toBe(''); // exits 1: none
    expect((await node.exec(['getent', 'passwd', 'phalanx-dns'])).code).toBe(2);
    expect((await node.exec(['getent', 'group', 'phalanx-dns'])).code).toBe(2);
    expect((await node.exec(['ip', 'link', 'show', 'dev', 'spartan'])).code).not.toBe(0);
    expect(await leftovers()).toBe('');
    expect(processesRunning('/usr/lib/phalanx-dns/')).toEqual([]);
  }, 120_000);

  test('configuration management first: with the config in place, dpkg -i --force-confold starts the agent at once', async () => {
    mkdirSync(node.path('/etc/phalanx-dns'));
    writeConfig(CONFIG);
    const out = await run(['dpkg', '-i', '--force-confold', '/tmp/phalanx-dns.deb'], 120_000);
    expect(out).toContain(`phalanx-dns ${PACKAGE_VERSION} is running on its sockets`);
    expect(JSON.parse(readFileSync(node.path('/etc/phalanx-dns/config.json'), 'utf8'))).toEqual(CONFIG);
    expect(nameservers()).toEqual(LISTED);
    expect(NGINX_IPS).toContain(await getent('nginx.marathon.mesos'));
    await run(['dpkg', '--purge', 'phalanx-dns'], 120_000);
    expect(resolvConf()).toBe(ORIGINAL_RESOLV_CONF);
    expect(await leftovers()).toBe('');
  }, 180_000);

  test('install.sh and uninstall.sh --purge, for nodes without dpkg, do the same with the same tree', async () => {
    const config = '/tmp/cluster.json';
    writeFileSync(node.path(config), JSON.stringify(CONFIG));
    const out = await run([join(REPO_ROOT, 'deploy/install.sh'), '--config', config], 180_000);
    expect(out).toContain(`phalanx-dns ${PACKAGE_VERSION} is running on its sockets`);
    for (const a of AGENT_ADDRESSES) expect({ a, answers: await answers(a) }).toEqual({ a, answers: true });
    expect(nameservers()).toEqual(LISTED);
    await run([join(REPO_ROOT, 'deploy/uninstall.sh'), '--purge'], 120_000);
    expect(resolvConf()).toBe(ORIGINAL_RESOLV_CONF);
    expect((await node.exec(['getent', 'passwd', 'phalanx-dns'])).code).toBe(2);
    expect(await leftovers()).toBe('');
  }, 300_000);
});
