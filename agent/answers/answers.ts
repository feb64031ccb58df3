// What a client gets for a question a server group answers, and why: the answer cache (a reply in
// its last tenth is refreshed in the background, so a busy name never waits for a miss); one
// exchange with the servers shared by every identical question in flight, whose usable answer
// fills the cache and the stale store; the in-flight limit; and serve-stale (RFC 8767) with its
// client-response timer. Each answer names its source, so the resolver shapes the reply from it,
// explain reports it, and the load simulation counts outcomes with this same code.
import type { Config } from '../../common/config/schema.js';
import type { Question, ScannedMessage } from '../../common/dns/wire.js';
import type { AnswerCache } from '../cache/answer-cache.js';
import type { StaleStore } from '../cache/stale-store.js';
import { type Clock, systemClock } from '../clock.js';
import type { Metrics } from '../metrics.js';
import { type HedgeGroup, hedge } from '../servers/hedge.js';
import { race } from '../servers/race.js';
import type { Reply } from '../transport/exchange.js';
import { Coalescer } from './coalescer.js';

/** Why a stale answer was given: every server failed, they are slower than the client-response timer, or the agent is overloaded. */
export type StaleReason = 'failed' | 'slow' | 'overloaded';

/** Where a client's answer came from; `none`: nowhere, so the client gets SERVFAIL. */
export type Answer =
  | { source: 'cache'; held: ScannedMessage }
  | { source: 'servers'; held: Reply }
  | { source: 'stale'; held: ScannedMessage & { expiredSec: number }; why: StaleReason }
  | { source: 'none'; why: 'no servers' | 'overloaded' | 'failed' };

export type AnswerConfig = Pick<Config, 'dispatch' | 'fanout' | 'timeoutMs' | 'hedge' | 'maxInflight' | 'serveStale'>;

/** Where answers are kept and how servers are asked: the resolver's state, or a simulated node's. */
export interface AnswerStores {
  config: AnswerConfig;
  cache: AnswerCache | undefined;
  stale: StaleStore | undefined;
}

export interface ForwardedQuestion {
  /** What makes two questions the same to a server (name, type, class, CD, DO). */
  key: string;
  question: Question;
  /** The longest the answer may be cached, its TTLs permitting. */
  maxTtlSec: number;
}

type AnswerMetrics = Pick<
  Metrics,
  'cacheLookups' | 'prefetches' | 'coalesced' | 'forwardedFailures' | 'forwardedDuration' | 'overload' | 'staleAnswers'
>;
export type AnswerGroup = HedgeGroup & { labels: { zone: string }; changedAt: number; name: string; servers: readonly unknown[] };

const TOO_SLOW = Symbol('too slow');

export class Answers {
  /** Client questions waiting on servers (each client counted, coalesced or not). */
  private waitingNow = 0;
  private readonly exchanges = new Coalescer<Reply | undefined>();
  private readonly staleLabels = new Map<string, { zone: string; reason: StaleReason }>();

  constructor(
    private readonly metrics: AnswerMetrics,
    private readonly clock: Clock = systemClock,
    /** Off only in the load simulation, to measure what coalescing saves. */
    private readonly coalescing = true,
  ) {}

  get waiting(): number {
    return this.waitingNow;
  }

  /** The answer to `fq` from `group`: at once when the agent has it without asking, else a promise. */
  answer(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores): Answer | Promise<Answer> {
    const hit = this.cached(fq, group, stores);
    if (hit) return { source: 'cache', held: hit };
    if (group.servers.length === 0) {
      this.metrics.forwardedFailures.inc(group.labels);
      return { source: 'none', why: 'no servers' };
    }
    // Past the limit an immediate answer beats silence (the client's resolver moves on at once).
    // The limit is reached when servers are slow or down, just when serve-stale helps most.
    if (this.waitingNow >= stores.config.maxInflight) {
      this.metrics.overload.inc();
      return this.stale(fq, group, stores, 'overloaded') ?? { source: 'none', why: 'overloaded' };
    }
    return this.forward(fq, group, stores);
  }

