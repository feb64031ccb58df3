// Self-test of the systemd node harness (test/helpers/systemd-node.ts): a real systemd boots as
// PID 1 of the test's namespaces, runs sandboxed, notify and socket units, timers, dpkg and
// useradd, and the host is proven untouched afterwards: sentinels in /tmp, /run and /var/tmp (aged,
// so even an age-based cleanup would take them), mounts, interfaces, cgroups, sysctls, the dpkg
// database and /etc/passwd are as before, and no process of the node survives.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoggedProcess } from '../helpers/logged-process.js';
import { SystemdNode } from '../helpers/systemd-node.js';
import { waitFor } from '../helpers/time.js';

const timings: Record<string, number> = {};
afterAll(() => {
  if (process.env.PHALANX_NODE_TIMINGS) console.log(`systemd node timings (ms): ${JSON.stringify(timings)}`);
});

/** Polls `probe` until it returns true; bounded in tries and time. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  if (await waitFor(probe, { timeoutMs, everyMs: 100 })) return;
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** Mounts in the host's namespace; `ip netns add` of other suites running meanwhile is left out. */
function hostMounts(): Set<string> {
  return new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l && !/ \/(var\/)?run\/netns(\/| )/.test(l)),
  );
}

const hostLinks = () =>
  execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':')[1]?.trim())
    .filter(Boolean);
