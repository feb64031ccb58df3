// Every counter the agent keeps, as Prometheus metrics from the start, so the HTTP API only has
// to expose the registry. Families named after dcos-dns's where they mean the same thing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  // Process RSS, CPU, event-loop lag, file descriptors: what an SRE checks first.
  collectDefaultMetrics({ register: registry });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  // Read when scraped rather than moved twice per forwarded query.
  let inflightNow = () => 0;
  return {
    registry,
    /** Where the in-flight gauge reads its value (the resolver's count). */
    readInflightFrom(read: () => number): void {
      inflightNow = read;
    },
    queries: new Counter({
      name: 'phalanx_dns_queries_total',
      help: 'Client queries answered, by transport, route and response code',
      labelNames: ['transport', 'route', 'rcode'] as const,
      registers: [registry],
    }),
    invalidQueries: new Counter({
      name: 'phalanx_dns_invalid_queries_total',
      help: 'Client messages that were not a serviceable query (dropped or answered with an error)',
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
      help: 'Queries answered with the last good answer (serve-stale, RFC 8767) because no server answered usably, by zone',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    forwarderDuration: new Histogram({
      name: 'forwarder_requests_duration_seconds',
      help: 'Time to answer a forwarded client query, by zone (mesos domain, forward zone or upstream)',
      labelNames: ['zone'] as const,
      buckets,
      registers: [registry],
    }),
    forwarderFailures: new Counter({
      name: 'forwarder_failures_total',
      help: 'Forwarded client queries that no server answered usably (client got SERVFAIL)',
      labelNames: ['zone'] as const,
      registers: [registry],
    }),
    workerDuration: new Histogram({
      name: 'worker_requests_duration_seconds',
      help: 'Time for one server to give a usable answer',
      labelNames: ['protocol', 'upstream_address'] as const,
      buckets,
      registers: [registry],
    }),
    workerFailures: new Counter({
      name: 'worker_failures_total',
      help: 'Requests to one server that gave no usable answer, by reason',
      labelNames: ['protocol', 'upstream_address', 'reason'] as const,
      registers: [registry],
    }),
    mismatchedReplies: new Counter({
      name: 'phalanx_dns_mismatched_replies_total',
      help: 'Replies dropped because source, ID or question did not match what was asked (RFC 5452)',
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
      help: 'Client TCP connections closed at once, by reason (max_connections: tcp.maxConnections reached; per_client: tcp.maxConnectionsPerClient)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    tcpClosed: new Counter({
      name: 'phalanx_dns_tcp_connections_closed_total',
      help: 'Client TCP connections closed by the agent, by reason (idle: tcp.idleTimeoutMs; query_timeout: a message not complete within tcp.queryTimeoutMs)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'phalanx_dns_refused_total',
      help: 'Client queries turned away, by reason (acl: REFUSED, source outside the ACL; rate: over the per-client rate, TC over UDP, REFUSED over TCP) and transport',
      labelNames: ['reason', 'transport'] as const,
      registers: [registry],
    }),
    serverUp: new Gauge({
      name: 'phalanx_dns_server_up',
      help: '1 while a server is considered healthy, 0 while it is marked down',
      labelNames: ['group', 'upstream_address'] as const,
      registers: [registry],
    }),
    serverTcpOpened: new Counter({
      name: 'phalanx_dns_server_tcp_connections_opened_total',
      help: 'TCP connections opened to servers for truncated answers (reused and pipelined, so few)',
      labelNames: ['upstream_address'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
