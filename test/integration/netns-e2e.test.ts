// A node's DNS end to end, inside a network namespace this test creates and removes: the
// interface script makes `spartan` with 198.51.100.1-3 and fd01:d::c633:6401, the built agent
// serves on them with the default config, fake upstream resolvers reached over IPv6 only run on
// the namespace's loopback (::1), and glibc (getent) resolves through the resolv.conf that
// phalanx-genresolv writes. Then the agent dies (resolv.conf falls back to the upstreams), hangs
// (the watchdog's two rounds restart it), recovers (resolv.conf lists it again), and is left with
// its IPv6 address only (what a client with only IPv6 has). A second namespace with IPv6 disabled
// still gets the IPv4 addresses. No packet leaves the namespaces; the host's /etc/resolv.conf is
// never touched.
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AGENT_MAIN, ALLOW_ROOT_ARGS, REPO_ROOT } from '../helpers/agent-process.js';
import { FAKE_DNS_MAIN, GENRESOLV_MAIN, type LoggedProcess, WATCHDOG_MAIN, runTool } from '../helpers/logged-process.js';
import { Netns } from '../helpers/netns.js';

const NS = `phalanx-test-${process.pid}`;
const AGENT_V4 = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const AGENT_V6 = 'fd01:d::c633:6401';
const AGENT_ADDRESSES = [...AGENT_V4, AGENT_V6];
/** glibc reads three nameservers: two IPv4 addresses and the IPv6 one. */
const LISTED = ['198.51.100.1', '198.51.100.2', AGENT_V6];
/** IPv6 only; the second is on a port resolv.conf cannot name. */
const UPSTREAMS = ['[::1]:53', '[::1]:5353'];
const ORIGINAL = '# the node before phalanx-dns\nnameserver 192.0.2.53\n';
const INTERFACE_SCRIPT = join(REPO_ROOT, 'deploy/spartan-interface.sh');

let ns: Netns;
let resolvConf: string;
let configPath: string;
let dir: string;

/** The one config file the agent, the watchdog and genresolv share, as on a node: the default `listen`. */
function writeConfig(restartCommand: string[] = ['/bin/false']): void {
  writeFileSync(
    configPath,
    JSON.stringify({
      upstreams: UPSTREAMS,
      timeoutMs: 1000,
      http: { enabled: false },
      log: { level: 'info' },
      // Short delays: the test's stand-ins for 5 s timeouts and a 60 s retry delay.
      watchdog: { timeoutMs: 500, retryDelayMs: 500, restartCommand },
      genresolv: { path: resolvConf, search: ['marathon.mesos'], timeoutMs: 500 },
    }),
  );
}

/**
 * Plays systemd's Restart=always for the agent: whenever it exits without the test asking, a new
 * one is started. Bounded, so a crashing agent cannot loop.
 */
class AgentSupervisor {
  current: LoggedProcess | undefined;
  restarts = 0;
  private supervising = false;

  start(): LoggedProcess {
    this.supervising = true;
    return this.launch();
  }

  private launch(): LoggedProcess {
    const agent = ns.spawn([process.execPath, AGENT_MAIN, '--config', configPath, ...ALLOW_ROOT_ARGS]);
    this.current = agent;
    void agent.exited.then(() => {
      if (this.supervising && this.current === agent && this.restarts < 3) {
        this.restarts++;
        setTimeout(() => this.supervising && this.launch(), 100);
      }
    });
    return agent;
  }

  async stop(): Promise<void> {
    this.supervising = false;
    await this.current?.stop();
  }
}

const supervisor = new AgentSupervisor();

const genresolv = () => runTool(GENRESOLV_MAIN, ['--config', configPath, '--output', resolvConf], { prefix: ns.prefix });
const nameserversIn = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('nameserver '))
    .map((l) => l.slice('nameserver '.length));

/** What an application on the node gets: glibc's resolver, reading the namespace's resolv.conf. */
async function lookup(name: string): Promise<string> {
  const r = await ns.exec(['getent', 'ahostsv4', name], 20_000);
  if (r.code !== 0)
    throw new Error(`getent ahostsv4 ${name} failed (${r.code}) with resolv.conf:\n${readFileSync(resolvConf, 'utf8')}\n${r.stderr}`);
  return r.stdout.split(/\s+/)[0];
}

async function waitForAllAddresses(): Promise<void> {
  for (const a of AGENT_ADDRESSES) await ns.waitUntilAnswering(a);
}

