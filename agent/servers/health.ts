// Health of one server. Failures add to a score that halves every halfLifeMs, so a server that
// failed once long ago is trusted again (dcos-dns kept a lifetime counter and shunned such
// servers until restart). Consecutive failures mark a server down; one success brings it back.
// A failing server is probed in the background (server-group.ts), and the probes' outcomes count
// here as queries' do: clients' queries avoid a server that failed, so they alone would take
// minutes to prove it down.
import type { HealthConfig } from '../../common/config/schema.js';

export type Transition = 'down' | 'up' | undefined;

export class ServerHealth {
  private score = 0;
  private scoreAt = 0;
  consecutiveFailures = 0;
  down = false;
  /** Smoothed round-trip time of usable answers, ms (undefined until the first one). */
  rttMs: number | undefined;
  /** How much the round-trip time varies (RTTVAR), ms. */
  rttVarMs: number | undefined;
  /** Queries waiting on this server past its hedge delay: while any is, it is late. */
  private lateQueries = 0;
  successes = 0;
  failures = 0;
  lastFailure: string | undefined;
  /** When it last failed (ms since the epoch), for `phalanx-dns status`. */
  lastFailureAt: number | undefined;

  constructor(private readonly cfg: HealthConfig) {}

  /** A query waits on it past its hedge delay. */
  get late(): boolean {
    return this.lateQueries > 0;
  }
  /** A query began waiting on it past its hedge delay (hedging); ended when it settles. */
  lateBegan(): void {
    this.lateQueries++;
  }
  lateEnded(): void {
    this.lateQueries--;
  }

  /** Its last query or probe failed: down, or on its way there unless a probe gets an answer. */
  get failing(): boolean {
    return this.consecutiveFailures > 0;
  }

  failureScore(now: number): number {
    if (this.score === 0) return 0;
    return this.score * Math.pow(0.5, (now - this.scoreAt) / this.cfg.halfLifeMs);
  }

  recordSuccess(rttMs: number): Transition {
    this.successes++;
    this.consecutiveFailures = 0;
    // SRTT and RTTVAR as TCP keeps them (RFC 6298 §2): weights 1/8 and 1/4.
    if (this.rttMs === undefined || this.rttVarMs === undefined) {
      this.rttMs = rttMs;
      this.rttVarMs = rttMs / 2;
    } else {
      this.rttVarMs += (Math.abs(this.rttMs - rttMs) - this.rttVarMs) / 4;
      this.rttMs += (rttMs - this.rttMs) / 8;
    }
    if (this.down) {
      this.down = false;
      return 'up';
    }
    return undefined;
  }

  /**
   * How long a query waits for this server before the next one is asked too: SRTT + 4 × RTTVAR,
   * TCP's retransmission timeout (RFC 6298 §2), which a healthy server's answers rarely exceed;
   * within [minMs, maxMs], and maxMs until it has answered once.
   */
  hedgeDelayMs(minMs: number, maxMs: number): number {
    if (this.rttMs === undefined || this.rttVarMs === undefined) return maxMs;
    return Math.min(maxMs, Math.max(minMs, this.rttMs + 4 * this.rttVarMs));
  }

  /** A background probe got an answer: alive again, without touching the RTT estimate. */
  recordProbeSuccess(): Transition {
    this.consecutiveFailures = 0;
    if (!this.down) return undefined;
    this.down = false;
    return 'up';
  }

  recordFailure(reason: string, now: number): Transition {
    this.failures++;
    this.lastFailure = reason;
    this.lastFailureAt = now;
    this.score = this.failureScore(now) + 1;
    this.scoreAt = now;
    this.consecutiveFailures++;
    if (!this.down && this.consecutiveFailures >= this.cfg.downAfterFailures) {
      this.down = true;
      return 'down';
    }
    return undefined;
  }
}
