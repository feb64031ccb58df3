// Which clients get served: the ACL (who may ask at all), a token bucket per client address
// (how fast), and the caps on client TCP connections (how many at once). What the ACL and the
// exemptions say is remembered per address, so a query costs one Map lookup, not a BlockList check.
import type { RateLimitConfig, TcpConfig } from '../../common/config/schema.js';
import type { NetworkSet } from './network-set.js';

/** A query is served, refused (the address is outside the ACL) or turned away (over its rate). */
export type QueryAdmission = 'serve' | 'acl' | 'rate';

/** A new client TCP connection is accepted, or closed at once because a cap is reached. */
export type ConnectionAdmission = 'accept' | 'max_connections' | 'per_client';

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
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Whether a query from `address` is served; takes one token from its bucket when it has one. */
  admitQuery(address: string): QueryAdmission {
    const key = clientKey(address);
    const c = this.clients.get(key) ?? this.learn(key);
    if (!c.allowed) return 'acl';
    if (c.exempt || this.limit.perClientQps === 0) return 'serve';
    const now = this.clock();
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
   * this client: closed at once past either cap, except that the exempt addresses (the node
   * itself, where every process connects from) have no per-client cap.
   */
  admitConnection(address: string, open: { total: number; fromClient: number }, caps: TcpCaps): ConnectionAdmission {
    if (open.total >= caps.maxConnections) return 'max_connections';
    if (open.fromClient < caps.maxConnectionsPerClient) return 'accept';
    const key = clientKey(address);
    return (this.clients.get(key) ?? this.learn(key)).exempt ? 'accept' : 'per_client';
  }

  get size(): number {
    return this.clients.size;
  }

  private learn(key: string): Client {
    if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value!);
    const now = this.clock();
    const c: Client = { allowed: this.acl.has(key), exempt: this.exempt.has(key), tokens: this.limit.burst, at: now, touched: now };
    this.clients.set(key, c);
    return c;
  }
}

/** One key per client: a dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d. */
export function clientKey(address: string): string {
  return address.charCodeAt(0) === 0x3a && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
