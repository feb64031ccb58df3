// A pool of UDP sockets for queries to servers: opening and closing a socket per query would be
// most of the forwarding path's CPU. Spoofing resistance (RFC 5452 §9.2) still rests on two
// random values a forger must guess: the 16-bit ID, and the source port, which is one of `size`
// kernel-chosen ephemeral ports; each socket is retired after `maxUses` queries and replaced by
// one on a fresh random port, so the ports move.
import dgram from 'node:dgram';
import type { Endpoint } from '../../common/config/endpoint.js';
import { RandomWords } from './random-words.js';
import type { PendingReply, StrayHook, Ticket } from './ticket.js';

/** A pending exchange: the server it asked, and where its reply goes. */
interface Pending {
  server: Endpoint;
  reply: PendingReply;
}

/** Whether a datagram from `from` can answer `p`: RFC 5452 wants the address and port asked. */
function sentTo(p: Pending, from: dgram.RemoteInfo): boolean {
  return p.server.port === from.port && p.server.host === from.address;
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

  constructor(family: Endpoint['family'], onStray: StrayHook, onBroken: (s: PooledSocket, err: Error) => void) {
    this.sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    this.sock.on('message', (msg, rinfo) => {
      const p = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      if (p && sentTo(p, rinfo)) return p.reply.onReply(msg);
      const asked = this.askedOf(rinfo);
      onStray(asked ?? { host: rinfo.address, port: rinfo.port, family }, asked ? 'id' : 'source');
    });
    this.sock.on('error', (err) => onBroken(this, err));
    // Sockets never keep the process alive: the exchanges' timers do while anything is pending.
    this.sock.unref();
  }

  /** The server asked, if anything pending went to `from`: a wrong ID from it, not a stranger. */
  private askedOf(from: dgram.RemoteInfo): Endpoint | undefined {
    for (const p of this.pending.values()) if (sentTo(p, from)) return p.server;
    return undefined;
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
export type UdpPools = Record<Endpoint['family'], UdpSocketPool>;

export class UdpSocketPool {
  private readonly sockets: PooledSocket[] = [];
  private readonly random = new RandomWords();
  private closed = false;

  constructor(
    private readonly family: Endpoint['family'],
    private readonly size: number,
    private readonly maxUses: number,
    private readonly onStray: StrayHook,
  ) {}

  /**
   * Sends `build(id)` to the server from a random pooled socket with a fresh random ID that no
   * pending exchange on that socket uses, and routes the reply with that source and ID to `reply`.
   */
  send(server: Endpoint, build: (id: number) => Buffer, reply: PendingReply): Ticket {
    const s = this.pick();
    const id = this.random.unusedIn(s.pending);
    s.pending.set(id, { server, reply });
    s.uses++;
    if (s.uses >= this.maxUses) this.retire(s);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      s.pending.delete(id);
      if (s.retired && s.pending.size === 0) closeQuietly(s.sock);
    };
    s.sock.send(build(id), server.port, server.host, (err) => {
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

/** A pool for each address family, alike. */
export function createUdpPools(size: number, maxUses: number, onStray: StrayHook): UdpPools {
  return { 4: new UdpSocketPool(4, size, maxUses, onStray), 6: new UdpSocketPool(6, size, maxUses, onStray) };
}
