// The daemon's lifecycle: build the resolver state from a config, bind every listener (all or
// nothing), swap state on reload or discovery change, and shut down without dropping answers.
import type http from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { ClientAdmission } from './admission/client-admission.js';
import { NetworkSet } from './admission/network-set.js';
import { type Interfaces, nodeAddresses, nodeNetworks } from './admission/node-networks.js';
import { formatCidr } from '../common/config/cidr.js';
import { type Endpoint, formatEndpoint, isWildcard, sameEndpoint } from '../common/config/endpoint.js';
import { type Config, describeConfig } from '../common/config/schema.js';
import type { ServerPools } from './forwarding/exchange.js';
import { ServerGroup } from './forwarding/server-group.js';
import { TcpPool } from './forwarding/tcp-pool.js';
import { type UdpPools, UdpSocketPool } from './forwarding/udp-pool.js';
import { AnswerCache } from './cache/answer-cache.js';
import { StaleStore } from './cache/stale-store.js';
import { createApiServer } from './http/api.js';
import { TcpListener } from './listeners/tcp.js';
import { UdpListener } from './listeners/udp.js';
import { type Metrics, createMetrics } from './metrics.js';
import { Resolver, type ResolverState } from './resolver.js';
import { type InheritedSocket, describeSocket, planListenSockets } from './systemd/socket-activation.js';
import { type Zone, localhostZone, spartanZone, zkZone } from './zones/local-zones.js';

/** Sockets per address family, and queries each serves before moving to a fresh random port. */
const UDP_POOL_SIZE = 64;
const UDP_SOCKET_MAX_USES = 256;

export class Agent {
  readonly metrics: Metrics = createMetrics();
  readonly resolver: Resolver;
  /** Sockets for queries to servers, shared by every group; strays are counted as mismatches. */
  private readonly pools: UdpPools = {
    4: new UdpSocketPool(4, UDP_POOL_SIZE, UDP_SOCKET_MAX_USES, (from, reason) => this.stray(from, reason)),
    6: new UdpSocketPool(6, UDP_POOL_SIZE, UDP_SOCKET_MAX_USES, (from, reason) => this.stray(from, reason)),
  };
  /** Pipelined TCP connections for truncated answers, shared by every group like the sockets. */
  private readonly tcpPool = new TcpPool({
    onStray: (from, reason) => this.stray(from, reason),
    onOpen: (server) => this.metrics.serverTcpOpened.inc({ upstream_address: formatEndpoint(server) }),
  });
  private readonly serverPools: ServerPools = { udp: this.pools, tcp: this.tcpPool };
  private udp: UdpListener[] = [];
  /** True once every listener is bound, false again from shutdown on. */
  listening = false;
  /** Where the master list comes from and how that source is doing (discovery updates it). */
  discovery: Record<string, unknown> & { source: string; state: string } = { source: 'static', state: 'ok' };
  private tcp: TcpListener[] = [];
  private api: http.Server | undefined;
  private masters: Endpoint[];
  /** ZooKeeper hosts learned by discovery; undefined until a source reports them. */
  private discoveredEnsemble: string[] | undefined;
  /** The node's interfaces as last read, kept in case a later read fails. */
  private interfaces: Interfaces = {};
  /** Serve-stale's last good answers: here, not in the per-reload state, so a reload keeps them. */
  private staleStore: StaleStore | undefined;

  constructor(
    private config: Config,
    private readonly log: Logger,
  ) {
    this.masters = config.mesos.masters;
    this.resolver = new Resolver(this.buildState(config), this.metrics, log);
  }

  private stray(from: Endpoint, reason: 'source' | 'id'): void {
    this.metrics.mismatchedReplies.inc({ upstream_address: formatEndpoint(from), reason });
  }

  get currentConfig(): Config {
    return this.config;
  }

  private buildState(config: Config, previous?: ResolverState): ResolverState {
    const group = (name: string, probeName: string, probeType: 'SOA' | 'NS', endpoints: Endpoint[]) =>
      new ServerGroup(
        { name, probeName, probeType, health: config.health, timeoutMs: config.timeoutMs, log: this.log, metrics: this.metrics, pools: this.serverPools },
        endpoints,
      );
    previous?.mesos.close();
    previous?.upstream.close();
    previous?.forward.forEach((g) => g.close());
    const zones = new Map<string, Zone>([
      ['spartan', spartanZone()],
      ['zk', zkZone(this.ensemble(config))],
      ['localhost', localhostZone()],
    ]);
    return {
      config,
      table: { mesosDomain: config.mesos.domain, localZones: [...zones.keys()], forwardZones: [...config.forwardZones.keys()] },
      zones,
      mesos: group('mesos', config.mesos.domain, 'SOA', this.masters),
      upstream: group('upstream', '', 'NS', config.upstreams),
      forward: new Map([...config.forwardZones].map(([zone, servers]) => [zone, group(zone, zone, 'SOA', servers)])),
      clients: this.clientAdmission(config),
      // A new config may route names elsewhere: start with an empty cache.
      cache: config.cache.enabled ? new AnswerCache(config.cache.maxEntries) : undefined,
      stale: this.staleStoreFor(config),
    };
  }

