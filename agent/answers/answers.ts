// What a forwarded question gets from a group's servers, through the answer cache: a cached reply
// (refreshed in the background when asked for in its last tenth, so a busy name never waits for
// a miss), or one exchange shared by every identical question in flight, whose usable answer
// fills the cache and the stale store. The resolver and the load simulation both run this.
import type { Question, ScannedMessage } from '../../common/dns/wire.js';
import type { AnswerCache } from '../cache/answer-cache.js';
import type { StaleStore } from '../cache/stale-store.js';
import type { Metrics } from '../metrics.js';
import { type Clock, systemClock } from '../clock.js';
import { Coalescer } from './coalescer.js';
import { type DispatchConfig, dispatch } from './dispatch.js';
import type { Reply } from '../transport/exchange.js';
import type { HedgeGroup } from '../servers/hedge.js';

/** Where answers are kept and how servers are asked: the resolver's state, or the simulation's. */
export interface AnswerStores {
  config: DispatchConfig;
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

type AnswerMetrics = Pick<Metrics, 'cacheLookups' | 'prefetches' | 'coalesced'>;
type Group = HedgeGroup & { labels: { zone: string }; changedAt: number };

export class ServerAnswers {
  private readonly inFlight = new Coalescer<Reply | undefined>();

  constructor(
    private readonly metrics: AnswerMetrics,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The cached reply, or undefined; one in its last tenth is refreshed in the background. */
  cached(fq: ForwardedQuestion, group: Group, stores: AnswerStores): ScannedMessage | undefined {
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
  fetch(fq: ForwardedQuestion, group: Group, stores: AnswerStores): Promise<Reply | undefined> {
    const { result, joined } = this.share(fq, group, stores);
    if (joined) this.metrics.coalesced.inc(group.labels);
    return result;
  }

  /**
   * The exchange for this question: the one in flight, unless it started before the group last
   * changed (a server answering again, new servers), so that a question asked once the masters
   * are back asks them instead of waiting on requests to servers that were not answering.
   */
  private share(fq: ForwardedQuestion, group: Group, stores: AnswerStores) {
    return this.inFlight.run(fq.key, () => this.ask(fq, group, stores), this.clock.now(), group.changedAt);
  }

  /** Exchanges in flight: questions waiting on servers, each counted once however many clients share it. */
  get pending(): number {
    return this.inFlight.size;
  }

  private async ask(fq: ForwardedQuestion, group: Group, stores: AnswerStores): Promise<Reply | undefined> {
    const reply = await dispatch(group, fq.question, stores.config);
    if (reply) {
      const now = this.clock.now();
      stores.cache?.set(fq.key, reply.msg, reply.scan, fq.maxTtlSec, now);
      stores.stale?.set(fq.key, reply.msg, reply.scan, now);
    }
    return reply;
  }
}
