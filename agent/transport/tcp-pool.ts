// Persistent TCP connections to servers, for the retry after a truncated UDP reply. Mesos-DNS
// truncates every big answer, and a connection per retry would cost more CPU than the query it
// carries, so each server gets a few long-lived connections that carry many queries at once
// (RFC 7766 §6.2.1): each query has an ID unused among its connection's pending ones, and
// replies, which may come in any order, are routed by that ID. Judging a reply stays with the
// exchange.
import net from 'node:net';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import { FrameReader, frameMessage } from '../../common/dns/framing.js';
import { type Clock, type Timer, systemClock } from '../clock.js';
import { RandomWords } from './random-words.js';
import type { PendingReply, StrayHook, Ticket } from './ticket.js';

export interface TcpPoolLimits {
  /** Connections per server; another opens only when the open ones are full. */
  connectionsPerServer: number;
  /** Queries outstanding on one connection. */
  pendingPerConnection: number;
  /** A connection with nothing pending is closed after this long. */
  idleMs: number;
  /** Bytes queued in a socket (a server not reading) beyond which it takes no more queries. */
  maxWriteBuffer: number;
}

export const DEFAULT_TCP_LIMITS: TcpPoolLimits = {
  connectionsPerServer: 2,
  pendingPerConnection: 100,
  idleMs: 10_000,
  maxWriteBuffer: 64 * 1024,
};

const POOL_CLOSED = 'TCP pool is closed';

export interface TcpPoolHooks {
  /** Replies on a connection with no pending query of that ID (late, or not ours). */
  onStray?: StrayHook;
  /** A connection to `server` is being opened. */
  onOpen?: (server: Endpoint) => void;
}

class PendingQuery implements Ticket {
  id = -1;
  conn: Connection | undefined;
  /** Each query is sent again at most once after its connection closes under it. */
  resent = false;
  private done = false;

  constructor(
    readonly server: Endpoint,
    readonly deadline: number,
    readonly build: (id: number) => Buffer,
    readonly reply: PendingReply,
  ) {}

  release(): void {
    if (this.done) return;
    this.done = true;
    this.conn?.forget(this);
    this.conn = undefined;
  }

  /** `code`: the socket's error code, so that a refused connection reads as a refusal. */
  fail(detail: string, code?: string): void {
    if (this.done) return;
    this.release();
    this.reply.onError(Object.assign(new Error(detail), { code }));
  }
}

class Connection {
  readonly sock: net.Socket;
  readonly pending = new Map<number, PendingQuery>();
  private readonly random = new RandomWords();
  /** Only a server that accepted the connection can have dropped queries worth sending again. */
  connected = false;
  /** False once the server has ended its side: nothing new is sent here. */
  open = true;
  error: Error | undefined;
  private idleTimer: Timer | undefined;

  constructor(
    readonly server: Endpoint,
    private readonly limits: TcpPoolLimits,
    private readonly clock: Clock,
    onStray: StrayHook,
    onClose: (c: Connection) => void,
  ) {
    this.sock = net.connect({ host: server.host, port: server.port, noDelay: true });
    // Never keeps the process alive: the exchanges' timers do while anything is pending.
    this.sock.unref();
    const frames = new FrameReader();
    this.sock.on('connect', () => (this.connected = true));
    this.sock.on('data', (chunk) => {
      for (const msg of frames.push(chunk)) {
        const q = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
        if (q) q.reply.onReply(msg);
        else onStray(server, 'id');
      }
    });
    this.sock.on('end', () => (this.open = false));
    this.sock.on('error', (err) => {
      this.error = err;
      this.open = false;
    });
    this.sock.on('close', () => {
      this.open = false;
      this.clock.clearTimeout(this.idleTimer);
      onClose(this);
    });
  }

  hasRoom(): boolean {
    return this.open && this.pending.size < this.limits.pendingPerConnection && this.sock.writableLength < this.limits.maxWriteBuffer;
  }

  send(q: PendingQuery): void {
    const id = this.random.unusedIn(this.pending);
    q.id = id;
    q.conn = this;
    this.pending.set(id, q);
    this.clock.clearTimeout(this.idleTimer);
    this.sock.write(frameMessage(q.build(id)));
  }

  forget(q: PendingQuery): void {
    this.pending.delete(q.id);
    if (this.pending.size > 0 || !this.open) return;
    this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = this.clock.setTimeout(
      () => {
        this.open = false;
        this.sock.destroy();
      },
      this.limits.idleMs,
      true,
    );
  }
}

export class TcpPool {
  /** Open connections by server (formatEndpoint). */
  private readonly conns = new Map<string, Connection[]>();
  private closed = false;

  constructor(
    private readonly hooks: TcpPoolHooks = {},
    private readonly limits: TcpPoolLimits = DEFAULT_TCP_LIMITS,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Sends `build(id)` to the server on a pooled connection and routes the reply with that ID to
   * `reply`. Errors are reported asynchronously, never from within this call.
   */
  send(server: Endpoint, deadline: number, build: (id: number) => Buffer, reply: PendingReply): Ticket {
    const q = new PendingQuery(server, deadline, build, reply);
    this.dispatch(q);
    return q;
  }

  private dispatch(q: PendingQuery): void {
    const conn = this.pick(q.server);
    if (conn) return conn.send(q);
    // The client still gets the truncated UDP reply and can come over TCP itself.
    const why = this.closed ? POOL_CLOSED : `every TCP connection to ${formatEndpoint(q.server)} is full`;
    queueMicrotask(() => q.fail(why));
  }

  private pick(server: Endpoint): Connection | undefined {
    if (this.closed) return undefined;
    const key = formatEndpoint(server);
    const list = this.conns.get(key) ?? [];
    const ready = list.find((c) => c.hasRoom());
    if (ready || list.length >= this.limits.connectionsPerServer) return ready;
    this.hooks.onOpen?.(server);
    const conn = new Connection(server, this.limits, this.clock, this.hooks.onStray ?? (() => {}), (c) => this.closedUnder(key, c));
    list.push(conn);
    this.conns.set(key, list);
    return conn;
  }

  /**
   * Queries still pending when a connection closes never got an answer. Many servers close
   * after a number of answers (dnsmasq after 100), so each is sent once more on another
   * connection while its deadline allows; a connection that never opened fails them at once.
   */
  private closedUnder(key: string, c: Connection): void {
    const list = (this.conns.get(key) ?? []).filter((x) => x !== c);
    if (list.length) this.conns.set(key, list);
    else this.conns.delete(key);
    const dropped = [...c.pending.values()];
    c.pending.clear();
    for (const q of dropped) {
      q.conn = undefined;
      if (c.connected && !q.resent && !this.closed && q.deadline > this.clock.now()) {
        q.resent = true;
        this.dispatch(q);
      } else {
        q.fail(this.closed ? POOL_CLOSED : closeReason(c), (c.error as NodeJS.ErrnoException | undefined)?.code);
      }
    }
  }

  /** Destroys every connection; their pending queries fail. */
  close(): void {
    this.closed = true;
    for (const list of this.conns.values()) for (const c of list) c.sock.destroy();
  }
}

function closeReason(c: Connection): string {
  const where = formatEndpoint(c.server);
  if (!c.connected) return `cannot connect to ${where}: ${c.error?.message ?? 'connection closed'}`;
  if (c.error) return `connection to ${where} failed: ${c.error.message}`;
  return 'server closed the connection without a reply';
}
