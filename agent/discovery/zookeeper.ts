// Masters as Mesos itself registers them: children `json.info_<seq>` of the Mesos znode hold
// MasterInfo JSON; the lowest sequence is the leader. The children are watched (a ZooKeeper
// watch fires once, so it is re-armed on every read) and also re-read every refreshMs in case a
// watch was lost. Session expiry gets a new session; disconnection keeps the last list.
import zookeeper, { type Client, type Exception, type Option } from 'node-zookeeper-client';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import { type DiscoveredCluster, DiscoveryError, masterSequence, parseMasterInfo, parseZooKeeperConfig } from './parse.js';
import type { MasterSourceRunner, SourceEvents } from './source.js';

export interface ZooKeeperSourceOptions {
  hosts: Endpoint[];
  path: string;
  auth: string | undefined;
  display: string;
  sessionTimeoutMs: number;
  requestTimeoutMs: number;
  refreshMs: number;
  retryMs: number;
}

const ZK_CONFIG_NODE = '/zookeeper/config';

function zkError(err: Error | Exception, what: string): DiscoveryError {
  const code = (err as Exception).getCode?.();
  if (code === zookeeper.Exception.NO_NODE)
    return new DiscoveryError(`${what}: znode does not exist (has no Mesos master registered yet?)`);
  if (code === zookeeper.Exception.NO_AUTH)
    return new DiscoveryError(`${what}: not authorised; check the user:password in mesos.zookeeper`);
  return new DiscoveryError(`${what}: ${(err as Error).message ?? String(err)}`);
}

const IPV6_PLACEHOLDER = /^ipv6-host-(\d+)$/;

/**
 * A client for `hosts`, IPv4 or IPv6. node-zookeeper-client splits each "host:port" of its connect
 * string at every colon, which garbles "[fd00::1]:2181"; so an IPv6 host goes in as a placeholder
 * name and is put back into the client's parsed server list, whose {host, port} entries go to
 * net.connect as they are. Throws when that list is not where node-zookeeper-client 1.x keeps it.
 */
export function createZooKeeperClient(hosts: Endpoint[], options: Partial<Option>): Client {
  const connectString = hosts.map((h, i) => (h.family === 6 ? `ipv6-host-${i}:${h.port}` : formatEndpoint(h))).join(',');
  const client = zookeeper.createClient(connectString, options);
  if (hosts.every((h) => h.family === 4)) return client;
  const servers = (client as unknown as { connectionManager?: { servers?: unknown } }).connectionManager?.servers;
  if (!Array.isArray(servers)) {
    throw new Error('this node-zookeeper-client keeps its server list elsewhere: it cannot be given IPv6 ZooKeeper hosts');
  }
  for (const server of servers as Array<{ host: string }>) {
    const m = IPV6_PLACEHOLDER.exec(server.host);
    if (m) server.host = hosts[Number(m[1])].host;
  }
  return client;
}

export class ZooKeeperSource implements MasterSourceRunner {
  private client: Client | undefined;
  private events: SourceEvents | undefined;
  private stopped = false;
  private reading = false;
  private again = false;
  private watchArmed = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;

  constructor(private readonly opts: ZooKeeperSourceOptions) {
    this.retryDelay = opts.retryMs;
  }

  start(events: SourceEvents): void {
    this.events = events;
    this.connect();
    this.refreshTimer = setInterval(() => void this.read(), this.opts.refreshMs);
  }

