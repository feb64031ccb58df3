// The pooled, pipelined TCP connections for truncated answers, against a fake Mesos-DNS master on
// loopback that truncates UDP at 512 bytes and can close, hang or reorder on TCP.
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { Endpoint } from '../../common/config/endpoint.js';
import { ExchangeError, type MismatchHook, type Reply, exchange, tcpExchange } from '../../agent/transport/exchange.js';
import type { Question } from '../../common/dns/wire.js';
import { DEFAULT_TCP_LIMITS, TcpPool, type TcpPoolLimits } from '../../agent/transport/tcp-pool.js';
import { UdpSocketPool } from '../../agent/transport/udp-pool.js';
import { systemClock } from '../../agent/clock.js';
import { TC } from '../../common/dns/wire.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';
import { sleep, waitFor } from '../helpers/time.js';

/** big0.mesos … big4.mesos: 40 A records each, far over 512 bytes, so UDP always truncates. */
const records: Answer[] = Array.from({ length: 5 }, (_, n) =>
  Array.from({ length: 40 }, (_, i): Answer => ({ name: `big${n}.mesos`, type: 'A', data: `10.${n}.0.${i}` })),
).flat();

let server: FakeDnsServer;
let endpoint: Endpoint;
let udp: UdpSocketPool;
let pool: TcpPool;
let strays: Array<{ from: Endpoint; reason: string }>;
let opened: number;

function newPool(limits: Partial<TcpPoolLimits> = {}): TcpPool {
  pool?.close();
  const hooks = { onStray: (from: Endpoint, reason: string) => void strays.push({ from, reason }), onOpen: () => void opened++ };
  pool = new TcpPool(hooks, { ...DEFAULT_TCP_LIMITS, ...limits });
  return pool;
}

beforeEach(async () => {
  server = await FakeDnsServer.start({ zone: 'mesos', records });
  endpoint = { host: server.address, port: server.port, family: 4 };
  udp = new UdpSocketPool(2, 64, () => {});
  strays = [];
  opened = 0;
  newPool();
});

afterEach(async () => {
  pool.close();
  udp.close();
  await server.stop();
});

function question(name: string): Question {
  const wire = dnsPacket.encode({ type: 'query', questions: [{ name, type: 'A', class: 'IN' }] });
  return { wire: wire.subarray(12), flags: 0, dnssecOk: false };
}

const ignore: MismatchHook = () => {};
const within = (ms: number) => Date.now() + ms;
function askTcp(name: string, deadlineMs = 2000, onMismatch = ignore): Promise<Reply> {
  return tcpExchange(endpoint, question(name), within(deadlineMs), onMismatch, { udp, tcp: pool, clock: systemClock });
}

function askBoth(name: string, deadlineMs = 2000): Promise<Reply> {
  return exchange(endpoint, question(name), within(deadlineMs), ignore, { udp, tcp: pool, clock: systemClock });
}

/** The A records of a reply, checked to be the whole answer for bigN.mesos. */
function expectWholeAnswer(reply: Reply, n: number): void {
  const p = dnsPacket.decode(reply.msg);
  expect(p.questions?.[0].name).toBe(`big${n}.mesos`);
  const data = (p.answers ?? []).map((a) => (a as { data: string }).data);
  expect(data).toHaveLength(40);
  expect(data.every((d) => d.startsWith(`10.${n}.0.`))).toBe(true);
}

async function expectFailure(p: Promise<unknown>, reason: string, detail?: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExchangeError);
  expect((err as ExchangeError).reason).toBe(reason);
  expect((err as ExchangeError).transport).toBe('tcp');
  if (detail) expect((err as ExchangeError).message).toMatch(detail);
}

describe('reuse', () => {
  test('big answers in a row all go over one TCP connection', async () => {
    for (let i = 0; i < 10; i++) {
      const reply = await askBoth('big0.mesos');
      expect(reply.transport).toBe('tcp');
      expectWholeAnswer(reply, 0);
    }
    expect(server.queryCount('udp')).toBe(10);
    expect(server.queryCount('tcp')).toBe(10);
    expect(server.tcpAccepted).toBe(1);
    expect(opened).toBe(1);
  });

  test('concurrent queries are pipelined on one connection and replies in reverse order reach the right query', async () => {
    server.setTcpQuirks({ reverseBatch: 5 });
    const finished: number[] = [];
    const replies = await Promise.all(
      [0, 1, 2, 3, 4].map((n) =>
        askTcp(`big${n}.mesos`).then((r) => {
          finished.push(n);
          return r;
        }),
      ),
    );
    replies.forEach((r, n) => expectWholeAnswer(r, n));
    expect(finished).toEqual([4, 3, 2, 1, 0]);
    expect(server.tcpAccepted).toBe(1);
    const ids = server.queries.map((q) => q.id);
    expect(new Set(ids).size).toBe(5);
  });

  test('an idle connection is closed after the idle period; the next query opens a new one', async () => {
    newPool({ idleMs: 150 });
    expectWholeAnswer(await askTcp('big0.mesos'), 0);
    expect(server.openTcpConnections).toBe(1);
    await sleep(400); // the idle period (150 ms) is the subject
    expect(server.openTcpConnections).toBe(0);
    expectWholeAnswer(await askTcp('big1.mesos'), 1);
    expect(server.tcpAccepted).toBe(2);
  });
});

