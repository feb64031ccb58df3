// The agent's view of itself for /v1/enumerate (and /v1/records): its zones, every server with
// its health, discovery, and the clients it serves. Built on demand from the current state.
import { formatCidr } from '../../common/config/cidr.js';
import { formatEndpoint } from '../../common/config/endpoint.js';
import type { DiscoveryStatus } from '../discovery/discovery.js';
import type { ServerGroup } from '../servers/server-group.js';
import type { ResolverState } from '../resolver.js';

export interface AgentDescriptionInput {
  state: ResolverState;
  listening: boolean;
  discovery: DiscoveryStatus;
  /** The ZooKeeper hosts the zk zone names. */
  ensemble: string[];
  inflight: number;
}

function servers(group: ServerGroup, now: number) {
  return group.servers.map((srv) => ({
    address: srv.address,
    up: !srv.down,
    failureScore: Number(srv.health.failureScore(now).toFixed(3)),
    rttMs: srv.health.rttMs === undefined ? null : Number(srv.health.rttMs.toFixed(3)),
    successes: srv.health.successes,
    failures: srv.health.failures,
    consecutiveFailures: srv.health.consecutiveFailures,
    lastFailure: srv.health.lastFailure ?? null,
    lastFailureAt: srv.health.lastFailureAt === undefined ? null : new Date(srv.health.lastFailureAt).toISOString(),
  }));
}

/** The answer cache and the stale store against their caps (null when off): /v1/enumerate and the metrics read both. */
export function storeUsage(s: ResolverState) {
  return {
    cache: s.cache ? { entries: s.cache.size, maxEntries: s.config.cache.maxEntries } : null,
    staleStore: s.stale
      ? { entries: s.stale.size, bytes: s.stale.bytes, maxEntries: s.config.serveStale.maxEntries, maxBytes: s.config.serveStale.maxBytes }
      : null,
  };
}

export function describeAgent({ state: s, listening, discovery, ensemble, inflight }: AgentDescriptionInput) {
  const now = Date.now();
  return {
    listening,
    listen: s.config.listen.map(formatEndpoint),
    localZones: [...s.zones.values()].map((z) => ({
      zone: z.apex,
      records: [...z.names.values()]
        .flat()
        .map((r) => ({ name: r.name, type: r.type, ttl: 'ttl' in r ? r.ttl : 0, data: 'data' in r ? r.data : null })),
    })),
    mesos: { domain: s.config.mesos.domain, masters: servers(s.mesos, now) },
    upstreams: servers(s.upstream, now),
    forwardZones: Object.fromEntries([...s.forward].map(([zone, g]) => [zone, servers(g, now)])),
    zookeeper: ensemble,
    discovery,
    ...storeUsage(s),
    clients: {
      acl: s.clients.acl.networks.map(formatCidr),
      rateLimitExempt: s.clients.exempt.networks.map(formatCidr),
      tracked: s.clients.size,
    },
    inflight,
  };
}

export type AgentDescription = ReturnType<typeof describeAgent>;
