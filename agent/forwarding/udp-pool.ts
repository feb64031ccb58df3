// A pool of UDP sockets for queries to servers. Opening and closing a socket per query cost the
// agent most of its CPU on the forwarding path (measured: ~200–300 µs a client query). Spoofing
// resistance (RFC 5452 §9.2) still rests on two random values a forger must guess: the 16-bit
// ID, and the source port, which is one of `size` kernel-chosen ephemeral ports; each socket is
// retired after `maxUses` queries and replaced by one on a fresh random port, so the ports move.
import dgram from 'node:dgram';
import { RandomWords } from './random-words.js';

/** What a pending exchange is told: a datagram from its server with its ID, or a socket error. */
export interface PendingReply {
  onReply(msg: Buffer): void;
  onError(err: Error): void;
}

/** Datagrams that arrive but belong to no pending exchange. */
export type StrayHook = (address: string, reason: 'source' | 'id') => void;

/** A pending exchange: the server it asked, and where its reply goes. */
interface Pending {
  host: string;
  port: number;
  reply: PendingReply;
}

class PooledSocket {
  readonly sock: dgram.Socket;
  /**
   * Pending exchanges by query ID. IDs are unique per socket (not per server), so a reply is
   * found with one numeric lookup and its source compared after: no string keys per query.
   */
  readonly pending = new Map<number, Pending>();
  uses = 0;
  retired = false;

  constructor(family: 4 | 6, onStray: StrayHook, onBroken: (s: PooledSocket, err: Error) => void) {
    this.sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    this.sock.on('message', (msg, rinfo) => {
      const p = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      if (p && p.port === rinfo.port && p.host === rinfo.address) return p.reply.onReply(msg);
      onStray(`${rinfo.address}|${rinfo.port}`, this.asked(rinfo.address, rinfo.port) ? 'id' : 'source');
    });
    this.sock.on('error', (err) => onBroken(this, err));
    // Sockets never keep the process alive: the exchanges' timers do while anything is pending.
    this.sock.unref();
  }

  /** Whether anything pending was sent to host:port: a wrong ID from a server we asked, not a stranger. */
  private asked(host: string, port: number): boolean {
    for (const p of this.pending.values()) if (p.port === port && p.host === host) return true;
    return false;
  }
}

function closeQuietly(sock: dgram.Socket): void {
  try {
    sock.close();
  } catch {
    /* already closed */
  }
}

/** One pool per address family, shared by every server group. */
export interface UdpPools {
  4: UdpSocketPool;
  6: UdpSocketPool;
}

export interface Ticket {
  id: number;
  /** Stops waiting (answer received, deadline, or given up). */
  release(): void;
}

export class UdpSocketPool {
  private readonly sockets: PooledSocket[] = [];
  private readonly random = new RandomWords();
  private closed = false;

  constructor(
    private readonly family: 4 | 6,
    private readonly size: number,
    private readonly maxUses: number,
    private readonly onStray: StrayHook,
  ) {}

  /**
   * Sends `build(id)` to host:port from a random pooled socket with a fresh random ID that no
   * pending exchange on that socket uses, and routes the reply with that source and ID to `reply`.
   */
  send(host: string, port: number, build: (id: number) => Buffer, reply: PendingReply): Ticket {
    const s = this.pick();
    const id = this.random.unusedIn(s.pending);
    s.pending.set(id, { host, port, reply });
    s.uses++;
    if (s.uses >= this.maxUses) this.retire(s);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      s.pending.delete(id);
      if (s.retired && s.pending.size === 0) closeQuietly(s.sock);
    };
    s.sock.send(build(id), port, host, (err) => {
      if (err && !released) reply.onError(err);
    });
    return { id, release };
  }

  private pick(): PooledSocket {
    if (this.closed) throw new Error('UDP socket pool is closed');
    while (this.sockets.length < this.size) {
      this.sockets.push(new PooledSocket(this.family, this.onStray, (s, err) => this.broken(s, err)));
    }
    return this.sockets[this.random.take() % this.sockets.length];
  }

  /** No new queries on this socket; it closes when its last pending exchange ends. */
  private retire(s: PooledSocket): void {
    s.retired = true;
    const i = this.sockets.indexOf(s);
    if (i !== -1) this.sockets.splice(i, 1);
    if (s.pending.size === 0) closeQuietly(s.sock);
  }

  private broken(s: PooledSocket, err: Error): void {
    this.retire(s);
    for (const p of [...s.pending.values()]) p.reply.onError(err);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets.splice(0)) {
      s.retired = true;
      closeQuietly(s.sock);
    }
  }
}

let defaultPools: UdpPools | undefined;
/** A small pool for one-shot users (the ready.spartan probe in the watchdog and genresolv). */
export function sharedPools(): UdpPools {
  defaultPools ??= { 4: new UdpSocketPool(4, 4, 64, () => {}), 6: new UdpSocketPool(6, 4, 64, () => {}) };
  return defaultPools;
}
