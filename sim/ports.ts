// Port helpers for the tests and the demo. DNS uses one port number for both UDP and TCP, so
// "free" here always means free for both transports on the given address.
import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Tests must only ever touch loopback. Every helper that binds or sends calls this, so a typo in a
 * test can never put a packet on a real network.
 */
export function assertLoopback(address: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) && address !== '::1') {
    throw new Error(`test helpers only use 127.0.0.0/8 and ::1, refusing ${address}`);
  }
}

export interface BoundPair {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

/** A single UDP socket; also used for a fake server's second "wrong source port" socket. */
export function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  assertLoopback(address);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.bind({ address, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

function listenTcp(address: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host: address, port, exclusive: true }, () => {
      srv.removeListener('error', reject);
      resolve(srv);
    });
  });
}

/**
 * Binds a UDP socket and a TCP server to the same port. With port 0 the kernel picks the UDP port,
 * and that number may already be taken for TCP, so we retry with a fresh pick rather than fail.
 */
export async function bindUdpAndTcp(address: string, port = 0, attempts = 20): Promise<BoundPair> {
  assertLoopback(address);
  let lastErr: unknown;
  for (let i = 0; i < (port === 0 ? attempts : 1); i++) {
    const udp = await bindUdp(address, port);
    const chosen = udp.address().port;
    try {
      const tcp = await listenTcp(address, chosen);
      return { udp, tcp, port: chosen };
    } catch (err) {
      udp.close();
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw lastErr;
}

/**
 * A port that was free for both UDP and TCP a moment ago. Inherently racy (someone may grab it
 * before the caller binds), which is acceptable for handing a port to a child process that must
 * bind it itself.
 */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  const { udp, tcp, port } = await bindUdpAndTcp(address);
  await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
  return port;
}