beforeAll(async () => {
  ns = await Netns.create(NS);
  resolvConf = join(ns.etcDir, 'resolv.conf');
  // Not in etcDir: `ip netns exec` would try to bind every file there over /etc/<file>.
  dir = mkdtempSync(join(tmpdir(), 'phalanx-e2e-'));
  configPath = join(dir, 'phalanx.json');
  writeFileSync(resolvConf, ORIGINAL);
  // Only DNS for host names in here, whatever the host's nsswitch.conf says.
  writeFileSync(join(ns.etcDir, 'nsswitch.conf'), 'hosts: dns\n');
  writeConfig();
  const upstreams = ns.spawn([process.execPath, FAKE_DNS_MAIN, ...UPSTREAMS.flatMap((u) => ['--listen', u])]);
  await upstreams.waitForLog((l) => 'listening' in l);
});

afterAll(async () => {
  await supervisor.stop().catch(() => undefined);
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a node in a network namespace', () => {
  test('the interface script creates spartan with the four addresses, and a second run is still a success', async () => {
    for (let run = 1; run <= 2; run++) {
      const r = await ns.exec([INTERFACE_SCRIPT, 'up']);
      expect({ run, code: r.code, stderr: r.stderr }).toEqual({ run, code: 0, stderr: '' });
    }
    const addr = await ns.exec(['ip', '-4', '-o', 'address', 'show', 'dev', 'spartan']);
    expect(addr.stdout.match(/inet (\S+)/g)).toEqual(AGENT_V4.map((a) => `inet ${a}/32`));
    // Usable at once: not "tentative" (no duplicate address detection).
    const addr6 = await ns.exec(['ip', '-6', '-o', 'address', 'show', 'dev', 'spartan', 'scope', 'global']);
    expect(addr6.stdout.match(/inet6 \S+.*/g)).toEqual([expect.stringMatching(/^inet6 fd01:d::c633:6401\/128 scope global nodad /)]);
    expect((await ns.exec(['ip', 'link', 'show', 'dev', 'spartan'])).stdout).toMatch(/[<,]UP[,>]/);
  });

  test('the agent serves on all four addresses, and forwards over IPv6 to its upstreams', async () => {
    const agent = supervisor.start();
    await waitForAllAddresses();
    expect(await ns.digShort('198.51.100.2', 'www.example.org')).toEqual(['192.0.2.80']);
    expect(await ns.digShort(AGENT_V6, 'www.example.org')).toEqual(['192.0.2.80']);
    const tcp = await ns.exec(['dig', '+short', '+tcp', '+tries=1', '+timeout=2', `@${AGENT_V6}`, 'ready.spartan']);
    expect(tcp.stdout.trim()).toBe('127.0.0.1');
    const listening = await agent.waitForLog((l) => l.msg === 'phalanx-dns listening');
    expect(listening.listen).toEqual([...AGENT_V4.map((a) => `${a}:53`), `[${AGENT_V6}]:53`]);
  });

  test('genresolv lists two IPv4 addresses and the IPv6 one, saves the original, and glibc resolves through it', async () => {
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    const text = readFileSync(resolvConf, 'utf8');
    expect(nameserversIn(text)).toEqual(LISTED);
    expect(text).toContain('\nnameserver fd01:d::c633:6401\n');
    expect(r.logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'only 3 answering agent addresses are listed (glibc reads at most 3), one of each address family: 198.51.100.3 left out',
      }),
    );
    expect(r.logs.filter((l) => l.level !== 'info')).toEqual([]);
    expect(text).toContain('\nsearch marathon.mesos\noptions timeout:1 attempts:3\n');
    expect(readFileSync(`${resolvConf}.orig`, 'utf8')).toBe(ORIGINAL);
    expect(await lookup('www.example.org')).toBe('192.0.2.80');
  });

  test('a second genresolv run leaves the file alone', async () => {
    const before = statSync(resolvConf);
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    expect(r.logs.at(-1)?.msg).toContain('is up to date');
    expect(statSync(resolvConf).ino).toBe(before.ino);
    expect(statSync(resolvConf).mtimeMs).toBe(before.mtimeMs);
  });

  test('the agent stops: genresolv switches to the port-53 upstream, an IPv6 nameserver, and names the one it skips', async () => {
    await supervisor.stop();
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(['::1']);
    expect(r.logs.map((l) => l.msg)).toContain(
      '[::1]:5353 ("upstreams") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
    );
    expect(await lookup('www.example.org')).toBe('192.0.2.80'); // the node still resolves, over IPv6
  });

  test('a hung agent is not listed, and the watchdog restarts it after two failed rounds', async () => {
    const hung = supervisor.start();
    await waitForAllAddresses();
    hung.signal('SIGSTOP'); // alive, sockets open, never answering

    const gen = await genresolv();
    expect(gen.exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(['::1']);

    // The test's restart action does what `systemctl kill --signal SIGKILL --kill-who main` does;
    // the supervisor then plays Restart=always.
    writeConfig(['/bin/sh', '-c', `kill -KILL ${hung.pid}`]);
    const restartsBefore = supervisor.restarts;
    const w = await runTool(WATCHDOG_MAIN, ['--config', configPath], { prefix: ns.prefix });
    expect(w.exit.code).toBe(1);
    const rounds = w.logs.filter((l) => typeof l.round === 'number');
    expect(rounds.map((l) => [l.level, l.round])).toEqual([
      ['warn', 1],
      ['error', 2],
    ]);
    // What it saw of the process before restarting it: the stopped agent.
    const seen = rounds[1].agent as { processes: Array<{ pid: number; state: string; memRssKiB: number }> };
    expect(seen.processes).toEqual([expect.objectContaining({ pid: hung.pid, state: 'stopped' })]);
    expect(seen.processes[0].memRssKiB).toBeGreaterThan(0);
    expect(rounds[1].msg).toContain(`pid ${hung.pid} (node) stopped`);

    expect(await hung.waitForExit(5000)).toEqual({ code: null, signal: 'SIGKILL' });
    await waitForAllAddresses();
    expect(supervisor.restarts).toBe(restartsBefore + 1);
    expect(supervisor.current?.pid).not.toBe(hung.pid);
  });

  test('the agent answers again: the watchdog is content and genresolv lists the agent again', async () => {
    const w = await runTool(WATCHDOG_MAIN, ['--config', configPath], { prefix: ns.prefix });
    expect(w.exit.code).toBe(0);
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(LISTED);
    expect(await lookup('www.example.org')).toBe('192.0.2.80');
  });

  test('with only its IPv6 address left, the agent is what a client with only IPv6 sees: listed, resolving, and healthy', async () => {
    // The sockets stay bound; queries to the IPv4 addresses now find no route.
    for (const a of AGENT_V4) expect((await ns.exec(['ip', 'address', 'del', `${a}/32`, 'dev', 'spartan'])).code).toBe(0);
    try {
      const r = await genresolv();
      expect(r.exit.code).toBe(0);
      expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual([AGENT_V6]);
      // `hosts`, not `ahostsv4`: with no IPv4 address left but loopback, getaddrinfo's
      // AI_ADDRCONFIG would not even ask for the A record.
      const hosts = await ns.exec(['getent', 'hosts', 'www.example.org'], 20_000);
      expect({ code: hosts.code, stdout: hosts.stdout }).toEqual({ code: 0, stdout: '192.0.2.80      www.example.org\n' });

      // The watchdog asks every listen address, the IPv6 one too: its answer passes the round.
      const w = await runTool(WATCHDOG_MAIN, ['--config', configPath], { prefix: ns.prefix });
      expect(w.exit.code).toBe(0);
      expect(JSON.stringify(w.logs)).toContain(`"address":"[${AGENT_V6}]:53","ok":true`);
    } finally {
      expect((await ns.exec([INTERFACE_SCRIPT, 'up'])).code).toBe(0);
    }
    await waitForAllAddresses();
    expect((await genresolv()).exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(LISTED);
  });

  test('genresolv --restore puts the original back', async () => {
    const r = await runTool(GENRESOLV_MAIN, ['--config', configPath, '--output', resolvConf, '--restore'], { prefix: ns.prefix });
    expect(r.exit.code).toBe(0);
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL);
    expect(() => lstatSync(`${resolvConf}.orig`)).toThrow('ENOENT');
  });

  test('the tear-down removes spartan, and a second run is still a success', async () => {
    await supervisor.stop();
    for (let run = 1; run <= 2; run++) {
      const r = await ns.exec([INTERFACE_SCRIPT, 'down']);
      expect({ run, code: r.code }).toEqual({ run, code: 0 });
    }
    expect((await ns.exec(['ip', 'link', 'show', 'dev', 'spartan'])).code).not.toBe(0);
  });
});

