// Starts the built agent (dist/agent/main.js) as a real process with a temp config file, the way
// systemd would, and gives tests its parsed log lines, signals and exit status.
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest folder up with a package.json (this file also runs from dist/). */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const AGENT_MAIN = join(REPO_ROOT, 'dist/agent/main.js');
/**
 * Extra agent arguments for tests, demos and benchmarks: the agent refuses to run as root without
 * --allow-root, and they run as root on our machines (CI containers).
 */
export const ALLOW_ROOT_ARGS: readonly string[] = process.getuid?.() === 0 ? ['--allow-root'] : [];

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** Calls `onLine` for every line of `stream`, parsed as JSON (pino) or kept as a raw line. */
export function readJsonLines(stream: NodeJS.ReadableStream, onLine: (line: LogLine) => void): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        onLine(JSON.parse(line));
      } catch {
        onLine({ level: 'raw', msg: line });
      }
    }
  });
}

export class AgentProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  exitCode: number | null = null;
  private exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly child: ChildProcess,
    readonly configPath: string,
    private readonly dir: string,
  ) {
    readJsonLines(child.stdout!, (line) => {
      this.logs.push(line);
      this.wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.wake();
    });
    this.exited = new Promise((res) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        this.wake();
        res(code);
      }),
    );
  }

  /**
   * Writes `config` to a temp file and starts the agent on it; resolves once it is listening.
   * `nodeArgs` go to node before the script and `env` is added to its environment (e.g. the
   * production launch, agent-launch.ts).
   */
  static async start(
    config: unknown,
    opts: { waitForListening?: boolean; args?: string[]; nodeArgs?: string[]; env?: Record<string, string> } = {},
  ): Promise<AgentProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'phalanx-test-'));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), AGENT_MAIN, '--config', configPath, ...ALLOW_ROOT_ARGS, ...(opts.args ?? [])],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...opts.env },
      },
    );
    const agent = new AgentProcess(child, configPath, dir);
    const listen = (config as { listen?: string[] }).listen?.[0];
    if ((opts.waitForListening ?? true) && listen) {
      try {
        await agent.waitUntilAnswering(listen, 10_000);
      } catch (err) {
        await agent.stop();
        throw err;
      }
    }
    return agent;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first log line matching `pred` (already seen or future); rejects on exit or timeout. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching agent log line within ${timeoutMs} ms; logs:\n${this.dump()}`));
      }, timeoutMs);
      const check = () => {
        const hit = this.logs.find(pred);
        if (hit) {
          clearTimeout(timer);
          return resolve(hit);
        }
        if (this.exitCode !== null || this.child.signalCode) {
          clearTimeout(timer);
          return reject(new Error(`agent exited (${this.exitCode ?? this.child.signalCode}) before the log line; logs:\n${this.dump()}`));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Polls ready.spartan on `listen` ("ip:port") until the agent answers it. */
  async waitUntilAnswering(listen: string, timeoutMs: number): Promise<void> {
    const colon = listen.lastIndexOf(':');
    const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(listen.slice(colon + 1));
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (this.exitCode !== null || this.child.signalCode) {
        throw new Error(`agent exited (${this.exitCode ?? this.child.signalCode}) before answering; output:\n${this.dump()}`);
      }
      if (await askReady(host, port, 200)) return;
    }
    throw new Error(`agent did not answer ready.spartan on ${listen} within ${timeoutMs} ms; output:\n${this.dump()}`);
  }

  dump(): string {
    return [...this.logs.map((l) => JSON.stringify(l)), this.stderr].join('\n');
  }

  rewriteConfig(config: unknown): void {
    writeFileSync(this.configPath, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Resolves with the exit code, or rejects when the process is still running after timeoutMs. */
  waitForExit(timeoutMs = 10_000): Promise<number | null> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`agent still running after ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  /** SIGTERM and wait; SIGKILL if it does not exit in time. Always removes the temp dir. */
  async stop(): Promise<number | null> {
    try {
      if (this.exitCode === null && !this.child.signalCode) {
        this.child.kill('SIGTERM');
        try {
          return await this.waitForExit(8000);
        } catch {
          this.child.kill('SIGKILL');
          return await this.exited;
        }
      }
      return this.exitCode;
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

const READY_QUERY = dnsPacket.encode({
  type: 'query',
  id: 4242,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type: 'A', name: 'ready.spartan' }],
});

/** One ready.spartan query over UDP; true when any reply with its ID comes back in time. */
function askReady(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => setTimeout(() => done(false), 50));
    sock.on('message', (msg) => msg.length >= 2 && msg.readUInt16BE(0) === 4242 && done(true));
    sock.send(READY_QUERY, port, host);
  });
}

/** Runs a program to completion and collects its output; rejects (after SIGKILL) past timeoutMs. */
export function runToCompletion(argv: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': the output may still be in the pipe when the process has exited.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the agent CLI to completion (for --help, --version, bad configs); `asIs` leaves out ALLOW_ROOT_ARGS. */
export function runAgentCli(
  args: string[],
  timeoutMs = 10_000,
  opts: { asIs?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToCompletion([process.execPath, AGENT_MAIN, ...(opts.asIs ? [] : ALLOW_ROOT_ARGS), ...args], timeoutMs);
}

/**
 * Stops `running`, when there is one, and starts a fresh agent on `config`: for a test that needs
 * its own settings, and for putting the file's default agent back after it.
 */
export async function restartAgent(running: AgentProcess | undefined, config: unknown): Promise<AgentProcess> {
  await running?.stop();
  return AgentProcess.start(config);
}
