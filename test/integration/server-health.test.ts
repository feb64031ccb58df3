// What an operator sees of a failing master, on the defaults that matter (timeoutMs 2,000,
// health.probeIntervalMs 2,000, downAfterFailures 3), under hedged and raced dispatch: a hung
// master is marked down within 10 s of steady lookups and up again within 10 s of answering,
// `phalanx-dns status` exits 1 naming it, and no lookup pays for it; masters whose ports are
// closed are known at once, so a name asked before gets its stale answer and a new name SERVFAIL
// without waiting out a timer. The measured times go to test-results/server-health.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess, runAgentCli } from '../helpers/agent-process.js';
import { type Cluster, fakeMasterRecords, startCluster } from '../helpers/cluster.js';
import { type DigResult, dig } from '../helpers/dig.js';
import { metricValue } from '../helpers/metrics.js';
import { waitFor } from '../helpers/time.js';
import { type LookupTally, steadyLookups } from '../helpers/steady-lookups.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';

const HOST = '127.0.0.1';
const DEFAULTS = { timeoutMs: 2000, health: { probeIntervalMs: 2000, downAfterFailures: 3 } };
/** Steady lookups while a master hangs: 20 a second, each a name no cache holds. */
const LOOKUPS = { everyMs: 50, maxCount: 1200, replyTimeoutMs: 3000 };
const measured: Record<string, number> = {};

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 2, upstreams: 1, bigTasks: 0 });
});
afterAll(async () => {
  await cluster?.stop();
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/server-health.json', JSON.stringify(measured, null, 2) + '\n');
});

const ede = (r: DigResult) => r.raw.split('\n').find((l) => l.startsWith('; EDE:'));
const status = (agent: AgentProcess) => runAgentCli(['status', '--config', agent.configPath], 15_000, { asIs: true });
const isLog = (msg: string, server: string) => (l: { msg: string; server?: unknown }) => l.msg === msg && l.server === server;

/** The master hangs, is marked down (status then), answers again and is up (status then). */
async function watch(agent: AgentProcess, hung: FakeDnsServer) {
  // Round-trip times learned first: the other master has answered a few lookups.
  await waitFor(async () => (await metricValue(cluster.httpPort, 'phalanx_dns_server_request_duration_seconds_count')) >= 10);
  hung.setBehaviour({ kind: 'silent' });
  const hungAt = Date.now();
  await agent.waitForLog(isLog('server marked down', hung.endpoint), 15_000);
  const toDown = Date.now() - hungAt;
  const degraded = await status(agent);
  hung.setBehaviour({ kind: 'answer' });
  const answeringAt = Date.now();
  await agent.waitForLog(isLog('server answering again', hung.endpoint), 15_000);
  const toUp = Date.now() - answeringAt;
  return { toDown, degraded, toUp, healthy: await status(agent) };
}

describe.each(['hedged', 'race'] as const)('dispatch %s', (dispatch) => {
  let agent: AgentProcess;
  beforeAll(async () => {
    cluster.reset();
    agent = await AgentProcess.start(cluster.config({ ...DEFAULTS, dispatch, fanout: 'all', log: { level: 'info' } }));
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test('a hung master is down within 10 s of steady lookups, status exits 1 naming it, and it is up within 10 s of answering; every lookup answered', async () => {
    const [hung] = cluster.masters;
    const lookups = steadyLookups({ host: HOST, port: cluster.listenPort, name: (i) => `app-${i}.marathon.mesos`, ...LOOKUPS });
    const began = Date.now();
    let seen: Awaited<ReturnType<typeof watch>>;
    let tally: LookupTally;
    try {
      seen = await watch(agent, hung);
    } finally {
      hung.setBehaviour({ kind: 'answer' });
      tally = await lookups.stop();
    }
    measured[`${dispatch}: hung master marked down, ms`] = seen.toDown;
    measured[`${dispatch}: answering master up again, ms`] = seen.toUp;
    expect(seen.toDown).toBeLessThanOrEqual(10_000);
    expect(seen.degraded.code).toBe(1);
    expect(seen.degraded.stdout).toMatch(/: degraded \(1\)$/m);
    expect(seen.degraded.stdout).toMatch(new RegExp(`^mesos\\s+${hung.endpoint.replace(/\./g, '\\.')}\\s+down, probing\\s.*timeout`, 'm'));
    expect(seen.degraded.stdout).toContain(`mesos server ${hung.endpoint} is down (timeout)`);
    expect(seen.toUp).toBeLessThanOrEqual(10_000);
    expect(seen.healthy.code).toBe(0);
    // Each name is NXDOMAIN from the masters: answered, never SERVFAIL, never left unanswered,
    // at the steady rate throughout (at least half of it, on a busy machine).
    expect(tally).toEqual({ sent: tally.sent, rcodes: { NXDOMAIN: tally.sent }, unanswered: 0 });
    expect(tally.sent).toBeGreaterThan((Date.now() - began) / LOOKUPS.everyMs / 2);
  });
});

describe.each(['hedged', 'race'] as const)('every master refusing (ports closed), dispatch %s', (dispatch) => {
  let agent: AgentProcess;
  let closed: FakeDnsServer[] = [];
  beforeAll(async () => {
    closed = [];
    agent = await AgentProcess.start(
      cluster.config({ ...DEFAULTS, dispatch, fanout: 'all', serveStale: { enabled: true }, log: { level: 'info' } }),
    );
  });
  afterAll(async () => {
    await agent?.stop();
    // The masters back on their ports, for the next agent.
    cluster.masters.splice(
      0,
      closed.length,
      ...(await Promise.all(
        closed.map((m) => FakeDnsServer.start({ address: m.address, port: m.port, zone: 'mesos', records: fakeMasterRecords(0) })),
      )),
    );
  });

  test('a name asked before gets its stale answer, a new name SERVFAIL with EDE 22, neither waiting for a timer; refusals counted', async () => {
    expect((await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    closed = [...cluster.masters];
    await Promise.all(closed.map((m) => m.stop()));

    // The first lookups after the refusals began, before status knows anything.
    const stale = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(stale.status).toBe('NOERROR');
    expect(stale.answers).toHaveLength(2);
    // "no usable answer": the masters failed; the client-response timer (400 ms) says "no answer yet".
    expect(ede(stale)).toMatch(/^; EDE: 3 \(Stale Answer\): \(no usable answer from mesos /);
    measured[`${dispatch}: stale answer with every master refusing, ms (dig query time)`] = stale.queryTimeMs!;

    const fresh = await dig(HOST, cluster.listenPort, 'never-asked.marathon.mesos');
    expect(fresh.status).toBe('SERVFAIL');
    expect(ede(fresh)).toMatch(/^; EDE: 22 \(No Reachable Authority\): \(no usable answer from mesos /);
    measured[`${dispatch}: SERVFAIL with every master refusing, ms (dig query time)`] = fresh.queryTimeMs!;
    // Far inside timeoutMs (2,000 ms), the wait an unconnected socket would have had.
    expect(fresh.queryTimeMs).toBeLessThan(DEFAULTS.timeoutMs / 4);

    const metrics = await (await fetch(`http://${HOST}:${cluster.httpPort}/v1/metrics`)).text();
    for (const m of closed)
      expect(metrics).toMatch(
        new RegExp(
          `^phalanx_dns_server_request_failures_total\\{[^}]*upstream_address="${m.endpoint.replace(/\./g, '\\.')}"[^}]*reason="refused"[^}]*\\} [1-9]`,
          'm',
        ),
      );
  });
});
