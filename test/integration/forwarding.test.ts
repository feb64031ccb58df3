// Forwarding through the real agent process, with fake Mesos-DNS masters and upstreams that fail
// on purpose. What is asserted is what a client sees through dig.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, startCluster } from '../helpers/cluster.js';
import { dig, digMany } from '../helpers/dig.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';

const HOST = '127.0.0.1';
const TIMEOUT_MS = 800; // the agent's per-server deadline in these tests (cluster.config)

let cluster: Cluster;
let agent: AgentProcess;

async function restartAgent(extra: Record<string, unknown> = {}): Promise<void> {
  await agent?.stop();
  agent = await AgentProcess.start(cluster.config(extra));
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

/** Polls until `cond` holds or `timeoutMs` passes; the caller's expect then says what was missing. */
async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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

  test('each query is raced to two masters (fanout 2) with a fresh ID, EDNS 1232 offered', async () => {
    const r = await dig(HOST, cluster.listenPort, 'leader.mesos');
    expect(r.status).toBe('NOERROR');
    const seen = cluster.masters.flatMap((m) => m.queries);
    expect(seen).toHaveLength(2);
    for (const q of seen) {
      expect(q.ednsSize).toBe(1232);
      expect(q.name.toLowerCase()).toBe('leader.mesos');
    }
    // A fresh random ID per server: never the client's (chance of a clash 2/65536).
    expect(seen.map((q) => q.id)).not.toContain(r.id);
    expect(seen[0].id).not.toBe(seen[1].id);
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

  test('a fast SERVFAIL does not beat a slower good answer', async () => {
    await restartAgent({ fanout: 'all' });
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
    await restartAgent({ fanout: 'all' });
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
    await restartAgent({ fanout: 'all' });
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
      await waitUntil(probed);
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

describe('truncation and TCP', () => {
  test('a truncated Mesos-DNS reply is fetched again over TCP: the client gets the whole answer', async () => {
    // 120 A records, about 4.1 KB (the fakes do not compress names); the masters cut UDP at
    // 512 bytes with TC, like Mesos-DNS. +ignore: dig must not retry over TCP itself.
    const r = await dig(HOST, cluster.listenPort, 'big.marathon.mesos', 'A', ['+bufsize=8192', '+ignore']);
    expect(r.status).toBe('NOERROR');
    expect(r.truncated).toBe(false);
    expect(r.answers).toHaveLength(120);
    expect(r.raw).toContain('(UDP)');
    // Both raced masters truncate; one TCP retry serves the race.
    expect(cluster.masters.reduce((n, m) => n + m.queryCount('udp'), 0)).toBe(2);
    expect(cluster.masters.reduce((n, m) => n + m.queryCount('tcp'), 0)).toBe(1);
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
