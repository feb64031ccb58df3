// The HTTP API through real requests against the started agent.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { sampleSum } from '../helpers/metrics.js';
import { waitFor } from '../helpers/time.js';
import { freePort } from '../../sim/ports.js';

const HOST = '127.0.0.1';
const API_HOST = '127.0.0.7';
let cluster: Cluster;
let agent: AgentProcess;
let api: string;

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, upstreams: 1, bigTasks: 0 });
  const port = await freePort(API_HOST);
  api = `http://${API_HOST}:${port}`;
  agent = await AgentProcess.start(cluster.config({ http: { listen: `${API_HOST}:${port}` }, zk: { servers: ['10.0.0.1', '10.0.0.2'] } }));
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(api + path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

describe('JSON endpoints', () => {
  test('/v1/version', async () => {
    const r = await get('/v1/version');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body).toEqual({ Service: 'phalanx-dns', Version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  test('/v1/config shows the effective configuration', async () => {
    const r = await get('/v1/config');
    expect(r.status).toBe(200);
    expect(r.body.listen).toEqual([`127.0.0.1:${cluster.listenPort}`]);
    expect(r.body.mesos.source).toEqual({ kind: 'static', masters: cluster.masters.map((m) => m.endpoint) });
    expect(r.body.fanout).toBe(2);
    expect(r.body.timeoutMs).toBe(800);
  });

  test('/v1/hosts answers local names from the zones', async () => {
    expect((await get('/v1/hosts/ready.spartan')).body).toEqual([{ host: 'ready.spartan', ip: '127.0.0.1' }]);
    expect((await get('/v1/hosts/zk-2.zk')).body).toEqual([{ host: 'zk-2.zk', ip: '10.0.0.2' }]);
    expect((await get('/v1/hosts/localhost')).body).toEqual([
      { host: 'localhost', ip: '127.0.0.1' },
      { host: 'localhost', ip: '::1' },
    ]);
  });

  test('/v1/hosts resolves Mesos names through the masters', async () => {
    const r = await get('/v1/hosts/nginx.marathon.mesos');
    expect(r.status).toBe(200);
    expect(r.body.map((e: { ip: string }) => e.ip).sort()).toEqual(NGINX_IPS);
    expect(r.body[0].host).toBe('nginx.marathon.mesos');
  });

  test('/v1/hosts for a name that does not exist is an empty list', async () => {
    const r = await get('/v1/hosts/nothing.marathon.mesos');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
  });

  test('/v1/services joins SRV answers with the target addresses', async () => {
    const r = await get('/v1/services/_nginx._tcp.marathon.mesos');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([{ service: '_nginx._tcp.marathon.mesos', host: 'nginx-a1b2c.marathon.mesos', ip: '10.0.1.5', port: '31001' }]);
    expect((await get('/v1/services/_none._tcp.marathon.mesos')).body).toEqual([]);
  });

  test('/v1/records lists every record the agent serves itself', async () => {
    const r = await get('/v1/records');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(
      expect.arrayContaining([
        { name: 'ready.spartan', host: '127.0.0.1', rtype: 'A' },
        { name: 'zk-1.zk', host: '10.0.0.1', rtype: 'A' },
        { name: 'zk-5.zk', host: '10.0.0.1', rtype: 'A' },
        { name: 'spartan', host: 'ns.spartan', rtype: 'NS' },
      ]),
    );
  });

  test('/v1/enumerate shows zones, servers with health, and the discovery source', async () => {
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    const r = await get('/v1/enumerate');
    expect(r.status).toBe(200);
    expect(r.body.listening).toBe(true);
    expect(r.body.localZones.map((z: { zone: string }) => z.zone).sort()).toEqual(['localhost', 'spartan', 'zk']);
    expect(r.body.mesos.masters).toHaveLength(3);
    expect(r.body.mesos.masters[0]).toEqual(
      expect.objectContaining({
        address: cluster.masters[0].endpoint,
        up: true,
        failures: expect.any(Number),
        successes: expect.any(Number),
      }),
    );
    expect(r.body.mesos.masters.reduce((n: number, m: { successes: number }) => n + m.successes, 0)).toBeGreaterThan(0);
    expect(r.body.upstreams[0].address).toBe(cluster.upstreams[0].endpoint);
    expect(r.body.discovery).toEqual({ source: 'static', state: 'ok' });
    expect(r.body.zookeeper).toEqual(['10.0.0.1', '10.0.0.2']);
    // Both turned off in these tests' config.
    expect(r.body.cache).toBeNull();
    expect(r.body.staleStore).toBeNull();
  });

  test('/healthz is 200 while the agent answers ready.spartan', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });
});

describe('metrics', () => {
  const metricValue = async (name: string, labels: Record<string, string>) => sampleSum((await get('/v1/metrics')).text, name, labels);

  test('Prometheus text with the reference families', async () => {
    const r = await get('/v1/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    for (const family of [
      'phalanx_dns_forwarded_query_duration_seconds',
      'phalanx_dns_forwarded_query_failures_total',
      'phalanx_dns_server_request_duration_seconds',
      'phalanx_dns_server_request_failures_total',
      'phalanx_dns_queries_total',
      'phalanx_dns_inflight_queries',
      'phalanx_dns_mismatched_replies_total',
      'phalanx_dns_tcp_connections',
      'phalanx_dns_server_up',
      'process_resident_memory_bytes',
    ]) {
      expect(r.text).toContain(`# TYPE ${family} `);
    }
  });

  test('queries are counted by transport, route and rcode', async () => {
    const before = await metricValue('phalanx_dns_queries_total', { transport: 'udp', route: 'local', rcode: 'NXDOMAIN' });
    await dig(HOST, cluster.listenPort, 'nope.spartan');
    await dig(HOST, cluster.listenPort, 'nope2.spartan');
    const after = await metricValue('phalanx_dns_queries_total', { transport: 'udp', route: 'local', rcode: 'NXDOMAIN' });
    expect(after - before).toBe(2);
  });

  test('a silent master raises its failure counter; a wrong-ID master raises the mismatch counter', async () => {
    const [silent, liar] = cluster.masters;
    silent.setBehaviour({ kind: 'silent' });
    liar.setBehaviour({ kind: 'wrong-id' });
    try {
      const labels = { upstream_address: silent.endpoint, reason: 'timeout' };
      const before = await metricValue('phalanx_dns_server_request_failures_total', labels);
      const mismatchBefore = await metricValue('phalanx_dns_mismatched_replies_total', { upstream_address: liar.endpoint, reason: 'id' });
      for (let i = 0; i < 6; i++) await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      // The losers run on to their deadline (timeoutMs 800) before the silent one's timeout counts.
      await waitFor(
        async () =>
          (await metricValue('phalanx_dns_server_request_failures_total', labels)) > before &&
          (await metricValue('phalanx_dns_mismatched_replies_total', { upstream_address: liar.endpoint, reason: 'id' })) > mismatchBefore,
        { timeoutMs: 3000, everyMs: 50 },
      );
      expect(await metricValue('phalanx_dns_server_request_failures_total', labels)).toBeGreaterThan(before);
      expect(await metricValue('phalanx_dns_mismatched_replies_total', { upstream_address: liar.endpoint, reason: 'id' })).toBeGreaterThan(
        mismatchBefore,
      );
    } finally {
      silent.setBehaviour({ kind: 'answer' });
      liar.setBehaviour({ kind: 'answer' });
    }
  });

  test("dcos-dns's names repeat the renamed families: the same HELP, TYPE and samples", async () => {
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    const text = (await get('/v1/metrics')).text;
    /** A family's samples as "suffix{labels}" → value, with label names renamed as given. */
    const samples = (name: string, renames: Record<string, string> = {}) => {
      const out: Record<string, string> = {};
      for (const m of text.matchAll(new RegExp(`^${name}(_bucket|_sum|_count)?(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
        let labels = m[2] ?? '';
        for (const [from, to] of Object.entries(renames)) labels = labels.replace(`${from}="`, `${to}="`);
        out[`${m[1] ?? ''}${labels}`] = m[3];
      }
      return out;
    };
    const type = (name: string) => new RegExp(`^# TYPE ${name} (\\S+)$`, 'm').exec(text)?.[1];
    for (const [name, alias, renames] of [
      ['phalanx_dns_forwarded_query_duration_seconds', 'forwarder_requests_duration_seconds', {}],
      ['phalanx_dns_forwarded_query_failures_total', 'forwarder_failures_total', {}],
      ['phalanx_dns_server_request_duration_seconds', 'worker_requests_duration_seconds', { transport: 'protocol' }],
      ['phalanx_dns_server_request_failures_total', 'worker_failures_total', { transport: 'protocol' }],
    ] as const) {
      expect(text).toMatch(new RegExp(`^# HELP ${alias} .*${name}`, 'm'));
      expect(type(alias)).toBe(type(name));
      expect(samples(alias)).toEqual(samples(name, renames));
    }
    // Each name is there, with values: the silent master above failed, and the masters answered.
    expect(Object.keys(samples('worker_failures_total')).length).toBeGreaterThan(0);
    expect(Object.keys(samples('worker_requests_duration_seconds')).length).toBeGreaterThan(0);
    expect(Object.keys(samples('forwarder_requests_duration_seconds')).length).toBeGreaterThan(0);
  });
});

describe('errors', () => {
  test('unknown paths are 404 as JSON', async () => {
    const r = await get('/v2/nothing');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'no such endpoint: /v2/nothing', status: 404 });
  });

  test('other methods are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get('/v1/version', { method });
      expect(r.status).toBe(405);
      expect(r.body.error).toContain('read-only');
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  test('bad names are 400, never a crash', async () => {
    for (const bad of ['a'.repeat(64) + '.mesos', `${'abc.'.repeat(70)}mesos`, 'bad%20name.mesos', 'a..b', '%E0%A4%A', 'x%00y']) {
      const r = await get(`/v1/hosts/${bad}`);
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
    }
    expect((await get('/v1/services/%ZZ')).status).toBe(400);
    expect((await get('/healthz')).status).toBe(200);
  });

  test('the API listens only on its configured address', async () => {
    const port = Number(new URL(api).port);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

describe('healthz while shutting down', () => {
  test('503 with the reason once the agent stops taking queries', async () => {
    const port = await freePort(API_HOST);
    const listenPort = await freePort(HOST);
    const other = await AgentProcess.start(cluster.config({ listen: [`${HOST}:${listenPort}`], http: { listen: `${API_HOST}:${port}` } }));
    for (const m of cluster.masters) {
      m.setBehaviour({ kind: 'slow', delayMs: 700 });
      m.resetQueries();
    }
    try {
      expect((await fetch(`http://${API_HOST}:${port}/healthz`)).status).toBe(200);
      const pending = dig(HOST, listenPort, 'nginx.marathon.mesos');
      await waitFor(() => cluster.masters.some((m) => m.queryCount() > 0), { timeoutMs: 2000 });
      other.signal('SIGTERM');
      await other.waitForLog((l) => /shutting down/.test(l.msg));
      const res = await fetch(`http://${API_HOST}:${port}/healthz`);
      expect(res.status).toBe(503);
      expect((await res.json()).error).toContain('not every listener is bound');
      expect((await pending).status).toBe('NOERROR');
    } finally {
      for (const m of cluster.masters) m.setBehaviour({ kind: 'answer' });
      await other.stop();
    }
  });
});

describe('disabled', () => {
  test('http.enabled false: nothing listens on the API port', async () => {
    const port = await freePort(API_HOST);
    const listenPort = await freePort(HOST);
    const other = await AgentProcess.start(
      cluster.config({ listen: [`${HOST}:${listenPort}`], http: { enabled: false, listen: `${API_HOST}:${port}` } }),
    );
    try {
      await expect(fetch(`http://${API_HOST}:${port}/v1/version`)).rejects.toThrow();
    } finally {
      await other.stop();
    }
  });
});

// Last: silent masters leave failures in their health history, which earlier tests must not see.
test('the in-flight gauge shows forwarded queries waiting for a server', async () => {
  const gauge = async () => Number(/^phalanx_dns_inflight_queries (\S+)$/m.exec((await get('/v1/metrics')).text)?.[1]);
  expect(await gauge()).toBe(0);
  for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
  try {
    // Two queries wait for the silent masters until the deadline (timeoutMs 800).
    const pending = Promise.all([dig(HOST, cluster.listenPort, 'a.marathon.mesos'), dig(HOST, cluster.listenPort, 'b.marathon.mesos')]);
    let seen = 0;
    await waitFor(async () => (seen = await gauge()) >= 2, { timeoutMs: 800 });
    expect(seen).toBe(2);
    await pending;
    expect(await gauge()).toBe(0);
  } finally {
    cluster.reset();
  }
});
