// Forwarding through the real agent process, with fake Mesos-DNS masters and upstreams that fail
// on purpose. What is asserted is what a client sees through dig.
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { AgentProcess, restartAgent as restart } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, startCluster } from '../helpers/cluster.js';
import { dig, digMany } from '../helpers/dig.js';
import { metricValue } from '../helpers/metrics.js';
import { sleep, waitFor } from '../helpers/time.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';

const HOST = '127.0.0.1';
const TIMEOUT_MS = 800; // the agent's per-server deadline in these tests (cluster.config)

let cluster: Cluster;
let agent: AgentProcess;

async function restartAgent(extra: Record<string, unknown> = {}): Promise<void> {
  agent = await restart(agent, cluster.config(extra));
}

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, upstreams: 2, bigTasks: 120 });
  agent = await AgentProcess.start(cluster.config());
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});
afterEach(() => cluster.reset());

const total = (servers: FakeDnsServer[]) => servers.reduce((n, s) => n + s.queryCount(), 0);

const metric = (name: string, labels: Record<string, string>) => metricValue(cluster.httpPort, name, labels);

interface BurstReply {
  rcode: string;
  question: string;
  answers: string[];
}

/**
 * Each query from its own socket, as 500 containers would ask, in bursts of 50 sockets 2 ms
 * apart (500 datagrams at once would overflow the agent's socket buffer in the kernel); the
 * replies by ID (bounded: 3 s).
 */
async function burst(queries: Array<{ id: number; name: string }>): Promise<Map<number, BurstReply>> {
  const replies = new Map<number, BurstReply>();
  const socks: dgram.Socket[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    const onReply = (msg: Buffer) => {
      const p = dnsPacket.decode(msg) as dnsPacket.DecodedPacket & { rcode: string };
      replies.set(p.id!, {
        rcode: p.rcode,
        question: p.questions![0].name,
        answers: p.answers!.map((a) => String((a as { data: unknown }).data)),
      });
      if (replies.size === queries.length) {
        clearTimeout(timer);
        resolve();
      }
    };
    const send = (from: number) => {
      for (const q of queries.slice(from, from + 50)) {
        const sock = dgram.createSocket('udp4').on('message', onReply);
        socks.push(sock);
        const msg = dnsPacket.encode({
          type: 'query',
          id: q.id,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ type: 'A', name: q.name }],
        });
        sock.send(msg, cluster.listenPort, HOST);
      }
      if (from + 50 < queries.length) setTimeout(send, 2, from + 50);
    };
    send(0);
  });
  for (const s of socks) s.close();
  return replies;
}

