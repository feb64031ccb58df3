// The answer cache as a client sees it: repeated lookups answered without the servers, TTLs
// counting down, Mesos names kept only briefly, failures never cached.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { sleep } from '../helpers/time.js';

const HOST = '127.0.0.1';
let cluster: Cluster;
let agent: AgentProcess;
const total = () => [...cluster.masters, ...cluster.upstreams].reduce((n, s) => n + s.queryCount(), 0);

beforeAll(async () => {
  cluster = await startCluster({ masters: 2, upstreams: 2, bigTasks: 0 });
  agent = await AgentProcess.start(cluster.config({ cache: { enabled: true, mesosMaxTtlSec: 1, maxTtlSec: 300 } }));
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});
afterEach(() => cluster.reset());

describe('answer cache', () => {
  test('an upstream answer is served from the cache for its TTL, counting down', async () => {
    const first = await dig(HOST, cluster.listenPort, 'www.example.org');
    expect(first.answers[0]).toEqual(expect.objectContaining({ ttl: 300, data: '192.0.2.80' }));
    const asked = total();
    await sleep(1100); // a second of its TTL passes: the countdown is the subject
    const second = await dig(HOST, cluster.listenPort, 'WWW.Example.ORG');
    expect(second.answers[0].data).toBe('192.0.2.80');
    expect(second.answers[0].ttl).toBeLessThan(300);
    expect(second.answers[0].ttl).toBeGreaterThanOrEqual(298);
    expect(second.raw).toContain(';WWW.Example.ORG.');
    expect(total()).toBe(asked);
  });

  test('the cache answers even when every upstream has gone silent since', async () => {
    await dig(HOST, cluster.listenPort, 'example.org');
    for (const u of cluster.upstreams) u.setBehaviour({ kind: 'silent' });
    const r = await dig(HOST, cluster.listenPort, 'example.org');
    expect(r.status).toBe('NOERROR');
    expect(r.queryTimeMs).toBeLessThan(100);
  });

  test('Mesos names are kept only for cache.mesosMaxTtlSec, so new tasks show up quickly', async () => {
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    const afterFirst = total();
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(total()).toBe(afterFirst);
    await sleep(1100); // past cache.mesosMaxTtlSec (1 s): the expiry is the subject
    const third = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(third.status).toBe('NOERROR');
    expect(total()).toBeGreaterThan(afterFirst);
  });

  test('SERVFAIL is never cached: the next query asks again', async () => {
    for (const u of cluster.upstreams) u.setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
    expect((await dig(HOST, cluster.listenPort, 'fail.example.org')).status).toBe('SERVFAIL');
    for (const u of cluster.upstreams) u.setBehaviour({ kind: 'answer' });
    const r = await dig(HOST, cluster.listenPort, 'fail.example.org');
    expect(r.status).toBe('NXDOMAIN');
  });

  test('hits and misses are counted', async () => {
    const text = await scrapeMetrics(cluster.httpPort);
    expect(text).toMatch(/phalanx_dns_cache_lookups_total\{result="hit"\} [1-9]/);
    expect(text).toMatch(/phalanx_dns_cache_lookups_total\{result="miss"\} [1-9]/);
  });
});
