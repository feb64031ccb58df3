// Health of one server. Failures add to a score that halves every halfLifeMs, so a server that
// failed once long ago is trusted again (dcos-dns kept a lifetime counter and shunned such
// servers until restart). Consecutive failures mark a server down; one success brings it back.
import type { HealthConfig } from '../../common/config/schema.js';

export type Transition = 'down' | 'up' | undefined;

export class ServerHealth {
  private score = 0;
  private scoreAt = 0;
  consecutiveFailures = 0;
  down = false;
  /** Smoothed round-trip time of usable answers, ms (undefined until the first one). */
  rttMs: number | undefined;
  successes = 0;
  failures = 0;
  lastFailure: string | undefined;

  constructor(private readonly cfg: HealthConfig) {}

  failureScore(now: number): number {
    if (this.score === 0) return 0;
    return this.score * Math.pow(0.5, (now - this.scoreAt) / this.cfg.halfLifeMs);
  }

  recordSuccess(rttMs: number): Transition {
    this.successes++;
    this.consecutiveFailures = 0;
    // EWMA with weight 1/8, as TCP's SRTT (RFC 6298).
    this.rttMs = this.rttMs === undefined ? rttMs : this.rttMs + (rttMs - this.rttMs) / 8;
    if (this.down) {
      this.down = false;
      return 'up';
    }
    return undefined;
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
