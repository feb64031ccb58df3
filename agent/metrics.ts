// Every counter the agent keeps, as Prometheus metrics from the start, so the HTTP API only has
// to expose the registry. All are named phalanx_dns_*; dcos-dns's names for four of them are kept
// as aliases for existing dashboards, written at scrape time so the hot path counts once.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A family also exposed under dcos-dns's name, with some label names changed back to its own. */
export interface MetricAlias {
  name: string;
  alias: string;
  /** Label renames, from this agent's name to the alias's. */
  labels?: Readonly<Record<string, string>>;
}

export const DCOS_DNS_ALIASES: readonly MetricAlias[] = [
  { name: 'phalanx_dns_forwarded_query_duration_seconds', alias: 'forwarder_requests_duration_seconds' },
  { name: 'phalanx_dns_forwarded_query_failures_total', alias: 'forwarder_failures_total' },
  { name: 'phalanx_dns_server_request_duration_seconds', alias: 'worker_requests_duration_seconds', labels: { transport: 'protocol' } },
  { name: 'phalanx_dns_server_request_failures_total', alias: 'worker_failures_total', labels: { transport: 'protocol' } },
];

/** The lines a histogram's family writes besides its own name. */
const SAMPLE_SUFFIXES = ['', '_bucket', '_sum', '_count'];

/**
 * `text` (Prometheus text format) followed by each aliased family again under its alias: HELP,
 * TYPE and every sample, with the same values since they come from the same text.
 */
export function withAliases(text: string, aliases: readonly MetricAlias[]): string {
  const bySample = new Map<string, { alias: MetricAlias; name: string }>();
  for (const a of aliases) for (const s of SAMPLE_SUFFIXES) bySample.set(a.name + s, { alias: a, name: a.alias + s });
  const extra: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(line);
    const found = m && bySample.get(m[2]);
    if (!m || !found) continue;
    const [, comment, , rest] = m;
    if (comment === '# HELP ') extra.push(`${comment}${found.name} Alias of ${found.alias.name} (dcos-dns's name):${rest}`);
    else if (comment) extra.push(`${comment}${found.name}${rest}`);
    else extra.push(`${found.name}${relabel(rest, found.alias.labels)}`);
  }
  if (extra.length === 0) return text;
  return `${text}${text.endsWith('\n') ? '' : '\n'}${extra.join('\n')}\n`;
}

/** Renames label names in a sample's `{a="x",b="y"} value`; a value cannot match, its quotes are escaped. */
function relabel(rest: string, renames: Readonly<Record<string, string>> = {}): string {
  let out = rest;
  for (const [from, to] of Object.entries(renames)) out = out.replace(new RegExp(`([{,])${from}="`), `$1${to}="`);
  return out;
}

/**
 * What the agent keeps anyway and the gauges below read when scraped: the discovery source's
 * state, the sizes and caps of the stores, the TCP cap. `null` for a store that is off.
 */
export interface ScrapedState {
  discovery: { source: string; state: 'ok' | 'connecting' | 'error'; updatedAt?: string };
  cache: { entries: number; maxEntries: number } | null;
  staleStore: { entries: number; bytes: number; maxEntries: number; maxBytes: number } | null;
  tcpMaxConnections: number;
}

