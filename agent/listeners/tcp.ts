// DNS over TCP per RFC 7766: two-byte length framing, several queries per connection handled
// concurrently and answered as each completes (pipelining), an idle timeout, and a cap on
// connections so a flood of idle sockets cannot exhaust the agent (a dcos-dns incident).
import net from 'node:net';
import type { Logger } from 'pino';
import { type Endpoint, formatEndpoint } from '../config/endpoint.js';
import type { Metrics } from '../metrics.js';
import { FrameReader, frameMessage } from '../dns/framing.js';
import type { Resolver } from '../resolver.js';

export interface TcpLimits {
  maxConnections: number;
  idleTimeoutMs: number;
}

/** Queries one connection may have outstanding before we stop reading from it. */
const MAX_PIPELINED = 64;

export class TcpListener {
  private server: net.Server | undefined;
  /** Open connections, each with the function that closes it once its answers are out. */
  private readonly conns = new Map<net.Socket, () => void>();

  constructor(
    readonly endpoint: Endpoint,
    private readonly resolver: Resolver,
    private readonly limits: () => TcpLimits,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (sock) => this.accept(sock));
      server.once('error', reject);
      server.listen({ host: this.endpoint.host, port: this.endpoint.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err, listen: formatEndpoint(this.endpoint) }, 'TCP listener error'));
        this.server = server;
        resolve();
      });
    });
  }

  private accept(sock: net.Socket): void {
    const limits = this.limits();
    if (this.conns.size >= limits.maxConnections) {
      this.metrics.tcpRejected.inc();
      sock.destroy();
      return;
    }
    const frames = new FrameReader();
    let outstanding = 0;
    let ended = false;
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
      if (outstanding === 0) sock.destroy();
    });
    sock.on('data', (chunk) => {
      for (const msg of frames.push(chunk)) {
        outstanding++;
        if (outstanding >= MAX_PIPELINED || ended) sock.pause();
        this.resolver
          .resolve(msg, 'tcp')
          .then((reply) => {
            if (reply && !sock.destroyed) sock.write(frameMessage(reply));
          })
          .catch((err) => this.log.error({ err, client: sock.remoteAddress }, 'query failed unexpectedly; no reply sent'))
          .finally(() => {
            outstanding--;
            if (outstanding < MAX_PIPELINED && sock.isPaused() && !ended) sock.resume();
            maybeClose();
          });
      }
    });
    sock.on('end', () => {
      ended = true;
      maybeClose();
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.conns.delete(sock);
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
