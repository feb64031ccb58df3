// The agent as the demo runs it: the real daemon (dist/agent/main.js) as a child process, exactly
// as in production, with its JSON log lines turned into one readable line each.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { checkReady } from '../common/ready-check.js';

const AGENT_MAIN = fileURLToPath(new URL('../agent/main.js', import.meta.url));
// The agent refuses to run as root unless told to; the demo is often run as root (port 53 for its
// upstreams), and everything it starts binds loopback only.
const AGENT_ARGS = process.getuid?.() === 0 ? ['--allow-root'] : [];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function clock(now = new Date()): string {
  return now.toTimeString().slice(0, 8);
}

// Fields worth showing next to a message; the rest (pid, hostname, time…) is noise on a terminal.
const SHOWN_FIELDS = ['reason', 'detail', 'signal', 'inflight', 'error'];

/** One pino JSON line → "agent  WARN  message (reason=timeout)"; other text passes through. */
export function formatAgentLog(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return `agent  ${line}`;
  }
  if (typeof entry !== 'object' || entry === null) return `agent  ${line}`;
  const level = String(entry.level ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const extras = SHOWN_FIELDS.flatMap((k) => (entry[k] !== undefined && entry[k] !== null ? [`${k}=${String(entry[k])}`] : []));
  const err = entry.err as { message?: string } | undefined;
  if (err?.message) extras.push(`error=${err.message}`);
  return `agent  ${level} ${String(entry.msg ?? '')}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

export class AgentChild {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode: number | null = null;
  private done = false;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.done = true;
        this.exitCode = code;
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the agent on `configPath`; every line it writes goes to `onLine`. */
  static spawn(configPath: string, onLine: (text: string) => void): AgentChild {
    const child = spawn(process.execPath, [AGENT_MAIN, '--config', configPath, ...AGENT_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new AgentChild(child);
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) if (l.trim()) onLine(formatAgentLog(l));
      });
      stream.on('end', () => buffered.trim() && onLine(formatAgentLog(buffered)));
    }
    return agent;
  }

  /** Resolves once the agent answers ready.spartan on `listen`; rejects if it exits or takes too long. */
  async waitUntilAnswering(listen: Endpoint, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the agent exited (status ${this.exitCode}) before answering on ${formatEndpoint(listen)}`);
      const r = await checkReady(listen, 300);
      if (r.ok) return;
      await sleep(100); // a refused check returns at once; don't spin
    }
    throw new Error(`the agent did not answer ready.spartan on ${formatEndpoint(listen)} within ${timeoutMs / 1000} s`);
  }

  /** SIGTERM, then SIGKILL if it has not finished after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
