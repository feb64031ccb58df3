// One simulated run: a cluster of N nodes, of which S sample nodes run the agent's forwarding code
// in full, against M simulated masters that see the load of all N (masters.ts), for a warm-up and
// then a measured window of simulated time. Returns what the table shows.
import { pino } from 'pino';
import { type Metrics, createMetrics } from '../../agent/metrics.js';
import { parseConfig } from '../../common/config/schema.js';
import type { Endpoint } from '../../common/config/endpoint.js';
import { seededRandom } from '../helpers/seeded-random.js';
import type { Scenario } from './levers.js';
import { MesosAnswers } from './mesos-answers.js';
import { SimMaster, sendToMasters } from './masters.js';
import { ClientOutcomes, SimNode } from './node.js';
import { SimClock } from './sim-clock.js';
import { Workload } from './workload.js';

export interface SimulationParams {
  nodes: number;
  /** Nodes simulated in full; the others are assumed to behave like them. */
  sample: number;
  qpsPerNode: number;
  tasksPerNode: number;
  /** Tasks per app: apps = tasks / instances, and records per answer. */
  instances: number;
  zipfExponent: number;
  /** Mesos-DNS's TTL on its answers, s. */
  ttlSec: number;
  /** The longest the agent keeps a Mesos answer: cache.mesosMaxTtlSec. */
  mesosMaxTtlSec: number;
  movesPerMinute: number;
  masters: number;
  capacityQps: number;
  rttMs: number;
  jitter: number;
  queueLimitMs: number;
  rateWindowMs: number;
  warmupSec: number;
  measureSec: number;
  seed: number;
}

export interface RunResult {
  scenario: string;
  label: string;
  nodes: number;
  sample: number;
  /** Real queries a second the whole cluster sends the masters (probes included). */
  mastersQps: number;
  /** The busiest master's, and that as a share of one Mesos-DNS's capacity. */
  busiestMasterQps: number;
  busiestShare: number;
  /** Master requests per client query, and per exchange (a miss or prefetch after coalescing). */
  perClientQuery: number;
  perExchange: number;
  hitShare: number;
  p50Ms: number;
  p99Ms: number;
  servfailShare: number;
  staleShare: number;
  /** Hedges fired per exchange. */
  hedgesPerExchange: number;
  /** Servers marked down, per sample node, over the window. */
  markedDownPerNode: number;
  /** Requests the masters dropped, of those sent them. */
  droppedShare: number;
  clientQueries: number;
  exchanges: number;
  appMoves: number;
  /** Simulated events (timers fired) and the real time the run took. */
  timersFired: number;
  wallMs: number;
}

/** One set of metrics for every run: each createMetrics starts the process's default collectors again. */
let sharedMetrics: Metrics | undefined;

async function counterTotal(c: Metrics['hedges']): Promise<number> {
  return (await c.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** A logger that only counts the servers marked down: the one line the simulation needs from ServerGroup. */
function countingLogger(onDown: () => void) {
  return pino(
    { level: 'warn' },
    {
      write(line: string) {
        if (line.includes('"msg":"server marked down"')) onDown();
      },
    },
  );
}

/** A stream of its own per purpose, so that one lever does not change another's draws. */
function stream(seed: number, purpose: number) {
  return seededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(purpose + 1, 0x85ebca6b)) >>> 0);
}

export async function simulate(p: SimulationParams, scenario: Scenario): Promise<RunResult> {
  const wallStarted = performance.now();
  const config = parseConfig({});
  const metrics = (sharedMetrics ??= createMetrics());
  const clock = new SimClock();
  const sample = Math.min(p.sample, p.nodes);
  const weight = p.nodes / sample;
  const answers = new MesosAnswers(p.instances, p.ttlSec);
  const model = {
    capacityQps: p.capacityQps,
    weight,
    rttMs: p.rttMs,
    jitter: p.jitter,
    queueLimitMs: p.queueLimitMs,
    rateWindowMs: p.rateWindowMs,
  };
  const endpoints: Endpoint[] = Array.from({ length: p.masters }, (_, i) => ({
    host: `10.0.0.${i + 1}`,
    port: config.mesos.port,
    family: 4,
  }));
  const masters = endpoints.map((e, i) => new SimMaster(`${e.host}:${e.port}`, model, clock, answers, stream(p.seed, 100 + i)));
  const workload = new Workload(
    {
      apps: (p.nodes * p.tasksPerNode) / p.instances,
      zipfExponent: p.zipfExponent,
      movesPerMinute: p.movesPerMinute,
      maxTtlSec: p.mesosMaxTtlSec,
    },
    stream(p.seed, 1),
  );
  const outcomes = new ClientOutcomes();
  let markedDown = 0;
  const log = countingLogger(() => {
    if (outcomes.counting) markedDown++;
  });
  const send = sendToMasters(masters);
  const sampleNodes = Array.from(
    { length: sample },
    (_, i) =>
      new SimNode({
        clock,
        config,
        levers: scenario.levers,
        metrics,
        log,
        masters: endpoints,
        send,
        workload,
        outcomes,
        random: stream(p.seed, 1000 + i),
        ties: stream(p.seed, 100_000 + i),
        qps: p.qpsPerNode,
      }),
  );

  workload.start(clock);
  for (const n of sampleNodes) n.start();
  const warmupEnd = p.warmupSec * 1000;
  const measureEnd = warmupEnd + p.measureSec * 1000;
  await clock.runUntil(warmupEnd);

  const counters = [metrics.hedges, metrics.coalesced, metrics.prefetches];
  const before = await Promise.all(counters.map(counterTotal));
  const movesBefore = workload.moves;
  outcomes.counting = true;
  for (const m of masters) m.counting = true;
  if (scenario.hungMaster) masters[0].hung = true;
  await clock.runUntil(measureEnd);
  outcomes.counting = false;
  for (const m of masters) m.counting = false;
  const [hedges, coalesced, prefetches] = (await Promise.all(counters.map(counterTotal))).map((v, i) => v - before[i]);
  const appMoves = workload.moves - movesBefore;

  // Queries asked in the window still get their answers: at most one timeout away.
  for (const n of sampleNodes) n.stop();
  await clock.runUntil(measureEnd + config.timeoutMs + 1);
  for (const n of sampleNodes) n.close();

  const requests = masters.reduce((sum, m) => sum + m.requests, 0);
  const dropped = masters.reduce((sum, m) => sum + m.dropped, 0);
  const busiest = Math.max(...masters.map((m) => m.requests));
  const toClusterQps = (sampleRequests: number) => (sampleRequests * weight) / p.measureSec;
  const exchanges = outcomes.forwarded - coalesced + prefetches;
  const sorted = Float64Array.from(outcomes.latencies).sort();
  const q = outcomes.queries || 1;
  return {
    scenario: scenario.id,
    label: scenario.label,
    nodes: p.nodes,
    sample,
    mastersQps: toClusterQps(requests),
    busiestMasterQps: toClusterQps(busiest),
    busiestShare: toClusterQps(busiest) / p.capacityQps,
    perClientQuery: requests / q,
    perExchange: exchanges > 0 ? requests / exchanges : 0,
    hitShare: outcomes.hits / q,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    servfailShare: outcomes.servfail / q,
    staleShare: outcomes.stale / q,
    hedgesPerExchange: exchanges > 0 ? hedges / exchanges : 0,
    markedDownPerNode: markedDown / sample,
    droppedShare: requests > 0 ? dropped / requests : 0,
    clientQueries: outcomes.queries,
    exchanges,
    appMoves,
    timersFired: clock.fired,
    wallMs: performance.now() - wallStarted,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
