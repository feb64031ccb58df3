// Which servers a query goes to, best first. Only healthy ones while any is healthy (a down
// server is left to the background probe, not to clients' queries); among those, the lowest
// decayed failure score, and a server that is late right now (a query waits on it past its hedge
// delay) after the punctual ones; ties (the normal case: every healthy server's score decays to
// 0) broken at random so the masters share the cluster's load. When every server is down the
// best of them are still tried: asking a server that may have recovered beats answering SERVFAIL
// untried.
import type { Config } from '../../common/config/schema.js';

/** How many servers a query is raced to. */
export type Fanout = Config['fanout'];

export interface Candidate {
  down: boolean;
  score: number;
  /** A query waits on it past its hedge delay. */
  late?: boolean;
}

export function chooseServers<T extends Candidate>(servers: readonly T[], fanout: Fanout, random: () => number = Math.random): T[] {
  // This runs for every forwarded query: one copy of the list, one score read per server (a score
  // is a decay computed from the clock), and an in-place insertion sort of this handful rather
  // than Array.sort, which allocates scratch space.
  const anyHealthy = servers.some((s) => !s.down);
  const pool = anyHealthy ? servers.filter((s) => !s.down) : servers.slice();
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  // Whole failures only: a score of 0.3 left over from a blip should not outrank randomness.
  // A stable sort by rank keeps the shuffled order within a tie.
  const ranks = pool.map((s) => Math.floor(s.score) + (s.late ? 1 : 0));
  for (let i = 1; i < pool.length; i++) {
    const s = pool[i];
    const r = ranks[i];
    let j = i - 1;
    for (; j >= 0 && ranks[j] > r; j--) {
      pool[j + 1] = pool[j];
      ranks[j + 1] = ranks[j];
    }
    pool[j + 1] = s;
    ranks[j + 1] = r;
  }
  pool.length = fanout === 'all' ? pool.length : Math.min(fanout, pool.length);
  return pool;
}