  /** The one stale store, with this config's limits; dropped (memory freed) when turned off. */
  private staleStoreFor(config: Config): StaleStore | undefined {
    const { enabled, ...limits } = config.serveStale;
    if (!enabled) this.staleStore = undefined;
    else if (this.staleStore) this.staleStore.setLimits(limits, Date.now());
    else this.staleStore = new StaleStore(limits);
    return this.staleStore;
  }

  /**
   * The ACL and rate limit. Their defaults follow the node's interfaces, read now (at start and on
   * every reload), so a bridge or overlay added since is served after a reload. Rate buckets start
   * full again.
   */
  private clientAdmission(config: Config): ClientAdmission {
    try {
      this.interfaces = networkInterfaces();
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'cannot read the network interfaces; the default ACL and rate-limit exemption use the last ones read (loopback only at start). Set "acl" and "rateLimit.exempt" in the config to be independent of them',
      );
    }
    return new ClientAdmission(
      new NetworkSet(config.acl ?? nodeNetworks(this.interfaces)),
      new NetworkSet(config.rateLimit.exempt ?? nodeAddresses(this.interfaces)),
      config.rateLimit,
    );
  }

  private ensemble(config: Config): string[] {
    return config.zk.servers ?? this.discoveredEnsemble ?? [...new Set(this.masters.map((m) => m.host))];
  }

  /**
   * Binds every listener (DNS, then the HTTP API); if any fails, releases the others and throws
   * (nothing half-started). `readyCheck` asks the agent's own listener for ready.spartan.
   * `inherited` are sockets systemd bound for us (socket activation), used for their addresses.
   */
  async start(readyCheck: () => Promise<{ ok: boolean; reason?: string }>, inherited: InheritedSocket[] = []): Promise<void> {
    const c = this.config;
    const plan = planListenSockets(c.listen, inherited);
    try {
      if (c.http.enabled) {
        const api = createApiServer({ agent: this, readyCheck }, this.log);
        await new Promise<void>((resolve, reject) => {
          api.once('error', reject);
          api.listen({ host: c.http.listen.host, port: c.http.listen.port, exclusive: true }, () => {
            api.off('error', reject);
            resolve();
          });
        });
        this.api = api;
      }
      for (const { transport, endpoint, fd } of plan.sockets) {
        if (transport === 'udp') {
          const udp = new UdpListener(endpoint, this.resolver, this.log);
          await udp.start(fd);
          this.udp.push(udp);
        } else {
          const tcp = new TcpListener(endpoint, this.resolver, () => this.config.tcp, this.metrics, this.log);
          await tcp.start(fd);
          this.tcp.push(tcp);
        }
      }
    } catch (err) {
      await this.closeListeners();
      throw err;
    }
    this.listening = true;
    this.log.info(
      {
        listen: c.listen.map(formatEndpoint),
        http: c.http.enabled ? formatEndpoint(c.http.listen) : 'disabled',
        masters: this.masters.map(formatEndpoint),
        upstreams: c.upstreams.map(formatEndpoint),
        forwardZones: describeConfig(c).forwardZones,
        mesosDomain: c.mesos.domain,
        zk: this.ensemble(c),
        acl: this.resolver.state.clients.acl.networks.map(formatCidr),
        fromSystemd: plan.sockets.filter((s) => s.fd !== undefined).map(describeSocket),
      },
      'phalanx-dns listening',
    );
    if (plan.unlisted.length > 0) {
      this.log.warn(
        { sockets: plan.unlisted.map(describeSocket) },
        'systemd passed sockets for addresses that are not in "listen"; serving them anyway. Make phalanx-dns.socket and "listen" name the same addresses',
      );
    }
    if (c.listen.some(isWildcard)) {
      this.log.warn(
        { listen: c.listen.filter(isWildcard).map(formatEndpoint) },
        'listening on a wildcard address: every network this host is on can reach the agent, and the ACL ("acl") is what keeps other clients out',
      );
    }
  }

  /** Applies a new, already validated config. Listen addresses need a restart. */
  reload(next: Config): void {
    const listenChanged =
      next.listen.length !== this.config.listen.length || next.listen.some((e, i) => !sameEndpoint(e, this.config.listen[i]));
    if (listenChanged) {
      this.log.warn(
        { listen: this.config.listen.map(formatEndpoint), wanted: next.listen.map(formatEndpoint) },
        'config reloaded, but "listen" changes need a restart; still listening on the old addresses',
      );
      next = { ...next, listen: this.config.listen };
    }
    if (next.http.enabled !== this.config.http.enabled || formatEndpoint(next.http.listen) !== formatEndpoint(this.config.http.listen)) {
      this.log.warn({ http: describeConfig(this.config).http }, 'config reloaded, but "http" changes need a restart; the HTTP API stays as it was');
      next = { ...next, http: this.config.http };
    }
    this.config = next;
    // A dynamic source keeps the masters it learned until it reports again: never "no masters".
    if (next.mesos.source.kind === 'static') this.masters = next.mesos.masters;
    this.resolver.state = this.buildState(next, this.resolver.state);
    this.log.info({ config: describeConfig(next) }, 'config reloaded');
  }

  /** For discovery sources: a new master list, applied atomically. */
  setMasters(masters: Endpoint[]): { added: string[]; removed: string[] } {
    this.masters = masters;
    const change = this.resolver.state.mesos.setEndpoints(masters);
    if (!this.config.zk.servers && !this.discoveredEnsemble) this.refreshZk();
    return change;
  }

  setEnsemble(hosts: string[]): void {
    this.discoveredEnsemble = hosts;
    this.refreshZk();
  }

  private refreshZk(): void {
    const s = this.resolver.state;
    const zones = new Map(s.zones);
    zones.set('zk', zkZone(this.ensemble(this.config)));
    this.resolver.state = { ...s, zones };
  }

  /** What the agent knows right now, for the HTTP API: zones, servers with their health, discovery. */
  describe() {
    const s = this.resolver.state;
    const now = Date.now();
    const servers = (g: ServerGroup) =>
      g.servers.map((srv) => ({
        address: srv.address,
        up: !srv.down,
        failureScore: Number(srv.health.failureScore(now).toFixed(3)),
        rttMs: srv.health.rttMs === undefined ? null : Number(srv.health.rttMs.toFixed(3)),
        successes: srv.health.successes,
        failures: srv.health.failures,
        consecutiveFailures: srv.health.consecutiveFailures,
        lastFailure: srv.health.lastFailure ?? null,
      }));
    return {
      listening: this.listening,
      listen: this.config.listen.map(formatEndpoint),
      localZones: [...s.zones.values()].map((z) => ({
        zone: z.apex,
        records: [...z.names.values()].flat().map((r) => ({ name: r.name, type: r.type, ttl: 'ttl' in r ? r.ttl : 0, data: 'data' in r ? r.data : null })),
      })),
      mesos: { domain: this.config.mesos.domain, masters: servers(s.mesos) },
      upstreams: servers(s.upstream),
      forwardZones: Object.fromEntries([...s.forward].map(([zone, g]) => [zone, servers(g)])),
      zookeeper: this.ensemble(this.config),
      discovery: this.discovery,
      clients: {
        acl: s.clients.acl.networks.map(formatCidr),
        rateLimitExempt: s.clients.exempt.networks.map(formatCidr),
        tracked: s.clients.size,
      },
      inflight: this.resolver.inflightCount,
    };
  }

  /** SIGTERM: stop taking queries, let in-flight ones finish (bounded), release everything. */
  async stop(): Promise<void> {
    // Bounded: no answer can take longer than the per-server deadline (plus the TCP retry).
    const maxWait = this.config.timeoutMs + 500;
    this.listening = false;
    for (const u of this.udp) u.stopReceiving();
    await Promise.all([...this.udp.map((u) => u.drain(maxWait)), ...this.tcp.map((t) => t.close(maxWait))]);
    await this.closeListeners();
    const s = this.resolver.state;
    s.mesos.close();
    s.upstream.close();
    s.forward.forEach((g) => g.close());
    this.pools[4].close();
    this.pools[6].close();
    this.tcpPool.close();
  }

  private async closeListeners(): Promise<void> {
    const api = this.api;
    this.api = undefined;
    api?.closeAllConnections();
    await Promise.all([
      ...this.udp.map((u) => u.close()),
      ...this.tcp.map((t) => t.close()),
      new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve())),
    ]);
    this.udp = [];
    this.tcp = [];
  }
}
