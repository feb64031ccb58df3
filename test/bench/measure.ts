// One dnsperf run against one target, with what it cost: the target's CPU (per 10k queries), how
// busy the load CPU was (dnsperf and the servers share it: near 100 % means the figure is the
// load side's limit, not the target's), and how many queries the target sent to the servers.
import { type DnsperfRun, type Perf, dnsperf, percentile } from '../harness/dnsperf.js';
import type { ServerQueries } from './peers.js';
import { busyPct, cpuTimes, groupsCpuSeconds, otherProcessesCpuSeconds, processTicks } from '../harness/system.js';

export interface Target {
  label: string;
  endpoint: string;
  /** CPU seconds used so far by the target, or null if unknown. */
  cpuSeconds(): number | null;
  serverQueries?(): Promise<ServerQueries>;
}

export interface Measurement extends Omit<Perf, 'latenciesMs'> {
  target: string;
  load: 'fixed' | 'max';
  targetQps: number | null;
  /** The target's CPU time during the run, seconds and % of one CPU. */
  cpuS: number | null;
  cpuPct: number | null;
  cpuMsPer10k: number | null;
  loadCpuBusyPct: number | null;
  /** The peers' CPU as a whole: above the target's own share, other processes ran there too. */
  peerCpuBusyPct: number | null;
  /** CPU used by processes the bench did not start, anywhere on the machine, % of one CPU: other people's work makes the run noisy. */
  otherWorkPct: number | null;
  /** What set an unthrottled figure, see limitOf(). */
  limit: Limit;
  serversCpuPct: number | null;
  /** Queries the target sent to masters or upstreams per query it answered. */
  serverQueriesPerQuery: number | null;
  tcpServerQueriesPerQuery: number | null;
}

/**
 * What set an unthrottled run's figure. "target": the target's CPU was full, nearly all of it
 * with the target's own work (the rest is the kernel's interrupt and softirq work for its packets,
 * charged to no process); "machine": both CPUs were full but the target had less of its own;
 * "shared": its CPU was full, much of it with something else; "load": the CPU of dnsperf and the
 * servers was full and the target's was not; "-": a fixed-rate run, or nothing was full.
 */
export type Limit = 'target' | 'machine' | 'load' | 'shared' | '-';

export function limitOf(m: Pick<Measurement, 'load' | 'cpuPct' | 'loadCpuBusyPct' | 'peerCpuBusyPct'>): Limit {
  if (m.load === 'fixed') return '-';
  const full = (pct: number | null) => (pct ?? 0) >= 95;
  const peerFull = m.peerCpuBusyPct === null ? (m.cpuPct ?? 0) >= 90 : full(m.peerCpuBusyPct);
  if (peerFull && (m.cpuPct ?? 0) >= 90) return 'target';
  if (peerFull && full(m.loadCpuBusyPct)) return 'machine';
  if (peerFull) return 'shared';
  if (full(m.loadCpuBusyPct)) return 'load';
  return '-';
}

/** dnsperf starts sending a few milliseconds after it is spawned. */
const WINDOW_SLACK_MS = 50;

/** Processes the bench did not start used this much CPU (% of one) during a run: its figures are not to be trusted. */
export const NOISY_PCT = 10;

/** A fixed-rate run whose target fell behind the rate: its latencies include queueing in dnsperf. */
export const fellBehind = (m: Pick<Measurement, 'load' | 'qps' | 'targetQps'>): boolean =>
  m.load === 'fixed' && m.targetQps !== null && m.qps < 0.95 * m.targetQps;

export interface MeasureContext {
  dnsperf: string;
  peerCpu: number | undefined;
  loadCpu: number | undefined;
  serverGroups: number[];
}

/** How many times one run is tried when dnsperf dies with its TCP bug (below). */
const DNSPERF_ATTEMPTS = 5;

/**
 * One dnsperf run and the counters around it. dnsperf 2.10 over TCP now and then dies with "failed
 * to receive packet: Bad file descriptor" while reconnecting to dnsmasq (a dnsperf bug); such a
 * run is measured again, up to DNSPERF_ATTEMPTS times, rather than ending the whole bench: on a
 * busy 2-core machine case 6t's dnsmasq run failed twice in a row in two full runs out of two.
 */
export async function measure(ctx: MeasureContext, target: Target, run: DnsperfRun): Promise<{ m: Measurement; latenciesMs: number[] }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measureOnce(ctx, target, run);
    } catch (err) {
      if (attempt >= DNSPERF_ATTEMPTS || !/failed to receive packet/.test((err as Error).message)) throw err;
      process.stdout.write('(dnsperf failed to receive a packet; measuring again) ');
    }
  }
}