describe('routing', () => {
  test('a Mesos name is answered by the masters, never the upstreams', async () => {
    const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(expect.arrayContaining(['qr', 'aa', 'rd', 'ra']));
    expect(r.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
    expect(r.warnings).toEqual([]);
    expect(total(cluster.masters)).toBeGreaterThanOrEqual(1);
    expect(total(cluster.upstreams)).toBe(0);
  });

  test('SRV answers keep their additional A records', async () => {
    const r = await dig(HOST, cluster.listenPort, '_nginx._tcp.marathon.mesos', 'SRV');
    expect(r.answers[0].data).toBe('0 0 31001 nginx-a1b2c.marathon.mesos.');
    expect(r.additional.map((a) => `${a.name} ${a.data}`)).toContain('nginx-a1b2c.marathon.mesos. 10.0.1.5');
  });

  test('other names go to the upstreams, never the masters', async () => {
    const r = await dig(HOST, cluster.listenPort, 'www.example.org');
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0].data).toBe('192.0.2.80');
    expect(total(cluster.upstreams)).toBeGreaterThanOrEqual(1);
    expect(total(cluster.masters)).toBe(0);
  });

  test('NXDOMAIN from a master is passed through with its SOA', async () => {
    const r = await dig(HOST, cluster.listenPort, 'nothing.marathon.mesos');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.authority[0].type).toBe('SOA');
  });

  test('hedged, the default: each query goes to one master, with a fresh ID, EDNS 1232 offered', async () => {
    for (let i = 0; i < 10; i++) expect((await dig(HOST, cluster.listenPort, 'leader.mesos')).status).toBe('NOERROR');
    const seen = cluster.masters.flatMap((m) => m.queries);
    expect(seen).toHaveLength(10);
    for (const q of seen) {
      expect(q.ednsSize).toBe(1232);
      expect(q.name.toLowerCase()).toBe('leader.mesos');
    }
    // Ties between healthy masters are broken at random: the load is shared.
    expect(cluster.masters.filter((m) => m.queryCount() > 0).length).toBeGreaterThan(1);
  });

  test('dispatch race: each query goes to fanout 2 masters at once, each with its own ID', async () => {
    await restartAgent({ dispatch: 'race', fanout: 2 });
    try {
      const r = await dig(HOST, cluster.listenPort, 'leader.mesos');
      expect(r.status).toBe('NOERROR');
      const seen = cluster.masters.flatMap((m) => m.queries);
      expect(seen).toHaveLength(2);
      // A fresh random ID per server: never the client's (chance of a clash 2/65536).
      expect(seen.map((q) => q.id)).not.toContain(r.id);
      expect(seen[0].id).not.toBe(seen[1].id);
    } finally {
      await restartAgent();
    }
  });

  test("the client's ID and question spelling come back", async () => {
    const r = await dig(HOST, cluster.listenPort, 'NGINX.Marathon.MESOS');
    expect(r.status).toBe('NOERROR');
    expect(r.raw).toContain(';NGINX.Marathon.MESOS.');
    expect(r.warnings).toEqual([]);
  });

  test('a forward zone goes to its own servers', async () => {
    const corp = await FakeDnsServer.start({
      address: '127.0.0.31',
      zone: 'corp.internal',
      records: [{ name: 'db.corp.internal', type: 'A', ttl: 30, data: '10.9.9.9' }],
    });
    try {
      await restartAgent({ forwardZones: { 'corp.internal': [corp.endpoint] } });
      const r = await dig(HOST, cluster.listenPort, 'db.corp.internal');
      expect(r.answers[0].data).toBe('10.9.9.9');
      expect(corp.queryCount()).toBe(1);
      expect(total(cluster.upstreams)).toBe(0);
    } finally {
      await restartAgent();
      await corp.stop();
    }
  });
});

