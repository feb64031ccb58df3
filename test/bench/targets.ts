// The bench targets (docs/benchmark.md, "Targets"), judged from one run's figures (pure). Each is a ratio to dnsmasq doing
// the same work on the same core in the same run, except memory, which has limits of its own.
//
// A verdict is "sure" only when the figures behind it can be trusted that way round: a throughput
// PASS needs dnsmasq to have used its whole CPU (else its q/s understates it, and the ratio
// flatters the agent), a FAIL needs the agent to have used its whole CPU; and no figure is sure
// when processes the bench did not start used CPU during its runs.
import { type Limit, NOISY_PCT } from './measure.js';
import {
  type Burst,
  type CaseResult,
  type PeerCase,
  type PingPong,
  fmtInt,
  fmtMs,
  fmtRatio,
  fmtUs,
  mib,
  otherWork,
  textTable,
} from './report.js';
import { FIXED_QPS } from './settings.js';

export interface TargetResult {
  n: string;
  name: string;
  limit: string;
  measured: string;
  /** null: not measured in this run. */
  pass: boolean | null;
  /** Why the verdict may not hold, or '' when nothing says so. */
  doubt: string;
}

export const LIMITS = {
  localQps: 0.5,
  cachedQps: 1.0,
  uncachedQps: 0.8,
  cpuPerQuery: 1.3,
  p99: 2,
  /** MiB, in the KiB that /proc reports. */
  peakRssKb: 64 * 1024,
  startRssKb: 50 * 1024,
  /** ms the agent may add at p50 over what dnsmasq adds. */
  addedP50Ms: 0.03,
  /** 16.1: requests to the masters per uncached client query, healthy masters. */
  masterQueriesPerQuery: 1.1,
  /** 16.2: p99 with one master of three hung, over the healthy p99. */
  hungP99: 1.5,
  /** 16.3: queries sent to the masters for a burst of identical questions. */
  burstQueries: 2,
};

export interface TargetInputs {
  cases: CaseResult[];
  pingPong: PingPong | null;
  /** Both agents' memory: after start and the peak over the whole run. */
  agentsStartRssKb: number | null;
  agentsPeakRssKb: number | null;
  /** Which steps ran: a peak is "over the whole bench" only when they all did. */
  complete: boolean;
  bursts: Burst[];
  /** The agents' hedge.maxMs: the longest a query may wait for one server before the next is asked. */
  hedgeMaxMs: number;
}

const noisy = (peers: Array<PeerCase | undefined>): string => {
  const worst = Math.max(0, ...peers.filter((p): p is PeerCase => !!p).map(otherWork));
  return worst > NOISY_PCT ? `other work used up to ${worst.toFixed(0)}% of a CPU during its runs` : '';
};

/** What stopped a peer short of its whole CPU, by measure.ts's Limit. */
const LIMITED_BY: Record<Limit, string> = {
  target: 'it did',
  load: 'the load CPU (dnsperf, the masters) was full',
  machine: 'both CPUs were full (other work)',
  shared: 'other work shared its CPU',
  '-': 'neither CPU was full',
};

const join = (...doubts: string[]) => doubts.filter(Boolean).join('; ');

function throughput(n: string, name: string, c: CaseResult | undefined, min: number): TargetResult {
  if (!c) return { n, name, limit: `>= ${min.toFixed(2)}`, measured: 'not run', pass: null, doubt: '' };
  const r = c.ratios.qps;
  const pass = r == null ? null : r >= min;
  const whole = (p: PeerCase) => p.max.limit === 'target';
  let doubt = '';
  if (pass === true && !whole(c.dnsmasq)) doubt = `dnsmasq did not use its whole CPU: ${LIMITED_BY[c.dnsmasq.max.limit]}`;
  if (pass === false && !whole(c.agent)) doubt = `the agent did not use its whole CPU: ${LIMITED_BY[c.agent.max.limit]}`;
  const unbound = c.unbound
    ? `; Unbound ${fmtInt(c.unbound.max.qps)} (agent/Unbound ${fmtRatio(c.agent.max.qps / c.unbound.max.qps)}, ${c.unbound.max.limit})`
    : '';
  return {
    n,
    name,
    limit: `>= ${min.toFixed(2)}`,
    measured: `${fmtRatio(r)} (${fmtInt(c.agent.max.qps)} / ${fmtInt(c.dnsmasq.max.qps)} q/s, ${c.agent.max.limit}/${c.dnsmasq.max.limit})${unbound}`,
    pass,
    doubt: join(doubt, noisy([c.agent, c.dnsmasq])),
  };
}