describe('a node with IPv6 disabled (net.ipv6.conf.all.disable_ipv6 = 1)', () => {
  let ns6: Netns;
  let dir6: string;
  const config = (extra: object = {}) => {
    const path = join(dir6, `config-${Object.keys(extra).join('-') || 'default'}.json`);
    const resolv = join(dir6, 'resolv.conf');
    writeFileSync(
      path,
      JSON.stringify({
        upstreams: ['127.0.0.21:53'],
        http: { enabled: false },
        watchdog: { timeoutMs: 500, retryDelayMs: 500, restartCommand: ['/bin/false'] },
        genresolv: { path: resolv, timeoutMs: 500 },
        ...extra,
      }),
    );
    return { path, resolv };
  };

  beforeAll(async () => {
    ns6 = await Netns.create(`phalanx-test-${process.pid}-noipv6`);
    dir6 = mkdtempSync(join(tmpdir(), 'phalanx-e2e-noipv6-'));
    // Per namespace: the host's own setting is untouched. Writing "all" sets "default" too.
    const off = await ns6.exec(['sysctl', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    if (off.code !== 0) throw new Error(`cannot disable IPv6 in ${ns6.name}: ${off.stderr}`);
    const upstream = ns6.spawn([process.execPath, FAKE_DNS_MAIN, '--listen', '127.0.0.21:53']);
    await upstream.waitForLog((l) => 'listening' in l);
  });

  afterAll(async () => {
    await ns6?.destroy();
    if (dir6) rmSync(dir6, { recursive: true, force: true });
  });

  test('the interface script adds the IPv4 addresses and says why it leaves out the IPv6 one', async () => {
    const r = await ns6.exec([INTERFACE_SCRIPT, 'up']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('leaving out fd01:d::c633:6401/128: IPv6 is disabled on spartan (net.ipv6.conf.spartan.disable_ipv6 = 1)');
    expect(r.stdout).toContain('spartan is up with 198.51.100.1 198.51.100.2 198.51.100.3\n');
    const addr = await ns6.exec(['ip', '-o', 'address', 'show', 'dev', 'spartan']);
    expect(addr.stdout.match(/inet6? (\S+)/g)).toEqual(AGENT_V4.map((a) => `inet ${a}/32`));
  });

  test('the agent with the default listen addresses starts, serves the IPv4 ones, and says why not the IPv6 one', async () => {
    const { path, resolv } = config();
    const agent = ns6.spawn([process.execPath, AGENT_MAIN, '--config', path, ...ALLOW_ROOT_ARGS]);
    try {
      const skipped = await agent.waitForLog((l) => l.msg === 'not listening on the default IPv6 address');
      expect(skipped).toMatchObject({
        level: 'warn',
        listen: '[fd01:d::c633:6401]:53',
        reason: 'IPv6 is disabled on this node (net.ipv6.conf.all.disable_ipv6 = 1)',
      });
      const listening = await agent.waitForLog((l) => l.msg === 'phalanx-dns listening');
      expect(listening.listen).toEqual(AGENT_V4.map((a) => `${a}:53`));
      for (const a of AGENT_V4) await ns6.waitUntilAnswering(a);
      expect(await ns6.digShort('198.51.100.3', 'www.example.org')).toEqual(['192.0.2.80']);

      // genresolv lists the three IPv4 addresses; the watchdog is content with them.
      const r = await runTool(GENRESOLV_MAIN, ['--config', path], { prefix: ns6.prefix });
      expect(r.exit.code).toBe(0);
      expect(nameserversIn(readFileSync(resolv, 'utf8'))).toEqual(AGENT_V4);
      const w = await runTool(WATCHDOG_MAIN, ['--config', path], { prefix: ns6.prefix });
      expect(w.exit.code).toBe(0);
    } finally {
      await agent.stop();
    }
  });

  test('an IPv6 address the operator chose is not skipped: the agent does not start and says why', async () => {
    const { path } = config({ listen: ['198.51.100.1:53', '[fd01:d::c633:6402]:53'] });
    const agent = ns6.spawn([process.execPath, AGENT_MAIN, '--config', path, ...ALLOW_ROOT_ARGS]);
    const exit = await agent.waitForExit(15_000);
    expect(exit.code).toBe(1);
    expect(agent.dump()).toContain('cannot listen on fd01:d::c633:6402:53');
  });
});
