// The policy's levers, and what turning each off alone means while still running the agent's code:
// no cache is the resolver with `cache.enabled` false; no coalescing is the answer layer joining no
// exchange in flight, so no two share one (the cache is still shared: it lives in the stores); no
// prefetch is a cache that never reports an entry as expiring; race is dcos-dns's
// policy, `dispatch` "race" with `fanout` 2.
import { AnswerCache } from '../../agent/cache/answer-cache.js';
import type { ScannedMessage } from '../../common/dns/wire.js';

export interface Levers {
  cache: boolean;
  coalescing: boolean;
  prefetch: boolean;
  dispatch: 'hedged' | 'race';
}

export interface Scenario {
  id: string;
  label: string;
  levers: Levers;
  /** One master hangs when the measured window starts. */
  hungMaster: boolean;
}

const ALL: Levers = { cache: true, coalescing: true, prefetch: true, dispatch: 'hedged' };

export const SCENARIOS: readonly Scenario[] = [
  { id: 'all', label: 'all levers', levers: ALL, hungMaster: false },
  { id: 'no-cache', label: 'no cache', levers: { ...ALL, cache: false }, hungMaster: false },
  { id: 'no-coalescing', label: 'no coalescing', levers: { ...ALL, coalescing: false }, hungMaster: false },
  { id: 'no-prefetch', label: 'no prefetch', levers: { ...ALL, prefetch: false }, hungMaster: false },
  { id: 'race', label: 'race, fanout 2', levers: { ...ALL, dispatch: 'race' }, hungMaster: false },
];

/** One master hung, hedged against raced: at the largest cluster, and at the largest that can lose a master (run.ts). */
export const HUNG_SCENARIOS: readonly Scenario[] = [
  { id: 'hung-all', label: '1 master hung, all levers', levers: ALL, hungMaster: true },
  { id: 'hung-race', label: '1 master hung, race', levers: { ...ALL, dispatch: 'race' }, hungMaster: true },
];

/** The agent's cache with prefetch off: a hit is never in its last tenth. */
export class CacheWithoutPrefetch extends AnswerCache {
  override get(key: string, now: number): (ScannedMessage & { expiring: boolean }) | undefined {
    const hit = super.get(key, now);
    if (hit) hit.expiring = false;
    return hit;
  }
}
