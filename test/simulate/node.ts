// One simulated agent node: its clients' Poisson stream of Mesos lookups through the agent's own
// forwarding code (ServerAnswers over a ServerGroup of the masters, the answer cache, the stale
// store), with the simulated clock and masters instead of timers and sockets. The few steps the
// resolver takes around ServerAnswers (the maxInflight limit, serve-stale and its client-response
// timer, SERVFAIL) are the resolver's answerNow and forward, restated without the wire work.
import type { Logger } from 'pino';
import { AnswerCache } from '../../agent/cache/answer-cache.js';
import { StaleStore } from '../../agent/cache/stale-store.js';
import { type AnswerStores, type ForwardedQuestion, ServerAnswers } from '../../agent/answers/answers.js';
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

/** What the sample nodes' clients got, over the measured window (queries issued in it). */
export class ClientOutcomes {
  counting = false;
  queries = 0;
  /** Answered from the cache. */
  hits = 0;
  /** Queries handed to ServerAnswers.fetch (cache misses, coalesced or not). */
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
  private readonly answers: ServerAnswers;
  private readonly stores: AnswerStores;
  private inflight = 0;
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
        pools: undefined as never,
        clock,
        random: deps.ties,
        send: deps.send,
      },
      deps.masters,
    );
    this.answers = new ServerAnswers(metrics, clock);
    const { enabled: staleOn, ...staleLimits } = config.serveStale;
    const maxEntries = config.cache.maxEntries;
    this.stores = {
      config: {
        dispatch: levers.dispatch,
        fanout: levers.dispatch === 'race' ? 2 : config.fanout,
        timeoutMs: config.timeoutMs,
        hedge: config.hedge,
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
    const { clock, config, levers, outcomes } = this.deps;
    const counted = outcomes.counting;
    if (counted) outcomes.queries++;
    // Without coalescing every query has an exchange of its own, prefetches included.
    const answers = levers.coalescing ? this.answers : new ServerAnswers(this.deps.metrics, clock);
    if (answers.cached(fq, this.group, this.stores)) {
      if (counted) {
        outcomes.hits++;
        this.record('answer', 0);
      }
      return;
    }
    // Past the limit the resolver answers at once: the stale answer, else SERVFAIL.
    if (this.inflight >= config.maxInflight) {
      if (counted) this.record(this.staleOrServfail(fq), 0);
      return;
    }
    if (counted) outcomes.forwarded++;
    const started = clock.now();
    this.inflight++;
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      this.inflight--;
      if (counted) this.record(outcome, clock.now() - started);
    };
    // The client-response timer (RFC 8767): with a stale answer kept, the client gets it once the
    // servers have taken serveStale.clientTimeoutMs; the exchange goes on.
    const timer = this.stores.stale?.has(fq.key)
      ? clock.setTimeout(() => {
          if (this.stores.stale?.get(fq.key, clock.now())) finish('stale');
        }, config.serveStale.clientTimeoutMs)
      : undefined;
    void answers.fetch(fq, this.group, this.stores).then((reply) => {
      clock.clearTimeout(timer);
      finish(reply ? 'answer' : this.staleOrServfail(fq));
    });
  }

  private staleOrServfail(fq: ForwardedQuestion): Outcome {
    return this.stores.stale?.get(fq.key, this.deps.clock.now()) ? 'stale' : 'servfail';
  }

  private record(outcome: Outcome, latencyMs: number): void {
    const { outcomes } = this.deps;
    outcomes.latencies.push(latencyMs);
    if (outcome === 'stale') outcomes.stale++;
    else if (outcome === 'servfail') outcomes.servfail++;
  }
}