const HOST_SYSCTLS = [
  'kernel/core_pattern',
  'kernel/hostname',
  'kernel/pid_max',
  'fs/file-max',
  'fs/nr_open',
  'net/ipv4/ip_forward',
  'net/unix/max_dgram_qlen',
];
const sysctls = () => HOST_SYSCTLS.map((k) => `${k}=${readFileSync(`/proc/sys/${k}`, 'utf8').trim()}`);
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** PIDs of processes in the PID namespace `ns` (e.g. "pid:[4026532123]"), as the host sees them. */
function processesIn(ns: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readlinkSync(`/proc/${d}/ns/pid`) === ns;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Host processes whose command line names the node (its namespace setup chain). */
function chainProcesses(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(`phalanx-node-${name}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('SystemdNode', () => {
  const name = `selftest-${randomBytes(3).toString('hex')}`;
  const tag = randomBytes(8).toString('hex');
  const sentinels = ['/tmp', '/run', '/var/tmp'].map((d) => `${d}/phalanx-node-sentinel-${tag}`);
  // A host directory the node shows (as a checkout under /tmp would be), with a file in it.
  const shown = `/tmp/phalanx-node-shown-${tag}`;
  const monthAgo = new Date(Date.now() - 30 * 86400_000);
  let node: SystemdNode;
  let before: { mounts: Set<string>; links: string[]; sysctls: string[]; passwd: string; dpkg: string; dev: string[] };
  let pidNs = '';
  let server: LoggedProcess | undefined;

  beforeAll(async () => {
    mkdirSync(shown);
    for (const s of [...sentinels, `${shown}/file`]) {
      writeFileSync(s, `sentinel ${tag}\n`);
      utimesSync(s, monthAgo, monthAgo);
    }
    before = {
      mounts: hostMounts(),
      links: hostLinks(),
      sysctls: sysctls(),
      passwd: digest('/etc/passwd'),
      dpkg: digest('/var/lib/dpkg/status'),
      dev: readdirSync('/dev').sort(),
    };
    const t0 = Date.now();
    node = await SystemdNode.boot({ name, lifetimeMs: 120_000, bootTimeoutMs: 30_000, show: [shown] });
    timings.boot = Date.now() - t0;
    pidNs = readlinkSync(`/proc/${node.pid}/ns/pid`);
  }, 40_000);

  afterAll(async () => {
    await node?.destroy();
    for (const s of sentinels) rmSync(s, { force: true });
    rmSync(shown, { recursive: true, force: true });
  }, 30_000);

  it('shows a host directory read-only at the same path, even under its own /tmp', async () => {
    expect((await node.exec(['cat', `${shown}/file`])).stdout).toBe(`sentinel ${tag}\n`);
    expect((await node.exec(['touch', `${shown}/new`])).stderr).toContain('Read-only file system');
    expect((await node.exec(['rm', `${shown}/file`])).code).not.toBe(0);
    expect((await node.exec(['findmnt', '-rn', '-o', 'OPTIONS', '-M', shown])).stdout).toMatch(/^ro,/);
    await expect(SystemdNode.boot({ name: 'never', lifetimeMs: 1000, show: ['/tmp/../etc'] })).rejects.toThrow(
      'is not an absolute path of a directory',
    );
  });

  it('boots to running in a few seconds, as PID 1 of its own namespaces and cgroup', async () => {
    expect(timings.boot).toBeLessThan(15_000);
    expect((await node.systemctl('is-system-running')).stdout.trim()).toBe('running');
    expect((await node.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    expect((await node.exec(['hostname'])).stdout.trim()).toBe(name);
    expect((await node.exec(['systemd-detect-virt', '--container'])).stdout.trim()).toBe('container-other');
    // Its slices sit below the node's cgroup in the host's tree; inside, that cgroup is the root.
    expect((await node.exec(['cat', '/proc/1/cgroup'])).stdout.split('\n')).toContain('0::/init.scope');
    expect(existsSync(`${node.cgroupDir}/init.scope`)).toBe(true);
    expect(readFileSync(`${node.cgroupDir}/init.scope/cgroup.procs`, 'utf8').trim()).toBe(String(node.pid));
    const masked = [
      'systemd-sysctl.service',
      'systemd-timesyncd.service',
      'systemd-udevd.service',
      'apt-daily.timer',
      'postgresql.service',
      'getty@tty1.service',
    ];
    expect((await node.systemctl('is-enabled', ...masked)).stdout.trim().split('\n')).toEqual(masked.map(() => 'masked'));
    // Own root and fresh tmpfs for /tmp, /run, /var/tmp; the host's tree is not mounted inside.
    const mounts = (await node.exec(['findmnt', '-rn', '-o', 'TARGET,FSTYPE'])).stdout;
    for (const m of ['/ overlay', '/tmp tmpfs', '/run tmpfs', '/var/tmp tmpfs', '/dev tmpfs', '/sys/fs/cgroup cgroup2'])
      expect(mounts).toContain(`${m}\n`);
    expect((await node.exec(['ls', '-A', '/tmp'])).stdout).not.toContain(`phalanx-node-sentinel-${tag}`);
    expect(readFileSync(node.path('/etc/hostname'), 'utf8')).toBe(`${name}\n`);
    // Only loopback, no route anywhere.
    expect(
      (await node.exec(['ip', '-o', 'link'])).stdout
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1].trim()),
    ).toEqual(['lo']);
    expect((await node.exec(['ip', 'route'])).stdout.trim()).toBe('');
    // Kernel sysctls are read-only inside (the write would be a no-op on the host anyway); the
    // network namespace's own ones are writable.
    const pidMax = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
    expect((await node.exec(['sh', '-c', `echo ${pidMax} > /proc/sys/kernel/pid_max`])).code).not.toBe(0);
    expect((await node.exec(['sysctl', '-w', 'net.ipv4.ip_forward=1'])).code).toBe(0);
    expect((await node.exec(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
  });

  it('runs a sandboxed unit as nobody with CAP_NET_BIND_SERVICE, and its warnings reach journalctl -p warning', async () => {
    writeFileSync(
      node.path('/usr/local/bin/phalanx-sandboxed'),
      `#!/bin/sh
echo uid $(id -u)
echo "etc $(findmnt -rno OPTIONS -T /etc | cut -d, -f1)"
touch /tmp/private && echo tmp writable
echo "<4>warn line"
exec perl -MIO::Socket::INET -e '$| = 1; IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 53, Proto => "udp") or die "bind: $!\\n"; print "bound 53\\n"; sleep 3600'
`,
      { mode: 0o755 },
    );
    writeFileSync(
      node.path('/etc/systemd/system/sandboxed.service'),
      `[Service]
User=nobody
ProtectSystem=strict
PrivateTmp=yes
ProtectKernelTunables=yes
NoNewPrivileges=yes
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
SystemCallFilter=@system-service
ExecStartPre=+/bin/sh -c 'echo pre as uid $(id -u)'
ExecStart=/usr/local/bin/phalanx-sandboxed
`,
    );
    expect((await node.systemctl('daemon-reload')).code).toBe(0);
    const start = await node.systemctl('start', 'sandboxed.service');
    expect(start.code).toBe(0);
    let log = '';
    await eventually(
      async () => (log = await node.journal('sandboxed.service')).includes('bound 53'),
      10_000,
      'the unit did not bind port 53',
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${log}\n${await node.diagnostics()}`);
    });
    expect(log).toContain('pre as uid 0');
    expect(log).toContain('uid 65534');
    expect(log).toContain('tmp writable');
    expect(log).toContain('etc ro');
    expect((await node.systemctl('is-active', 'sandboxed.service')).stdout.trim()).toBe('active');
    expect((await node.exec(['test', '-e', '/tmp/private'])).code).not.toBe(0); // PrivateTmp
    const warnings = await node.journal('sandboxed.service', ['-p', 'warning']);
    expect(warnings.trim().split('\n')).toContain('warn line');
    expect(warnings).not.toContain('uid 65534');
  });

  it('starts a Type=notify unit once its script runs systemd-notify --ready, and restarts, kills and stops it', async () => {
    writeFileSync(
      node.path('/etc/systemd/system/notifier.service'),
      `[Service]
Type=notify
NotifyAccess=all
ExecStart=/bin/sh -c 'sleep 0.5; systemd-notify --ready --status=serving; exec sleep 3600'
ExecReload=/bin/kill -HUP $MAINPID
`,
    );
    await node.systemctl('daemon-reload');
    const t0 = Date.now();
    expect((await node.systemctl('start', 'notifier.service')).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // start waited for READY=1
    const show = async () =>
      Object.fromEntries(
        (await node.systemctl('show', '-p', 'ActiveState,StatusText,MainPID', 'notifier.service')).stdout
          .trim()
          .split('\n')
          .map((l) => l.split('=')),
      );
    expect(await show()).toMatchObject({ ActiveState: 'active', StatusText: 'serving' });
    const { MainPID } = await show();
    expect((await node.systemctl('restart', 'notifier.service')).code).toBe(0);
    expect((await show()).MainPID).not.toBe(MainPID);
    expect((await node.systemctl('kill', '--signal=SIGKILL', 'notifier.service')).code).toBe(0);
    await eventually(async () => (await show()).ActiveState === 'failed', 5000, 'the killed unit did not fail');
    expect((await node.systemctl('reset-failed', 'notifier.service')).code).toBe(0);
    expect((await node.systemctl('start', 'notifier.service')).code).toBe(0);
    expect((await node.systemctl('stop', 'notifier.service')).code).toBe(0);
    expect((await node.systemctl('is-active', 'notifier.service')).stdout.trim()).toBe('inactive');
  });

  it('adds a bridge with 198.51.100.1 inside that the host does not see, and a socket unit listens on it', async () => {
    expect((await node.exec(['ip', 'link', 'add', 'spartan', 'type', 'bridge'])).code).toBe(0);
    expect((await node.exec(['ip', 'address', 'add', '198.51.100.1/32', 'dev', 'spartan'])).code).toBe(0);
    expect((await node.exec(['ip', '-o', 'address', 'show', 'dev', 'spartan'])).stdout).toContain('198.51.100.1/32');
    expect(hostLinks()).not.toContain('spartan');
    expect(execFileSync('ip', ['-o', 'address'], { encoding: 'utf8' })).not.toContain('198.51.100.1');
    writeFileSync(node.path('/etc/systemd/system/spartan-dns.socket'), '[Socket]\nListenDatagram=198.51.100.1:53\n');
    writeFileSync(node.path('/etc/systemd/system/spartan-dns.service'), '[Service]\nExecStart=/bin/true\n');
    await node.systemctl('daemon-reload');
    expect((await node.systemctl('start', 'spartan-dns.socket')).code).toBe(0);
    expect((await node.exec(['ss', '-uln'])).stdout).toContain('198.51.100.1:53');
    expect(execFileSync('ss', ['-uln'], { encoding: 'utf8' })).not.toContain('198.51.100.1:53');
  });

  it('fires a timer', async () => {
    // Timers are coalesced within AccuracySec= (1 min by default): tests that wait for one set it.
    const r = await node.exec([
      'systemd-run',
      '--on-active=1',
      '--timer-property=AccuracySec=10ms',
      '--unit=tick',
      '/bin/echo',
      `tick ${tag}`,
    ]);
    expect(r.code).toBe(0);
    await eventually(async () => (await node.journal('tick.service')).includes(`tick ${tag}`), 10_000, 'the timer did not fire');
  });

  it('installs a package with dpkg and adds a user, inside only', async () => {
    const pkg = '/root/phalanx-node-selftest';
    mkdirSync(node.path(`${pkg}/DEBIAN`), { recursive: true });
    writeFileSync(
      node.path(`${pkg}/DEBIAN/control`),
      'Package: phalanx-node-selftest\nVersion: 1.0\nArchitecture: all\n' +
        'Maintainer: test <test@example.invalid>\nDescription: systemd node self-test\n',
    );
    mkdirSync(node.path(`${pkg}/usr/share/phalanx-node-selftest`), { recursive: true });
    writeFileSync(node.path(`${pkg}/usr/share/phalanx-node-selftest/hello`), `hello ${tag}\n`);
    const build = await node.exec(['dpkg-deb', '--root-owner-group', '--build', pkg, '/root/selftest.deb']);
    expect(build).toMatchObject({ code: 0 });
    const install = await node.exec(['dpkg', '-i', '/root/selftest.deb']);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect((await node.exec(['dpkg-query', '-W', '-f', '${Status}', 'phalanx-node-selftest'])).stdout).toBe('install ok installed');
    expect(readFileSync(node.path('/usr/share/phalanx-node-selftest/hello'), 'utf8')).toBe(`hello ${tag}\n`);
    const useradd = await node.exec(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'phalanxselftest']);
    expect(useradd).toMatchObject({ code: 0, stderr: '' });
    expect((await node.exec(['getent', 'passwd', 'phalanxselftest'])).stdout).toContain('phalanxselftest:x:');
    expect(existsSync('/usr/share/phalanx-node-selftest')).toBe(false);
    expect(readFileSync('/etc/passwd', 'utf8')).not.toContain('phalanxselftest');
  });

  it('passes input and environment to exec, bounds it in time, and spawns processes that destroy() ends', async () => {
    expect(await node.exec(['cat'], { input: 'some input' })).toEqual({ code: 0, stdout: 'some input', stderr: '' });
    expect(
      (await node.exec(['sh', '-c', 'echo "$GREETING $HOME"; env | grep -c JEST_WORKER_ID'], { env: { GREETING: 'hi' } })).stdout,
    ).toBe('hi /root\n0\n');
    const t0 = Date.now();
    expect((await node.exec(['sleep', '30'], { timeoutMs: 500 })).code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    server = node.spawn(['sh', '-c', 'echo started; exec sleep 3600']);
    await eventually(async () => server!.stdout.includes('started'), 5000, 'the spawned process did not start');
    expect(server.exit).toBeUndefined();
    writeFileSync(node.path('/run/spawned'), server.argv.join(' '));
    expect((await node.exec(['cat', '/run/spawned'])).stdout).toContain('sleep 3600');
  });

  it('leaves the host as it was once destroyed: files, mounts, interfaces, cgroups, sysctls, no survivors', async () => {
    const systemdPid = node.pid;
    expect(processesIn(pidNs).length).toBeGreaterThan(3);
    await node.destroy();
    await node.destroy(); // idempotent
    expect(processesIn(pidNs)).toEqual([]);
    expect(server?.exit).toBeDefined();
    expect(existsSync(`/proc/${systemdPid}/root/etc/systemd/system/sandboxed.service`)).toBe(false);
    expect(chainProcesses(name)).toEqual([]);
    expect(existsSync(node.cgroupDir)).toBe(false);
    expect(readdirSync(dirname(node.cgroupDir)).filter((d) => d.includes(name))).toEqual([]);
    for (const s of [...sentinels, `${shown}/file`]) expect(readFileSync(s, 'utf8')).toBe(`sentinel ${tag}\n`);
    expect(readdirSync(shown)).toEqual(['file']);
    const added = [...hostMounts()].filter((m) => !before.mounts.has(m));
    expect(added).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`phalanx-node-${name}`);
    expect(hostLinks()).toEqual(before.links);
    expect(sysctls()).toEqual(before.sysctls);
    expect(digest('/etc/passwd')).toBe(before.passwd);
    expect(digest('/var/lib/dpkg/status')).toBe(before.dpkg);
    expect(readdirSync('/dev').sort()).toEqual(before.dev);
    await expect(node.exec(['true'])).rejects.toThrow(/destroyed/);
  });
});

