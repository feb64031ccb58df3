// Hostile and broken client input: every case gets the right DNS error code or a deliberate
// silence, and the agent keeps serving afterwards.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { decodedRcode } from '../helpers/dns-reply.js';
import { metricValue } from '../helpers/metrics.js';
import { waitFor } from '../helpers/time.js';

const HOST = '127.0.0.1';
let cluster: Cluster;
let agent: AgentProcess;

beforeAll(async () => {
  cluster = await startCluster({ masters: 1, upstreams: 1, bigTasks: 0 });
  agent = await AgentProcess.start(cluster.config({ maxInflight: 2, tcp: { maxConnections: 3, idleTimeoutMs: 400 } }));
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});

/** Sends one datagram; resolves with the reply or undefined after waitMs of silence. */
function udpExchange(payload: Buffer, waitMs = 400): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, waitMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(payload, cluster.listenPort, HOST);
  });
}

function query(overrides: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 777,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'ready.spartan' }],
    ...overrides,
  });
}

async function stillServing(): Promise<void> {
  const r = await dig(HOST, cluster.listenPort, 'ready.spartan');
  expect(r.answers[0].data).toBe('127.0.0.1');
}

describe('malformed queries', () => {
  test('datagrams too short for a header are dropped silently', async () => {
    expect(await udpExchange(Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(await udpExchange(Buffer.alloc(0))).toBeUndefined();
    await stillServing();
  });

  test('a readable header with a broken body gets FORMERR with its ID and QR set', async () => {
    const broken = Buffer.concat([query().subarray(0, 12), Buffer.from([0x3f, 0x61, 0x62])]);
    const raw = await udpExchange(broken);
    const reply = dnsPacket.decode(raw!);
    expect(reply.id).toBe(777);
    expect(reply.type).toBe('response');
    expect(decodedRcode(raw)).toBe('FORMERR');
    await stillServing();
  });

  test('a compression loop in the question gets FORMERR, not a hang', async () => {
    const loop = Buffer.concat([query().subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    expect(decodedRcode(await udpExchange(loop))).toBe('FORMERR');
    await stillServing();
  });

  test('zero or two questions get FORMERR', async () => {
    expect(decodedRcode(await udpExchange(query({ questions: [] })))).toBe('FORMERR');
    const two = query({
      questions: [
        { type: 'A', name: 'a.spartan' },
        { type: 'A', name: 'b.spartan' },
      ],
    });
    expect(decodedRcode(await udpExchange(two))).toBe('FORMERR');
  });

  test('opcodes other than QUERY get NOTIMP', async () => {
    const notify = query();
    notify.writeUInt16BE((4 << 11) | 0x0100, 2); // NOTIFY
    const raw = await udpExchange(notify);
    expect(decodedRcode(raw)).toBe('NOTIMP');
    expect(dnsPacket.decode(raw!).id).toBe(777);
  });

  test('a message with QR set (a response) is never answered', async () => {
    const response = dnsPacket.encode({ type: 'response', id: 5, questions: [{ type: 'A', name: 'ready.spartan' }] });
    expect(await udpExchange(response)).toBeUndefined();
    await stillServing();
  });

  test('random bytes by the hundred leave the agent serving', async () => {
    const sock = dgram.createSocket('udp4');
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(Math.random() * 600);
      const junk = Buffer.alloc(len);
      for (let j = 0; j < len; j++) junk[j] = Math.floor(Math.random() * 256);
      sent.push(new Promise((r) => sock.send(junk, cluster.listenPort, HOST, () => r())));
    }
    // Every datagram out before the socket closes; the agent reads them before the next query.
    await Promise.all(sent);
    sock.close();
    await stillServing();
    expect(agent.exitCode).toBeNull();
  });
});

describe('limits', () => {
  test('past maxInflight, queries get an immediate SERVFAIL instead of silence', async () => {
    // The master holds every query past the agent's deadline, so the two admitted queries end
    // in SERVFAIL at the deadline and the other three must be refused at once.
    cluster.masters[0].setBehaviour({ kind: 'slow', delayMs: 5000 });
    try {
      const overloadBefore = await metricValue(cluster.httpPort, 'phalanx_dns_overload_total');
      const results = await Promise.all(Array.from({ length: 5 }, () => dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('SERVFAIL'));
      expect((await metricValue(cluster.httpPort, 'phalanx_dns_overload_total')) - overloadBefore).toBe(3);
      const times = results.map((r) => r.queryTimeMs ?? Infinity).sort((a, b) => a - b);
      // Three answered well before the deadline (800 ms), two at it.
      expect(times[2]).toBeLessThan(400);
      expect(times[3]).toBeGreaterThanOrEqual(700);
    } finally {
      cluster.masters[0].setBehaviour({ kind: 'answer' });
    }
  });

  test('TCP connections past tcp.maxConnections, with none idle, are closed at once; the others still work', async () => {
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect(cluster.listenPort, HOST);
        await new Promise((r) => s.once('connect', r));
        s.on('error', () => {});
        open.push(s);
        // A message begun is not idle (the agent would close an idle one to admit the next): a
        // query and the start of another in one write, so its answer says both were read.
        const q = dnsPacket.encode({ type: 'query', id: i, questions: [{ type: 'A', name: 'ready.spartan' }] });
        s.write(Buffer.concat([Buffer.from([0, q.length]), q, Buffer.from([0, 30])]));
        await new Promise((r) => s.once('data', r));
      }
      const extra = net.connect(cluster.listenPort, HOST);
      const closed = await new Promise<boolean>((resolve) => {
        const giveUp = setTimeout(() => resolve(false), 300);
        extra.on('close', () => {
          clearTimeout(giveUp);
          resolve(true);
        });
        extra.on('error', () => {});
      });
      expect(closed).toBe(true);
    } finally {
      for (const s of open) s.destroy();
    }
    // Until the agent has seen them close: then a new connection is admitted.
    await waitFor(async () => (await metricValue(cluster.httpPort, 'phalanx_dns_tcp_connections')) === 0, { timeoutMs: 3000, everyMs: 20 });
    const r = await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['+tcp']);
    expect(r.answers[0].data).toBe('127.0.0.1');
  });

  test('an idle TCP connection is closed after tcp.idleTimeoutMs', async () => {
    const s = net.connect(cluster.listenPort, HOST);
    const closedAfter = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const giveUp = setTimeout(() => resolve(-1), 3000);
      s.on('close', () => {
        clearTimeout(giveUp);
        resolve(Date.now() - t0);
      });
      s.on('error', () => {});
    });
    s.destroy();
    expect(closedAfter).toBeGreaterThan(0);
  });

  test('a TCP length prefix announcing more than is sent does not hold the agent', async () => {
    const s = net.connect(cluster.listenPort, HOST);
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    await stillServing();
    s.destroy();
  });
});
