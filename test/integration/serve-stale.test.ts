// Serve-stale (RFC 8767) as a client sees it: when every server for a name fails, a name answered
// before gets its last answer with TTL 30 instead of SERVFAIL; a name never answered still gets
// SERVFAIL; fresh answers are back as soon as a server is.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess, restartAgent as restart } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, fakeMasterRecords, startCluster } from '../helpers/cluster.js';
import { type DigResult, dig } from '../helpers/dig.js';
import { metricValue } from '../helpers/metrics.js';
import { sleep, waitFor } from '../helpers/time.js';
import type { Behaviour, FakeDnsServer } from '../../sim/fake-dns.js';

const HOST = '127.0.0.1';
const STALE_TTL = 30; // the default serveStale.ttlSec
const MESOS_TTL = 60; // what the fake masters give (cluster.ts)

let cluster: Cluster;
let agent: AgentProcess;

/** The cluster's config with serve-stale as the product ships it: the test default turns it off. */
function defaultsConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { serveStale: _, ...config } = cluster.config();
  return { ...config, ...extra };
}

async function restartAgent(config: Record<string, unknown>): Promise<void> {
  agent = await restart(agent, config);
}

/** The sum of a metric's samples that carry `labels` (others may differ, e.g. a stale answer's reason). */
const metric = (name: string, labels: Record<string, string> = {}) => metricValue(cluster.httpPort, name, labels);
const overloadCount = () => metric('phalanx_dns_overload_total');

const ask = (name: string, type = 'A') => dig(HOST, cluster.listenPort, name, type);
const fail = (servers: FakeDnsServer[], b: Behaviour) => servers.forEach((s) => s.setBehaviour(b));
const addresses = (r: DigResult) => r.answers.map((a) => a.data).sort();
const ttls = (r: DigResult) => [...r.answers, ...r.authority, ...r.additional].map((a) => a.ttl);

beforeAll(async () => {
  cluster = await startCluster({ masters: 2, upstreams: 2, bigTasks: 0 });
  agent = await AgentProcess.start(defaultsConfig());
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});
afterEach(() => cluster.reset());

describe('serve-stale, on by default', () => {
  test('every master failing (silent, SERVFAIL, garbage): a Mesos name answered before gets its last answer with TTL 30', async () => {
    const fresh = await ask('nginx.marathon.mesos');
    expect(fresh.status).toBe('NOERROR');
    expect(addresses(fresh)).toEqual(NGINX_IPS);
    expect(ttls(fresh).every((t) => t === MESOS_TTL)).toBe(true);

    const failures: Behaviour[] = [{ kind: 'silent' }, { kind: 'rcode', rcode: 'SERVFAIL' }, { kind: 'garbage' }];
    for (const behaviour of failures) {
      fail(cluster.masters, behaviour);
      const staleBefore = await metric('phalanx_dns_stale_answers_total', { zone: 'mesos' });
      const failuresBefore = await metric('phalanx_dns_forwarded_query_failures_total', { zone: 'mesos' });
      const r = await ask('NGINX.Marathon.mesos');
      expect({ behaviour, status: r.status }).toEqual({ behaviour, status: 'NOERROR' });
      expect(addresses(r)).toEqual(NGINX_IPS);
      expect(ttls(r)).toEqual([STALE_TTL, STALE_TTL]);
      // Shaped for this client like any answer: its spelling, QR, no complaint from dig.
      expect(r.raw).toContain(';NGINX.Marathon.mesos.');
      expect(r.flags).toContain('qr');
      expect(r.warnings).toEqual([]);
      expect(await metric('phalanx_dns_stale_answers_total', { zone: 'mesos' })).toBe(staleBefore + 1);
      expect(await metric('phalanx_dns_forwarded_query_failures_total', { zone: 'mesos' })).toBe(failuresBefore);
    }
  });

  test('an SRV answer comes back whole, additional records included', async () => {
    expect((await ask('_nginx._tcp.marathon.mesos', 'SRV')).status).toBe('NOERROR');
    fail(cluster.masters, { kind: 'silent' });
    const r = await ask('_nginx._tcp.marathon.mesos', 'SRV');
    expect(r.answers.map((a) => a.data)).toEqual(['0 0 31001 nginx-a1b2c.marathon.mesos.']);
    expect(r.additional.map((a) => `${a.name} ${a.ttl} ${a.data}`)).toEqual([`nginx-a1b2c.marathon.mesos. ${STALE_TTL} 10.0.1.5`]);
  });

  test('an NXDOMAIN answered before stays NXDOMAIN, its SOA at TTL 30', async () => {
    expect((await ask('gone.marathon.mesos')).status).toBe('NXDOMAIN');
    fail(cluster.masters, { kind: 'rcode', rcode: 'SERVFAIL' });
    const r = await ask('gone.marathon.mesos');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.authority.map((a) => [a.type, a.ttl])).toEqual([['SOA', STALE_TTL]]);
  });

  test('a name never answered still gets SERVFAIL, counted as a forwarder failure', async () => {
    fail(cluster.masters, { kind: 'silent' });
    const failuresBefore = await metric('phalanx_dns_forwarded_query_failures_total', { zone: 'mesos' });
    const r = await ask('never-asked.marathon.mesos');
    expect(r.status).toBe('SERVFAIL');
    expect(await metric('phalanx_dns_forwarded_query_failures_total', { zone: 'mesos' })).toBe(failuresBefore + 1);
  });

  test('another type of a name answered before is another question: SERVFAIL', async () => {
    await ask('leader.mesos', 'A');
    fail(cluster.masters, { kind: 'silent' });
    expect((await ask('leader.mesos', 'AAAA')).status).toBe('SERVFAIL');
  });

  test('an upstream name works the same way', async () => {
    const fresh = await ask('www.example.org');
    expect(fresh.answers.map((a) => [a.ttl, a.data])).toEqual([[300, '192.0.2.80']]);
    fail(cluster.upstreams, { kind: 'silent' });
    const staleBefore = await metric('phalanx_dns_stale_answers_total', { zone: 'upstream' });
    const r = await ask('www.example.org');
    expect(r.status).toBe('NOERROR');
    expect(r.answers.map((a) => [a.ttl, a.data])).toEqual([[STALE_TTL, '192.0.2.80']]);
    expect(await metric('phalanx_dns_stale_answers_total', { zone: 'upstream' })).toBe(staleBefore + 1);
    expect((await ask('other.example.org')).status).toBe('SERVFAIL');
  });

  test('masters back: fresh answers with their own TTL again', async () => {
    await ask('nginx.marathon.mesos');
    fail(cluster.masters, { kind: 'silent' });
    expect(ttls(await ask('nginx.marathon.mesos'))).toEqual([STALE_TTL, STALE_TTL]);
    cluster.reset();
    // The exchange the stale answer came from is still waiting on the silent masters until its
    // deadline (timeoutMs, 800 ms here), and a question asked meanwhile would share it.
    await sleep(900);
    const staleBefore = await metric('phalanx_dns_stale_answers_total', { zone: 'mesos' });
    const r = await ask('nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(addresses(r)).toEqual(NGINX_IPS);
    expect(ttls(r)).toEqual([MESOS_TTL, MESOS_TTL]);
    expect(cluster.masters.some((m) => m.queryCount() > 0)).toBe(true);
    expect(await metric('phalanx_dns_stale_answers_total', { zone: 'mesos' })).toBe(staleBefore);
  });
});

