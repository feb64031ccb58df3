// A node's DNS end to end, inside a network namespace this test creates and removes: the
// interface script makes `spartan` with 198.51.100.1-3, the built agent serves on them, fake
// upstream resolvers run on the namespace's loopback, and glibc (getent) resolves through the
// resolv.conf that phalanx-genresolv writes. Then the agent dies (resolv.conf falls back to the
// upstreams), hangs (the watchdog's two rounds restart it), and recovers (resolv.conf lists it
// again). No packet leaves the namespace; the host's /etc/resolv.conf is never touched.
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AGENT_MAIN, ALLOW_ROOT_ARGS, REPO_ROOT } from '../helpers/agent-process.js';
import { FAKE_DNS_MAIN, GENRESOLV_MAIN, type LoggedProcess, WATCHDOG_MAIN, runTool } from '../helpers/logged-process.js';
import { Netns } from '../helpers/netns.js';

const NS = `phalanx-test-${process.pid}`;
const AGENT_ADDRESSES = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const ORIGINAL = '# the node before phalanx-dns\nnameserver 192.0.2.53\n';
const INTERFACE_SCRIPT = join(REPO_ROOT, 'deploy/spartan-interface.sh');

let ns: Netns;
let resolvConf: string;
let configPath: string;
let dir: string;

/** The one config file the agent, the watchdog and genresolv share, as on a node. */
function writeConfig(restartCommand: string[] = ['/bin/false']): void {
  writeFileSync(
    configPath,
    JSON.stringify({
      listen: AGENT_ADDRESSES.map((a) => `${a}:53`),
      upstreams: ['127.0.0.21:53', '127.0.0.22:53', '127.0.0.23:5353'],
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
  const upstreams = ns.spawn([
    process.execPath,
    FAKE_DNS_MAIN,
    '--listen',
    '127.0.0.21:53',
    '--listen',
    '127.0.0.22:53',
    '--listen',
    '127.0.0.23:5353',
  ]);
  await upstreams.waitForLog((l) => 'listening' in l);
});

afterAll(async () => {
  await supervisor.stop().catch(() => undefined);
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a node in a network namespace', () => {
  test('the interface script creates spartan with the three addresses, and a second run is still a success', async () => {
    for (let run = 1; run <= 2; run++) {
      const r = await ns.exec([INTERFACE_SCRIPT, 'up']);
      expect({ run, code: r.code, stderr: r.stderr }).toEqual({ run, code: 0, stderr: '' });
    }
    const addr = await ns.exec(['ip', '-4', '-o', 'address', 'show', 'dev', 'spartan']);
    expect(addr.stdout.match(/inet (\S+)/g)).toEqual(AGENT_ADDRESSES.map((a) => `inet ${a}/32`));
    expect((await ns.exec(['ip', 'link', 'show', 'dev', 'spartan'])).stdout).toMatch(/[<,]UP[,>]/);
  });

  test('the agent serves on all three addresses', async () => {
    supervisor.start();
    await waitForAllAddresses();
    expect(await ns.digShort('198.51.100.2', 'www.example.org')).toEqual(['192.0.2.80']);
  });

  test('genresolv lists the agent, saves the original, and glibc resolves through it', async () => {
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    const text = readFileSync(resolvConf, 'utf8');
    expect(nameserversIn(text)).toEqual(AGENT_ADDRESSES);
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

  test('the agent stops: genresolv switches to the port-53 upstreams and names the one it skips', async () => {
    await supervisor.stop();
    const r = await genresolv();
    expect(r.exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(['127.0.0.21', '127.0.0.22']);
    expect(r.logs.map((l) => l.msg)).toContain(
      '127.0.0.23:5353 ("upstreams") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
    );
    expect(await lookup('www.example.org')).toBe('192.0.2.80'); // the node still resolves
  });

  test('a hung agent is not listed, and the watchdog restarts it after two failed rounds', async () => {
    const hung = supervisor.start();
    await waitForAllAddresses();
    hung.signal('SIGSTOP'); // alive, sockets open, never answering

    const gen = await genresolv();
    expect(gen.exit.code).toBe(0);
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(['127.0.0.21', '127.0.0.22']);

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
    expect(nameserversIn(readFileSync(resolvConf, 'utf8'))).toEqual(AGENT_ADDRESSES);
    expect(await lookup('www.example.org')).toBe('192.0.2.80');
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