/** The counters read at both ends of a run's window. */
function sample(ctx: MeasureContext, target: Target) {
  return {
    t: performance.now(),
    cpu: target.cpuSeconds(),
    servers: groupsCpuSeconds(ctx.serverGroups),
    times: cpuTimes(),
    procs: processTicks(),
  };
}

async function measureOnce(ctx: MeasureContext, target: Target, run: DnsperfRun): Promise<{ m: Measurement; latenciesMs: number[] }> {
  const q0 = target.serverQueries ? await target.serverQueries() : undefined;
  const start = sample(ctx, target);
  // The CPU figures cover the run's `seconds` of load, not dnsperf's wait for the last lost
  // queries after it (up to its timeout), when the target is idle: that wait would read as a
  // target that did not use its whole CPU.
  let end: ReturnType<typeof sample> | undefined;
  const window = setTimeout(() => (end = sample(ctx, target)), run.seconds * 1000 + WINDOW_SLACK_MS);
  let perf: Perf;
  try {
    perf = await dnsperf(ctx.dnsperf, run);
  } finally {
    clearTimeout(window);
  }
  end ??= sample(ctx, target);
  const q1 = target.serverQueries ? await target.serverQueries() : undefined;
  const wallS = (end.t - start.t) / 1000;
  const [cpu0, cpu1, servers0, servers1, times0, times1] = [start.cpu, end.cpu, start.servers, end.servers, start.times, end.times];

  const cpuS = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const answered = perf.completed;
  const perQuery = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null || answered === 0 ? null : (b - a) / answered;
  const { latenciesMs, ...rest } = perf;
  const cpuPct = cpuS === null ? null : (cpuS / wallS) * 100;
  const load = run.qps === undefined ? 'max' : 'fixed';
  const loadCpuBusyPct = ctx.loadCpu === undefined ? null : busyPct(times0, times1, ctx.loadCpu);
  const peerCpuBusyPct = ctx.peerCpu === undefined ? null : busyPct(times0, times1, ctx.peerCpu);
  return {
    latenciesMs: latenciesMs ?? [],
    m: {
      target: target.label,
      load,
      targetQps: run.qps ?? null,
      ...rest,
      cpuS,
      cpuPct,
      cpuMsPer10k: cpuS === null || answered === 0 ? null : (cpuS * 1000 * 10_000) / answered,
      loadCpuBusyPct,
      peerCpuBusyPct,
      otherWorkPct: (otherProcessesCpuSeconds(start.procs, end.procs) / wallS) * 100,
      limit: limitOf({ load, cpuPct, loadCpuBusyPct, peerCpuBusyPct }),
      serversCpuPct: ((servers1 - servers0) / wallS) * 100,
      serverQueriesPerQuery: perQuery(q0?.total, q1?.total),
      tcpServerQueriesPerQuery: perQuery(q0?.tcp, q1?.tcp),
    },
  };
}

/**
 * Several fixed-rate runs of one target as one: percentiles over every query of them all (a lost
 * query slower than any answer), counts and CPU time summed, so CPU per query is over every query
 * too, rates averaged. Three 5 s runs put 300 queries above the p99 instead of 100, which steadies
 * it: one collection pause more or less had moved the p99 of a single run by 2-4x.
 */
export function pooledRun(runs: Array<{ m: Measurement; latenciesMs: number[] }>): Measurement {
  if (runs.length === 0) throw new Error('no runs');
  const all = runs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const sum = (f: (m: Measurement) => number) => runs.reduce((t, r) => t + f(r.m), 0);
  const mean = (f: (m: Measurement) => number | null) => {
    const v = runs.map((r) => f(r.m)).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const lost = sum((m) => m.lost);
  const completed = sum((m) => m.completed);
  const cpuS = runs.some((r) => r.m.cpuS === null) ? null : sum((m) => m.cpuS!);
  return {
    ...runs[0].m,
    sent: sum((m) => m.sent),
    completed,
    lost,
    qps: mean((m) => m.qps) ?? 0,
    avgMs: mean((m) => m.avgMs),
    p50Ms: percentile(all, lost, 50),
    p90Ms: percentile(all, lost, 90),
    p99Ms: percentile(all, lost, 99),
    maxMs: all.length ? all[all.length - 1] : null,
    cpuS,
    cpuPct: mean((m) => m.cpuPct),
    cpuMsPer10k: cpuS === null || completed === 0 ? null : (cpuS * 1000 * 10_000) / completed,
    otherWorkPct: Math.max(...runs.map((r) => r.m.otherWorkPct ?? 0)),
  };
}
