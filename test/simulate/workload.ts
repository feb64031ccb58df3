// What the cluster's clients ask: Mesos names of the cluster's apps, by a Zipf law over the apps'
// popularity ranks (a few apps, the databases and gateways, take most lookups), while apps move:
// a fraction of them per minute is redeployed under a new name, which every node's cache misses.
// The app list is the cluster's, shared by every node; each node draws from its own random stream
// so that every lever turned off sees the same queries at the same times.
import type { ForwardedQuestion } from '../../agent/answers/answers.js';
import type { Random } from '../helpers/seeded-random.js';
import { appName, questionFor } from './mesos-answers.js';
import type { SimClock } from './sim-clock.js';

export interface WorkloadModel {
  apps: number;
  zipfExponent: number;
  /** Fraction of the apps that move (get a new name) each minute. */
  movesPerMinute: number;
  /** The longest the agent keeps a Mesos answer (cache.mesosMaxTtlSec). */
  maxTtlSec: number;
}

/** How often moves are applied: often enough that they look continuous next to a 2 s cache. */
const MOVE_TICK_MS = 100;

export class Workload {
  /** The app at each popularity rank (0 the most popular), by id. */
  private readonly appAtRank: Int32Array;
  /** Cumulative Zipf weights by rank, normalized to end at 1. */
  private readonly cdf: Float64Array;
  private readonly questions = new Map<number, ForwardedQuestion>();
  private nextId: number;
  private moveCredit = 0;
  moves = 0;

  constructor(
    private readonly model: WorkloadModel,
    private readonly random: Random,
  ) {
    const n = Math.max(1, Math.round(model.apps));
    this.appAtRank = Int32Array.from({ length: n }, (_, i) => i);
    this.nextId = n;
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cdf[i] = sum += 1 / Math.pow(i + 1, model.zipfExponent);
    for (let i = 0; i < n; i++) this.cdf[i] /= sum;
  }

  get apps(): number {
    return this.appAtRank.length;
  }

  /** Starts moving apps on `clock`: each tick replaces its share of apps at random ranks by new ones. */
  start(clock: SimClock): void {
    const perTick = (this.apps * this.model.movesPerMinute * MOVE_TICK_MS) / 60_000;
    if (perTick <= 0) return;
    clock.setInterval(() => {
      this.moveCredit += perTick;
      for (; this.moveCredit >= 1; this.moveCredit--) {
        // The new app takes the old one's popularity: the same service, redeployed under another name.
        this.appAtRank[Math.floor(this.random() * this.apps)] = this.nextId++;
        this.moves++;
      }
    }, MOVE_TICK_MS);
  }

  /** One lookup, drawn with a node's own random stream. */
  draw(random: Random): ForwardedQuestion {
    const u = random();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return this.question(this.appAtRank[lo]);
  }

  /** The question for app `id`, as the resolver builds it (the same key form: name, type, class, CD, DO). */
  private question(id: number): ForwardedQuestion {
    let fq = this.questions.get(id);
    if (!fq) {
      const name = appName(id);
      fq = { key: `${name}|1|1|0|0`, question: questionFor(name), maxTtlSec: this.model.maxTtlSec };
      this.questions.set(id, fq);
    }
    return fq;
  }
}