describe('servers that close', () => {
  test('queries left unanswered when the server closes are sent once more on a new connection', async () => {
    server.setTcpQuirks({ closeAfter: 3 });
    const replies = await Promise.all([0, 1, 2, 3, 4].map((n) => askTcp(`big${n}.mesos`)));
    replies.forEach((r, n) => expectWholeAnswer(r, n));
    expect(server.tcpAccepted).toBe(2);
  });

  test('a server that closes after every answer still serves queries one after another', async () => {
    server.setTcpQuirks({ closeAfter: 1 });
    for (let i = 0; i < 4; i++) expectWholeAnswer(await askBoth('big2.mesos'), 2);
    expect(server.tcpAccepted).toBe(4);
  });

  test('a server that closes without answering: one retry, then the truncated UDP reply', async () => {
    server.setTcpQuirks({ closeAfter: 0 });
    await expectFailure(askTcp('big0.mesos'), 'network');
    expect(server.tcpAccepted).toBe(2);

    const reply = await askBoth('big0.mesos');
    expect(reply.transport).toBe('udp');
    expect(reply.scan.header.flags & TC).toBeTruthy();
  });

  test('a refused connection fails its query at once with the reason', async () => {
    endpoint = { host: '127.0.0.1', port: await freePort(), family: 4 };
    const started = Date.now();
    await expectFailure(askTcp('big0.mesos'), 'refused', /cannot connect/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('deadlines and limits', () => {
  test('a hung TCP server: each query times out at its own deadline and the connection stays', async () => {
    server.setTcpQuirks({ hang: true });
    const started = Date.now();
    await expectFailure(askTcp('big0.mesos', 200), 'timeout');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);

    // The same connection carries the next one; the caller falls back to the truncated reply.
    const reply = await askBoth('big1.mesos', 200);
    expect(reply.transport).toBe('udp');
    expect(reply.scan.header.flags & TC).toBeTruthy();
    expect(server.tcpAccepted).toBe(1);
  });

  test('beyond the per-connection and per-server caps a query fails at once instead of queueing', async () => {
    newPool({ pendingPerConnection: 2, connectionsPerServer: 2 });
    server.setTcpQuirks({ hang: true });
    const started = Date.now();
    const asks = [0, 1, 2, 3, 4].map((n) => askTcp(`big${n}.mesos`, 300));
    await expectFailure(asks[4], 'network', /full/);
    expect(Date.now() - started).toBeLessThan(200);
    for (const a of asks.slice(0, 4)) await expectFailure(a, 'timeout');
    expect(server.tcpAccepted).toBe(2);
  });

  test('a connection with a backlog of unsent bytes takes no more queries', async () => {
    // Before it connects, everything written is still queued: one query is already a backlog.
    newPool({ maxWriteBuffer: 1, connectionsPerServer: 1 });
    const first = askTcp('big0.mesos');
    await expectFailure(askTcp('big1.mesos'), 'network', /full/);
    expectWholeAnswer(await first, 0);
  });

  test('close() destroys every connection and fails what is pending', async () => {
    server.setTcpQuirks({ hang: true });
    const pending = askTcp('big0.mesos', 5000);
    await waitFor(() => server.openTcpConnections === 1, { timeoutMs: 2000 });
    expect(server.openTcpConnections).toBe(1);
    pool.close();
    await expectFailure(pending, 'network', /closed/);
    await waitFor(() => server.openTcpConnections === 0, { timeoutMs: 2000 });
    expect(server.openTcpConnections).toBe(0);
  });
});

describe('replies that are not ours', () => {
  test('a reply with an unknown ID is a stray, and the query waits for its deadline', async () => {
    server.setBehaviour({ kind: 'wrong-id' });
    await expectFailure(askTcp('big0.mesos', 200), 'timeout');
    expect(strays).toEqual([{ from: { host: '127.0.0.1', port: server.port, family: 4 }, reason: 'id' }]);
  });

  test('a reply with our ID but another question is reported as a mismatch', async () => {
    server.setBehaviour({ kind: 'wrong-question' });
    const mismatches: string[] = [];
    await expectFailure(
      askTcp('big0.mesos', 200, (r) => void mismatches.push(r)),
      'timeout',
    );
    expect(mismatches).toEqual(['question']);
  });
});
