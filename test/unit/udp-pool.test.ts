// The socket pool against a real loopback echo server, and a closed port that refuses.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Endpoint } from '../../common/config/endpoint.js';
import { UdpSocketPool } from '../../agent/transport/udp-pool.js';

let echo: dgram.Socket;
let port: number;
/** Source ports the echo server saw, in order. */
const seenPorts: number[] = [];
/** When set, the echo server also replies with this ID instead (a forged or wrong reply). */
let forgeId: number | undefined;

beforeAll(async () => {
  echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => {
    seenPorts.push(rinfo.port);
    const reply = Buffer.from(msg);
    if (forgeId !== undefined) reply.writeUInt16BE(forgeId, 0);
    echo.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  port = echo.address().port;
});
afterAll(() => {
  echo.close();
});

function ask(pool: UdpSocketPool): Promise<{ id: number; reply: Buffer }> {
  return new Promise((resolve, reject) => {
    const t = pool.send({ host: '127.0.0.1', port, family: 4 }, (id) => Buffer.from([id >> 8, id & 0xff, 1, 2, 3]), {
      onReply: (msg) => {
        t.release();
        resolve({ id: t.id, reply: msg });
      },
      onError: reject,
    });
    setTimeout(() => {
      t.release();
      reject(new Error('no reply'));
    }, 1000).unref();
  });
}

describe('UDP socket pool', () => {
  test('a reply with our source and ID reaches the exchange that asked', async () => {
    const pool = new UdpSocketPool(4, 100, () => {});
    const r = await ask(pool);
    expect(r.reply.readUInt16BE(0)).toBe(r.id);
    expect([...r.reply.subarray(2)]).toEqual([1, 2, 3]);
    pool.close();
  });

  test('IDs are random and sockets are spread over several source ports', async () => {
    const pool = new UdpSocketPool(8, 1000, () => {});
    seenPorts.length = 0;
    const ids = new Set<number>();
    for (let i = 0; i < 40; i++) ids.add((await ask(pool)).id);
    expect(ids.size).toBeGreaterThan(35);
    expect(new Set(seenPorts).size).toBeGreaterThan(3);
    pool.close();
  });

  test('a socket is retired after maxUses and replaced by one on a new port', async () => {
    const pool = new UdpSocketPool(1, 3, () => {});
    seenPorts.length = 0;
    for (let i = 0; i < 9; i++) await ask(pool);
    // One socket at a time, three queries each: three different ports in order.
    expect(new Set(seenPorts).size).toBe(3);
    expect(seenPorts.slice(0, 3).every((p) => p === seenPorts[0])).toBe(true);
    pool.close();
  });

  test('a reply with a wrong ID is reported as a stray and not delivered', async () => {
    const strays: Array<{ from: Endpoint; reason: string }> = [];
    const pool = new UdpSocketPool(1, 100, (from, reason) => strays.push({ from, reason }));
    forgeId = 1;
    try {
      await expect(ask(pool)).rejects.toThrow('no reply');
    } finally {
      forgeId = undefined;
    }
    expect(strays).toEqual([{ from: { host: '127.0.0.1', port, family: 4 }, reason: 'id' }]);
    pool.close();
  });

  test('a datagram from anyone but the server never reaches the pool: the socket is connected', async () => {
    const strays: string[] = [];
    const pool = new UdpSocketPool(1, 100, (from, reason) => strays.push(reason));
    // Learn the pool's port from the echo server, then send to it from another socket.
    seenPorts.length = 0;
    await ask(pool);
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.send(Buffer.from([0, 1, 2]), seenPorts[0], '127.0.0.1', () => r()));
    // Then a real exchange on the same socket: the stranger's datagram, sent first, would have come first.
    const r = await ask(pool);
    stranger.close();
    expect(r.reply.readUInt16BE(0)).toBe(r.id);
    expect(strays).toEqual([]);
    pool.close();
  });

  test('a server whose port is closed fails every query waiting on that socket with ECONNREFUSED, and the socket goes on', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', () => r()));
    const closedPort = closed.address().port;
    await new Promise<void>((r) => closed.close(() => r()));
    const pool = new UdpSocketPool(1, 100, () => {});
    const refused = () =>
      new Promise<string>((resolve) => {
        const t = pool.send({ host: '127.0.0.1', port: closedPort, family: 4 }, (id) => Buffer.from([id >> 8, id & 0xff, 1]), {
          onReply: () => resolve('a reply'),
          onError: (err) => {
            t.release();
            resolve((err as NodeJS.ErrnoException).code ?? err.message);
          },
        });
      });
    expect(await Promise.all([refused(), refused()])).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(await refused()).toBe('ECONNREFUSED');
    pool.close();
  });
});
