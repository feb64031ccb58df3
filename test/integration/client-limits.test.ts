// Who the agent serves and how much: the client ACL (REFUSED outside it, over UDP and TCP), the
// per-client rate limit (an empty TC reply over UDP, REFUSED over TCP), and the TCP limits (a
// deadline for a message once begun, the idle timeout, and the caps on connections, where the
// longest-idle connection makes room for a new one). The real agent, real dig, queries from
// different 127.0.0.x source addresses standing in for different clients.
import dgram from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { FrameReader, frameMessage } from '../../common/dns/framing.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { decodedRcode as rcodeOf } from '../helpers/dns-reply.js';
import { metricValue } from '../helpers/metrics.js';
import { sleep, waitFor } from '../helpers/time.js';
import { assertLoopback } from '../../sim/ports.js';

const HOST = '127.0.0.1';
const TC = 0x0200;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 1, upstreams: 1, bigTasks: 0 });
});
afterAll(async () => {
  await cluster?.stop();
});

function query(id: number, name = 'ready.spartan'): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
}

/** The sum of a metric's series whose labels include every one of `labels`. */
const metric = (name: string, labels: Record<string, string> = {}) => metricValue(cluster.httpPort, name, labels);

/** Sends `count` queries back to back from `source` over UDP; the replies that came within waitMs, with the queries. */
async function udpBurst(source: string, count: number, waitMs = 2000): Promise<{ sent: Buffer[]; replies: Buffer[] }> {
  assertLoopback(source);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, source, r));
  const replies: Buffer[] = [];
  const sent = Array.from({ length: count }, (_, i) => query(1000 + i));
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      sock.on('message', (m) => {
        replies.push(m);
        if (replies.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (const q of sent) sock.send(q, cluster.listenPort, HOST);
    });
  } finally {
    sock.close();
  }
  return { sent, replies };
}

/** A TCP connection to the agent from `source`. */
async function connectFrom(source: string): Promise<net.Socket> {
  assertLoopback(source);
  const sock = net.connect({ host: HOST, port: cluster.listenPort, localAddress: source });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('close', () => reject(new Error(`connection from ${source} closed before it was established`)));
  });
  return sock;
}

/** Sends one framed query on `sock` and reads one framed reply (rejects after 3 s or on close). */
function askTcp(sock: net.Socket, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const frames = new FrameReader();
    const timer = setTimeout(() => done(new Error('no TCP reply within 3 s')), 3000);
    const onData = (chunk: Buffer) => {
      const [reply] = frames.push(chunk);
      if (reply) done(undefined, reply);
    };
    const onClose = () => done(new Error('connection closed before the reply'));
    const done = (err?: Error, reply?: Buffer) => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve(reply!);
    };
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.write(frameMessage(msg));
  });
}

/** Sends the rest of `frame`, of which `sent` bytes went before, and reads one framed reply (rejects after 3 s or on close). */
function askRest(sock: net.Socket, frame: Buffer, sent: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const frames = new FrameReader();
    const timer = setTimeout(() => reject(new Error('no TCP reply within 3 s')), 3000);
    sock.once('close', () => reject(new Error('connection closed before the reply')));
    sock.on('data', (chunk: Buffer) => {
      const [reply] = frames.push(chunk);
      if (reply) {
        clearTimeout(timer);
        resolve(reply);
      }
    });
    sock.write(frame.subarray(sent));
  });
}

/** Sends several framed queries on `sock` in one write; the rcodes of the replies (rejects after 3 s or on close). */
function askTcpMany(sock: net.Socket, msgs: Buffer[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const frames = new FrameReader();
    const rcodes: string[] = [];
    const timer = setTimeout(() => reject(new Error(`${rcodes.length} of ${msgs.length} TCP replies within 3 s`)), 3000);
    sock.on('data', (chunk: Buffer) => {
      for (const reply of frames.push(chunk)) rcodes.push(rcodeOf(reply));
      if (rcodes.length === msgs.length) {
        clearTimeout(timer);
        resolve(rcodes);
      }
    });
    sock.write(Buffer.concat(msgs.map(frameMessage)));
  });
}

/** Polls until the agent holds `n` client TCP connections (it sees a client's close a moment later); at most 3 s. */
async function untilConnections(n: number): Promise<void> {
  await waitFor(async () => (await metric('phalanx_dns_tcp_connections')) === n, { timeoutMs: 3000, everyMs: 100 });
  expect(await metric('phalanx_dns_tcp_connections')).toBe(n);
}