describe('failover', () => {
  test('one of three masters silent: every query is still answered without waiting for it', async () => {
    cluster.masters[0].setBehaviour({ kind: 'silent' });
    for (let i = 0; i < 12; i++) {
      const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(r.status).toBe('NOERROR');
      // Waiting for the silent master would take the full per-server deadline.
      expect(r.queryTimeMs).toBeLessThan(TIMEOUT_MS * 0.75);
    }
  });

  test('every master silent: SERVFAIL after about the deadline, with QR set and no dig warning', async () => {
    for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
    const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(r.status).toBe('SERVFAIL');
    expect(r.flags).toContain('qr');
    expect(r.warnings).toEqual([]);
    expect(r.raw).toContain(';nginx.marathon.mesos.');
    expect(r.queryTimeMs).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
    expect(r.queryTimeMs).toBeLessThan(TIMEOUT_MS + 1500);
    // The agent itself is still fine.
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan')).status).toBe('NOERROR');
  });

  test.each([
    ['hedged', {}],
    ['race', { dispatch: 'race', fanout: 'all' }],
  ])('a fast SERVFAIL or REFUSED does not beat a slower good answer (%s)', async (_, extra) => {
    await restartAgent(extra);
    try {
      cluster.masters[0].setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
      cluster.masters[1].setBehaviour({ kind: 'rcode', rcode: 'REFUSED' });
      cluster.masters[2].setBehaviour({ kind: 'slow', delayMs: 250 });
      const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(r.status).toBe('NOERROR');
      expect(r.answers).toHaveLength(2);
    } finally {
      await restartAgent();
    }
  });

  test('a master sending garbage, wrong IDs, wrong questions or replies from another port is never believed', async () => {
    await restartAgent({ dispatch: 'race', fanout: 'all' });
    try {
      const kinds = ['garbage', 'wrong-id', 'wrong-question', 'other-port'] as const;
      for (const kind of kinds) {
        for (const m of cluster.masters) m.setBehaviour({ kind });
        const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
        expect({ kind, status: r.status }).toEqual({ kind, status: 'SERVFAIL' });
        expect(r.answers).toEqual([]);
      }
      // One honest master among liars: its answer wins.
      cluster.masters[0].setBehaviour({ kind: 'wrong-id' });
      cluster.masters[1].setBehaviour({ kind: 'garbage' });
      cluster.masters[2].setBehaviour({ kind: 'slow', delayMs: 100 });
      const good = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(good.status).toBe('NOERROR');
      expect(good.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
    } finally {
      await restartAgent();
    }
  });

  test('all upstreams silent: SERVFAIL for other names, Mesos and local names unaffected', async () => {
    for (const u of cluster.upstreams) u.setBehaviour({ kind: 'silent' });
    const r = await dig(HOST, cluster.listenPort, 'www.example.org');
    expect(r.status).toBe('SERVFAIL');
    expect((await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan')).status).toBe('NOERROR');
  });

  test('a master that keeps failing is marked down once, probed, and used again when it recovers', async () => {
    // Raced to all, so the sick master is asked by every query and fails often enough to go down.
    await restartAgent({ dispatch: 'race', fanout: 'all' });
    try {
      const [sick] = cluster.masters;
      sick.setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
      for (let i = 0; i < 4; i++) await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      const down = await agent.waitForLog((l) => /marked down/.test(l.msg) && l.server === sick.endpoint);
      expect(down.level).toBe('warn');
      expect(down.reason).toBe('rcode_SERVFAIL');
      // Down: real queries skip it (its only traffic is the background probe, every 200 ms).
      sick.resetQueries();
      for (let i = 0; i < 5; i++) await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      // The first probe goes out one interval after the server went down, and five digs on
      // loopback are often over sooner (about 140 ms): wait for it rather than race it.
      const probed = () => sick.queries.some((q) => q.name.toLowerCase() === 'mesos' && q.type === 'SOA');
      await waitFor(probed);
      expect(probed()).toBe(true);
      expect(sick.queries.filter((q) => q.name.toLowerCase() === 'nginx.marathon.mesos')).toHaveLength(0);
      // Recovered: the probe notices and it is back in rotation.
      sick.setBehaviour({ kind: 'answer' });
      await agent.waitForLog((l) => /answering again/.test(l.msg) && l.server === sick.endpoint);
      sick.resetQueries();
      await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(sick.queries.some((q) => q.name.toLowerCase() === 'nginx.marathon.mesos')).toBe(true);
      // One warning per state change, not one per query.
      expect(agent.logs.filter((l) => /marked down/.test(l.msg) && l.server === sick.endpoint)).toHaveLength(1);
    } finally {
      await restartAgent();
    }
  });
});

describe('hedging, coalescing and prefetch', () => {
  test('a silent master delays at most the first query by its hedge delay; the next ones start elsewhere', async () => {
    // minMs well above what the fake masters take even when the test process is busy, so that
    // only the silent one is hedged.
    await restartAgent({ hedge: { minMs: 50, maxMs: 200 } });
    try {
      const [silent] = cluster.masters;
      silent.setBehaviour({ kind: 'silent' });
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
        expect(r.status).toBe('NOERROR');
        times.push(r.queryTimeMs ?? Infinity);
      }
      // Waiting for the silent master to time out would take TIMEOUT_MS (800).
      expect(Math.max(...times)).toBeLessThan(200 + 300);
      // Once late it ranks after the punctual masters, then its timeout counts against it (and
      // the background probe, asking the zone's SOA, takes over).
      const asked = silent.queries.filter((q) => q.name.toLowerCase() === 'nginx.marathon.mesos').length;
      expect(asked).toBeLessThanOrEqual(2);
      expect(await metric('phalanx_dns_hedges_total', { zone: 'mesos' })).toBe(asked);
    } finally {
      await restartAgent();
    }
  });

  test('a burst of 500 identical queries sends one query to the masters; each client gets its own ID and spelling', async () => {
    // A hedge delay longer than the masters' reply time, and an exchange joined for up to maxMs
    // (longer than sending the burst takes): only coalescing can keep it to one.
    await restartAgent({ hedge: { minMs: 200, maxMs: 1000 } });
    try {
      for (const m of cluster.masters) m.setBehaviour({ kind: 'slow', delayMs: 100 });
      const spellings = ['nginx.marathon.mesos', 'NGINX.marathon.mesos', 'nginx.MARATHON.Mesos'];
      const replies = await burst(Array.from({ length: 500 }, (_, i) => ({ id: 1000 + i, name: spellings[i % spellings.length] })));
      expect(replies.size).toBe(500);
      for (const [id, reply] of replies) {
        expect(reply.rcode).toBe('NOERROR');
        expect(reply.question).toBe(spellings[(id - 1000) % spellings.length]);
        expect(reply.answers.sort()).toEqual(NGINX_IPS);
      }
      expect(total(cluster.masters)).toBe(1);
      expect(await metric('phalanx_dns_coalesced_queries_total', { zone: 'mesos' })).toBe(499);
    } finally {
      await restartAgent();
    }
  });

  test('a cached answer asked for in the last tenth of its TTL is refreshed in the background', async () => {
    await restartAgent({ cache: { enabled: true, mesosMaxTtlSec: 2 } });
    try {
      const t0 = Date.now();
      expect((await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
      expect(total(cluster.masters)).toBe(1);
      // Within its first nine tenths: from the cache, nothing sent.
      expect((await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
      expect(total(cluster.masters)).toBe(1);
      // In its last tenth (1.8–2 s): answered from the cache at once, and refreshed.
      // Time is the subject here: the answer has to be in the last tenth of its TTL.
      await sleep(t0 + 1870 - Date.now());
      const late = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(late.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
      await waitFor(() => total(cluster.masters) === 2);
      expect(total(cluster.masters)).toBe(2);
      // Past the first answer's expiry the refreshed one is served: still nothing sent.
      await sleep(t0 + 2300 - Date.now());
      expect((await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
      expect(total(cluster.masters)).toBe(2);
      expect(await metric('phalanx_dns_prefetches_total', { zone: 'mesos' })).toBe(1);
    } finally {
      await restartAgent();
    }
  });

  test('the requests sent to each server are counted', async () => {
    for (let i = 0; i < 6; i++) await dig(HOST, cluster.listenPort, 'leader.mesos');
    for (const m of cluster.masters)
      expect(await metric('phalanx_dns_server_requests_total', { upstream_address: m.endpoint })).toBeGreaterThanOrEqual(m.queryCount());
  });
});

describe('truncation and TCP', () => {
  test('a truncated Mesos-DNS reply is fetched again over TCP: the client gets the whole answer', async () => {
    // 120 A records, about 4.1 KB (the fakes do not compress names); the masters cut UDP at
    // 512 bytes with TC, like Mesos-DNS. +ignore: dig must not retry over TCP itself. A hedge
    // delay longer than the TCP retry, so that no second master is asked meanwhile.
    await restartAgent({ hedge: { minMs: 200, maxMs: 250 } });
    try {
      const r = await dig(HOST, cluster.listenPort, 'big.marathon.mesos', 'A', ['+bufsize=8192', '+ignore']);
      expect(r.status).toBe('NOERROR');
      expect(r.truncated).toBe(false);
      expect(r.answers).toHaveLength(120);
      expect(r.raw).toContain('(UDP)');
      // The one master asked truncates; the agent asks it again over TCP.
      expect(cluster.masters.reduce((n, m) => n + m.queryCount('udp'), 0)).toBe(1);
      expect(cluster.masters.reduce((n, m) => n + m.queryCount('tcp'), 0)).toBe(1);
    } finally {
      await restartAgent();
    }
  });

  test('an answer larger than the client can take over UDP comes back truncated, TC set', async () => {
    const r = await dig(HOST, cluster.listenPort, 'big.marathon.mesos', 'A', ['+bufsize=1232', '+ignore']);
    expect(r.truncated).toBe(true);
    expect(r.msgSize).toBeLessThanOrEqual(1232);
    const plain = await dig(HOST, cluster.listenPort, 'big.marathon.mesos', 'A', ['+noedns', '+ignore']);
    expect(plain.truncated).toBe(true);
    expect(plain.msgSize).toBeLessThanOrEqual(512);
  });

  test('dig retries the truncated answer over TCP and gets all of it', async () => {
    const r = await dig(HOST, cluster.listenPort, 'big.marathon.mesos');
    expect(r.truncated).toBe(false);
    expect(r.answers).toHaveLength(120);
    expect(r.raw).toContain('(TCP)');
  });

  test('three queries pipelined on one TCP connection are all answered', async () => {
    const results = await digMany(
      HOST,
      cluster.listenPort,
      [{ name: 'nginx.marathon.mesos' }, { name: 'ready.spartan' }, { name: 'www.example.org' }],
      ['+tcp', '+keepopen'],
    );
    expect(results.map((r) => r.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR']);
    expect(results[0].answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
    expect(results[1].answers[0].data).toBe('127.0.0.1');
    expect(results[2].answers[0].data).toBe('192.0.2.80');
  });
});
