// Health of one server: consecutive failures mark it down, one success brings it back, and the
// failure score decays with a half-life (dcos-dns never forgot a failure).
import { describe, expect, test } from '@jest/globals';
import type { HealthConfig } from '../../common/config/schema.js';
import { ServerHealth } from '../../agent/servers/health.js';

const cfg: HealthConfig = { halfLifeMs: 1000, downAfterFailures: 3, probeIntervalMs: 100 };

describe('up and down', () => {
  test('a new server is up with no failures', () => {
    const h = new ServerHealth(cfg);
    expect(h.down).toBe(false);
    expect(h.failureScore(0)).toBe(0);
    expect(h.failureScore(1_000_000)).toBe(0);
    expect(h.rttMs).toBeUndefined();
  });

  test('marked down after downAfterFailures consecutive failures, exactly once', () => {
    const h = new ServerHealth(cfg);
    expect(h.recordFailure('timeout', 0)).toBeUndefined();
    expect(h.down).toBe(false);
    expect(h.recordFailure('timeout', 10)).toBeUndefined();
    expect(h.down).toBe(false);
    expect(h.recordFailure('rcode_SERVFAIL', 20)).toBe('down');
    expect(h.down).toBe(true);
    expect(h.consecutiveFailures).toBe(3);
    expect(h.lastFailure).toBe('rcode_SERVFAIL');
    // Already down: no second transition.
    expect(h.recordFailure('timeout', 30)).toBeUndefined();
    expect(h.down).toBe(true);
    expect(h.failures).toBe(4);
  });

  test('downAfterFailures 1: the first failure marks it down', () => {
    const h = new ServerHealth({ ...cfg, downAfterFailures: 1 });
    expect(h.recordFailure('network', 0)).toBe('down');
  });

  test('failures that are not consecutive do not mark it down', () => {
    const h = new ServerHealth(cfg);
    h.recordFailure('timeout', 0);
    h.recordFailure('timeout', 1);
    expect(h.recordSuccess(5)).toBeUndefined();
    expect(h.consecutiveFailures).toBe(0);
    expect(h.recordFailure('timeout', 2)).toBeUndefined();
    expect(h.recordFailure('timeout', 3)).toBeUndefined();
    expect(h.down).toBe(false);
    expect(h.recordFailure('timeout', 4)).toBe('down');
  });

  test("one success brings a down server back: 'up'", () => {
    const h = new ServerHealth(cfg);
    for (let i = 0; i < 3; i++) h.recordFailure('timeout', i);
    expect(h.down).toBe(true);
    expect(h.recordSuccess(12)).toBe('up');
    expect(h.down).toBe(false);
    expect(h.consecutiveFailures).toBe(0);
    expect(h.successes).toBe(1);
    // A second success is no transition.
    expect(h.recordSuccess(12)).toBeUndefined();
  });

  test("a probe success brings a down server back: 'up'; on an up server it is no transition", () => {
    const h = new ServerHealth(cfg);
    expect(h.recordProbeSuccess()).toBeUndefined();
    for (let i = 0; i < 3; i++) h.recordFailure('timeout', i);
    expect(h.recordProbeSuccess()).toBe('up');
    expect(h.down).toBe(false);
    expect(h.consecutiveFailures).toBe(0);
    // It needs downAfterFailures fresh failures to go down again.
    expect(h.recordFailure('timeout', 10)).toBeUndefined();
    expect(h.recordFailure('timeout', 11)).toBeUndefined();
    expect(h.recordFailure('timeout', 12)).toBe('down');
  });
});

describe('failure score', () => {
  test('halves every halfLifeMs', () => {
    const h = new ServerHealth(cfg);
    h.recordFailure('timeout', 5000);
    expect(h.failureScore(5000)).toBeCloseTo(1, 10);
    expect(h.failureScore(6000)).toBeCloseTo(0.5, 10);
    expect(h.failureScore(7000)).toBeCloseTo(0.25, 10);
    expect(h.failureScore(5500)).toBeCloseTo(Math.SQRT1_2, 10);
    expect(h.failureScore(5000 + 10 * 1000)).toBeCloseTo(1 / 1024, 10);
  });

  test('failures add up, each decayed from when it happened', () => {
    const h = new ServerHealth(cfg);
    h.recordFailure('timeout', 0);
    h.recordFailure('timeout', 1000); // 0.5 left of the first + 1
    expect(h.failureScore(1000)).toBeCloseTo(1.5, 10);
    expect(h.failureScore(2000)).toBeCloseTo(0.75, 10);
    h.recordFailure('timeout', 2000);
    expect(h.failureScore(2000)).toBeCloseTo(1.75, 10);
    expect(h.failureScore(4000)).toBeCloseTo(1.75 / 4, 10);
  });

  test('the half-life comes from the config', () => {
    const h = new ServerHealth({ ...cfg, halfLifeMs: 30_000 });
    h.recordFailure('timeout', 0);
    expect(h.failureScore(1000)).toBeGreaterThan(0.97);
    expect(h.failureScore(30_000)).toBeCloseTo(0.5, 10);
  });

  test('an old failure is forgiven: the score falls below one whole failure', () => {
    const h = new ServerHealth(cfg);
    for (let i = 0; i < 5; i++) h.recordFailure('timeout', 0);
    expect(h.failureScore(0)).toBeCloseTo(5, 10);
    expect(h.failureScore(3000)).toBeLessThan(1);
  });
});

describe('round-trip time', () => {
  test('the first answer sets it, later ones move it by 1/8', () => {
    const h = new ServerHealth(cfg);
    h.recordSuccess(100);
    expect(h.rttMs).toBe(100);
    h.recordSuccess(20);
    expect(h.rttMs).toBe(90);
  });

  test('recordProbeSuccess does not change rttMs', () => {
    const h = new ServerHealth(cfg);
    h.recordProbeSuccess();
    expect(h.rttMs).toBeUndefined();
    h.recordSuccess(40);
    for (let i = 0; i < 3; i++) h.recordFailure('timeout', i);
    h.recordProbeSuccess();
    expect(h.rttMs).toBe(40);
  });
});

describe('the hedge delay', () => {
  test('the maximum until the server has answered once', () => {
    expect(new ServerHealth(cfg).hedgeDelayMs(5, 250)).toBe(250);
  });

  test("SRTT + 4 × RTTVAR, TCP's retransmission timeout (RFC 6298), within the bounds", () => {
    const h = new ServerHealth(cfg);
    h.recordSuccess(10); // SRTT 10, RTTVAR 5
    expect(h.hedgeDelayMs(1, 1000)).toBe(30);
    h.recordSuccess(20); // RTTVAR 5 + (10 - 5) / 4 = 6.25, then SRTT 10 + 10 / 8 = 11.25
    expect(h.hedgeDelayMs(1, 1000)).toBeCloseTo(11.25 + 4 * 6.25);
    expect(h.hedgeDelayMs(50, 1000)).toBe(50);
    expect(h.hedgeDelayMs(1, 20)).toBe(20);
  });

  test('steady answers bring it down to the minimum', () => {
    const h = new ServerHealth(cfg);
    for (let i = 0; i < 100; i++) h.recordSuccess(0.3);
    expect(h.hedgeDelayMs(5, 250)).toBe(5);
  });
});
