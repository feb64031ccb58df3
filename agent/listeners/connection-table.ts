// The agent's client TCP connections across every listen address, so that tcp.maxConnections and
// tcp.maxConnectionsPerClient count them all, and which are idle, so that at a cap the longest
// idle can make room (RFC 7766 §6.2.3).
import type net from 'node:net';

/** One client address's open connections: how many, and which are idle, longest idle first. */
interface ClientConnections {
  open: number;
  idle: Set<net.Socket>;
}

/**
 * The open connections, in all and per client address, and which of them are idle: no query
 * being answered, no message half read, no answer still being written. A Set keeps insertion
 * order and a connection is added each time it becomes idle, so the first is the longest idle and
 * every step is O(1).
 */
export class ConnectionTable {
  /** Each connection's client, the listener that accepted it, and the function that closes it once its answers are out. */
  private readonly conns = new Map<net.Socket, { client: string; listener: object; finish: () => void }>();
  private readonly idle = new Set<net.Socket>();
  private readonly clients = new Map<string, ClientConnections>();

  get size(): number {
    return this.conns.size;
  }

  get idleCount(): number {
    return this.idle.size;
  }

  client(client: string): ClientConnections | undefined {
    return this.clients.get(client);
  }

  /** A new connection, idle until it sends something. */
  add(sock: net.Socket, client: string, listener: object, finish: () => void): void {
    this.conns.set(sock, { client, listener, finish });
    let mine = this.clients.get(client);
    if (!mine) this.clients.set(client, (mine = { open: 0, idle: new Set() }));
    mine.open++;
    this.idle.add(sock);
    mine.idle.add(sock);
  }

  /** Forgets a connection; false when it was already forgotten (evicted, then its 'close'). */
  remove(sock: net.Socket): boolean {
    const conn = this.conns.get(sock);
    if (!conn) return false;
    this.conns.delete(sock);
    this.idle.delete(sock);
    const mine = this.clients.get(conn.client)!;
    mine.idle.delete(sock);
    if (--mine.open === 0) this.clients.delete(conn.client);
    return true;
  }

  /** An idle connection keeps its place while it stays idle; activity takes it out. */
  setIdle(sock: net.Socket, idle: boolean): void {
    const conn = this.conns.get(sock);
    if (!conn) return;
    const mine = this.clients.get(conn.client)!;
    if (idle) {
      if (this.idle.has(sock)) return;
      this.idle.add(sock);
      mine.idle.add(sock);
    } else if (this.idle.delete(sock)) {
      mine.idle.delete(sock);
    }
  }

  /** The connection idle longest, of anyone or of `client`. */
  longestIdle(client?: string): net.Socket | undefined {
    const idle = client === undefined ? this.idle : this.clients.get(client)?.idle;
    return idle?.values().next().value;
  }

  /** One listener's connections (its shutdown). */
  sockets(listener: object): net.Socket[] {
    return [...this.conns].filter(([, c]) => c.listener === listener).map(([sock]) => sock);
  }

  finishers(listener: object): Array<() => void> {
    return [...this.conns.values()].filter((c) => c.listener === listener).map((c) => c.finish);
  }
}