export function createMetrics() {
  const registry = new Registry();
  // Process RSS, CPU, event-loop lag, file descriptors: what an SRE checks first.
  collectDefaultMetrics({ register: registry });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  // Read when scraped rather than moved twice per forwarded query.
  let inflightNow = () => 0;
  let stateNow = (): ScrapedState => ({
    discovery: { source: 'static', state: 'ok' },
    cache: null,
    staleStore: null,
    tcpMaxConnections: 0,
  });
  return {
    registry,
    /** The Prometheus text of every family, the dcos-dns aliases included. */
    async text(): Promise<string> {
      return withAliases(await registry.metrics(), DCOS_DNS_ALIASES);
    },
    /** Where the in-flight gauge reads its value (the resolver's count). */
    readInflightFrom(read: () => number): void {
      inflightNow = read;
    },
    /** Where the discovery, store and TCP-cap gauges read their values (the agent's state). */
    readStateFrom(read: () => ScrapedState): void {
      stateNow = read;
    },
    queries: new Counter({
      name: 'phalanx_dns_queries_total',
      help: 'Client queries answered, by transport (udp, tcp), route (local, mesos, forward, upstream) and response code (rcode: NOERROR, NXDOMAIN, SERVFAIL, …)',
      labelNames: ['transport', 'route', 'rcode'] as const,
      registers: [registry],
    }),
    invalidQueries: new Counter({
      name: 'phalanx_dns_invalid_queries_total',
      help: 'Client messages that were not a serviceable query, by reason (dropped: no reply; error_reply: answered FORMERR, NOTIMP or BADVERS)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'phalanx_dns_inflight_queries',
      help: 'Forwarded client queries waiting for a server',
      registers: [registry],
      collect() {
        this.set(inflightNow());
      },
    }),
    cacheLookups: new Counter({
      name: 'phalanx_dns_cache_lookups_total',
      help: 'Answer cache lookups for forwarded names, by result (hit, miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    overload: new Counter({
      name: 'phalanx_dns_overload_total',
      help: 'Queries answered at once without asking a server because maxInflight was reached (stale when kept, else SERVFAIL)',
      registers: [registry],
    }),
    staleAnswers: new Counter({
      name: 'phalanx_dns_stale_answers_total',
      help: 'Queries answered with the last good answer (serve-stale, RFC 8767), by zone and why: failed (no server answered usably), slow (none had answered within serveStale.clientTimeoutMs), overloaded (maxInflight)',
      labelNames: ['zone', 'reason'] as const,
      registers: [registry],
    }),
    forwardedDuration: new Histogram({
      name: 'phalanx_dns_forwarded_query_duration_seconds',
      help: 'Time to answer a client query sent to servers, by zone (the server group: mesos, upstream or a forward zone)',
      labelNames: ['zone'] as const,
      buckets,
      registers: [registry],
    }),
    forwardedFailures: new Counter({
      name: 'phalanx_dns_forwarded_query_failures_total',
      help: 'Client queries sent to servers that no server answered usably (the client got SERVFAIL), by zone',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    serverRequestDuration: new Histogram({
      name: 'phalanx_dns_server_request_duration_seconds',
      help: 'Time for one server to give a usable answer, by transport and server',
      labelNames: ['transport', 'upstream_address'] as const,
      buckets,
      registers: [registry],
    }),
    serverRequestFailures: new Counter({
      name: 'phalanx_dns_server_request_failures_total',
      help: 'Requests to one server that gave no usable answer, by transport, server and reason (timeout, refused, malformed, network, or rcode_ and the response code, e.g. rcode_SERVFAIL)',
      labelNames: ['transport', 'upstream_address', 'reason'] as const,
      registers: [registry],
    }),
    mismatchedReplies: new Counter({
      name: 'phalanx_dns_mismatched_replies_total',
      help: 'Replies from servers dropped as not ours (RFC 5452), by server and reason (id: no query waits with that ID; question: not the question asked)',
      labelNames: ['upstream_address', 'reason'] as const,
      registers: [registry],
    }),
    tcpConnections: new Gauge({
      name: 'phalanx_dns_tcp_connections',
      help: 'Open client TCP connections',
      registers: [registry],
    }),
    tcpRejected: new Counter({
      name: 'phalanx_dns_tcp_connections_rejected_total',
      help: "Client TCP connections closed at once, by reason (max_connections: tcp.maxConnections reached and none idle; per_client: tcp.maxConnectionsPerClient reached and none of the client's own idle)",
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    tcpClosed: new Counter({
      name: 'phalanx_dns_tcp_connections_closed_total',
      help: 'Client TCP connections closed by the agent, by reason (idle: tcp.idleTimeoutMs; query_timeout: a message not complete within tcp.queryTimeoutMs; evicted: the longest idle, closed to admit a new connection at tcp.maxConnections or tcp.maxConnectionsPerClient)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'phalanx_dns_refused_total',
      help: 'Client queries turned away, by reason (acl: REFUSED, source outside the ACL; rate: over the per-client rate, TC over UDP, REFUSED over TCP) and transport; not counted in phalanx_dns_queries_total',
      labelNames: ['reason', 'transport'] as const,
      registers: [registry],
    }),
    serverUp: new Gauge({
      name: 'phalanx_dns_server_up',
      help: '1 while a server is considered healthy, 0 while it is marked down',
      labelNames: ['group', 'upstream_address'] as const,
      registers: [registry],
    }),
    serverProbes: new Counter({
      name: 'phalanx_dns_server_probes_total',
      help: 'Background probes of failing servers, by group, server and result (answered, or why not)',
      labelNames: ['group', 'upstream_address', 'result'] as const,
      registers: [registry],
    }),
    serverRequests: new Counter({
      name: 'phalanx_dns_server_requests_total',
      help: 'Requests sent to each server for client queries, background probes not included: the load the agent puts on the masters',
      labelNames: ['upstream_address'] as const,
      registers: [registry],
    }),
    hedges: new Counter({
      name: 'phalanx_dns_hedges_total',
      help: 'Forwarded queries that went on to another server because the first gave no usable answer within its hedge delay, by zone (the server group)',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    hedgesOverBudget: new Counter({
      name: 'phalanx_dns_hedges_over_budget_total',
      help: 'Hedges not fired because the group had used its budget (a tenth of its requests): the query kept waiting on the first server, by zone',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    coalesced: new Counter({
      name: 'phalanx_dns_coalesced_queries_total',
      help: 'Client queries that shared an identical query already waiting for a server instead of sending their own, by zone',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    prefetches: new Counter({
      name: 'phalanx_dns_prefetches_total',
      help: 'Cached answers refreshed in the background because a client asked for them in the last tenth of their TTL, by zone',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    serverTcpOpened: new Counter({
      name: 'phalanx_dns_server_tcp_connections_opened_total',
      help: 'TCP connections opened to servers for truncated answers (reused and pipelined, so few)',
      labelNames: ['upstream_address'] as const,
      registers: [registry],
    }),
    // The gauges below alert on what an outage of their own would hide: a master source failing
    // while the last good list is kept, and stores full (the oldest names go first).
    discoveryUp: new Gauge({
      name: 'phalanx_dns_discovery_up',
      help: "1 while the master source's last attempt succeeded (always for static), 0 while it fails or has not answered yet, by source (static, file, exhibitor, zookeeper)",
      labelNames: ['source'] as const,
      registers: [registry],
      collect() {
        const d = stateNow().discovery;
        this.reset();
        this.set({ source: d.source }, d.state === 'ok' ? 1 : 0);
      },
    }),
    discoveryLastSuccess: new Gauge({
      name: 'phalanx_dns_discovery_last_success_timestamp_seconds',
      help: "Unix time of the master source's last good report, by source; absent for static and until the first one",
      labelNames: ['source'] as const,
      registers: [registry],
      collect() {
        const d = stateNow().discovery;
        this.reset();
        if (d.updatedAt) this.set({ source: d.source }, Date.parse(d.updatedAt) / 1000);
      },
    }),
    cacheEntries: new Gauge({
      name: 'phalanx_dns_cache_entries',
      help: 'Answers in the answer cache (0 while it is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().cache?.entries ?? 0);
      },
    }),
    cacheMaxEntries: new Gauge({
      name: 'phalanx_dns_cache_max_entries',
      help: 'cache.maxEntries: past it the least recently used answer goes (0 while the cache is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().cache?.maxEntries ?? 0);
      },
    }),
    staleStoreEntries: new Gauge({
      name: 'phalanx_dns_stale_store_entries',
      help: 'Answers kept for serve-stale (0 while it is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().staleStore?.entries ?? 0);
      },
    }),
    staleStoreMaxEntries: new Gauge({
      name: 'phalanx_dns_stale_store_max_entries',
      help: 'serveStale.maxEntries: past it the least recently used answer goes (0 while serve-stale is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().staleStore?.maxEntries ?? 0);
      },
    }),
    staleStoreBytes: new Gauge({
      name: 'phalanx_dns_stale_store_bytes',
      help: 'Estimated memory of the answers kept for serve-stale, in bytes (0 while it is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().staleStore?.bytes ?? 0);
      },
    }),
    staleStoreMaxBytes: new Gauge({
      name: 'phalanx_dns_stale_store_max_bytes',
      help: 'serveStale.maxBytes: past it the least recently used answer goes (0 while serve-stale is off)',
      registers: [registry],
      collect() {
        this.set(stateNow().staleStore?.maxBytes ?? 0);
      },
    }),
    tcpMaxConnections: new Gauge({
      name: 'phalanx_dns_tcp_max_connections',
      help: 'tcp.maxConnections: the cap on open client TCP connections (phalanx_dns_tcp_connections)',
      registers: [registry],
      collect() {
        this.set(stateNow().tcpMaxConnections);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
