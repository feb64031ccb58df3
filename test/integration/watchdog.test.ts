// phalanx-watchdog as the timer runs it, against the real agent on loopback: exit 0 when the agent
// answers, two failed rounds before the restart command runs, the agent process described in
// the log, no restart when it recovers between rounds or when restarts are disabled, and one
// clear line for a bad config.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { LoggedProcess, WATCHDOG_MAIN, runTool } from '../helpers/logged-process.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'phalanx-watchdog-'));
const agents: AgentProcess[] = [];
let seq = 0;

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function agentConfig(port: number) {
  return { listen: [`127.0.0.1:${port}`], http: { enabled: false }, log: { level: 'warn' } };
}

async function startAgent(port: number): Promise<AgentProcess> {
  const agent = await AgentProcess.start(agentConfig(port));
  agents.push(agent);
  return agent;
}

/** A config file for the watchdog, and a marker file its default test restart command appends to. */
function watchdogConfig(port: number, watchdog: Record<string, unknown> = {}) {
  const n = ++seq;
  const marker = join(dir, `restarted-${n}`);
  const path = join(dir, `config-${n}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      ...agentConfig(port),
      log: { level: 'info' },
      watchdog: { timeoutMs: 300, retryDelayMs: 200, restartCommand: ['/bin/sh', '-c', `echo restarted >> ${marker}`], ...watchdog },
    }),
  );
  return { path, marker };
}

const watchdog = (path: string) => runTool(WATCHDOG_MAIN, ['--config', path]);

describe('phalanx-watchdog', () => {
  test('the agent answers: exit 0 after one round, no restart', async () => {
    const port = await freePort();
    await startAgent(port);
    const { path, marker } = watchdogConfig(port);
    const r = await watchdog(path);
    expect(r.exit.code).toBe(0);
    expect(r.logs).toEqual([expect.objectContaining({ level: 'info', round: 1, msg: 'the agent answers ready.spartan' })]);
    expect(r.logs[0].addresses).toEqual([expect.objectContaining({ address: `127.0.0.1:${port}`, ok: true })]);
    expect(existsSync(marker)).toBe(false);
  });

  test('one answering address is enough, and a hung one is not waited for', async () => {
    const port = await freePort();
    await startAgent(port);
    const hung = await FakeDnsServer.start({ address: '127.0.0.2', zone: 'spartan', records: [], behaviour: { kind: 'silent' } });
    try {
      const { path, marker } = watchdogConfig(port, { addresses: [hung.endpoint, `127.0.0.1:${port}`], timeoutMs: 5000 });
      const started = Date.now();
      const r = await watchdog(path);
      expect(r.exit.code).toBe(0);
      // Well under the 5 s the hung address would take.
      expect(Date.now() - started).toBeLessThan(4000);
      expect(r.logs[0].addresses).toEqual([expect.objectContaining({ address: `127.0.0.1:${port}`, ok: true })]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await hung.stop();
    }
  });

  test('no address answers: the round lists every address with its reason, in order', async () => {
    const port = await freePort();
    const dead = await freePort('127.0.0.2');
    const { path } = watchdogConfig(port, { addresses: [`127.0.0.2:${dead}`, `127.0.0.1:${port}`], enabled: false, retryDelayMs: 0 });
    const r = await watchdog(path);
    expect(r.logs[0].addresses).toEqual([
      { address: `127.0.0.2:${dead}`, ok: false, reason: 'refused: nothing listens there (the agent is not running)' },
      { address: `127.0.0.1:${port}`, ok: false, reason: 'refused: nothing listens there (the agent is not running)' },
    ]);
  });

  test('a dead agent: two failed rounds, the process not found, the restart command run, exit 1', async () => {
    const port = await freePort();
    const { path, marker } = watchdogConfig(port);
    const r = await watchdog(path);
    expect(r.exit.code).toBe(1);
    expect(readFileSync(marker, 'utf8')).toBe('restarted\n'); // exactly once
    const [first, second, done] = r.logs;
    const refused = { address: `127.0.0.1:${port}`, ok: false, reason: 'refused: nothing listens there (the agent is not running)' };
    expect(first).toMatchObject({
      level: 'warn',
      round: 1,
      retryInMs: 200,
      msg: 'the agent does not answer ready.spartan; asking again',
    });
    expect(first.addresses).toEqual([refused]);
    expect(second).toMatchObject({
      level: 'error',
      round: 2,
      msg: 'the agent does not answer ready.spartan: no agent process found; restarting it',
      agent: { processes: [], note: 'no process listens on these addresses (TCP): the agent is not running' },
      command: ['/bin/sh', '-c', `echo restarted >> ${marker}`],
    });
    expect(second.addresses).toEqual([refused]);
    expect(done).toMatchObject({ level: 'warn', msg: 'restart command done; the service manager starts a fresh agent' });
  });

  test('a hung agent (SIGSTOP): its pid, state, CPU and memory are logged, and the restart command kills it', async () => {
    const port = await freePort();
    const agent = await startAgent(port);
    const pid = agent.child.pid!;
    agent.signal('SIGSTOP');
    const { path } = watchdogConfig(port, { restartCommand: ['/bin/sh', '-c', `kill -KILL ${pid}`] });
    const r = await watchdog(path);
    expect(r.exit.code).toBe(1);
    const second = r.logs.find((l) => l.round === 2)!;
    // Hung, not dead: the socket is there, the answer never comes.
    expect(second.addresses).toEqual([{ address: `127.0.0.1:${port}`, ok: false, reason: 'no answer within 300 ms' }]);
    const seen = second.agent as { processes: Array<Record<string, unknown>>; note?: string };
    expect(seen.processes).toEqual([
      expect.objectContaining({
        pid,
        name: 'node',
        state: 'stopped',
        cpuPercent: expect.any(Number),
        memPercent: expect.any(Number),
        memRssKiB: expect.any(Number),
      }),
    ]);
    expect(seen.processes[0].command).toContain('dist/agent/main.js');
    expect(second.msg).toBe(`the agent does not answer ready.spartan: pid ${pid} (node) stopped; restarting it`);
    await agent.waitForExit(5000).catch(() => undefined);
    expect(agent.child.signalCode).toBe('SIGKILL');
  });

  test('the agent recovers between the rounds: no restart, exit 0', async () => {
    const port = await freePort();
    const { path, marker } = watchdogConfig(port, { retryDelayMs: 3000 });
    const w = new LoggedProcess([process.execPath, WATCHDOG_MAIN, '--config', path]);
    try {
      await w.waitForLog((l) => l.round === 1);
      await startAgent(port); // well within the 3 s retry delay
      const exit = await w.waitForExit(15_000);
      expect(exit.code).toBe(0);
      expect(w.logs.at(-1)).toMatchObject({ round: 2, msg: 'the agent answers ready.spartan again; not restarting it' });
      expect(existsSync(marker)).toBe(false);
    } finally {
      await w.stop();
    }
  });

  test('watchdog.enabled false: says what it would run, runs nothing, exit 3', async () => {
    const port = await freePort();
    const { path, marker } = watchdogConfig(port, { enabled: false });
    const r = await watchdog(path);
    expect(r.exit.code).toBe(3);
    expect(r.logs.at(-1)).toMatchObject({
      level: 'error',
      msg: 'the agent does not answer ready.spartan: no agent process found; not restarting it ("watchdog.enabled" is false)',
      command: ['/bin/sh', '-c', `echo restarted >> ${marker}`],
    });
    expect(existsSync(marker)).toBe(false);
  });

  test('a failing restart command is reported with its output, exit 3', async () => {
    const port = await freePort();
    const { path } = watchdogConfig(port, { restartCommand: ['/bin/sh', '-c', 'echo "Failed to kill unit" >&2; exit 7'] });
    const r = await watchdog(path);
    expect(r.exit.code).toBe(3);
    expect(r.logs.at(-1)).toMatchObject({
      level: 'error',
      error: 'exited with status 7',
      exitCode: 7,
      output: 'Failed to kill unit',
      msg: 'restart command failed; the agent still does not answer: run it by hand and check "watchdog.restartCommand"',
    });
  });
});

describe('phalanx-watchdog command line', () => {
  test('a restart program that does not exist is a config error found before any probing', async () => {
    const { path } = watchdogConfig(53, { restartCommand: ['no-such-restart-tool', '--now'] });
    const r = await watchdog(path);
    expect(r.exit.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      `phalanx-watchdog: config ${path}: key "watchdog.restartCommand": program "no-such-restart-tool" is not an executable file in PATH`,
    );
  });

  test('a bad value names the file and the key', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ listen: ['127.0.0.1:5353'], watchdog: { retryDelayMs: 'soon' } }));
    const r = await watchdog(path);
    expect(r.exit.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `phalanx-watchdog: config ${path}: key "watchdog.retryDelayMs": "soon" is not valid; expected an integer from 0 to 600000`,
    );
  });

  test('a missing config file', async () => {
    const r = await watchdog(join(dir, 'missing.json'));
    expect(r.exit.code).toBe(2);
    expect(r.stderr).toContain('cannot read it (file not found); pass the right file with --config FILE');
  });

  test('--help and --version', async () => {
    const help = await runTool(WATCHDOG_MAIN, ['--help']);
    expect(help.exit.code).toBe(0);
    expect(help.stdout).toContain('Usage: phalanx-watchdog [--config FILE]');
    expect(help.stdout).toContain('Exit status: 0 the agent answers; 1');
    const version = await runTool(WATCHDOG_MAIN, ['--version']);
    expect(version.stdout.trim()).toMatch(/^phalanx-watchdog \d+\.\d+\.\d+$/);
  });
});