/** Polls until `master` has been asked `name` (so the agent has read the query that asks it); at most 3 s. */
async function untilAsked(master: Cluster['masters'][number], name: string): Promise<void> {
  await waitFor(() => master.queries.some((q) => q.name === name), { timeoutMs: 3000, everyMs: 100 });
  expect(master.queries.map((q) => q.name)).toContain(name);
}

/**
 * How long to wait for a close the agent owes: a bound for an agent that never closes, not a claim
 * about how fast it does, which a loaded machine stretches.
 */
const CLOSE_DEADLINE_MS = 5000;

/** Resolves true once the agent has closed `sock` (its 'close' event), false if it is still open after waitMs. */
function closedWithin(sock: net.Socket, waitMs: number): Promise<boolean> {
  if (sock.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('client ACL', () => {
  let agent: AgentProcess | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  test('a source outside "acl" gets REFUSED for local, Mesos and upstream names, over UDP and TCP; nothing is forwarded', async () => {
    agent = await AgentProcess.start(cluster.config({ acl: ['10.0.0.0/8'] }));
    cluster.reset();
    const before = await metric('phalanx_dns_refused_total', { reason: 'acl' });
    for (const name of ['ready.spartan', 'nginx.marathon.mesos', 'www.example.org']) {
      for (const transport of [[], ['+tcp']]) {
        const r = await dig(HOST, cluster.listenPort, name, 'A', transport);
        expect({ name, transport, status: r.status, answers: r.answers }).toEqual({ name, transport, status: 'REFUSED', answers: [] });
      }
    }
    expect(cluster.masters[0].queryCount() + cluster.upstreams[0].queryCount()).toBe(0);
    expect((await metric('phalanx_dns_refused_total', { reason: 'acl' })) - before).toBe(6);

    // Reloaded without "acl": the default (loopback and the node's networks) serves us again.
    agent.rewriteConfig(cluster.config());
    agent.signal('SIGHUP');
    await agent.waitForLog((l) => l.msg === 'config reloaded');
    const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(r.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
  });

  test('the default ACL answers loopback; /v1/enumerate shows loopback and every network of this node', async () => {
    agent = await AgentProcess.start(cluster.config());
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan')).answers[0].data).toBe('127.0.0.1');
    expect((await dig(HOST, cluster.listenPort, 'www.example.org', 'A', ['-b', '127.0.0.9'])).answers[0].data).toBe('192.0.2.80');
    const view = (await (await fetch(`http://127.0.0.1:${cluster.httpPort}/v1/enumerate`)).json()) as { clients: { acl: string[] } };
    const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.cidr));
    expect(view.clients.acl).toEqual(expect.arrayContaining(['127.0.0.0/8', '::1/128', ...own]));
  });

  test('single addresses and IPv6: only the listed sources are served, over both families', async () => {
    // (The start-up check's REFUSED replies from 127.0.0.1 are enough to know it listens.)
    agent = await AgentProcess.start(
      cluster.config({ listen: [`127.0.0.1:${cluster.listenPort}`, `[::1]:${cluster.listenPort}`], acl: ['127.0.0.2', '::1/128'] }),
    );
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['-b', '127.0.0.2'])).answers[0].data).toBe('127.0.0.1');
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['-b', '127.0.0.3'])).status).toBe('REFUSED');
    expect((await dig('::1', cluster.listenPort, 'ready.spartan')).answers[0].data).toBe('127.0.0.1');
    expect((await dig('::1', cluster.listenPort, 'ready.spartan', 'A', ['+tcp'])).answers[0].data).toBe('127.0.0.1');
  });
});

