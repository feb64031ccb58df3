// What one `npm run bench` does, read once from the environment, and where it writes.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentLaunch } from '../helpers/agent-launch.js';

function envInt(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${v}: expected an integer from ${min} to ${max}`);
  return n;
}

/** Seconds of each dnsperf run (one per case, peer and load). */
export const SECONDS = envInt('BENCH_SECONDS', 5, 1, 60);
/**
 * Runs per peer and case at each load, alternating agent and dnsmasq. Unthrottled, the median
 * counts: the machine's own speed drifts by ±15 % within minutes (the same build's CPU per query,
 * back to back), so one run each could decide a 0.5 target either way. At the fixed rate the
 * runs' latencies are pooled (measure.ts pooledRun).
 */
export const REPEATS = envInt('BENCH_REPEATS', 3, 1, 9);
/** The fixed rate of the latency runs, q/s: well below saturation, so latency is service time. */
export const FIXED_QPS = envInt('BENCH_QPS', 2000, 1, 100_000);
/** The sustained run that checks the agent's RSS for growth; 0 skips it. */
export const SOAK_SECONDS = envInt('BENCH_SOAK_SECONDS', 60, 0, 3600);

/** Case numbers or ids to run (e.g. "2,3" or "mesos"); empty runs them all. */
export const ONLY_CASES = (process.env.BENCH_CASES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
/** Extra node flags for the agents, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a case. */
export const EXTRA_AGENT_FLAGS = (process.env.BENCH_AGENT_FLAGS ?? '').split(/\s+/).filter(Boolean);
/** Keys laid over both agents' config files, as JSON, e.g. '{"serveStale":{"enabled":false}}', to compare one setting. */
export const EXTRA_AGENT_CONFIG = parseJsonObject('BENCH_AGENT_CONFIG');

function parseJsonObject(name: string): Record<string, unknown> {
  const v = process.env[name];
  if (v === undefined || v === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new Error(`${name}: not JSON (${(e as Error).message})`, { cause: e });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${name}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}

export const DNSPERF_CLIENTS = 4;
/** A query unanswered this long counts as lost (more than the agent's timeoutMs, so its SERVFAIL arrives). */
export const DNSPERF_TIMEOUT_S = 2;
/** dig's wait in the every-master-hung case: longer than glibc's 5 s, so "no answer" means no answer. */
export const DIG_TIMEOUT_S = 6;

export const AGENT_TIMEOUT_MS = 1000;
export const AGENT_MAX_INFLIGHT = 10_000;
export const AGENT_FANOUT = 2;
/** The dnsmasq peer's cache in the cached variant: the agent's default cache.maxEntries. */
export const CACHE_ENTRIES = 10_000;
/** Both peers keep every cached answer this long (the agent's default cache.mesosMaxTtlSec). */
export const CACHE_TTL_S = 2;

/** Loopback addresses only: the agent and dnsmasq on their own, the masters and upstreams as in the demo. */
export const ADDRESSES = {
  agent: '127.0.0.1',
  agentCached: '127.0.0.2',
  dnsmasq: '127.0.0.3',
  dnsmasqCached: '127.0.0.4',
  masters: ['127.0.0.11', '127.0.0.12', '127.0.0.13'],
  upstreams: ['127.0.0.21', '127.0.0.22'],
};

// This file runs as dist-test/test/bench/settings.js.
const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '../../..');
export const AGENT_MAIN = join(REPO_ROOT, 'dist/agent/main.js');
/** The environment and node flags the agent's #! line (what the systemd unit runs) starts it with. */
const LAUNCH = agentLaunch();
export const AGENT_ENV = LAUNCH.env;
export const AGENT_NODE_FLAGS = [...LAUNCH.nodeFlags, ...EXTRA_AGENT_FLAGS];
export const RESULTS_JSON = join(REPO_ROOT, 'test-results/bench.json');
export const RESULTS_SVG = join(REPO_ROOT, 'test-results/bench-latency.svg');