describe('SystemdNode failures', () => {
  it('tears down a boot that cannot finish in time, leaving no process or cgroup; sweeps cgroups of dead test processes', async () => {
    const name = `slow-${randomBytes(3).toString('hex')}`;
    const cg2 = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[f.indexOf('-') + 1] === 'cgroup2')![4];
    const ownCgroup = `${cg2}${/^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))![1]}`;
    // As left by a test process that died (PID above any pid_max) before destroy().
    const stale = `${ownCgroup}/phalanx-node-${name}-4194305-abcdef`;
    mkdirSync(`${stale}/system.slice`, { recursive: true });
    await expect(SystemdNode.boot({ name, lifetimeMs: 60_000, bootTimeoutMs: 150 })).rejects.toThrow(`node ${name} did not boot`);
    expect(existsSync(stale)).toBe(false);
    expect(chainProcesses(name)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`phalanx-node-${name}`);
    expect(execFileSync('find', [cg2, '-maxdepth', '4', '-name', `phalanx-node-${name}-*`], { encoding: 'utf8' })).toBe('');
  }, 30_000);

  it('ends a node the test forgot when its lifetime is over', async () => {
    const t0 = Date.now();
    const node = await SystemdNode.boot({ name: `forgotten-${randomBytes(3).toString('hex')}`, lifetimeMs: 4000 });
    timings.secondBoot = Date.now() - t0;
    const pidNs = readlinkSync(`/proc/${node.pid}/ns/pid`);
    await eventually(async () => processesIn(pidNs).length === 0, 10_000, 'the node outlived its lifetime');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000);
    await expect(node.exec(['true'])).rejects.toThrow(/lifetime of 4000 ms over/);
    await node.destroy();
    expect(existsSync(node.cgroupDir)).toBe(false);
  }, 30_000);
});