describe('per-client rate limit', () => {
  let agent: AgentProcess | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  test('past its burst a client gets empty TC replies over UDP and REFUSED over TCP, then is answered again', async () => {
    agent = await AgentProcess.start(cluster.config({ rateLimit: { perClientQps: 5, burst: 5, exempt: [] } }));
    const client = '127.0.0.3'; // a fresh bucket: the start-up polling came from 127.0.0.1
    const tcBefore = await metric('phalanx_dns_refused_total', { reason: 'rate', transport: 'udp' });
    // Connected beforehand, so the TCP query below follows the burst within milliseconds.
    const sock = await connectFrom(client);
    const { sent, replies } = await udpBurst(client, 20);
    expect(replies).toHaveLength(20);
    const decoded = replies.map((r) => ({ r, p: dnsPacket.decode(r) }));
    const answered = decoded.filter(({ p }) => (p.flags! & TC) === 0);
    const slipped = decoded.filter(({ p }) => (p.flags! & TC) !== 0);
    // 5 from the burst, perhaps one more refilled while sending: the rest are turned away.
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(answered.length).toBeLessThanOrEqual(7);
    for (const { p } of answered) expect(p.answers![0]).toMatchObject({ type: 'A', data: '127.0.0.1' });
    for (const { r, p } of slipped) {
      expect(rcodeOf(r)).toBe('NOERROR');
      expect(p.answers).toEqual([]);
      expect(p.questions).toEqual([{ name: 'ready.spartan', type: 'A', class: 'IN' }]);
      // No amplification: the reply is no bigger than the query it answers.
      expect(r.length).toBeLessThanOrEqual(sent[p.id! - 1000].length);
    }

    // Retries over TCP at once, five pipelined: still over the rate, so REFUSED. A token refills
    // every 200 ms, so on a busy machine one or two may be answered by the time they arrive.
    try {
      const rcodes = await askTcpMany(
        sock,
        [1, 2, 3, 4, 5].map((i) => query(i)),
      );
      expect(rcodes.filter((r) => r !== 'NOERROR' && r !== 'REFUSED')).toEqual([]);
      expect(rcodes.filter((r) => r === 'REFUSED').length).toBeGreaterThanOrEqual(3);
    } finally {
      sock.destroy();
    }
    expect((await metric('phalanx_dns_refused_total', { reason: 'rate', transport: 'udp' })) - tcBefore).toBe(slipped.length);
    expect(await metric('phalanx_dns_refused_total', { reason: 'rate', transport: 'tcp' })).toBeGreaterThanOrEqual(1);

    // Tokens come back at 5 a second: answered again (bounded poll).
    const answeredAgain = `NOERROR ${NGINX_IPS.join(',')}`;
    let last = '';
    await waitFor(
      async () => {
        const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos', 'A', ['-b', client]);
        last = `${r.status} ${r.answers
          .map((a) => a.data)
          .sort()
          .join(',')}`;
        return last === answeredAgain;
      },
      { timeoutMs: 3000, everyMs: 300 },
    );
    expect(last).toBe(answeredAgain);
  });

  test("exempt addresses (by default loopback and the node's own) are never limited", async () => {
    agent = await AgentProcess.start(cluster.config({ rateLimit: { perClientQps: 5, burst: 5 } }));
    const before = await metric('phalanx_dns_refused_total', { reason: 'rate' });
    for (const client of ['127.0.0.1', '127.0.0.3']) {
      const { replies } = await udpBurst(client, 40);
      expect(replies).toHaveLength(40);
      expect(replies.filter((r) => (dnsPacket.decode(r).flags! & TC) !== 0)).toHaveLength(0);
    }
    expect(await metric('phalanx_dns_refused_total', { reason: 'rate' })).toBe(before);
  });
});

describe('TCP limits', () => {
  let agent: AgentProcess;
  const open: net.Socket[] = [];
  beforeAll(async () => {
    agent = await AgentProcess.start(
      cluster.config({
        tcp: { maxConnections: 50, maxConnectionsPerClient: 2, queryTimeoutMs: 300, idleTimeoutMs: 2000 },
        rateLimit: { exempt: ['127.0.0.2'] },
      }),
    );
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test('a message begun but not finished within tcp.queryTimeoutMs closes the connection', async () => {
    const before = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'query_timeout' });
    const s = await connectFrom('127.0.0.6');
    open.push(s);
    const q = query(3);
    s.write(Buffer.concat([Buffer.from([0, q.length]), q.subarray(0, 10)]));
    // Well before the 2 s idle timeout would.
    expect(await closedWithin(s, 1500)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'query_timeout' })) - before).toBe(1);
  });

  test('a slow sender trickling a byte every 100 ms (never idle) is closed too', async () => {
    const before = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'query_timeout' });
    const s = await connectFrom('127.0.0.6');
    open.push(s);
    const frame = frameMessage(query(4, 'a-rather-long-name-that-takes-a-while.example.org'));
    let sent = 0;
    // Bounded: at most the whole frame, one byte each 100 ms, or until the agent closes.
    while (sent < frame.length && !s.destroyed) {
      s.write(frame.subarray(sent, sent + 1));
      sent++;
      await sleep(100);
    }
    expect(sent).toBeLessThan(frame.length);
    expect(await closedWithin(s, 1000)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'query_timeout' })) - before).toBe(1);
  });

  test('a query sent in pieces within the deadline is answered', async () => {
    const s = await connectFrom('127.0.0.7');
    open.push(s);
    const frame = frameMessage(query(5));
    const reply = new Promise<Buffer>((resolve) => {
      const frames = new FrameReader();
      s.on('data', (c) => frames.push(c).forEach(resolve));
    });
    s.write(frame.subarray(0, 1));
    await sleep(100);
    s.write(frame.subarray(1, 12));
    await sleep(100);
    s.write(frame.subarray(12));
    expect(dnsPacket.decode(await reply).answers![0]).toMatchObject({ data: '127.0.0.1' });
  });

  test('a connection that never sends anything is closed after tcp.idleTimeoutMs', async () => {
    const before = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'idle' });
    const s = await connectFrom('127.0.0.8');
    open.push(s);
    expect(await closedWithin(s, 5000)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'idle' })) - before).toBe(1);
  });
});

