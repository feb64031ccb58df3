// One UDP socket per listen address. Each datagram is one query; replies go back to its source.
// The socket is bound here, or handed over by systemd already bound (phalanx-dns.socket).
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import type { Resolver } from '../resolver.js';

/**
 * Room for a burst (hundreds of containers starting at once) while the agent reads: the default
 * 208 KiB holds about 270 queries. As phalanx-dns.socket's ReceiveBuffer; when the agent binds the
 * socket itself the kernel caps it at net.core.rmem_max.
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpListener {
  private sock: dgram.Socket | undefined;
  private receiving = true;
  /** Queries waiting for a server; shutdown waits for their answers. */
  private pending = 0;
  private drained: (() => void) | undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly resolver: Resolver,
    private readonly log: Logger,
  ) {}

  /** Binds the endpoint, or takes over `fd`, a socket already bound to it. */
  start(fd?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: this.endpoint.family === 6 ? 'udp6' : 'udp4' });
      const onBindError = (err: Error) => reject(err);
      sock.once('error', onBindError);
      sock.bind(fd === undefined ? { port: this.endpoint.port, address: this.endpoint.host } : { fd }, () => {
        sock.off('error', onBindError);
        // A socket from systemd has its buffer already, set past rmem_max: left as it is.
        if (fd === undefined) sock.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
        // After bind, a socket error must not kill the agent: log it and keep serving.
        sock.on('error', (err) => this.log.error({ err, listen: formatEndpoint(this.endpoint) }, 'UDP socket error'));
        this.sock = sock;
        resolve();
      });
      sock.on('message', (msg, rinfo) => {
        if (!this.receiving) return;
        const reply = this.resolver.resolve(msg, 'udp', rinfo.address);
        if (!(reply instanceof Promise)) {
          // No completion callback: node then tries the send at once, without a request object.
          if (reply) sock.send(reply, rinfo.port, rinfo.address);
          return;
        }
        this.pending++;
        reply.then(
          (r) => {
            // Owed until the kernel has it (the callback): shutdown closes the socket after that.
            if (this.sock) this.sock.send(r, rinfo.port, rinfo.address, () => this.answered());
            else this.answered();
          },
          (err) => {
            this.log.error({ err, client: rinfo.address }, 'query failed unexpectedly; no reply sent');
            this.answered();
          },
        );
      });
    });
  }

  /** One answer owed is sent (or given up). */
  private answered(): void {
    if (--this.pending === 0) this.drained?.();
  }

  /**
   * Shutdown, step one: no new queries are read, answers in progress can still be sent. Unread
   * datagrams stay in the kernel, where the next agent finds them when systemd holds the socket.
   */
  stopReceiving(): void {
    this.receiving = false;
    if (this.sock) stopReading(this.sock);
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

/**
 * Stops reading from the socket without closing it. dgram has no public call for this, so it
 * asks the socket's libuv handle (Node's own close() does the same); with a runtime where the
 * handle is not found, the datagrams are read and ignored instead.
 */
function stopReading(sock: dgram.Socket): void {
  for (const key of Object.getOwnPropertySymbols(sock)) {
    const handle = (sock as unknown as Record<symbol, { handle?: { recvStop?: () => number } } | undefined>)[key]?.handle;
    if (typeof handle?.recvStop === 'function') {
      handle.recvStop();
      return;
    }
  }
}
