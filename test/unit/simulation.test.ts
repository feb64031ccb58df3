// A tiny run of the load simulation (npm run simulate), checking what a reader of its table relies
// on: with healthy masters well below capacity, hedged dispatch sends about one request per
// exchange while a race of two sends two, and turning the cache off raises the masters' load.
import { describe, expect, test } from '@jest/globals';
import { SCENARIOS } from '../simulate/levers.js';
import { defaultParams } from '../simulate/settings.js';
import { type RunResult, simulate } from '../simulate/simulation.js';

const params = { ...defaultParams(10), warmupSec: 2, measureSec: 3 };

async function run(id: string): Promise<RunResult> {
  return simulate(
    params,
    SCENARIOS.find((s) => s.id === id)!,
  );
}

describe('load simulation', () => {
  test('hedged sends at most 1.1 requests per exchange, race about 2, and no cache means more load', async () => {
    const all = await run('all');
    const race = await run('race');
    const noCache = await run('no-cache');

    for (const r of [all, race, noCache]) {
      expect(r.clientQueries).toBeGreaterThan(0.8 * params.qpsPerNode * 10 * params.measureSec);
      expect(r.servfailShare).toBe(0);
      expect(r.busiestShare).toBeLessThan(0.5);
    }
    expect(all.exchanges).toBeGreaterThan(100);
    expect(all.perExchange).toBeGreaterThanOrEqual(1);
    expect(all.perExchange).toBeLessThanOrEqual(1.1);
    expect(race.perExchange).toBeGreaterThan(1.9);
    expect(race.perExchange).toBeLessThanOrEqual(2.05);
    expect(all.hitShare).toBeGreaterThan(0.5);
    expect(noCache.hitShare).toBe(0);
    expect(noCache.mastersQps).toBeGreaterThan(1.5 * all.mastersQps);
  });

  test('the same seed gives the same run', async () => {
    const a = await run('all');
    const b = await run('all');
    const { wallMs: _a, ...first } = a;
    const { wallMs: _b, ...second } = b;
    expect(second).toEqual(first);
  });
});
