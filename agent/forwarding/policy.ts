// Which servers a query is raced to. Only healthy ones while any is healthy (a down server is
// left to the background probe, not to clients' queries); among those, the lowest decayed
// failure score; ties (the normal case: every healthy server's score decays to 0) broken at
// random so the masters share the cluster's load. When every server is down the best of them
// are still tried: asking a server that may have recovered beats answering SERVFAIL untried.
export interface Candidate {
  down: boolean;
  score: number;
}

export function chooseServers<T extends Candidate>(
  servers: readonly T[],
  fanout: number | 'all',
  random: () => number = Math.random,
): T[] {
  const healthy = servers.filter((s) => !s.down);
  const pool = healthy.length > 0 ? healthy : servers;
  const n = fanout === 'all' ? pool.length : Math.min(fanout, pool.length);
  const shuffled = [...pool];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  // Whole failures only: a score of 0.3 left over from a blip should not outrank randomness.
  const rank = (c: Candidate) => Math.floor(c.score);
  return shuffled.sort((a, b) => rank(a) - rank(b)).slice(0, n);
}
