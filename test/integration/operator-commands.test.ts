// `phalanx-dns status` and `phalanx-dns explain` as an operator runs them: the built command
// against a real agent whose masters fail on purpose, its output piped (so plain text), its exit
// status as a monitoring check reads it.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Explanation } from '../../agent/http/explain.js';
import type { StatusReport } from '../../agent/cli/status-report.js';
import { AgentProcess, runAgentCli } from '../helpers/agent-process.js';
import { type Cluster, NGINX_IPS, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { metricValue } from '../helpers/metrics.js';
import { sleep } from '../helpers/time.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';

const HOST = '127.0.0.1';
let cluster: Cluster;
let corp: FakeDnsServer;
let agent: AgentProcess;
/** A copy of the agent's config: AgentProcess.stop() removes its own, and the commands still read it then. */
const dir = mkdtempSync(join(tmpdir(), 'phalanx-operator-'));
const configPath = join(dir, 'config.json');

beforeAll(async () => {
  cluster = await startCluster({ masters: 3, upstreams: 2, bigTasks: 0 });
  corp = await FakeDnsServer.start({
    address: '127.0.0.31',
    zone: 'corp.internal',
    records: [{ name: 'db.corp.internal', type: 'A', ttl: 30, data: '10.9.9.9' }],
  });
  agent = await AgentProcess.start(
    cluster.config({
      // Every query to every master: three SERVFAILs from one master take three queries to mark it down.
      dispatch: 'race',
      fanout: 'all',
      // Mesos answers cached 5 s (not 2): time enough for a command's start on a busy machine.
      cache: { enabled: true, mesosMaxTtlSec: 5 },
      serveStale: { enabled: true },
      forwardZones: { 'corp.internal': [corp.endpoint] },
    }),
  );
  copyFileSync(agent.configPath, configPath);
});
afterAll(async () => {
  await agent?.stop();
  await corp?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The command as an operator types it; asIs: no --allow-root in front of the subcommand. */
const run = (...args: string[]) => runAgentCli([...args, '--config', configPath], 15_000, { asIs: true });

async function explainJson(name: string, type?: string): Promise<Explanation> {
  const r = await run('explain', name, ...(type ? [type] : []), '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Explanation;
}

const enumerate = async () =>
  (await (await fetch(`http://${HOST}:${cluster.httpPort}/v1/enumerate`)).json()) as {
    mesos: { masters: Array<{ address: string; up: boolean; failures: number; successes: number }> };
  };

/**
 * A master's failures (/v1/enumerate) and its failed background probes (/v1/metrics), read with
 * no probe between them: the probe count is read again after, until it held still.
 */
async function failuresAndProbes(address: string): Promise<{ failures: number; probesFailed: number }> {
  const probesFailed = () =>
    metricValue(cluster.httpPort, 'phalanx_dns_server_probes_total', { upstream_address: address, result: 'rcode_SERVFAIL' });
  for (let i = 0; i < 20; i++) {
    const probes = await probesFailed();
    const failures = (await enumerate()).mesos.masters.find((m) => m.address === address)!.failures;
    if ((await probesFailed()) === probes) return { failures, probesFailed: probes };
  }
  throw new Error('the probe count never held still for two reads');
}

describe('status', () => {
  test('healthy: exit 0, a plain table when piped', async () => {
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    const r = await run('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^phalanx-dns \S+ at http:\/\/127\.0\.0\.1:\d+: healthy$/m);
    expect(r.stdout).toMatch(/^GROUP\s+SERVER\s+STATE\s+SCORE\s+P50\s+P99/m);
    for (const m of cluster.masters)
      expect(r.stdout).toMatch(new RegExp(`^mesos\\s+${m.endpoint.replace(/\./g, '\\.')}\\s+up\\s+0\\.00`, 'm'));
    expect(r.stdout).toMatch(/^corp\.internal\s+127\.0\.0\.31:\d+\s+up/m);
    expect(r.stdout).toMatch(/^discovery {4}static: ok, 3 masters/m);
    expect(r.stdout).toMatch(/^cache {8}\d+ of 10000 entries/m);
    expect(r.stdout).toMatch(/^queries {6}\S+\/s \(mesos /m);
    // Piped: no colour codes.
    expect(r.stdout.includes('\x1b')).toBe(false);
  });

  test('--json: the report a script reads', async () => {
    const r = await run('status', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as StatusReport;
    expect(s.verdict).toEqual({ status: 'healthy', exitCode: 0, reasons: [] });
    expect(s.windowSec).toBeGreaterThan(0.9);
    expect(s.servers.map((x) => x.group)).toEqual(['mesos', 'mesos', 'mesos', 'upstream', 'upstream', 'corp.internal']);
    const answered = s.servers.find((x) => x.group === 'mesos' && x.answered > 0)!;
    // The query above was before the first scrape: its reply time is since start.
    expect(answered).toMatchObject({ state: 'up', replyTimes: 'since start', lastFailure: null });
    expect(answered.p50Ms).toBeGreaterThan(0);
    expect(answered.p99Ms).toBeGreaterThanOrEqual(answered.p50Ms!);
    expect(s.discovery).toMatchObject({ source: 'static', state: 'ok', masters: 3, leader: null, error: null });
    expect(s.cache).toMatchObject({ maxEntries: 10000 });
    expect(s.staleStore).toMatchObject({ entries: expect.any(Number), bytes: expect.any(Number) });
    expect(Object.keys(s.queries.perSecond)).toEqual(expect.arrayContaining(['mesos', 'local', 'forward', 'upstream']));
    expect(s.queries.total).toBeGreaterThan(0);
  });
});

describe('explain', () => {
  test('a local name: the local zone, no servers', async () => {
    const e = await explainJson('ready.spartan');
    expect(e.route).toMatchObject({ kind: 'local', zone: 'spartan' });
    expect(e.group).toBeNull();
    expect(e.servers).toEqual([]);
    expect(e.cache.state).toBe('not used');
    expect(e.answer).toMatchObject({ rcode: 'NOERROR', from: 'local zone', answers: ['ready.spartan 5 A 127.0.0.1'] });

    const text = await run('explain', 'ready.spartan');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('route        local: "spartan" is a local zone: the agent answers it itself');
    expect(text.stdout).toContain('the client gets NOERROR');
  });

  test('a name for the upstreams and one in a forward zone: each group asked directly', async () => {
    const up = await explainJson('www.example.org');
    expect(up.route.kind).toBe('upstream');
    expect(up.servers.map((s) => s.address).sort()).toEqual(cluster.upstreams.map((u) => u.endpoint).sort());
    for (const s of up.servers) expect(s.direct).toMatchObject({ rcode: 'NOERROR', answers: ['www.example.org 300 A 192.0.2.80'] });
    expect(up.answer).toMatchObject({ rcode: 'NOERROR', from: 'servers' });

    const fwd = await explainJson('db.corp.internal');
    expect(fwd.route).toMatchObject({ kind: 'forward', zone: 'corp.internal' });
    expect(fwd.route.why).toContain('forward zone "corp.internal"');
    expect(fwd.servers).toHaveLength(1);
    expect(fwd.servers[0]).toMatchObject({ address: corp.endpoint, order: 1, direct: { rcode: 'NOERROR' } });
    expect(fwd.answer.answers).toEqual(['db.corp.internal 30 A 10.9.9.9']);
  });

  test('a cached name: the entry and how long it has left', async () => {
    await dig(HOST, cluster.listenPort, 'leader.mesos');
    const e = await explainJson('leader.mesos');
    expect(e.cache.state).toBe('hit');
    // cache.mesosMaxTtlSec caps a Mesos answer, whatever its own TTL (60 s).
    expect(e.cache.expiresInSec).toBeGreaterThan(0);
    expect(e.cache.expiresInSec).toBeLessThanOrEqual(5);
    expect(e.staleStore.state).toBe('fresh');
    expect(e.answer).toMatchObject({ rcode: 'NOERROR', from: 'answer cache' });
  });

  test('an unknown type and a bad name are refused with the reason, exit 2', async () => {
    const t = await run('explain', 'nginx.marathon.mesos', 'BOGUS');
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('not a record type: "BOGUS"');
    const n = await run('explain', 'not a name');
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('not a valid DNS name');
  });
});

describe('a master answering SERVFAIL', () => {
  const sick = () => cluster.masters[0];

  beforeAll(async () => {
    sick().setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
    // Names not asked before, so the answer cache answers none of them.
    for (let i = 0; i < 3; i++) await dig(HOST, cluster.listenPort, `sick-${i}.marathon.mesos`);
    await agent.waitForLog((l) => /marked down/.test(l.msg) && l.server === sick().endpoint);
  });
  afterAll(async () => {
    sick().setBehaviour({ kind: 'answer' });
    await agent.waitForLog((l) => /answering again/.test(l.msg) && l.server === sick().endpoint);
  });

  test('status: degraded, exit 1, naming the server and why', async () => {
    const r = await run('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`degraded (1)`);
    expect(r.stdout).toContain(`mesos server ${sick().endpoint} is down (rcode_SERVFAIL)`);
    expect(r.stdout).toMatch(
      new RegExp(`^mesos\\s+${sick().endpoint.replace(/\./g, '\\.')}\\s+down, probing\\s+.*rcode_SERVFAIL, \\S+ \\S+ ago$`, 'm'),
    );
    const json = JSON.parse((await run('status', '--json')).stdout) as StatusReport;
    expect(json.verdict.exitCode).toBe(1);
    expect(json.servers.find((s) => s.address === sick().endpoint)).toMatchObject({
      state: 'down',
      lastFailure: { reason: 'rcode_SERVFAIL' },
    });
  });

  test('explain: the servers in order, the down one asked directly with its rcode, the answer; health untouched', async () => {
    const before = await failuresAndProbes(sick().endpoint);
    const e = await explainJson('nginx.marathon.mesos');
    expect(e.route).toMatchObject({ kind: 'mesos', zone: 'mesos' });
    expect(e.policy).toMatchObject({ dispatch: 'race', fanout: 'all' });
    expect(e.policy!.why).toContain('down servers are left to the background probe');
    const healthy = cluster.masters.slice(1).map((m) => m.endpoint);
    expect([...e.policy!.order].sort()).toEqual([...healthy].sort());
    const down = e.servers.find((s) => s.address === sick().endpoint)!;
    expect(down).toMatchObject({ order: null, up: false, notAsked: 'down: left to the background probe', direct: { rcode: 'SERVFAIL' } });
    for (const s of e.servers.filter((x) => x.address !== sick().endpoint)) {
      expect(s.order).toBeGreaterThan(0);
      expect(s.direct).toMatchObject({ rcode: 'NOERROR', transport: 'udp' });
    }
    expect(e.answer.rcode).toBe('NOERROR');
    expect(e.answer.answers.map((a) => a.split(' ').at(-1)).sort()).toEqual(NGINX_IPS);
    // Asking the down master directly counted as nothing: its failures grew by its background
    // probes' alone (each a SERVFAIL), read before and after.
    const after = await failuresAndProbes(sick().endpoint);
    expect(after.failures - before.failures).toBe(after.probesFailed - before.probesFailed);

    const text = await run('explain', 'nginx.marathon.mesos');
    expect(text.stdout).toMatch(new RegExp(`^-\\s+${sick().endpoint.replace(/\./g, '\\.')}\\s+down\\s+.*SERVFAIL, 0 answers`, 'm'));
    expect(text.stdout).toMatch(/^1\s+127\.0\.0\.1[23]:\d+\s+up\s+.*NOERROR, 2 answers/m);
    expect(text.stdout).toContain('the client gets NOERROR');
  });
});

describe('every master silent', () => {
  beforeAll(async () => {
    // Answered once, then out of the answer cache (mesosMaxTtlSec) but kept for serve-stale.
    await dig(HOST, cluster.listenPort, '_nginx._tcp.marathon.mesos', 'SRV');
    await sleep(5100); // past mesosMaxTtlSec: the cache's expiry is the subject
    for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
  });
  afterAll(() => cluster.reset());

  test('a name answered before: the stale answer, and why', async () => {
    const e = await explainJson('_nginx._tcp.marathon.mesos', 'SRV');
    expect(e.cache.state).toBe('miss');
    expect(e.staleStore.state).toBe('fresh');
    for (const s of e.servers) expect(s.direct).toMatchObject({ error: 'timeout' });
    expect(e.answer).toMatchObject({ rcode: 'NOERROR', from: 'stale store', ede: { code: 3 } });
    expect(e.answer.answers).toEqual(['_nginx._tcp.marathon.mesos 30 SRV 0 0 31001 nginx-a1b2c.marathon.mesos']);
  });

  test('a name never answered: SERVFAIL from the agent itself', async () => {
    const r = await run('explain', 'nobody.marathon.mesos');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stale store  does not hold it');
    expect(r.stdout).toMatch(/timeout after \d+ ms/);
    expect(r.stdout).toContain('the client gets SERVFAIL');
    expect(r.stdout).toContain('EDE 22: no usable answer from mesos');
  });
});

describe('the agent does not answer', () => {
  test('status and explain: one line, exit 2', async () => {
    await agent.stop();
    for (const args of [['status'], ['explain', 'nginx.marathon.mesos']]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^phalanx-dns: the agent's HTTP API at http:\/\/127\.0\.0\.1:\d+ does not answer: connection refused/);
    }
  });
});
