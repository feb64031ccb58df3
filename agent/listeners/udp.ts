// One UDP socket per listen address. Each datagram is one query; replies go back to its source.
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { type Endpoint, formatEndpoint } from '../config/endpoint.js';
import type { Resolver } from '../resolver.js';

export class UdpListener {
  private sock: dgram.Socket | undefined;
  private receiving = true;
  /** Queries taken but not yet answered; shutdown waits for them. */
  private pending = 0;
  private drained: (() => void) | undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly resolver: Resolver,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: this.endpoint.family === 6 ? 'udp6' : 'udp4' });
      const onBindError = (err: Error) => reject(err);
      sock.once('error', onBindError);
      sock.bind(this.endpoint.port, this.endpoint.host, () => {
        sock.off('error', onBindError);
        // After bind, a socket error must not kill the agent: log it and keep serving.
        sock.on('error', (err) => this.log.error({ err, listen: formatEndpoint(this.endpoint) }, 'UDP socket error'));
        this.sock = sock;
        resolve();
      });
      sock.on('message', (msg, rinfo) => {
        if (!this.receiving) return;
        this.pending++;
        const done = () => {
          if (--this.pending === 0) this.drained?.();
        };
        this.resolver.resolve(msg, 'udp', rinfo.address).then(
          (reply) => {
            // Counted until the kernel has the datagram: closing the socket earlier would drop it.
            if (reply && this.sock) this.sock.send(reply, rinfo.port, rinfo.address, done);
            else done();
          },
          (err) => {
            this.log.error({ err, client: rinfo.address }, 'query failed unexpectedly; no reply sent');
            done();
          },
        );
      });
    });
  }

  /** Shutdown, step one: new queries are ignored, answers in progress can still be sent. */
  stopReceiving(): void {
    this.receiving = false;
  }

  /** Shutdown, step two: waits (at most maxWaitMs) for the answers still owed. */
  drain(maxWaitMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    return new Promise((resolve) => (sock ? sock.close(() => resolve()) : resolve()));
  }
}