describe('TCP slots under pressure: the longest-idle connection makes room (RFC 7766 §6.2.3)', () => {
  const CAP = 20;
  let agent: AgentProcess;
  const open: net.Socket[] = [];
  /** Indexes into `open` of the connections the agent closed. */
  const closed = new Set<number>();
  const hold = (s: net.Socket): net.Socket => {
    const i = open.push(s) - 1;
    s.once('close', () => closed.add(i));
    return s;
  };
  beforeAll(async () => {
    agent = await AgentProcess.start(
      cluster.config({
        // Timeouts far longer than a test, so only the caps close connections here.
        tcp: { maxConnections: CAP, maxConnectionsPerClient: 2, idleTimeoutMs: 30_000, queryTimeoutMs: 30_000 },
        // A query to a silent master stays outstanding this long.
        timeoutMs: 5000,
        rateLimit: { exempt: ['127.0.0.1', '127.0.0.2'] },
      }),
    );
  });
  afterEach(async () => {
    // Our own closes are not the agent's. A reset, not a FIN: after a FIN the agent still owes the
    // answers to the queries outstanding, and keeps the connection until they are out.
    for (const s of open) s.removeAllListeners('close');
    for (const s of open.splice(0)) s.resetAndDestroy();
    closed.clear();
    cluster.reset();
    await untilConnections(0);
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test('at tcp.maxConnections, all idle and from the node itself (exempt), dig +tcp is answered and the longest-idle connection closed', async () => {
    const evictedBefore = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' });
    const rejectedBefore = await metric('phalanx_dns_tcp_connections_rejected_total');
    for (let i = 0; i < CAP; i++) hold(await connectFrom(HOST));
    // A connection is idle from when the agent accepts it, which can lag the client's connect: all
    // must be accepted before the first one's activity, or it may turn idle again ahead of them.
    await untilConnections(CAP);
    // Activity on the first makes it the most recent: the second is now idle longest.
    expect(dnsPacket.decode(await askTcp(open[0], query(1))).answers![0]).toMatchObject({ data: '127.0.0.1' });

    for (const victim of [1, 2]) {
      const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos', 'A', ['+tcp']);
      expect(r.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
      expect(await closedWithin(open[victim], CLOSE_DEADLINE_MS)).toBe(true);
      // That one alone: every other held connection is still open.
      expect([...closed].sort((x, y) => x - y)).toEqual([1, 2].slice(0, victim));
      // dig's connection gone, the cap is filled again by a connection younger than all the others.
      await untilConnections(CAP - 1);
      hold(await connectFrom(HOST));
      await untilConnections(CAP);
    }
    await sleep(200);
    expect([...closed].sort((x, y) => x - y)).toEqual([1, 2]);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' })) - evictedBefore).toBe(2);
    expect((await metric('phalanx_dns_tcp_connections_rejected_total')) - rejectedBefore).toBe(0);
  });

  test('at tcp.maxConnections with none idle (a query outstanding or a message half sent), a new connection is closed at once; one that turns idle makes room', async () => {
    cluster.masters[0].setBehaviour({ kind: 'silent' });
    const evictedBefore = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' });
    const rejectedBefore = await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'max_connections' });
    const halfSent = frameMessage(query(2));
    let answers = 0;
    for (let i = 0; i < CAP; i++) {
      const s = hold(await connectFrom(HOST));
      if (i % 2 === 0) {
        s.on('data', () => answers++);
        s.write(frameMessage(query(100 + i, `pending-${i}.marathon.mesos`)));
      } else {
        s.write(halfSent.subarray(0, 9));
      }
    }
    await untilConnections(CAP);
    for (let i = 0; i < CAP; i += 2) await untilAsked(cluster.masters[0], `pending-${i}.marathon.mesos`);

    const late = hold(await connectFrom(HOST));
    expect(await closedWithin(late, CLOSE_DEADLINE_MS)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'max_connections' })) - rejectedBefore).toBe(1);

    // The rest of one half-sent message: a local name, answered at once, and that connection is idle.
    expect(dnsPacket.decode(await askRest(open[1], halfSent, 9)).answers![0]).toMatchObject({ data: '127.0.0.1' });
    const next = hold(await connectFrom(HOST));
    expect(await closedWithin(open[1], CLOSE_DEADLINE_MS)).toBe(true);
    expect(await closedWithin(next, 300)).toBe(false);
    expect([...closed].sort((x, y) => x - y)).toEqual([1, CAP]);
    expect(answers).toBe(0); // every query to the silent master still outstanding, its connection open
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' })) - evictedBefore).toBe(1);
  });

  test("past tcp.maxConnectionsPerClient a client's own longest-idle connection makes room; with none idle the new one is closed at once; other clients are not affected", async () => {
    const client = '127.0.0.5';
    const evictedBefore = await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' });
    const rejectedBefore = await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'per_client' });
    // Another client's idle connection, idle longer than any of this client's: it is not the one closed.
    const other = hold(await connectFrom('127.0.0.6'));
    const [a, b] = [hold(await connectFrom(client)), hold(await connectFrom(client))];
    await untilConnections(3); // accepted, so idle, before a's activity (see above)
    // Activity on a: b is now the client's longest idle.
    expect(dnsPacket.decode(await askTcp(a, query(1))).answers![0]).toMatchObject({ data: '127.0.0.1' });

    const r = await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['+tcp', '-b', client]);
    expect(r.answers[0].data).toBe('127.0.0.1');
    expect(await closedWithin(b, CLOSE_DEADLINE_MS)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' })) - evictedBefore).toBe(1);

    // Now both of its connections have a query outstanding: nothing of its own to close.
    await untilConnections(2); // a and the other client's
    cluster.masters[0].setBehaviour({ kind: 'silent' });
    const c = hold(await connectFrom(client));
    a.write(frameMessage(query(2, 'pending-a.marathon.mesos')));
    c.write(frameMessage(query(3, 'pending-c.marathon.mesos')));
    await untilAsked(cluster.masters[0], 'pending-a.marathon.mesos');
    await untilAsked(cluster.masters[0], 'pending-c.marathon.mesos');
    const d = hold(await connectFrom(client));
    expect(await closedWithin(d, CLOSE_DEADLINE_MS)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'per_client' })) - rejectedBefore).toBe(1);
    expect([a, c, other].map((s) => s.destroyed)).toEqual([false, false, false]);

    // Another client is not affected, nor is one on the exempt list, however many it opens.
    cluster.reset();
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['+tcp', '-b', '127.0.0.7'])).answers[0].data).toBe('127.0.0.1');
    const exempt: net.Socket[] = [];
    for (let i = 0; i < 4; i++) exempt.push(hold(await connectFrom('127.0.0.2')));
    for (const s of exempt) expect(dnsPacket.decode(await askTcp(s, query(4))).answers![0]).toMatchObject({ data: '127.0.0.1' });
    expect([...closed]).toEqual([open.indexOf(b), open.indexOf(d)]);
    expect((await metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' })) - evictedBefore).toBe(1);
  });
});