export function evaluateTargets(inputs: TargetInputs): TargetResult[] {
  return [...speedAndMemory(inputs), ...mastersLoad(inputs)];
}

/** One core of the agent against one core of dnsmasq, and the agent's memory. */
function speedAndMemory({ cases, pingPong, agentsStartRssKb, agentsPeakRssKb, complete }: TargetInputs): TargetResult[] {
  const byId = (id: string) => cases.find((c) => c.id === id);
  const targets: TargetResult[] = [];
  targets.push(throughput('1', 'local answers, q/s on one core, agent/dnsmasq (case 1)', byId('local'), LIMITS.localQps));
  targets.push(throughput('2', 'cached answers, q/s, agent/dnsmasq, both cached (case 2c)', byId('mesos-cache'), LIMITS.cachedQps));
  targets.push(throughput('3', 'uncached forwarding, q/s, agent/dnsmasq --all-servers (case 2)', byId('mesos'), LIMITS.uncachedQps));

  const uncached = byId('mesos');
  const cpu = uncached?.ratios.cpuFixed ?? null;
  targets.push({
    n: '4',
    name: `CPU per forwarded query at ${FIXED_QPS} q/s, agent/dnsmasq (case 2)`,
    limit: `<= ${LIMITS.cpuPerQuery.toFixed(2)}`,
    measured: uncached
      ? `${fmtRatio(cpu)} (${fmtUs(uncached.agent.fixed.cpuMsPer10k)} / ${fmtUs(uncached.dnsmasq.fixed.cpuMsPer10k)} µs)`
      : 'not run',
    pass: cpu == null ? null : cpu <= LIMITS.cpuPerQuery,
    doubt: uncached ? noisy([uncached.agent, uncached.dnsmasq]) : '',
  });

  for (const c of cases.filter((k) => k.sameAnswers)) {
    const r = c.ratios.p99;
    const lost = c.agent.fixed.p99Ms !== null && !Number.isFinite(c.agent.fixed.p99Ms);
    targets.push({
      n: `5.${c.n}`,
      name: `p99 at ${FIXED_QPS} q/s, agent/dnsmasq: ${c.id}`,
      limit: `<= ${LIMITS.p99.toFixed(2)}`,
      measured: lost ? 'over 1% lost' : `${fmtRatio(r)} (${fmtMs(c.agent.fixed.p99Ms)} / ${fmtMs(c.dnsmasq.fixed.p99Ms)} ms)`,
      pass: lost ? false : r == null ? null : r <= LIMITS.p99,
      doubt: noisy([c.agent, c.dnsmasq]),
    });
  }

  const partial = complete ? '' : 'not every case ran';
  targets.push({
    n: '6a',
    name: 'peak RSS (VmHWM) of either agent over the whole bench',
    limit: `< ${mib(LIMITS.peakRssKb)}`,
    measured: mib(agentsPeakRssKb),
    pass: agentsPeakRssKb == null ? null : agentsPeakRssKb < LIMITS.peakRssKb,
    doubt: partial,
  });
  targets.push({
    n: '6b',
    name: 'RSS of either agent after start',
    limit: `< ${mib(LIMITS.startRssKb)}`,
    measured: mib(agentsStartRssKb),
    pass: agentsStartRssKb == null ? null : agentsStartRssKb < LIMITS.startRssKb,
    doubt: '',
  });

  const added = (s: PingPong['agent'] | undefined) =>
    s?.p50Ms == null || pingPong?.master.p50Ms == null ? null : s.p50Ms - pingPong.master.p50Ms;
  const agentAdds = added(pingPong?.agent);
  const dnsmasqAdds = added(pingPong?.dnsmasq);
  const worst = Math.max(0, ...(pingPong ? [pingPong.master, pingPong.agent, pingPong.dnsmasq] : []).map((s) => s.otherWorkPct ?? 0));
  targets.push({
    n: 'p50',
    name: 'added p50 over asking the master, one query at a time (case 2 names)',
    limit: `<= dnsmasq's + ${LIMITS.addedP50Ms.toFixed(3)} ms`,
    measured: agentsAdd(agentAdds, dnsmasqAdds) ?? (pingPong ? '-' : 'not run'),
    pass: agentAdds == null || dnsmasqAdds == null ? null : agentAdds <= dnsmasqAdds + LIMITS.addedP50Ms,
    doubt: worst > NOISY_PCT ? `other work used up to ${worst.toFixed(0)}% of a CPU during its runs` : '',
  });
  return targets;
}

