// One simulated agent node: its clients' Poisson stream of Mesos lookups through the agent's own
// answer layer (Answers over a ServerGroup of the masters: the answer cache, coalescing, the
// in-flight limit, serve-stale and its client-response timer), with the simulated clock and
// masters instead of timers and sockets. Only the wire work of the resolver is left out.
import type { Logger } from 'pino';
import { AnswerCache } from '../../agent/cache/answer-cache.js';
import { StaleStore } from '../../agent/cache/stale-store.js';
import { type Answer, type AnswerStores, Answers, type ForwardedQuestion } from '../../agent/answers/answers.js';
import { ServerGroup, type SendRequest } from '../../agent/servers/server-group.js';
import type { Metrics } from '../../agent/metrics.js';
import type { Endpoint } from '../../common/config/endpoint.js';
import type { Config } from '../../common/config/schema.js';
import type { Random } from '../helpers/seeded-random.js';
import { CacheWithoutPrefetch, type Levers } from './levers.js';
import type { SimClock } from './sim-clock.js';
import type { Workload } from './workload.js';

/** What a client gets: the servers' answer (or the cache's), the stale store's, or SERVFAIL. */
type Outcome = 'answer' | 'stale' | 'servfail';
const outcomeOf = (a: Answer): Outcome => (a.source === 'stale' ? 'stale' : a.source === 'none' ? 'servfail' : 'answer');

/** What the sample nodes' clients got, over the measured window (queries issued in it). */
export class ClientOutcomes {
  counting = false;
  queries = 0;
  /** Answered from the cache. */
  hits = 0;
  /** Queries that waited on the masters (cache misses, coalesced or not). */
  forwarded = 0;
  servfail = 0;
  stale = 0;
  /** Simulated ms from query to answer; a cache hit is 0. */
  readonly latencies: number[] = [];
}

export interface NodeDeps {
  clock: SimClock;
  config: Config;
  levers: Levers;
  metrics: Metrics;
  log: Logger;
  masters: readonly Endpoint[];
  send: SendRequest;
  workload: Workload;
  outcomes: ClientOutcomes;
  /** This node's clients' own stream (arrival gaps, names), the same whatever the policy does. */
  random: Random;
  /** Another for the group's ties between equally good masters. */
  ties: Random;
  /** Lookups a second from the node's clients. */
  qps: number;
}

export class SimNode {
  readonly group: ServerGroup;
  private readonly answers: Answers;
  private readonly stores: AnswerStores;
  private stopped = false;

  constructor(private readonly deps: NodeDeps) {
    const { clock, config, levers, metrics, log } = deps;
    this.group = new ServerGroup(
      {
        name: 'mesos',
        probeName: config.mesos.domain,
        probeType: 'SOA',
        health: config.health,
        timeoutMs: config.timeoutMs,
        log,
        metrics,
        clock,
        random: deps.ties,
        send: deps.send,
      },
      deps.masters,
    );
    // Without coalescing every query has an exchange of its own, prefetches included.
    this.answers = new Answers(metrics, clock, levers.coalescing);
    const { enabled: staleOn, ...staleLimits } = config.serveStale;
    const maxEntries = config.cache.maxEntries;
    this.stores = {
      config: {
        dispatch: levers.dispatch,
        fanout: levers.dispatch === 'race' ? 2 : config.fanout,
        timeoutMs: config.timeoutMs,
        hedge: config.hedge,
        maxInflight: config.maxInflight,
        serveStale: config.serveStale,
      },
      cache: !levers.cache ? undefined : levers.prefetch ? new AnswerCache(maxEntries) : new CacheWithoutPrefetch(maxEntries),
      stale: staleOn ? new StaleStore(staleLimits) : undefined,
    };
  }

  /** Starts the clients' queries: exponential gaps, so a Poisson stream of `qps`. */
  start(): void {
    const { clock, random, qps } = this.deps;
    const arrive = () => {
      if (this.stopped) return;
      this.query(this.deps.workload.draw(random));
      clock.setTimeout(arrive, (-1000 / qps) * Math.log(1 - random()));
    };
    clock.setTimeout(arrive, (-1000 / qps) * Math.log(1 - random()));
  }

  /** No more queries; those in flight still finish. */
  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stop();
    this.group.close();
  }

  private query(fq: ForwardedQuestion): void {
    const { clock, outcomes } = this.deps;
    const counted = outcomes.counting;
    if (counted) outcomes.queries++;
    const answer = this.answers.answer(fq, this.group, this.stores);
    if (!(answer instanceof Promise)) {
      if (counted) {
        if (answer.source === 'cache') outcomes.hits++;
        this.record(outcomeOf(answer), 0);
      }
      return;
    }
    if (counted) outcomes.forwarded++;
    const started = clock.now();
    void answer.then((a) => counted && this.record(outcomeOf(a), clock.now() - started));
  }

  private record(outcome: Outcome, latencyMs: number): void {
    const { outcomes } = this.deps;
    outcomes.latencies.push(latencyMs);
    if (outcome === 'stale') outcomes.stale++;
    else if (outcome === 'servfail') outcomes.servfail++;
  }
}
