// Which clients get served: the ACL (who may ask at all), a token bucket per client address
// (how fast), and the caps on client TCP connections (how many at once). What the ACL and the
// exemptions say is remembered per address, so a query costs one Map lookup, not a BlockList check.
import type { RateLimitConfig, TcpConfig } from '../../common/config/schema.js';
import type { NetworkSet } from './network-set.js';
import { type Clock, systemClock } from '../clock.js';

/** A query is served, refused (the address is outside the ACL) or turned away (over its rate). */
export type QueryAdmission = 'serve' | 'acl' | 'rate';

/**
 * A new client TCP connection is accepted; or accepted once the longest-idle connection, of anyone
 * or of this client, is closed to make room; or closed at once because a cap is reached and no
 * connection that could make room is idle.
 */
export type ConnectionAdmission = 'accept' | 'evict_idle' | 'evict_client_idle' | ConnectionRefusal;
export type ConnectionRefusal = 'max_connections' | 'per_client';

/** The token bucket: perClientQps tokens a second (0 turns the limit off), burst at most. */
export type RateLimit = Pick<RateLimitConfig, 'perClientQps' | 'burst'>;

export type TcpCaps = Pick<TcpConfig, 'maxConnections' | 'maxConnectionsPerClient'>;

/**
 * Clients remembered at most, so a flood from spoofed sources cannot grow the map without end;
 * the least recently seen goes first.
 */
export const MAX_CLIENTS = 100_000;
/** A client's place in the eviction order is refreshed at most this often (ms): a Map re-insert per query would cost more than the bucket. */
const TOUCH_EVERY_MS = 1000;

interface Client {
  allowed: boolean;
  exempt: boolean;
  tokens: number;
  /** When the tokens were last topped up (ms, monotonic clock). */
  at: number;
  /** When the entry last moved to the young end of the map. */
  touched: number;
}

export class ClientAdmission {
  private readonly clients = new Map<string, Client>();

  constructor(
    readonly acl: NetworkSet,
    readonly exempt: NetworkSet,
    private readonly limit: RateLimit,
    private readonly maxClients = MAX_CLIENTS,
    private readonly clock: Pick<Clock, 'monotonic'> = systemClock,
  ) {}

  /** Whether a query from `address` is served; takes one token from its bucket when it has one. */
  admitQuery(address: string): QueryAdmission {
    const key = clientKey(address);
    const c = this.clients.get(key) ?? this.learn(key);
    if (!c.allowed) return 'acl';
    if (c.exempt || this.limit.perClientQps === 0) return 'serve';
    const now = this.clock.monotonic();
    c.tokens = Math.min(this.limit.burst, c.tokens + ((now - c.at) * this.limit.perClientQps) / 1000);
    c.at = now;
    if (now - c.touched >= TOUCH_EVERY_MS) {
      c.touched = now;
      this.clients.delete(key);
      this.clients.set(key, c);
    }
    if (c.tokens < 1) return 'rate';
    c.tokens -= 1;
    return 'serve';
  }

  /**
   * Whether a new client TCP connection may stay, given the connections open now in all and from
   * this client and how many of each are idle (none when left out). The exempt addresses (the node
   * itself, where every process connects from) have no per-client cap. At a cap the longest-idle
   * connection is closed to make room (RFC 7766 §6.2.3), or else sockets opened and left silent
   * would hold every slot until the idle timeout; past the per-client cap only one of the client's
   * own, so no client pushes another out to go beyond its share.
   */
  admitConnection(
    address: string,
    open: { total: number; fromClient: number; idle?: number; idleFromClient?: number },
    caps: TcpCaps,
  ): ConnectionAdmission {
    const overTotal = open.total >= caps.maxConnections;
    if (open.fromClient >= caps.maxConnectionsPerClient && !this.isExempt(address)) {
      // Closing one of its own makes room under both caps.
      if ((open.idleFromClient ?? 0) > 0) return 'evict_client_idle';
      return overTotal && (open.idle ?? 0) === 0 ? 'max_connections' : 'per_client';
    }
    if (!overTotal) return 'accept';
    return (open.idle ?? 0) > 0 ? 'evict_idle' : 'max_connections';
  }

  get size(): number {
    return this.clients.size;
  }

  private isExempt(address: string): boolean {
    const key = clientKey(address);
    return (this.clients.get(key) ?? this.learn(key)).exempt;
  }

  private learn(key: string): Client {
    if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value!);
    const now = this.clock.monotonic();
    const c: Client = { allowed: this.acl.has(key), exempt: this.exempt.has(key), tokens: this.limit.burst, at: now, touched: now };
    this.clients.set(key, c);
    return c;
  }
}

/** One key per client: a dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d. */
export function clientKey(address: string): string {
  return address.charCodeAt(0) === 0x3a && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
