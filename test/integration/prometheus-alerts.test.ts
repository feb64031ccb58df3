// The shipped alert rules in a real Prometheus scraping real agents: the alerts an operator gets
// when masters hang or the agent dies, and none while all is well. promtool's unit tests
// (test/unit/monitoring.test.ts) check the rules against written series; this checks them
// against what the agent really exports when things fail. Only `for:` is shortened, from minutes
// to seconds; the expressions are the shipped ones.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { readRules } from '../helpers/monitoring-queries.js';
import { type ActiveAlert, PrometheusServer } from '../helpers/prometheus-server.js';
import { type SteadyLookups, steadyLookups } from '../helpers/steady-lookups.js';

// Prometheus scrapes and evaluates every INTERVAL_S; alerts fire after ALERT_FOR_S.
const INTERVAL_S = 1;
const ALERT_FOR_S = 2;
// What a hung master is given to be marked down (three failed queries at timeoutMs 800, or the
// agent's own bound on that), plus the alert's `for:`, scrapes and evaluations.
const MASTER_DOWN_WITHIN_MS = 20_000;
const ALERT_WITHIN_MS = 15_000;

interface Node {
  cluster: Cluster;
  agent: AgentProcess;
  traffic: SteadyLookups;
  /** Prometheus' instance label for it: its HTTP API's ip:port. */
  instance: string;
}

const nodes: Partial<Record<'race' | 'hedged', Node>> = {};
let prometheus: PrometheusServer | undefined;

const node = (dispatch: 'race' | 'hedged'): Node => nodes[dispatch]!;
const PAGES = readRules()
  .filter((r) => r.alert && r.labels?.severity === 'page')
  .map((r) => r.alert!);
const active = (alerts: ActiveAlert[], instance: string, name?: string) =>
  alerts.filter((a) => a.labels.instance === instance && (name === undefined || a.labels.alertname === name));
const firing = (alerts: ActiveAlert[], instance: string, name: string) =>
  active(alerts, instance, name).filter((a) => a.state === 'firing');
const names = (alerts: ActiveAlert[]) => [...new Set(alerts.map((a) => a.labels.alertname))].sort();

async function startNode(dispatch: 'race' | 'hedged'): Promise<Node> {
  const cluster = await startCluster({ masters: 3, upstreams: 1, bigTasks: 0 });
  const agent = await AgentProcess.start(cluster.config({ dispatch, log: { level: 'warn' } })).catch(async (err: unknown) => {
    await cluster.stop();
    throw err;
  });
  // Ten Mesos queries a second, no cache: every one reaches the masters, well over the SERVFAIL
  // alert's floor of 0.2 a second.
  // Ten a second for at most ten minutes: far longer than the file runs.
  const traffic = steadyLookups({
    host: '127.0.0.1',
    port: cluster.listenPort,
    name: () => 'nginx.marathon.mesos',
    everyMs: 100,
    maxCount: 6000,
    replyTimeoutMs: 3000,
  });
  return { cluster, agent, traffic, instance: `127.0.0.1:${cluster.httpPort}` };
}

beforeAll(async () => {
  nodes.race = await startNode('race');
  nodes.hedged = await startNode('hedged');
  prometheus = await PrometheusServer.start({
    targets: [node('race').instance, node('hedged').instance],
    alertFor: `${ALERT_FOR_S}s`,
    interval: `${INTERVAL_S}s`,
  });
  // Prometheus applies its scrape config a few seconds after start.
  await prometheus.waitFor('both agents scraped', 20_000, async () => {
    const targets = await prometheus!.targets();
    return targets.length === 2 && targets.every((t) => t.health === 'up');
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.traffic.stop()));
  await Promise.all([...Object.values(nodes).map((n) => n.agent.stop()), prometheus?.stop()]);
  await Promise.all(Object.values(nodes).map((n) => n.cluster.stop()));
});

describe('the shipped alert rules in a real Prometheus', () => {
  test('healthy agents: no alert pending or firing after several evaluations', async () => {
    const since = Date.now();
    await prometheus!.waitFor('three more rule evaluations', 10_000, async () => (await prometheus!.lastEvaluation()) > since + 3000);
    expect(await prometheus!.alerts()).toEqual([]);
    // The quiet is not for want of answers: every query so far got one.
    for (const n of Object.values(nodes)) expect(Object.keys(n.traffic.tally.rcodes)).toEqual(['NOERROR']);
  }, 20_000);

  test.each(['race', 'hedged'] as const)(
    'one master hung, dispatch %s: PhalanxDnsMasterDown fires for that master, and nothing pages',
    async (dispatch) => {
      const { cluster, instance } = node(dispatch);
      const hung = cluster.masters[0];
      hung.setBehaviour({ kind: 'silent' });
      try {
        const alerts = await prometheus!.waitForAlerts(
          `PhalanxDnsMasterDown firing for ${hung.endpoint} on the ${dispatch} agent`,
          MASTER_DOWN_WITHIN_MS,
          (as) => firing(as, instance, 'PhalanxDnsMasterDown').length > 0,
        );
        expect(firing(alerts, instance, 'PhalanxDnsMasterDown').map((a) => a.labels.upstream_address)).toEqual([hung.endpoint]);
        // The other masters answer: a ticket, not a page.
        expect(names(active(alerts, instance).filter((a) => PAGES.includes(a.labels.alertname)))).toEqual([]);
      } finally {
        hung.setBehaviour({ kind: 'answer' });
        // Back up (the agent probes it), so that the next case starts from quiet.
        await prometheus!.waitForAlerts('PhalanxDnsMasterDown resolved', ALERT_WITHIN_MS, (as) => active(as, instance).length === 0);
      }
    },
    MASTER_DOWN_WITHIN_MS + ALERT_WITHIN_MS + 5000,
  );

  test('every master hung: PhalanxDnsAllMastersDown and PhalanxDnsServfailShareHigh page, not PhalanxDnsMasterDown', async () => {
    const { cluster, instance } = node('race');
    for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
    const alerts = await prometheus!.waitForAlerts(
      'PhalanxDnsAllMastersDown and PhalanxDnsServfailShareHigh firing',
      MASTER_DOWN_WITHIN_MS,
      (as) => firing(as, instance, 'PhalanxDnsAllMastersDown').length > 0 && firing(as, instance, 'PhalanxDnsServfailShareHigh').length > 0,
    );
    // One alert for the node, not one per master.
    expect(names(active(alerts, instance))).toEqual(['PhalanxDnsAllMastersDown', 'PhalanxDnsServfailShareHigh']);
    expect(node('race').traffic.tally.rcodes.SERVFAIL).toBeGreaterThan(0);
  }, 30_000);

  test('an agent killed: PhalanxDnsAgentDown fires for it', async () => {
    const { agent, instance, traffic } = node('hedged');
    await traffic.stop();
    agent.signal('SIGKILL');
    await agent.waitForExit();
    const alerts = await prometheus!.waitForAlerts(
      'PhalanxDnsAgentDown firing',
      ALERT_WITHIN_MS,
      (as) => firing(as, instance, 'PhalanxDnsAgentDown').length > 0,
    );
    expect(firing(alerts, instance, 'PhalanxDnsAgentDown')[0].labels).toMatchObject({ job: 'phalanx-dns', severity: 'page' });
  }, 30_000);
});
