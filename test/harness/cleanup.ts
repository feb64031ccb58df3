// Everything the bench (and the chaos suite) starts is registered here and undone in reverse order: on success, on an
// error, and on Ctrl-C or SIGTERM. Process groups are also SIGKILLed from a last-resort `exit`
// handler, so a crash of the driver never leaves an nsd or dnsmasq holding a loopback port.
import type { ChildProcess } from 'node:child_process';

const steps: Array<() => unknown> = [];
const groups = new Set<number>();
const transient = new Set<ChildProcess>();
let cleaning: Promise<void> | undefined;
let abortedBy: NodeJS.Signals | undefined;
/** Which run is speaking in messages: the bench or the chaos suite, which share this file. */
let runName = 'bench';

export function onCleanup(step: () => unknown): void {
  steps.push(step);
}

/** A child started with `detached: true` leads its own process group; it is killed whole on exit. */
export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

/** A short-lived tool (dnsperf, dig): killed first when the bench is stopped. */
export function trackTransient(child: ChildProcess): void {
  transient.add(child);
  child.once('exit', () => transient.delete(child));
}

export function aborted(): boolean {
  return abortedBy !== undefined;
}

export function throwIfAborted(): void {
  if (abortedBy) throw new Error(`aborted by ${abortedBy}`);
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of transient) child.kill('SIGKILL');
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (err) {
        console.error(`${runName}: cleanup step failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs: number, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (group && child.pid) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  return new Promise((resolve) => {
    const kill = setTimeout(() => signal('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      if (group && child.pid) {
        signal('SIGKILL'); // whatever the leader left behind in its group
        untrackGroup(child.pid);
      }
      resolve();
    });
    // A stopped process (a "hung" server) handles SIGTERM only once continued.
    if (group) signal('SIGCONT');
    signal('SIGTERM');
  });
}

export function installSignalHandlers(name = 'bench'): void {
  runName = name;
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      if (abortedBy) return;
      abortedBy = sig;
      console.error(`\n${runName}: ${sig}, stopping everything it started`);
      const hard = setTimeout(() => process.exit(code), 15_000);
      hard.unref();
      void cleanup().finally(() => process.exit(code));
    });
  }
  process.on('exit', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGCONT');
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}
