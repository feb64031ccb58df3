// DNS over TCP per RFC 7766: two-byte length framing, several queries per connection handled
// concurrently and answered as each completes (pipelining), an idle timeout, a deadline for each
// message once it has begun, and caps on connections, in all and per client address, so a flood
// of idle or trickling sockets cannot exhaust the agent (a dcos-dns incident). At a cap the
// longest-idle connection makes room for the new one (RFC 7766 §6.2.3).
import net from 'node:net';
import type { Logger } from 'pino';
import { type ClientAdmission, type ConnectionRefusal, clientKey } from '../admission/client-admission.js';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import type { TcpConfig } from '../../common/config/schema.js';
import type { Metrics } from '../metrics.js';
import { FrameReader, frameMessage } from '../../common/dns/framing.js';
import type { Resolver } from '../resolver.js';
import type { ConnectionTable } from './connection-table.js';

/** Queries one connection may have outstanding before we stop reading from it. */
const MAX_PIPELINED = 64;

export class TcpListener {
  private server: net.Server | undefined;
  constructor(
    readonly endpoint: Endpoint,
    /** Every TCP listener's client connections: the caps count them all, whatever the address. */
    private readonly conns: ConnectionTable,
    private readonly resolver: Resolver,
    /** The limits and the admission in effect now (a reload replaces both). */
    private readonly limits: () => TcpConfig,
    private readonly admission: () => ClientAdmission,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Listens on the endpoint, or takes over `fd`, a socket already listening there (from systemd). */
  start(fd?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (sock) => this.accept(sock));
      server.once('error', reject);
      server.listen(fd === undefined ? { host: this.endpoint.host, port: this.endpoint.port, exclusive: true } : { fd }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err, listen: formatEndpoint(this.endpoint) }, 'TCP listener error'));
        this.server = server;
        resolve();
      });
    });
  }

  private accept(sock: net.Socket): void {
    const limits = this.limits();
    if (sock.remoteAddress === undefined) {
      sock.destroy(); // already gone
      return;
    }
    const client = clientKey(sock.remoteAddress);
    const mine = this.conns.client(client);
    const admission = this.admission().admitConnection(
      client,
      { total: this.conns.size, fromClient: mine?.open ?? 0, idle: this.conns.idleCount, idleFromClient: mine?.idle.size ?? 0 },
      limits,
    );
    if (admission === 'max_connections' || admission === 'per_client') {
      this.refuse(sock, admission);
      return;
    }
    if (admission !== 'accept') this.evict(this.conns.longestIdle(admission === 'evict_client_idle' ? client : undefined)!);
    const frames = new FrameReader();
    let outstanding = 0;
    let ended = false;
    // The idle timeout restarts with every byte, so a message trickled in a byte at a time
    // (slowloris) would hold the connection for ever: once a message has begun it must be
    // complete within queryTimeoutMs. Not while we have stopped reading ourselves.
    let deadline: NodeJS.Timeout | undefined;
    const watchPartial = (completed: boolean) => {
      const waiting = frames.partial && !sock.isPaused();
      if (deadline && (completed || !waiting)) {
        clearTimeout(deadline);
        deadline = undefined;
      }
      if (waiting && !deadline) {
        deadline = setTimeout(() => {
          this.metrics.tcpClosed.inc({ reason: 'query_timeout' });
          sock.destroy();
        }, limits.queryTimeoutMs);
      }
    };
    const maybeClose = () => {
      if (ended && outstanding === 0) sock.end();
    };
    // Called after each read and each answer written: an answer still in the socket's buffer is
    // owed to the client, so the connection is not idle until it has gone.
    const settle = () => this.conns.setIdle(sock, outstanding === 0 && !frames.partial && sock.writableLength === 0);
    this.conns.add(sock, client, this, () => {
      ended = true;
      sock.pause();
      maybeClose();
    });
    this.metrics.tcpConnections.inc();
    sock.setTimeout(limits.idleTimeoutMs, () => {
      // Idle means nothing to read and nothing owed; a slow answer in progress is not idle.
      // A client that connects and never sends anything is idle from the start.
      if (outstanding === 0) {
        this.metrics.tcpClosed.inc({ reason: 'idle' });
        sock.destroy();
      }
    });
    sock.on('data', (chunk) => {
      const msgs = frames.push(chunk);
      for (const msg of msgs) {
        outstanding++;
        if (outstanding >= MAX_PIPELINED || ended) sock.pause();
        Promise.resolve(this.resolver.resolve(msg, 'tcp', client))
          .then((reply) => {
            if (reply && !sock.destroyed) sock.write(frameMessage(reply), settle);
          })
          .catch((err) => this.log.error({ err, client: sock.remoteAddress }, 'query failed unexpectedly; no reply sent'))
          .finally(() => {
            outstanding--;
            if (outstanding < MAX_PIPELINED && sock.isPaused() && !ended) {
              sock.resume();
              watchPartial(false);
            }
            settle();
            maybeClose();
          });
      }
      watchPartial(msgs.length > 0);
      settle();
    });
    sock.on('end', () => {
      ended = true;
      maybeClose();
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      clearTimeout(deadline);
      this.forget(sock);
    });
  }

  private refuse(sock: net.Socket, reason: ConnectionRefusal): void {
    this.metrics.tcpRejected.inc({ reason });
    sock.destroy();
  }

  /** Closes an idle connection to make room; its slot is free at once, not at its 'close'. */
  private evict(sock: net.Socket): void {
    this.forget(sock);
    this.metrics.tcpClosed.inc({ reason: 'evicted' });
    sock.destroy();
  }

  private forget(sock: net.Socket): void {
    if (this.conns.remove(sock)) this.metrics.tcpConnections.dec();
  }

  /** Stops accepting; open connections get their outstanding answers (for at most maxWaitMs), then close. */
  close(maxWaitMs = 0): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const finish of this.conns.finishers(this)) finish();
    return new Promise((resolve) => {
      if (!server) return resolve();
      const force = setTimeout(() => {
        for (const c of this.conns.sockets(this)) c.destroy();
      }, maxWaitMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
