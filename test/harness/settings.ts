// What the bench and the chaos suite share about the machine side: where the servers listen, how
// dnsperf loads them, and how long the fast servers' answers live. Each suite's own settings stay
// in its folder (test/bench/settings.ts, test/chaos/settings.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dnsperf's clients (-c): enough that one core of a C server is the limit. */
export const DNSPERF_CLIENTS = 4;
/** A query unanswered this long counts as lost (more than the agent's timeoutMs, so its SERVFAIL arrives). */
export const DNSPERF_TIMEOUT_S = 2;
/** Every cached peer keeps every answer this long (the agent's default cache.mesosMaxTtlSec). */
export const CACHE_TTL_S = 2;

/** Loopback addresses only: each peer on its own, the masters and upstreams as in the demo. */
export const ADDRESSES = {
  agent: '127.0.0.1',
  agentCached: '127.0.0.2',
  dnsmasq: '127.0.0.3',
  dnsmasqCached: '127.0.0.4',
  unbound: '127.0.0.5',
  masters: ['127.0.0.11', '127.0.0.12', '127.0.0.13'],
  upstreams: ['127.0.0.21', '127.0.0.22'],
};

// This file runs as dist-test/test/harness/settings.js.
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