  private connect(): void {
    const client = createZooKeeperClient(this.opts.hosts, { sessionTimeout: this.opts.sessionTimeoutMs, spinDelay: 1000, retries: 0 });
    this.client = client;
    this.watchArmed = false;
    if (this.opts.auth) client.addAuthInfo('digest', Buffer.from(this.opts.auth));
    client.on('state', (state) => {
      if (client !== this.client || this.stopped) return;
      if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY) {
        clearTimeout(this.connectTimer);
        // Watches may not have survived whatever interrupted the connection: arm them again.
        this.watchArmed = false;
        void this.read();
      } else if (state === zookeeper.State.DISCONNECTED) {
        this.fail(new DiscoveryError(`lost the connection to ZooKeeper ${this.opts.display}; reconnecting`));
        this.watchConnect();
      } else if (state === zookeeper.State.EXPIRED) {
        this.fail(new DiscoveryError(`ZooKeeper session expired (${this.opts.display}); opening a new one`));
        if (!this.stopped) this.events?.notice('ZooKeeper session expired; opening a new one');
        this.renew();
      } else if (state === zookeeper.State.AUTH_FAILED) {
        this.fail(new DiscoveryError(`ZooKeeper authentication failed (${this.opts.display}); check the user:password in mesos.zookeeper`));
      }
    });
    this.watchConnect();
    client.connect();
  }

  /**
   * Reports a failure when no connection is made within the request deadline. Past the session
   * timeout the old session is dead on the servers' side anyway, so a brand-new client takes
   * over: the old one may never get back in (a server rebuilt with an empty database refuses a
   * client that has seen newer transactions than it has).
   */
  private watchConnect(since = Date.now()): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (this.stopped) return;
      const down = Date.now() - since;
      if (down > this.opts.sessionTimeoutMs) {
        this.events?.notice('no ZooKeeper server took our session; starting a new session', { downSec: Math.round(down / 1000) });
        this.renew();
        return;
      }
      this.fail(new DiscoveryError(`cannot reach ZooKeeper ${this.opts.display}; still trying`));
      this.watchConnect(since);
    }, this.opts.requestTimeoutMs);
  }

  private renew(): void {
    const old = this.client;
    this.client = undefined;
    // node-zookeeper-client throws when close() runs in the same tick as a state change.
    setImmediate(() => {
      try {
        old?.close();
      } catch {
        /* already closed */
      }
      if (!this.stopped) this.connect();
    });
  }

  private fail(err: Error): void {
    if (!this.stopped) this.events?.failure(err);
  }

  private async read(): Promise<void> {
    if (this.stopped || !this.client) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        const cluster = await this.readOnce();
        if (this.stopped) return;
        this.events?.update(cluster);
        this.retryDelay = this.opts.retryMs;
      } while (this.again);
    } catch (err) {
      this.fail(err as Error);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.read(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, this.opts.refreshMs);
    } finally {
      this.reading = false;
    }
  }

  /** One request with a deadline: requests queue silently while the client is disconnected. */
  private call<T>(what: string, op: (client: Client, cb: (err: Error | Exception | null, value: T) => void) => void): Promise<T> {
    const client = this.client;
    if (!client) return Promise.reject(new DiscoveryError(`${what}: not connected to ZooKeeper`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new DiscoveryError(`${what}: no answer from ZooKeeper within ${this.opts.requestTimeoutMs} ms`)),
        this.opts.requestTimeoutMs,
      );
      op(client, (err, value) => {
        clearTimeout(timer);
        if (err) reject(zkError(err, what));
        else resolve(value);
      });
    });
  }

  private async readOnce(): Promise<DiscoveredCluster> {
    const path = this.opts.path;
    const arm = !this.watchArmed;
    const children = await this.call<string[]>(`listing ${path}`, (c, cb) =>
      arm
        ? c.getChildren(
            path,
            () => {
              this.watchArmed = false;
              void this.read();
            },
            cb,
          )
        : c.getChildren(path, cb),
    );
    if (arm) this.watchArmed = true;

    const registered = children
      .map((child) => ({ child, seq: masterSequence(child) }))
      .filter((m): m is { child: string; seq: number } => m.seq !== undefined)
      .sort((a, b) => a.seq - b.seq);
    if (registered.length === 0) throw new DiscoveryError(`no Mesos master is registered under ${path} (no json.info_ znodes)`);

    const masters: string[] = [];
    const problems: string[] = [];
    for (const { child } of registered) {
      try {
        const data = await this.call<Buffer | undefined>(`reading ${path}/${child}`, (c, cb) => c.getData(`${path}/${child}`, cb));
        const ip = parseMasterInfo(data?.toString('utf8') ?? '');
        if (!masters.includes(ip)) masters.push(ip);
      } catch (err) {
        // A master that left between the listing and the read is not an error; garbage is noted.
        if (!/does not exist/.test((err as Error).message)) problems.push(`${child}: ${(err as Error).message}`);
      }
    }
    if (masters.length === 0)
      throw new DiscoveryError(`no usable MasterInfo under ${path}${problems.length ? ` (${problems.join('; ')})` : ''}`);

    let zookeepers: string[] = [];
    try {
      const config = await this.call<Buffer | undefined>(`reading ${ZK_CONFIG_NODE}`, (c, cb) => c.getData(ZK_CONFIG_NODE, cb));
      zookeepers = parseZooKeeperConfig(config?.toString('utf8') ?? '');
    } catch {
      // ZooKeeper before 3.5 has no such znode: fall back to the connection string.
    }
    if (zookeepers.length === 0) zookeepers = [...new Set(this.opts.hosts.map((h) => h.host))];
    return { masters, leader: masters[0], zookeepers };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        try {
          client.close();
        } catch {
          /* never connected */
        }
        resolve();
      }),
    );
  }
}
