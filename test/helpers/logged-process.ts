// A child process whose stdout is pino JSON lines (phalanx-watchdog, phalanx-genresolv, the agent
// or a fake server, possibly under `ip netns exec`): tests wait for log lines and for its exit,
// always with a deadline, and can stop it whatever state it is in (SIGSTOPped included).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type LogLine, REPO_ROOT, readJsonLines } from './agent-process.js';

export const WATCHDOG_MAIN = join(REPO_ROOT, 'dist/watchdog/main.js');
export const GENRESOLV_MAIN = join(REPO_ROOT, 'dist/genresolv/main.js');
export const FAKE_DNS_MAIN = join(REPO_ROOT, 'dist-test/test/helpers/serve-fake-dns.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LoggedProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(readonly argv: string[]) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    readJsonLines(this.child.stdout!, (line) => {
      this.logs.push(line);
      this.wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      const done = (e: Exit) => {
        if (this.exit) return;
        this.exit = e;
        this.wake();
        resolve(e);
      };
      this.child.on('close', (code, signal) => done({ code, signal }));
      this.child.on('error', (err) => {
        this.stderr += `cannot start ${argv[0]}: ${err.message}\n`;
        done({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  dump(): string {
    return `$ ${this.argv.join(' ')}\n${this.stdout}${this.stderr}`;
  }

  /** The first log line matching `pred`, already seen or to come; rejects on exit or after timeoutMs. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms:\n${this.dump()}`)), timeoutMs);
      const check = () => {
        const hit = this.logs.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else if (this.exit) {
          clearTimeout(timer);
          reject(new Error(`exited (${this.exit.code ?? this.exit.signal}) before the log line:\n${this.dump()}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Resolves with how it exited; rejects (leaving it running) after timeoutMs. */
  waitForExit(timeoutMs = 30_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms:\n${this.dump()}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited after graceMs (SIGKILL also ends a stopped process). */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    try {
      return await this.waitForExit(graceMs);
    } catch {
      this.child.kill('SIGKILL');
      return this.exited;
    }
  }
}

/** Runs a command to completion; kills it and rejects when it takes longer than timeoutMs. */
export async function runToCompletion(argv: string[], timeoutMs = 30_000): Promise<LoggedProcess & { exit: Exit }> {
  const p = new LoggedProcess(argv);
  try {
    await p.waitForExit(timeoutMs);
  } catch (err) {
    p.signal('SIGKILL');
    await p.exited;
    throw err;
  }
  return p as LoggedProcess & { exit: Exit };
}

/** Runs phalanx-watchdog or phalanx-genresolv (built) with `args`, optionally under a prefix such as `ip netns exec NS`. */
export function runTool(main: string, args: string[], opts: { prefix?: string[]; timeoutMs?: number } = {}) {
  return runToCompletion([...(opts.prefix ?? []), process.execPath, main, ...args], opts.timeoutMs);
}