describe("the client-response timer (RFC 8767): a stale answer before the client's resolver gives up", () => {
  const TIMEOUT_MS = 3000; // the servers' deadline, far past glibc's one second
  const CLIENT_TIMEOUT_MS = 400; // the default serveStale.clientTimeoutMs

  test('silent masters: the stale answer comes after clientTimeoutMs, not after timeoutMs', async () => {
    await restartAgent(defaultsConfig({ timeoutMs: TIMEOUT_MS }));
    try {
      await ask('nginx.marathon.mesos');
      fail(cluster.masters, { kind: 'silent' });
      const slowBefore = await metric('phalanx_dns_stale_answers_total', { zone: 'mesos', reason: 'slow' });
      const r = await ask('nginx.marathon.mesos');
      expect(r.status).toBe('NOERROR');
      expect(ttls(r)).toEqual([STALE_TTL, STALE_TTL]);
      expect(r.queryTimeMs).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS * 0.9);
      expect(r.queryTimeMs).toBeLessThan(1000);
      expect(await metric('phalanx_dns_stale_answers_total', { zone: 'mesos', reason: 'slow' })).toBe(slowBefore + 1);
    } finally {
      await restartAgent(defaultsConfig());
    }
  });

  test('a name with nothing kept waits for the servers as before: the timer only serves what it has', async () => {
    await restartAgent(defaultsConfig({ timeoutMs: 1500 }));
    try {
      fail(cluster.masters, { kind: 'slow', delayMs: 700 });
      const r = await ask('nginx.marathon.mesos');
      expect(r.status).toBe('NOERROR');
      expect(ttls(r)).toEqual([MESOS_TTL, MESOS_TTL]);
      expect(r.queryTimeMs).toBeGreaterThanOrEqual(700 * 0.9);
    } finally {
      await restartAgent(defaultsConfig());
    }
  });

  test('the servers are still waited for: a late answer refreshes the stale store', async () => {
    await restartAgent(defaultsConfig({ timeoutMs: TIMEOUT_MS }));
    const isNginxA = (r: { name: string; type: string }) => r.name === 'nginx.marathon.mesos' && r.type === 'A';
    const moved = [
      ...fakeMasterRecords(0).filter((r) => !isNginxA(r)),
      { name: 'nginx.marathon.mesos', type: 'A' as const, ttl: 60, data: '10.0.9.9' },
    ];
    try {
      await ask('nginx.marathon.mesos');
      const answered = () => metric('phalanx_dns_server_request_duration_seconds_count');
      const answeredBefore = await answered();
      // The task moved, and the masters take 800 ms to say so: the client gets the old answer at 400 ms.
      for (const m of cluster.masters) m.setRecords(moved);
      fail(cluster.masters, { kind: 'slow', delayMs: 800 });
      const early = await ask('nginx.marathon.mesos');
      expect(addresses(early)).toEqual(NGINX_IPS);
      expect(ttls(early)).toEqual([STALE_TTL, STALE_TTL]);
      // A master's answer is timed once it is in, and kept in the stale store as it is.
      await waitFor(async () => (await answered()) > answeredBefore, { timeoutMs: 3000, everyMs: 50 });
      // The masters' late answer was kept: with them silent now, it is what the store gives.
      fail(cluster.masters, { kind: 'silent' });
      const later = await ask('nginx.marathon.mesos');
      expect(addresses(later)).toEqual(['10.0.9.9']);
    } finally {
      for (const m of cluster.masters) m.setRecords(fakeMasterRecords(0));
      await restartAgent(defaultsConfig());
    }
  });
});

