// The composition root: builds the resolver state from a config, binds the listeners and the HTTP
// API (all or nothing), runs master discovery, applies a reload by swapping the whole state and a
// discovery report by changing the live Mesos group's servers (those that stay keep their
// health), and shuts down without dropping answers. Nothing imports it but main.ts.
import type http from 'node:http';
import type { Logger } from 'pino';
import { formatCidr } from '../common/config/cidr.js';
import { type Endpoint, formatEndpoint, isWildcard, sameEndpoint } from '../common/config/endpoint.js';
import { type Config, describeConfig } from '../common/config/schema.js';
import { checkReady } from '../common/ready-check.js';
import { Discovery } from './discovery/discovery.js';
import type { ServerPools } from './transport/exchange.js';
import { DEFAULT_TCP_LIMITS, TcpPool } from './transport/tcp-pool.js';
import { sendThrough } from './servers/server-group.js';
import { type Clock, systemClock } from './clock.js';
import { UdpSocketPool } from './transport/udp-pool.js';
import { type AgentView, createApiServer } from './http/api.js';
import { describeAgent, storeUsage } from './http/enumerate.js';
import { explain } from './http/explain.js';
import { listenToSkip, readIpv6Support } from './listeners/default-ipv6.js';
import { ConnectionTable } from './listeners/connection-table.js';
import { ListenerSet } from './listeners/listener-set.js';
import { TcpListener } from './listeners/tcp.js';
import { UdpListener } from './listeners/udp.js';
import { type Metrics, type ScrapedState, createMetrics } from './metrics.js';
import { Resolver, type ResolverState } from './resolver.js';
import { StateBuilder } from './state-builder.js';
import { type InheritedSocket, describeSocket, planListenSockets } from './systemd/socket-activation.js';
import { zkZone } from './zones/local-zones.js';

/** Connected sockets per server, and queries each serves before moving to a fresh random port. */
const UDP_SOCKETS_PER_SERVER = 64;
const UDP_SOCKET_MAX_USES = 256;
/** The deadline of /healthz's ready check (its own ready.spartan query). */
const READY_CHECK_TIMEOUT_MS = 1000;

export class Agent {
  /** The one clock of everything on a query's path. */
  private readonly clock: Clock = systemClock;
  private readonly metrics: Metrics = createMetrics();
  private readonly resolver: Resolver;
  /** Sockets for queries to servers, shared by every group; strays are counted as mismatches. */
  private readonly udpPool = new UdpSocketPool(
    UDP_SOCKETS_PER_SERVER,
    UDP_SOCKET_MAX_USES,
    (from, reason) => this.stray(from, reason),
    this.clock,
  );
  /** Pipelined TCP connections for truncated answers, shared by every group like the sockets. */
  private readonly tcpPool = new TcpPool(
    {
      onStray: (from, reason) => this.stray(from, reason),
      onOpen: (server) => this.metrics.serverTcpOpened.inc({ upstream_address: formatEndpoint(server) }),
    },
    DEFAULT_TCP_LIMITS,
    this.clock,
  );
  private readonly serverPools: ServerPools = { udp: this.udpPool, tcp: this.tcpPool, clock: this.clock };
  private readonly tcpConnections = new ConnectionTable();
  private readonly listeners = new ListenerSet({
    udp: (e) => new UdpListener(e, this.resolver, this.log),
    tcp: (e) =>
      new TcpListener(
        e,
        this.tcpConnections,
        this.resolver,
        () => this.config.tcp,
        () => this.resolver.state.clients,
        this.metrics,
        this.log,
      ),
  });
  private readonly stateBuilder: StateBuilder;
  private api: http.Server | undefined;
  private listening = false;
  /** The `listen` addresses served: all of them but the default IPv6 one on a node without IPv6. */
  private served: Endpoint[];
  private discovery: Discovery;
  private masters: Endpoint[];
  /** ZooKeeper hosts learned by discovery; undefined until a source reports them. */
  private discoveredEnsemble: string[] | undefined;