/** 16.x: what the agent asks of the masters, healthy and with one hung, and for a burst. */
function mastersLoad({ cases, bursts, hedgeMaxMs }: TargetInputs): TargetResult[] {
  const healthy = cases.find((c) => c.id === 'mesos');
  const hung = cases.find((c) => c.id === 'mesos-hung');
  const targets: TargetResult[] = [];
  const perQuery = healthy?.agent.max.serverQueriesPerQuery ?? null;
  targets.push({
    n: '16.1',
    name: "masters' queries per uncached client query, healthy masters (case 2)",
    limit: `<= ${LIMITS.masterQueriesPerQuery.toFixed(2)}`,
    measured: healthy ? `${fmtRatio(perQuery)} (dnsmasq --all-servers ${fmtRatio(healthy.dnsmasq.max.serverQueriesPerQuery)})` : 'not run',
    pass: perQuery === null ? null : perQuery <= LIMITS.masterQueriesPerQuery,
    doubt: '',
  });
  const p99 = (c: CaseResult | undefined) => c?.agent.fixed.p99Ms ?? null;
  const ratio = p99(hung) !== null && p99(healthy) ? p99(hung)! / p99(healthy)! : null;
  targets.push({
    n: '16.2',
    name: `p99 at ${FIXED_QPS} q/s with one master of three hung, over the healthy p99 (case 4 / case 2)`,
    limit: `<= ${LIMITS.hungP99.toFixed(2)}`,
    measured: ratio === null ? 'not run' : `${fmtRatio(ratio)} (${fmtMs(p99(hung))} / ${fmtMs(p99(healthy))} ms)`,
    pass: ratio === null ? null : ratio <= LIMITS.hungP99,
    doubt: hung && healthy ? noisy([hung.agent, healthy.agent]) : '',
  });
  // A query that asked the hung master first waits its hedge delay (at most hedgeMaxMs), then as
  // long as any query waits for a healthy one.
  const maxHung = hung?.agent.fixed.maxMs ?? null;
  const maxHealthy = healthy?.agent.fixed.maxMs ?? null;
  const bound = maxHealthy === null ? null : hedgeMaxMs + maxHealthy;
  targets.push({
    n: '16.2b',
    name: `slowest query with one master hung (case 4), at most hedge.maxMs (${hedgeMaxMs} ms) over the slowest healthy one`,
    limit: bound === null ? '-' : `<= ${fmtMs(bound)} ms`,
    measured: maxHung === null ? 'not run' : `${fmtMs(maxHung)} ms`,
    pass: maxHung === null || bound === null ? null : maxHung <= bound,
    doubt: hung ? noisy([hung.agent]) : '',
  });
  const agentBurst = bursts.find((b) => b.kind === 'agent' && b.label.includes('cache'));
  const dnsmasqBurst = bursts.find((b) => b.kind === 'dnsmasq' && b.label.includes('cache'));
  targets.push({
    n: '16.3',
    name: `a burst of ${agentBurst?.clients ?? 500} identical questions, queries sent to the masters (agent with its default cache)`,
    limit: `<= ${LIMITS.burstQueries}`,
    measured: agentBurst
      ? `${agentBurst.masterQueries ?? '-'}, ${agentBurst.lost} clients unanswered (dnsmasq, cache: ${dnsmasqBurst?.masterQueries ?? '-'})`
      : 'not run',
    pass: agentBurst?.masterQueries == null ? null : agentBurst.masterQueries <= LIMITS.burstQueries,
    doubt:
      agentBurst && agentBurst.lost > 0 ? `${agentBurst.lost} clients got no answer: their queries may never have reached the agent` : '',
  });
  return targets;
}

function agentsAdd(agent: number | null, dnsmasq: number | null): string | null {
  if (agent == null || dnsmasq == null) return null;
  return `${fmtMs(agent)} ms, dnsmasq ${fmtMs(dnsmasq)} ms: ${agent - dnsmasq >= 0 ? '+' : ''}${fmtMs(agent - dnsmasq)} ms`;
}

export function targetsText(targets: TargetResult[]): string {
  return textTable(
    undefined,
    ['', 'target', 'limit', 'measured', 'result', 'doubt'],
    targets.map((t) => [t.n, t.name, t.limit, t.measured, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL', t.doubt]),
    [0, 1, 2, 3, 4, 5],
  );
}

/** "7 of 9 targets pass (2 of them in doubt)". */
export function targetsSummary(targets: TargetResult[]): string {
  const judged = targets.filter((t) => t.pass !== null);
  const passed = judged.filter((t) => t.pass);
  const doubtful = judged.filter((t) => t.doubt);
  return `${passed.length} of ${judged.length} targets pass${doubtful.length ? `; ${doubtful.length} verdict(s) in doubt, see the last column` : ''}${
    judged.length < targets.length ? `; ${targets.length - judged.length} not measured` : ''
  }`;
}