describe('serve-stale and the rest of the agent', () => {
  test("/v1/enumerate shows the stale store's entries and bytes against its caps", async () => {
    await restartAgent(defaultsConfig());
    await ask('nginx.marathon.mesos');
    await ask('www.example.org');
    const body = await (await fetch(`http://${HOST}:${cluster.httpPort}/v1/enumerate`)).json();
    expect(body.staleStore).toEqual({ entries: 2, bytes: expect.any(Number), maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 });
    // Two small answers and their overhead: a few hundred bytes each.
    expect(body.staleStore.bytes).toBeGreaterThan(400);
    expect(body.staleStore.bytes).toBeLessThan(2000);
  });

  test('past maxInflight, a name answered before gets its stale answer at once instead of SERVFAIL', async () => {
    await restartAgent(defaultsConfig({ maxInflight: 1 }));
    await ask('nginx.marathon.mesos');
    // Masters that hold every query past the deadline: one query is admitted, the others are over the limit.
    fail(cluster.masters, { kind: 'slow', delayMs: 5000 });
    const overloadBefore = await overloadCount();
    const results = await Promise.all(Array.from({ length: 3 }, () => ask('nginx.marathon.mesos')));
    expect(results.map((r) => r.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR']);
    for (const r of results) expect(ttls(r)).toEqual([STALE_TTL, STALE_TTL]);
    expect((await overloadCount()) - overloadBefore).toBe(2);
  });

  test('the last answers survive a reload (SIGHUP); turning serve-stale off brings SERVFAIL back', async () => {
    await restartAgent(defaultsConfig());
    await ask('nginx.marathon.mesos');
    agent.rewriteConfig(defaultsConfig({ timeoutMs: 600 }));
    agent.signal('SIGHUP');
    await agent.waitForLog((l) => l.msg === 'config reloaded');
    fail(cluster.masters, { kind: 'silent' });
    expect(ttls(await ask('nginx.marathon.mesos'))).toEqual([STALE_TTL, STALE_TTL]);

    agent.rewriteConfig(defaultsConfig({ serveStale: { enabled: false } }));
    agent.signal('SIGHUP');
    await agent.waitForLog(
      (l) => l.msg === 'config reloaded' && (l.config as { serveStale: { enabled: boolean } }).serveStale.enabled === false,
    );
    expect((await ask('nginx.marathon.mesos')).status).toBe('SERVFAIL');
  });

  test('with serveStale.enabled false, every master failing means SERVFAIL, as before', async () => {
    await restartAgent(defaultsConfig({ serveStale: { enabled: false } }));
    expect((await ask('nginx.marathon.mesos')).status).toBe('NOERROR');
    fail(cluster.masters, { kind: 'silent' });
    expect((await ask('nginx.marathon.mesos')).status).toBe('SERVFAIL');
    expect(await metric('phalanx_dns_stale_answers_total', { zone: 'mesos' })).toBe(0);
  });

  test('with the answer cache on, a stale answer still comes once the cached one has expired', async () => {
    await restartAgent(defaultsConfig({ cache: { enabled: true, mesosMaxTtlSec: 1 } }));
    await ask('nginx.marathon.mesos');
    fail(cluster.masters, { kind: 'silent' });
    // The cached answer is gone after cache.mesosMaxTtlSec (1 s); serve-stale takes over.
    await sleep(1100);
    const r = await ask('nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(ttls(r)).toEqual([STALE_TTL, STALE_TTL]);
  });
});