  /**
   * With a stale answer kept, the client gets it once the servers have taken
   * serveStale.clientTimeoutMs (RFC 8767's client-response timer), before its own resolver gives
   * up; the exchange goes on and refreshes the stores if an answer comes.
   */
  private async forward(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores): Promise<Answer> {
    this.waitingNow++;
    const started = this.clock.monotonic();
    try {
      const fetching = this.fetch(fq, group, stores);
      let reply = stores.stale?.has(fq.key) ? await this.within(fetching, stores.config.serveStale.clientTimeoutMs) : await fetching;
      if (reply === TOO_SLOW) {
        const stale = this.stale(fq, group, stores, 'slow');
        if (stale) return stale;
        reply = await fetching;
      }
      if (reply) return { source: 'servers', held: reply };
      const stale = this.stale(fq, group, stores, 'failed');
      if (stale) return stale;
      this.metrics.forwardedFailures.inc(group.labels);
      return { source: 'none', why: 'failed' };
    } finally {
      this.metrics.forwardedDuration.observe(group.labels, (this.clock.monotonic() - started) / 1000);
      this.waitingNow--;
    }
  }

  /** Serve-stale (RFC 8767): the last good answer, because the servers failed, are slow, or the agent is overloaded. */
  private stale(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores, why: StaleReason): Answer | undefined {
    const held = stores.stale?.get(fq.key, this.clock.now());
    if (!held) return undefined;
    this.metrics.staleAnswers.inc(this.staleLabel(group, why));
    return { source: 'stale', held, why };
  }

  /** The cached reply, or undefined; one in its last tenth is refreshed in the background. */
  private cached(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores): ScannedMessage | undefined {
    if (!stores.cache) return undefined;
    const hit = stores.cache.get(fq.key, this.clock.now());
    this.metrics.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    if (hit?.expiring) {
      const refresh = this.share(fq, group, stores);
      if (!refresh.joined) this.metrics.prefetches.inc(group.labels);
    }
    return hit;
  }

  /** The servers' first usable answer, shared with identical questions in flight; undefined when none came. */
  private fetch(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores): Promise<Reply | undefined> {
    const { result, joined } = this.share(fq, group, stores);
    if (joined) this.metrics.coalesced.inc(group.labels);
    return result;
  }

  /**
   * The exchange for this question: the one in flight, unless it started before the group last
   * changed (a server answering again, new servers), so that a question asked once the masters
   * are back asks them instead of waiting on requests to servers that were not answering.
   */
  private share(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores) {
    const notBefore = this.coalescing ? group.changedAt : Infinity;
    return this.exchanges.run(fq.key, () => this.ask(fq, group, stores), this.clock.now(), notBefore);
  }

  private async ask(fq: ForwardedQuestion, group: AnswerGroup, stores: AnswerStores): Promise<Reply | undefined> {
    const c = stores.config;
    const reply = await (c.dispatch === 'race'
      ? race(group, fq.question, c.fanout, c.timeoutMs)
      : hedge(group, fq.question, c.timeoutMs, c.hedge));
    if (reply) {
      const now = this.clock.now();
      stores.cache?.set(fq.key, reply.msg, reply.scan, fq.maxTtlSec, now);
      stores.stale?.set(fq.key, reply.msg, reply.scan, now);
    }
    return reply;
  }

  /** `p`'s value, or TOO_SLOW when it has not settled within `ms`. */
  private within<T>(p: Promise<T>, ms: number): Promise<T | typeof TOO_SLOW> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => resolve(TOO_SLOW), ms);
      p.then(
        (v) => {
          this.clock.clearTimeout(timer);
          resolve(v);
        },
        (err) => {
          this.clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** One labels object per group and reason. */
  private staleLabel(group: AnswerGroup, reason: StaleReason): { zone: string; reason: StaleReason } {
    const key = `${group.name}|${reason}`;
    let labels = this.staleLabels.get(key);
    if (!labels) {
      labels = { zone: group.name, reason };
      this.staleLabels.set(key, labels);
    }
    return labels;
  }
}