describe('the TCP caps count the connections on every listen address', () => {
  const SECOND = '127.0.0.3';
  let agent: AgentProcess;
  const open: net.Socket[] = [];
  beforeAll(async () => {
    agent = await AgentProcess.start(
      cluster.config({
        listen: [`${HOST}:${cluster.listenPort}`, `${SECOND}:${cluster.listenPort}`],
        tcp: { maxConnections: 4, maxConnectionsPerClient: 100, idleTimeoutMs: 30_000, queryTimeoutMs: 30_000 },
        timeoutMs: 5000,
      }),
    );
  });
  afterAll(async () => {
    for (const s of open.splice(0)) s.resetAndDestroy();
    cluster.reset();
    await agent?.stop();
  });

  test('four busy connections on one address fill tcp.maxConnections 4 for the other too', async () => {
    cluster.masters[0].setBehaviour({ kind: 'silent' });
    const rejectedBefore = await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'max_connections' });
    for (let i = 0; i < 4; i++) {
      const s = await connectFrom(HOST);
      open.push(s);
      s.write(frameMessage(query(200 + i, `busy-${i}.marathon.mesos`)));
      await untilAsked(cluster.masters[0], `busy-${i}.marathon.mesos`);
    }
    // Per listener, the second address would have had four slots of its own.
    const other = net.connect({ host: SECOND, port: cluster.listenPort });
    other.on('error', () => {});
    open.push(other);
    expect(await closedWithin(other, CLOSE_DEADLINE_MS)).toBe(true);
    expect((await metric('phalanx_dns_tcp_connections_rejected_total', { reason: 'max_connections' })) - rejectedBefore).toBe(1);
  });
});
