// The agent's DNS listeners, UDP and TCP on every listen address: bound all or none, and shut
// down without dropping an answer owed.
import type { Endpoint } from '../../common/config/endpoint.js';
import type { ListenSocket } from '../systemd/socket-activation.js';
import type { TcpListener } from './tcp.js';
import type { UdpListener } from './udp.js';

export class ListenerSet {
  private udp: UdpListener[] = [];
  private tcp: TcpListener[] = [];

  constructor(private readonly make: { udp(e: Endpoint): UdpListener; tcp(e: Endpoint): TcpListener }) {}

  /** Binds each socket (or takes over the one systemd passed); if any fails, releases the others and throws. */
  async bind(sockets: ListenSocket[]): Promise<void> {
    try {
      for (const { transport, endpoint, fd } of sockets) {
        if (transport === 'udp') {
          const udp = this.make.udp(endpoint);
          await udp.start(fd);
          this.udp.push(udp);
        } else {
          const tcp = this.make.tcp(endpoint);
          await tcp.start(fd);
          this.tcp.push(tcp);
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Stop reading queries, send the answers owed (for at most maxWaitMs), close. */
  async shutdown(maxWaitMs: number): Promise<void> {
    for (const u of this.udp) u.stopReceiving();
    await Promise.all([...this.udp.map((u) => u.drain(maxWaitMs)), ...this.tcp.map((t) => t.close(maxWaitMs))]);
    await this.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.close()), ...this.tcp.map((t) => t.close())]);
    this.udp = [];
    this.tcp = [];
  }
}
