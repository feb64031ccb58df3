// UDP sockets for queries to servers: a few connected sockets per server. Connected, as CoreDNS's
// forward plugin does, for what an unconnected socket never learns: the kernel turns a server's
// ICMP port unreachable into ECONNREFUSED on that socket, so a server whose port is closed fails
// its queries at once instead of at their deadline; and the kernel drops datagrams from anywhere
// but the server, so only the server asked can answer. Opening a socket per query would be most
// of the forwarding path's CPU, so sockets are kept. Spoofing resistance (RFC 5452 §9.2) still
// rests on two random values a forger must guess: the 16-bit ID, and the source port, one of up to
// `size` kernel-chosen ephemeral ports per server; each socket is retired after `maxUses` queries
// and replaced by one on a fresh random port, so the ports move.
import dgram from 'node:dgram';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import { type Clock, type Timer, systemClock } from '../clock.js';
import { RandomWords } from './random-words.js';
import type { PendingReply, StrayHook, Ticket } from './ticket.js';

/** A server's sockets unused for this long, with nothing pending, are closed (a server that left the configuration). */
const IDLE_SWEEP_MS = 60_000;

/** A socket connected to one server, and the queries waiting on it by ID. */
class ServerSocket {
  readonly sock: dgram.Socket;
  readonly pending = new Map<number, PendingReply>();
  uses = 0;
  retired = false;
  /** Datagrams sent before connect() completed: Node sends on a connected socket only once it is. */
  private queued: Array<{ msg: Buffer; reply: PendingReply }> | undefined = [];

  constructor(
    readonly server: Endpoint,
    onStray: StrayHook,
    private readonly onBroken: (s: ServerSocket, err: Error) => void,
  ) {
    this.sock = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
    this.sock.on('message', (msg) => {
      const p = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      if (p) p.onReply(msg);
      else onStray(server, 'id');
    });
    this.sock.on('error', (err) => this.failed(err));
    this.sock.connect(server.port, server.host, () => this.connected());
    // Sockets never keep the process alive: the exchanges' timers do while anything is pending.
    this.sock.unref();
  }

  send(msg: Buffer, reply: PendingReply): void {
    if (this.queued) this.queued.push({ msg, reply });
    else this.sock.send(msg, (err) => err && this.failed(err, reply));
  }

  private connected(): void {
    const queued = this.queued ?? [];
    this.queued = undefined;
    for (const q of queued) this.send(q.msg, q.reply);
  }

  /**
   * A refusal (the server's port is closed) fails every query waiting here: they all went to that
   * port, and the kernel does not say which datagram drew it. The socket stays usable. Any other
   * error fails the query it came with, or, from the socket itself, retires the socket.
   */
  private failed(err: Error, reply?: PendingReply): void {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
      for (const p of [...this.pending.values()]) p.onError(err);
    } else if (reply) {
      reply.onError(err);
    } else {
      this.onBroken(this, err);
    }
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }
}

/** One server's socket slots, each opened when first picked. */
class ServerSockets {
  readonly slots: Array<ServerSocket | undefined>;
  /** Queries sent, and the count at the last idle sweep: unchanged means unused since. */
  sent = 0;
  sentAtSweep = 0;

  constructor(size: number) {
    this.slots = new Array<ServerSocket | undefined>(size);
  }

  get pending(): number {
    let n = 0;
    for (const s of this.slots) n += s?.pending.size ?? 0;
    return n;
  }
}

export class UdpSocketPool {
  private readonly servers = new Map<string, ServerSockets>();
  private readonly random = new RandomWords();
  private readonly sweeper: Timer;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly maxUses: number,
    private readonly onStray: StrayHook,
    private readonly clock: Clock = systemClock,
  ) {
    this.sweeper = clock.setInterval(() => this.sweep(), IDLE_SWEEP_MS);
  }

  /**
   * Sends `build(id)` to the server from one of its sockets, at random, with a fresh random ID
   * that no query pending on that socket uses, and routes the reply with that ID to `reply`.
   * Errors are reported through `reply`, never from within this call.
   */
  send(server: Endpoint, build: (id: number) => Buffer, reply: PendingReply): Ticket {
    if (this.closed) throw new Error('UDP socket pool is closed');
    const key = formatEndpoint(server);
    let own = this.servers.get(key);
    if (!own) this.servers.set(key, (own = new ServerSockets(this.size)));
    own.sent++;
    const slot = this.random.take() % this.size;
    let s = own.slots[slot];
    if (!s) own.slots[slot] = s = new ServerSocket(server, this.onStray, (b, err) => this.broken(own, b, err));
    const id = this.random.unusedIn(s.pending);
    s.pending.set(id, reply);
    s.uses++;
    if (s.uses >= this.maxUses) this.retire(own, s);
    let released = false;
    const socket = s;
    const release = () => {
      if (released) return;
      released = true;
      socket.pending.delete(id);
      if (socket.retired && socket.pending.size === 0) socket.close();
    };
    s.send(build(id), reply);
    return { id, release };
  }

  /** No new queries on this socket; it closes when its last pending query ends. */
  private retire(own: ServerSockets, s: ServerSocket): void {
    s.retired = true;
    const i = own.slots.indexOf(s);
    if (i !== -1) own.slots[i] = undefined;
    if (s.pending.size === 0) s.close();
  }

  private broken(own: ServerSockets, s: ServerSocket, err: Error): void {
    this.retire(own, s);
    for (const p of [...s.pending.values()]) p.onError(err);
  }

  /** Closes the sockets of servers nobody asked since the last sweep. */
  private sweep(): void {
    for (const [key, own] of this.servers) {
      if (own.sent === own.sentAtSweep && own.pending === 0) {
        for (const s of own.slots) s?.close();
        this.servers.delete(key);
      }
      own.sentAtSweep = own.sent;
    }
  }

  close(): void {
    this.closed = true;
    this.clock.clearInterval(this.sweeper);
    for (const own of this.servers.values())
      for (const s of own.slots) {
        if (!s) continue;
        s.retired = true;
        s.close();
      }
    this.servers.clear();
  }
}
