// The simulated Mesos-DNS masters, each a single queue serving `capacityQps` real queries a
// second, that see the whole cluster while only S sample nodes are simulated (mean field: every
// request of a sample node stands for N/S requests, one from each node like it).
//
// Queueing delay cannot come from queueing the sample's requests themselves: each would hold a
// master for (N/S)/capacity (3 ms at 5,000 nodes), where a real query holds it 12.5 µs, and the
// lumps would show as milliseconds of wait at any load. So a master keeps a smoothed estimate of
// its utilization ρ from the work its requests stand for, and a request waits:
// - the queue's random wait below capacity, drawn from M/D/1's mean ρ / (2(1 − ρ)) × service time
//   (zero with probability 1 − ρ, else exponential), on the real service time;
// - plus a fluid backlog that grows while ρ > 1 and drains while ρ < 1;
// and is dropped (never answered, as by a full socket buffer) while the backlog exceeds the queue
// limit, so an overloaded master answers at its capacity and loses the rest.
import { ExchangeError, type Reply } from '../../agent/transport/exchange.js';
import type { SendRequest } from '../../agent/servers/server-group.js';
import type { Question } from '../../common/dns/wire.js';
import type { Random } from '../helpers/seeded-random.js';
import type { MesosAnswers } from './mesos-answers.js';
import type { SimClock } from './sim-clock.js';

export interface MasterModel {
  /** Real queries a second one Mesos-DNS answers. */
  capacityQps: number;
  /** Real queries each simulated request stands for: N / S. */
  weight: number;
  /** Round trip on the network, ms, before any queueing; varied ±jitter (a fraction) per request. */
  rttMs: number;
  jitter: number;
  /** Queued work, ms, past which a master drops what arrives. */
  queueLimitMs: number;
  /** The time constant of the utilization estimate, ms. */
  rateWindowMs: number;
}

/** The utilization the random wait is computed at when at or over capacity (the backlog carries the rest). */
const MAX_RHO = 0.99;

export class SimMaster {
  /** Never answers (a hung process: its socket open, nothing read). */
  hung = false;
  /** Requests and drops while counting (the measured window); probes included. */
  requests = 0;
  dropped = 0;
  counting = false;
  private rho = 0;
  private backlogMs = 0;
  private updatedAt = 0;
  private readonly serviceMs: number;
  private readonly workMs: number;

  constructor(
    readonly address: string,
    private readonly model: MasterModel,
    private readonly clock: SimClock,
    private readonly answers: MesosAnswers,
    private readonly random: Random,
  ) {
    this.serviceMs = 1000 / model.capacityQps;
    this.workMs = model.weight * this.serviceMs;
    this.updatedAt = clock.now();
  }

  /** One request: the reply when it arrives before `deadline`, else a timeout at the deadline, as the exchange gives. */
  request(q: Question, deadline: number): Promise<Reply> {
    const now = this.clock.now();
    if (this.counting) this.requests++;
    this.advance(now);
    if (this.hung || this.backlogMs > this.model.queueLimitMs) {
      if (!this.hung && this.counting) this.dropped++;
      return this.timeoutAt(deadline);
    }
    const wait = this.backlogMs + this.randomWait();
    this.rho += this.workMs / this.model.rateWindowMs;
    const rtt = this.model.rttMs * (1 + this.model.jitter * (2 * this.random() - 1));
    const at = now + wait + this.serviceMs + rtt;
    if (at >= deadline) return this.timeoutAt(deadline);
    const reply = this.answers.replyTo(q.wire);
    return new Promise((resolve) => this.clock.setTimeout(() => resolve(reply), at - now));
  }

  private timeoutAt(deadline: number): Promise<Reply> {
    return new Promise((_, reject) =>
      this.clock.setTimeout(
        () => reject(new ExchangeError('timeout', 'udp', 'no reply before the deadline')),
        Math.max(0, deadline - this.clock.now()),
      ),
    );
  }

  /** Moves the estimate and the backlog to `now`: ρ decays exponentially, the backlog gains ∫(ρ − 1) dt. */
  private advance(now: number): void {
    const dt = now - this.updatedAt;
    if (dt <= 0) return;
    this.updatedAt = now;
    const tau = this.model.rateWindowMs;
    const decay = Math.exp(-dt / tau);
    const work = this.rho * tau * (1 - decay);
    this.backlogMs = Math.max(0, this.backlogMs + work - dt);
    this.rho *= decay;
  }

  /** M/D/1's wait at the current utilization: zero while the server is idle (probability 1 − ρ), else exponential. */
  private randomWait(): number {
    const rho = Math.min(this.rho, MAX_RHO);
    if (rho <= 0 || this.random() >= rho) return 0;
    const mean = (rho / (2 * (1 - rho))) * this.serviceMs;
    return (-mean / rho) * Math.log(1 - this.random());
  }
}

/** The agent's `send`: a request to the simulated master at the server's address. */
export function sendToMasters(masters: readonly SimMaster[]): SendRequest {
  const byAddress = new Map(masters.map((m) => [m.address, m]));
  return (server, q, deadline) => byAddress.get(server.address)!.request(q, deadline);
}
