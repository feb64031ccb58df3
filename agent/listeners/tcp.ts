// DNS over TCP per RFC 7766: two-byte length framing, several queries per connection handled
// concurrently and answered as each completes (pipelining), an idle timeout, a deadline for each
// message once it has begun, and caps on connections, in all and per client address, so a flood
// of idle or trickling sockets cannot exhaust the agent (a dcos-dns incident).
import net from 'node:net';
import type { Logger } from 'pino';
import { type ClientAdmission, clientKey } from '../admission/client-admission.js';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import type { TcpConfig } from '../../common/config/schema.js';
import type { Metrics } from '../metrics.js';
import { FrameReader, frameMessage } from '../../common/dns/framing.js';
import type { Resolver } from '../resolver.js';

/** Queries one connection may have outstanding before we stop reading from it. */
const MAX_PIPELINED = 64;

export class TcpListener {
  private server: net.Server | undefined;
  /** Open connections, each with the function that closes it once its answers are out. */
  private readonly conns = new Map<net.Socket, () => void>();
  /** Open connections per client address. */
  private readonly perClient = new Map<string, number>();

  constructor(
    readonly endpoint: Endpoint,
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
    const open = this.perClient.get(client) ?? 0;
    const admission = this.admission().admitConnection(client, { total: this.conns.size, fromClient: open }, limits);
    if (admission !== 'accept') {
      this.metrics.tcpRejected.inc({ reason: admission });
      sock.destroy();
      return;
    }
    this.perClient.set(client, open + 1);
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
    this.conns.set(sock, () => {
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
            if (reply && !sock.destroyed) sock.write(frameMessage(reply));
          })
          .catch((err) => this.log.error({ err, client: sock.remoteAddress }, 'query failed unexpectedly; no reply sent'))
          .finally(() => {
            outstanding--;
            if (outstanding < MAX_PIPELINED && sock.isPaused() && !ended) {
              sock.resume();
              watchPartial(false);
            }
            maybeClose();
          });
      }
      watchPartial(msgs.length > 0);
    });
    sock.on('end', () => {
      ended = true;
      maybeClose();
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      clearTimeout(deadline);
      this.conns.delete(sock);
      const left = this.perClient.get(client)! - 1;
      if (left === 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
      this.metrics.tcpConnections.dec();
    });
  }

  /** Stops accepting; open connections get their outstanding answers (for at most maxWaitMs), then close. */
  close(maxWaitMs = 0): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const finish of this.conns.values()) finish();
    return new Promise((resolve) => {
      if (!server) return resolve();
      const force = setTimeout(() => {
        for (const c of this.conns.keys()) c.destroy();
      }, maxWaitMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
