// What one `npm run bench` does, read once from the environment, and where it writes.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { shebangLaunch } from '../helpers/agent-launch.js';
import { ADDRESSES, CACHE_TTL_S, DNSPERF_CLIENTS, DNSPERF_TIMEOUT_S, REPO_ROOT } from '../harness/settings.js';

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
 * Runs per peer and case at each load, the peers taking turns. Unthrottled, the median counts:
 * the machine's own speed drifts by ±15 % within minutes (the same build's CPU per query, back to
 * back), so one run each could decide a target either way. At the fixed rate the runs' latencies
 * are pooled (measure.ts pooledRun).
 */
export const REPEATS = envInt('BENCH_REPEATS', 3, 1, 9);
/** The fixed rate of the latency and CPU-per-query runs, q/s: well below saturation, so latency is service time. */
export const FIXED_QPS = envInt('BENCH_QPS', 2000, 1, 100_000);
/** The sustained run that checks the cached agent's RSS for growth; 0 skips it. */
export const SOAK_SECONDS = envInt('BENCH_SOAK_SECONDS', 60, 0, 3600);

/** Case numbers or ids to run (e.g. "3" or "uncached"); empty runs them all. */
export const ONLY_CASES = (process.env.BENCH_CASES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
/** Extra node flags for the agents, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a case. */
export const EXTRA_AGENT_FLAGS = (process.env.BENCH_AGENT_FLAGS ?? '').split(/\s+/).filter(Boolean);
/**
 * Where to write a CPU profile and an allocation sample of each agent over each case's unthrottled
 * runs (profiles.ts); the agents then run with the inspector on, so their figures are not the ones
 * to quote.
 */
export const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR) : undefined;
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

/** dnsperf's queries outstanding at most (-q), beside its clients (harness/settings.ts). */
export const DNSPERF_MAX_OUTSTANDING = 500;
/** dig's wait in the every-master-hung case: longer than glibc's 5 s, so "no answer" means no answer. */
export const DIG_TIMEOUT_S = 6;
/** The floods that fill the agents' caches and stale stores last this long, unthrottled. */
export const FLOOD_SECONDS = Math.max(2, 2 * SECONDS);
/** Queries of one ping-pong run at most (it also stops after SECONDS). */
export const PING_PONG_QUERIES = 10_000;
/** Clients in the burst step (target 16.3): each asks the same new name once, all at the same moment. */
export const BURST_CLIENTS = 500;

export const AGENT_TIMEOUT_MS = 1000;
/**
 * Queries in flight at most: the agent's default maxInflight, and dnsmasq's --dns-forward-max to
 * match, over the 500 dnsperf keeps outstanding. Not more: dnsmasq walks its table of forwarded
 * queries on every turn of its loop, and at 10,000 it answered local names a third slower.
 */
export const AGENT_MAX_INFLIGHT = 1024;
/** The cache of the cached dnsmasq peer: the agent's default cache.maxEntries. */
export const CACHE_ENTRIES = 10_000;

export { ADDRESSES, CACHE_TTL_S, DNSPERF_CLIENTS, DNSPERF_TIMEOUT_S, REPO_ROOT };
/**
 * The agent measured: this checkout's build, or another one's (BENCH_AGENT_MAIN=/other/dist/agent/main.js),
 * so that two builds can be compared in one sitting.
 */
export const AGENT_MAIN = process.env.BENCH_AGENT_MAIN ? resolve(process.env.BENCH_AGENT_MAIN) : join(REPO_ROOT, 'dist/agent/main.js');
/** The environment and node flags the agent's #! line (what the systemd unit runs) starts it with, read from the build. */
const LAUNCH = shebangLaunch(readFileSync(AGENT_MAIN, 'utf8'));
export const AGENT_ENV = LAUNCH.env;
export const AGENT_NODE_FLAGS = [...LAUNCH.nodeFlags, ...EXTRA_AGENT_FLAGS, ...(PROFILE_DIR ? ['--inspect=127.0.0.1:0'] : [])];
export const RESULTS_JSON = join(REPO_ROOT, 'test-results/bench.json');
export const RESULTS_SVG = join(REPO_ROOT, 'test-results/bench-latency.svg');
/** The printed tables in a markdown file beside bench.json, ready to paste into docs/benchmark.md. */
export const RESULTS_MD = join(REPO_ROOT, 'test-results/bench.md');
