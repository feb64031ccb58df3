// "Does the agent still answer correctly?", asked the way an operator would: the real dig, over
// UDP or TCP, and the answer compared record for record.
import { DigError, dig } from '../helpers/dig.js';

export interface KnownAnswer {
  name: string;
  type: 'A' | 'SRV';
  /** Exactly these records (A: addresses). */
  records: string[];
}

export const READY: KnownAnswer = { name: 'ready.spartan', type: 'A', records: ['127.0.0.1'] };
/** What the NSD masters (test/harness/zones.ts) and the fake ones (test/helpers/cluster.ts) both serve. */
export const NGINX: KnownAnswer = { name: 'nginx.marathon.mesos', type: 'A', records: ['10.0.1.5', '10.0.1.6'] };

export interface SpotCheckResult {
  ok: boolean;
  /** "NOERROR 10.0.1.5 10.0.1.6", "SERVFAIL", "timed out", … */
  seen: string;
  ms: number;
}

export async function spotCheck(
  host: string,
  port: number,
  p: KnownAnswer,
  opts: { tcp?: boolean; timeoutSec?: number; source?: string } = {},
): Promise<SpotCheckResult> {
  const extra = [...(opts.tcp ? ['+tcp'] : []), ...(opts.source ? ['-b', opts.source] : [])];
  const started = performance.now();
  try {
    const r = await dig(host, port, p.name, p.type, extra, { timeoutSec: opts.timeoutSec ?? 2 });
    const records = r.answers.filter((a) => a.type === p.type).map((a) => a.data);
    const ok = r.status === 'NOERROR' && records.length === p.records.length && [...records].sort().join() === [...p.records].sort().join();
    return { ok, seen: `${r.status} ${records.sort().join(' ')}`.trim(), ms: performance.now() - started };
  } catch (err) {
    return {
      ok: false,
      seen: err instanceof DigError && err.timedOut ? 'timed out' : (err as Error).message.slice(0, 200),
      ms: performance.now() - started,
    };
  }
}