  constructor(
    private config: Config,
    private readonly log: Logger,
  ) {
    this.masters = config.mesos.masters;
    this.served = config.listen;
    this.stateBuilder = new StateBuilder({ log, metrics: this.metrics, send: sendThrough(this.serverPools), clock: this.clock });
    this.resolver = new Resolver(this.buildState(config), this.metrics, log, this.clock);
    this.discovery = this.createDiscovery(config);
    this.metrics.readStateFrom(() => this.scrapedState());
  }

  /** Queries still waiting for a server. */
  get inflight(): number {
    return this.resolver.inflightCount;
  }

  /** For systemd's status line. */
  get listenAddresses(): string[] {
    return this.served.map(formatEndpoint);
  }

  /** What the discovery, store and TCP-cap gauges read when scraped. */
  private scrapedState(): ScrapedState {
    const s = this.resolver.state;
    return {
      discovery: this.discovery.status,
      ...storeUsage(s),
      tcpMaxConnections: s.config.tcp.maxConnections,
    };
  }

  private stray(from: Endpoint, reason: 'id'): void {
    this.metrics.mismatchedReplies.inc({ upstream_address: formatEndpoint(from), reason });
  }

  private buildState(config: Config, previous?: ResolverState): ResolverState {
    return this.stateBuilder.build(config, this.masters, this.ensemble(config), previous);
  }

  private ensemble(config: Config): string[] {
    return config.zk.servers ?? this.discoveredEnsemble ?? [...new Set(this.masters.map((m) => m.host))];
  }

  private createDiscovery(config: Config): Discovery {
    return new Discovery(
      config,
      {
        masters: (masters) => this.setMasters(masters),
        ensemble: (hosts) => this.setEnsemble(hosts),
        currentMasters: () => this.resolver.state.mesos.servers.map((s) => s.address),
      },
      this.log,
    );
  }

  /** A discovery report: the new master list, applied atomically. */
  private setMasters(masters: Endpoint[]): { added: string[]; removed: string[] } {
    this.masters = masters;
    const change = this.resolver.state.mesos.setEndpoints(masters);
    if (!this.config.zk.servers && !this.discoveredEnsemble) this.refreshZkZone();
    return change;
  }

  private setEnsemble(hosts: string[]): void {
    this.discoveredEnsemble = hosts;
    this.refreshZkZone();
  }

  private refreshZkZone(): void {
    const s = this.resolver.state;
    const zones = new Map(s.zones);
    zones.set('zk', zkZone(this.ensemble(this.config)));
    this.resolver.state = { ...s, zones };
  }

  /** What the HTTP API may read and ask: nothing else of the agent reaches it. */
  private view(): AgentView {
    return {
      config: () => this.config,
      describe: () =>
        describeAgent({
          state: this.resolver.state,
          listening: this.listening,
          discovery: this.discovery.status,
          ensemble: this.ensemble(this.config),
          inflight: this.resolver.inflightCount,
        }),
      listening: () => this.listening,
      // "tcp": the whole answer, never truncated.
      resolve: async (query) => this.resolver.resolve(query, 'tcp'),
      // The first address served, exactly as the watchdog would ask it.
      ready: () => checkReady(this.served[0], READY_CHECK_TIMEOUT_MS),
      metrics: async () => ({ text: await this.metrics.text(), contentType: this.metrics.registry.contentType }),
      explain: (name, qtype) =>
        explain(
          { state: this.resolver.state, pools: this.serverPools, resolve: (q) => this.resolver.resolveWithSource(q, 'tcp') },
          name,
          qtype,
        ),
    };
  }

