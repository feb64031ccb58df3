// A network namespace owned by one test: created with a unique name, loopback up, and removed
// with every process started in it, even when the test fails. Addresses such as 198.51.100.1
// exist only in here, so nothing a test sends inside can reach a real network.
//
// Files in /etc/netns/<name>/ (resolv.conf, nsswitch.conf) are what `ip netns exec` shows the
// processes inside as /etc/<file>: that is how glibc in the namespace reads a test's resolv.conf
// while the host's /etc/resolv.conf is never touched.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoggedProcess } from './logged-process.js';
import { waitFor } from './time.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== 'number' ? `\n${err.message}` : '') });
    });
  });
}

export class Netns {
  readonly etcDir: string;
  private readonly processes: LoggedProcess[] = [];
  /** /etc/netns did not exist before: remove it again when it is left empty. */
  private createdEtcNetns = false;

  private constructor(readonly name: string) {
    this.etcDir = join('/etc/netns', name);
  }

  /** Creates `name` (removing a stale one left by a crashed run with the same name). */
  static async create(name: string): Promise<Netns> {
    if (!/^phalanx-test-[\w-]+$/.test(name)) throw new Error(`test namespaces are named phalanx-test-*, not ${name}`);
    await run(['ip', 'netns', 'del', name], 5000);
    const add = await run(['ip', 'netns', 'add', name], 5000);
    if (add.code !== 0) throw new Error(`ip netns add ${name} failed (needs root and iproute2): ${add.stderr}`);
    const ns = new Netns(name);
    const lo = await ns.exec(['ip', 'link', 'set', 'lo', 'up']);
    if (lo.code !== 0) {
      await ns.destroy();
      throw new Error(`cannot bring up loopback in ${name}: ${lo.stderr}`);
    }
    ns.createdEtcNetns = !existsSync('/etc/netns');
    mkdirSync(ns.etcDir, { recursive: true });
    return ns;
  }

  get prefix(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** Runs a command inside to completion, bounded by timeoutMs. */
  exec(argv: string[], timeoutMs = 20_000): Promise<ExecResult> {
    return run([...this.prefix, ...argv], timeoutMs);
  }

  /** Starts a long-running process inside; destroy() ends it. */
  spawn(argv: string[]): LoggedProcess {
    const p = new LoggedProcess([...this.prefix, ...argv]);
    this.processes.push(p);
    return p;
  }

  /** `dig +short` from inside: the answer lines, or [] when there was none. */
  async digShort(server: string, name: string, type = 'A'): Promise<string[]> {
    const r = await this.exec(['dig', '+short', '+tries=1', '+timeout=1', `@${server}`, name, type], 10_000);
    return r.code === 0 ? r.stdout.split('\n').filter((l) => l && !l.startsWith(';')) : [];
  }

  /** Polls ready.spartan on `server` until it answers; bounded in tries and time. */
  async waitUntilAnswering(server: string, timeoutMs = 10_000): Promise<void> {
    if (await waitFor(async () => (await this.digShort(server, 'ready.spartan')).includes('127.0.0.1'), { timeoutMs, everyMs: 100 }))
      return;
    throw new Error(`nothing answered ready.spartan on ${server} in ${this.name} within ${timeoutMs} ms`);
  }

  /** Kills every process started here, deletes the namespace and its /etc/netns directory. */
  async destroy(): Promise<void> {
    for (const p of this.processes) p.signal('SIGKILL');
    await Promise.all(this.processes.map((p) => p.waitForExit(5000).catch(() => undefined)));
    await run(['ip', 'netns', 'del', this.name], 5000);
    rmSync(this.etcDir, { recursive: true, force: true });
    if (this.createdEtcNetns) {
      try {
        rmdirSync('/etc/netns');
      } catch {
        /* another namespace's files are in it now */
      }
    }
  }
}
