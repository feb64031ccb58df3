// Builds the resolver's state from a config: the server groups, the local zones, who is served,
// and the caches. What must outlive a reload stays here: the stale store (a reload keeps its
// answers) and the node's interfaces as last read (in case a later read fails).
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { Endpoint } from '../common/config/endpoint.js';
import type { Config } from '../common/config/schema.js';
import { ClientAdmission } from './admission/client-admission.js';
import { NetworkSet } from './admission/network-set.js';
import { type Interfaces, nodeAddresses, nodeNetworks } from './admission/node-networks.js';
import { AnswerCache } from './cache/answer-cache.js';
import type { Clock } from './clock.js';
import { StaleStore } from './cache/stale-store.js';
import { type GroupOptions, type SendRequest, ServerGroup } from './servers/server-group.js';
import type { Metrics } from './metrics.js';
import type { ResolverState } from './resolver.js';
import { type Zone, localhostZone, spartanZone, zkZone } from './zones/local-zones.js';

export class StateBuilder {
  private interfaces: Interfaces = {};
  private staleStore: StaleStore | undefined;

  constructor(private readonly deps: { log: Logger; metrics: Metrics; send: SendRequest; clock: Clock }) {}

  /** A fresh state for `config`; the groups of `previous` are closed (their probes stop). */
  build(config: Config, masters: Endpoint[], ensemble: string[], previous?: ResolverState): ResolverState {
    const { log, metrics, send, clock } = this.deps;
    const group = (name: string, probeName: string, probeType: GroupOptions['probeType'], endpoints: Endpoint[]) =>
      new ServerGroup(
        { name, probeName, probeType, health: config.health, timeoutMs: config.timeoutMs, log, metrics, send, clock },
        endpoints,
      );
    previous?.mesos.close();
    previous?.upstream.close();
    previous?.forward.forEach((g) => g.close());
    const zones = new Map<string, Zone>([
      ['spartan', spartanZone()],
      ['zk', zkZone(ensemble)],
      ['localhost', localhostZone()],
    ]);
    return {
      config,
      table: { mesosDomain: config.mesos.domain, localZones: [...zones.keys()], forwardZones: [...config.forwardZones.keys()] },
      zones,
      mesos: group('mesos', config.mesos.domain, 'SOA', masters),
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
    else if (this.staleStore) this.staleStore.setLimits(limits, this.deps.clock.now());
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
      this.deps.log.error(
        {
          err: (err as Error).message,
          hint: 'the default "acl" and "rateLimit.exempt" follow the interfaces (loopback only at start); set both to be independent of them',
        },
        'cannot read the network interfaces; keeping the last ones read',
      );
    }
    return new ClientAdmission(
      new NetworkSet(config.acl ?? nodeNetworks(this.interfaces)),
      new NetworkSet(config.rateLimit.exempt ?? nodeAddresses(this.interfaces)),
      config.rateLimit,
      undefined,
      this.deps.clock,
    );
  }
}