  /**
   * Binds every listener (the HTTP API, then DNS) and starts discovery; if any bind fails,
   * releases the others and throws (nothing half-started). `inherited` are sockets systemd bound
   * for us (socket activation), used for their addresses.
   */
  async start(inherited: InheritedSocket[] = [], ipv6 = readIpv6Support()): Promise<void> {
    const c = this.config;
    const skipped = listenToSkip(c.listen, inherited, ipv6);
    this.served = c.listen.filter((e) => !skipped.some((s) => sameEndpoint(s.endpoint, e)));
    const plan = planListenSockets(this.served, inherited);
    try {
      if (c.http.enabled) this.api = await listenHttp(createApiServer(this.view(), this.log), c.http.listen);
      await this.listeners.bind(plan.sockets);
    } catch (err) {
      await this.closeApi();
      throw err;
    }
    this.listening = true;
    this.log.info(
      {
        listen: this.served.map(formatEndpoint),
        http: c.http.enabled ? formatEndpoint(c.http.listen) : 'disabled',
        masters: this.masters.map(formatEndpoint),
        upstreams: c.upstreams.map(formatEndpoint),
        forwardZones: describeConfig(c).forwardZones,
        mesosDomain: c.mesos.domain,
        zookeepers: this.ensemble(c),
        acl: this.resolver.state.clients.acl.networks.map(formatCidr),
        fromSystemd: plan.sockets.filter((s) => s.fd !== undefined).map(describeSocket),
      },
      'phalanx-dns listening',
    );
    for (const { endpoint, reason } of skipped) {
      this.log.warn(
        {
          listen: formatEndpoint(endpoint),
          reason,
          hint: 'the other listen addresses are served; a client with only IPv6 cannot reach the agent',
        },
        'not listening on the default IPv6 address',
      );
    }
    if (plan.unlisted.length > 0) {
      this.log.warn(
        { sockets: plan.unlisted.map(describeSocket), hint: 'make phalanx-dns.socket and "listen" name the same addresses' },
        'serving sockets from systemd whose addresses are not in "listen"',
      );
    }
    if (c.listen.some(isWildcard)) {
      this.log.warn(
        {
          listen: c.listen.filter(isWildcard).map(formatEndpoint),
          hint: 'every network this host is on can reach the agent; only the ACL ("acl") keeps other clients out',
        },
        'listening on a wildcard address',
      );
    }
    this.discovery.start();
  }

  /**
   * Applies a new, already validated config. Listen addresses and the HTTP API need a restart;
   * discovery restarts only when its settings changed (a ZooKeeper session is worth keeping).
   */
  reload(next: Config): void {
    const listenChanged =
      next.listen.length !== this.config.listen.length || next.listen.some((e, i) => !sameEndpoint(e, this.config.listen[i]));
    if (listenChanged) {
      this.log.warn(
        { listen: this.config.listen.map(formatEndpoint), wanted: next.listen.map(formatEndpoint) },
        'config reloaded, but "listen" changes need a restart',
      );
      next = { ...next, listen: this.config.listen };
    }
    if (next.http.enabled !== this.config.http.enabled || formatEndpoint(next.http.listen) !== formatEndpoint(this.config.http.listen)) {
      this.log.warn(
        { http: describeConfig(this.config).http, wanted: describeConfig(next).http },
        'config reloaded, but "http" changes need a restart',
      );
      next = { ...next, http: this.config.http };
    }
    const discoveryChanged = JSON.stringify(describeConfig(next).mesos) !== JSON.stringify(describeConfig(this.config).mesos);
    this.config = next;
    // A dynamic source keeps the masters it learned until it reports again: never "no masters".
    if (next.mesos.source.kind === 'static') this.masters = next.mesos.masters;
    this.resolver.state = this.buildState(next, this.resolver.state);
    if (discoveryChanged) {
      void this.discovery.stop();
      this.discovery = this.createDiscovery(next);
      this.discovery.start();
    }
    this.log.info({ config: describeConfig(next) }, 'config reloaded');
  }

  /** SIGTERM: stop taking queries, let in-flight ones finish (bounded), release everything. */
  async stop(): Promise<void> {
    // Bounded: no answer can take longer than the per-server deadline (plus the TCP retry).
    const maxWait = this.config.timeoutMs + 500;
    this.listening = false;
    await Promise.all([this.discovery.stop(), this.listeners.shutdown(maxWait)]);
    await this.closeApi();
    const s = this.resolver.state;
    s.mesos.close();
    s.upstream.close();
    s.forward.forEach((g) => g.close());
    this.udpPool.close();
    this.tcpPool.close();
  }

  private async closeApi(): Promise<void> {
    const api = this.api;
    this.api = undefined;
    if (!api) return;
    api.closeAllConnections();
    await new Promise<void>((resolve) => api.close(() => resolve()));
  }
}

/** Listens on exactly `at`, or rejects with the bind error. */
function listenHttp(server: http.Server, at: Endpoint): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
