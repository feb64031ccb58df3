// What `phalanx-dns status` says, decided from what the agent reports (/v1/enumerate and two
// scrapes of /v1/metrics): each server's state and reply times, discovery, the stores, the
// queries, and the verdict its exit status carries. Pure, so every figure is unit-tested.
import type { AgentDescription } from '../http/enumerate.js';
import { type Sample, buckets, bucketsSince, quantile, total, totalsBy } from './prometheus-text.js';

/** Two scrapes of /v1/metrics and the seconds between them. */
export interface Scrapes {
  before: Sample[];
  after: Sample[];
  seconds: number;
}

/** Where a figure comes from: between the two scrapes, or since the agent started (nothing in between). */
export type Window = 'recent' | 'since start';

export interface ServerLine {
  group: string;
  address: string;
  /**
   * Failing: up, but its last query or probe failed, so it is probed in the background. Down:
   * marked down after consecutive failures, probed until it answers.
   */
  state: 'up' | 'failing' | 'down';
  failureScore: number;
  p50Ms: number | null;
  p99Ms: number | null;
  replyTimes: Window | null;
  answered: number;
  failed: number;
  lastFailure: { reason: string; agoSec: number | null } | null;
}

export interface Verdict {
  status: 'healthy' | 'degraded';
  /** 0 healthy, 1 degraded (2, the agent does not answer, is decided before a report exists). */
  exitCode: 0 | 1;
  reasons: string[];
}

export interface StatusReport {
  agent: { api: string; version: string; listening: boolean; inflight: number };
  verdict: Verdict;
  windowSec: number;
  servers: ServerLine[];
  discovery: {
    source: string;
    state: string;
    location: string | null;
    leader: string | null;
    masters: number;
    lastGoodReportAgoSec: number | null;
    error: string | null;
  };
  cache: { entries: number; maxEntries: number; hitRate: number | null; window: Window | null } | null;
  staleStore: { entries: number; bytes: number; maxEntries: number; maxBytes: number } | null;
  queries: {
    perSecond: Record<string, number>;
    total: number;
    staleShare: number | null;
    servfailShare: number | null;
    window: Window | null;
  };
}

const SERVER_SECONDS = 'phalanx_dns_server_request_duration_seconds';
const QUERIES = 'phalanx_dns_queries_total';
const ROUTES = ['mesos', 'local', 'forward', 'upstream'];

const round = (n: number, places = 3) => Number(n.toFixed(places));
const agoSec = (iso: string | null | undefined, now: number) => (iso ? Math.max(0, round((now - Date.parse(iso)) / 1000, 1)) : null);

/** A ratio between the scrapes when anything happened then, else since start; null when never. */
function ratio(part: (s: Sample[]) => number, whole: (s: Sample[]) => number, m: Scrapes): { value: number | null; window: Window | null } {
  const recent = whole(m.after) - whole(m.before);
  if (recent > 0) return { value: round((part(m.after) - part(m.before)) / recent), window: 'recent' };
  const all = whole(m.after);
  return all > 0 ? { value: round(part(m.after) / all), window: 'since start' } : { value: null, window: null };
}

/** p50 and p99 of one server's usable answers, every transport together. */
function replyTimes(address: string, m: Scrapes): Pick<ServerLine, 'p50Ms' | 'p99Ms' | 'replyTimes'> {
  const after = buckets(m.after, SERVER_SECONDS, { upstream_address: address });
  const recent = bucketsSince(after, buckets(m.before, SERVER_SECONDS, { upstream_address: address }));
  for (const [window, b] of [
    ['recent', recent],
    ['since start', after],
  ] as const) {
    const p50 = quantile(0.5, b);
    if (p50 !== undefined) return { p50Ms: round(p50 * 1000), p99Ms: round(quantile(0.99, b)! * 1000), replyTimes: window };
  }
  return { p50Ms: null, p99Ms: null, replyTimes: null };
}

type ServerInfo = AgentDescription['upstreams'][number];

function serverLines(d: AgentDescription, m: Scrapes, now: number): ServerLine[] {
  const groups: Array<[string, ServerInfo[]]> = [['mesos', d.mesos.masters], ['upstream', d.upstreams], ...Object.entries(d.forwardZones)];
  return groups.flatMap(([group, servers]) =>
    servers.map((s) => ({
      group,
      address: s.address,
      state: !s.up ? 'down' : s.consecutiveFailures > 0 ? 'failing' : 'up',
      failureScore: s.failureScore,
      ...replyTimes(s.address, m),
      answered: s.successes,
      failed: s.failures,
      lastFailure: s.lastFailure ? { reason: s.lastFailure, agoSec: agoSec(s.lastFailureAt, now) } : null,
    })),
  );
}

/** Degraded when a server is down, discovery is in error, no master is known, or not every listener is bound. */
export function decideVerdict(r: Pick<StatusReport, 'servers' | 'discovery' | 'agent'>): Verdict {
  const reasons = [
    ...r.servers
      .filter((s) => s.state === 'down')
      .map((s) => `${s.group} server ${s.address} is down (${s.lastFailure?.reason ?? 'failing'})`),
    r.discovery.state === 'error' ? `discovery (${r.discovery.source}) is failing: ${r.discovery.error ?? 'no detail'}` : '',
    r.discovery.masters === 0 ? 'no Mesos master is known: Mesos names get SERVFAIL' : '',
    r.agent.listening ? '' : 'not every listener is bound (starting or shutting down)',
  ].filter(Boolean);
  return reasons.length ? { status: 'degraded', exitCode: 1, reasons } : { status: 'healthy', exitCode: 0, reasons };
}

export function buildStatus(input: {
  api: string;
  version: string;
  description: AgentDescription;
  scrapes: Scrapes;
  now: number;
}): StatusReport {
  const { description: d, scrapes: m, now } = input;
  const byRoute = (s: Sample[]) => totalsBy(s, QUERIES, 'route');
  const [before, after] = [byRoute(m.before), byRoute(m.after)];
  const routes = [...new Set([...ROUTES, ...after.keys()])];
  const queries = (s: Sample[]) => total(s, QUERIES);
  const stale = ratio((s) => total(s, 'phalanx_dns_stale_answers_total'), queries, m);
  const servfail = ratio((s) => total(s, QUERIES, { rcode: 'SERVFAIL' }), queries, m);
  const hits = ratio(
    (s) => total(s, 'phalanx_dns_cache_lookups_total', { result: 'hit' }),
    (s) => total(s, 'phalanx_dns_cache_lookups_total'),
    m,
  );
  const disc = d.discovery;
  const partial = {
    agent: { api: input.api, version: input.version, listening: d.listening, inflight: d.inflight },
    windowSec: round(m.seconds, 2),
    servers: serverLines(d, m, now),
    discovery: {
      source: disc.source,
      state: disc.state,
      location: disc.location ?? null,
      leader: disc.leader ?? null,
      masters: d.mesos.masters.length,
      lastGoodReportAgoSec: agoSec(disc.updatedAt, now),
      error: disc.state === 'error' ? (disc.detail ?? null) : null,
    },
    cache: d.cache && { entries: d.cache.entries, maxEntries: d.cache.maxEntries, hitRate: hits.value, window: hits.window },
    staleStore: d.staleStore,
    queries: {
      perSecond: Object.fromEntries(routes.map((r) => [r, round(((after.get(r) ?? 0) - (before.get(r) ?? 0)) / m.seconds, 1)])),
      total: queries(m.after),
      staleShare: stale.value,
      servfailShare: servfail.value,
      window: stale.window,
    },
  };
  return { ...partial, verdict: decideVerdict(partial) };
}
