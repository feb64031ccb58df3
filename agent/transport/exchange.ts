// One question to one server. Each attempt uses a fresh random ID and a random one of the
// server's connected UDP sockets (udp-pool.ts: random ports that rotate), or a pooled, pipelined TCP connection (tcp-pool.ts),
// and accepts a reply only from the address and port asked (over TCP: the connection that
// carried the query), with that ID and the same question (RFC 5452). Anything else is dropped
// and reported, and the exchange keeps waiting for the real reply until its deadline.
import type { Endpoint } from '../../common/config/endpoint.js';
import { type Question, Rcode, type ScannedMessage, TC, type Transport, buildQuery, matchReply, rcodeName } from '../../common/dns/wire.js';
import type { Clock, Timer } from '../clock.js';
import type { TcpPool } from './tcp-pool.js';
import type { MismatchReason, PendingReply, Ticket } from './ticket.js';
import type { UdpSocketPool } from './udp-pool.js';

export interface Reply extends ScannedMessage {
  transport: Transport;
}

/** Why a server gave no usable answer; `refused`: nothing listens on its port (ICMP port unreachable, TCP RST). */
export type FailureReason = 'timeout' | 'malformed' | 'network' | 'refused' | 'truncated' | `rcode_${string}`;

export class ExchangeError extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly transport: Transport,
    detail: string,
  ) {
    super(detail);
    this.name = 'ExchangeError';
  }
}

/** `err` as an ExchangeError: itself, or a network failure for anything else a send threw. */
export function asExchangeError(err: unknown): ExchangeError {
  return err instanceof ExchangeError ? err : new ExchangeError('network', 'udp', String(err));
}

/** Called for every reply that is dropped as not ours. */
export type MismatchHook = (reason: MismatchReason) => void;

/** Sends a built query through a pool and routes the matching reply. */
type Send = (build: (id: number) => Buffer, reply: PendingReply) => Ticket;

/**
 * One attempt through a pool (UDP sockets or TCP connections): waits for a reply the pool routes
 * here (our ID, from where we asked), judges it, and gives up at the deadline. A timeout fails
 * only this attempt; pooled sockets and connections stay for the others. One object with
 * methods rather than a handful of closures: there are two of these per forwarded query.
 */
class Attempt implements PendingReply {
  private done = false;
  private readonly timer: Timer;
  private readonly ticket: Ticket;

  constructor(
    private readonly transport: Transport,
    private readonly q: Question,
    private readonly onMismatch: MismatchHook,
    private readonly resolve: (reply: Reply) => void,
    private readonly reject: (err: Error) => void,
    send: Send,
    deadline: number,
    private readonly clock: Clock,
  ) {
    this.timer = clock.setTimeout(() => this.expire(), Math.max(0, deadline - clock.now()));
    try {
      this.ticket = send((id) => buildQuery(id, q), this);
    } catch (err) {
      clock.clearTimeout(this.timer); // e.g. the pool is closed: the promise rejects with err
      throw err;
    }
  }

  private expire(): void {
    this.finish(new ExchangeError('timeout', this.transport, 'no reply before the deadline'));
  }

  onReply(msg: Buffer): void {
    let match;
    try {
      match = matchReply(msg, this.ticket.id, this.q.wire);
    } catch (err) {
      return this.finish(new ExchangeError('malformed', this.transport, (err as Error).message));
    }
    if (typeof match === 'string') return this.onMismatch(match);
    this.finish(undefined, { msg, scan: match, transport: this.transport });
  }

  onError(err: Error): void {
    const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    this.finish(new ExchangeError(refused ? 'refused' : 'network', this.transport, err.message));
  }

  private finish(err: Error | undefined, reply?: Reply): void {
    if (this.done) return;
    this.done = true;
    this.clock.clearTimeout(this.timer);
    // A pool may report a send error before send() has returned the ticket.
    this.ticket?.release();
    if (err) this.reject(err);
    else this.resolve(reply!);
  }
}

function attempt(transport: Transport, send: Send, q: Question, deadline: number, onMismatch: MismatchHook, clock: Clock): Promise<Reply> {
  return new Promise((resolve, reject) => new Attempt(transport, q, onMismatch, resolve, reject, send, deadline, clock));
}

export function udpExchange(server: Endpoint, q: Question, deadline: number, onMismatch: MismatchHook, pools: ServerPools): Promise<Reply> {
  return attempt('udp', (build, reply) => pools.udp.send(server, build, reply), q, deadline, onMismatch, pools.clock);
}

export function tcpExchange(server: Endpoint, q: Question, deadline: number, onMismatch: MismatchHook, pools: ServerPools): Promise<Reply> {
  return attempt('tcp', (build, reply) => pools.tcp.send(server, deadline, build, reply), q, deadline, onMismatch, pools.clock);
}

/** Response codes that answer the question; anything else lets another server win. */
export function isUsable(reply: Reply): boolean {
  const rcode = reply.scan.header.rcode;
  return rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN;
}

export function rcodeFailure(reply: Reply): ExchangeError {
  const name = rcodeName(reply.scan.header.rcode);
  return new ExchangeError(`rcode_${name}`, reply.transport, `server answered ${name}`);
}

/** Where queries to servers go out: the UDP sockets and the TCP connections, shared by every group, and their clock. */
export interface ServerPools {
  udp: UdpSocketPool;
  tcp: TcpPool;
  clock: Clock;
}

/** Shared by the requests of one query (hedged or raced), so that one truncated answer costs one TCP retry. */
export interface TcpRetry {
  tcp?: Promise<Reply>;
}

/**
 * UDP first; when the server truncates (Mesos-DNS always cuts UDP at 512 bytes), ask again over
 * TCP so the client gets the whole answer without a second round trip of its own. Within one
 * query only the first truncated reply asks over TCP; the others wait for its answer
 * and try their own server over TCP only if it fails (every master serves the same records, and
 * a TCP retry per raced master would double the CPU). If every TCP retry fails, the truncated
 * reply is still a valid answer and is returned as it is.
 */
export async function exchange(
  server: Endpoint,
  q: Question,
  deadline: number,
  onMismatch: MismatchHook,
  pools: ServerPools,
  retry: TcpRetry = {},
): Promise<Reply> {
  const reply = await udpExchange(server, q, deadline, onMismatch, pools);
  if (!(reply.scan.header.flags & TC)) return reply;
  if (retry.tcp) {
    try {
      return await retry.tcp;
    } catch {
      /* the first retry failed: try this server's own TCP */
    }
  }
  const own = tcpExchange(server, q, deadline, onMismatch, pools);
  retry.tcp ??= own;
  try {
    return await own;
  } catch {
    return reply;
  }
}
