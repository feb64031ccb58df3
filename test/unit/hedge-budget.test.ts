// The hedge budget: a share of the requests, with a burst for a group that has been quiet.
import { describe, expect, test } from '@jest/globals';
import { HedgeBudget } from '../../agent/servers/hedge-budget.js';

describe('hedge budget', () => {
  test('a full bucket allows a burst of hedges, then one per ten requests', () => {
    const b = new HedgeBudget(0.1, 3);
    expect([b.spend(), b.spend(), b.spend(), b.spend()]).toEqual([true, true, true, false]);
    for (let i = 0; i < 9; i++) b.earn();
    expect(b.spend()).toBe(false);
    b.earn();
    expect(b.spend()).toBe(true);
    expect(b.spend()).toBe(false);
  });

  test('under overload, where every request would be hedged, hedges stay near a tenth of the requests', () => {
    const b = new HedgeBudget(0.1, 20);
    let hedges = 0;
    for (let i = 0; i < 10_000; i++) {
      b.earn();
      if (b.spend()) {
        hedges++;
        b.earn(); // the hedge is a request too
      }
    }
    expect(hedges).toBeLessThanOrEqual(20 + 10_000 * 0.12);
    expect(hedges).toBeGreaterThan(10_000 * 0.1);
  });

  test('it never holds more than its burst', () => {
    const b = new HedgeBudget(0.5, 2);
    for (let i = 0; i < 100; i++) b.earn();
    expect([b.spend(), b.spend(), b.spend()]).toEqual([true, true, false]);
  });
});
