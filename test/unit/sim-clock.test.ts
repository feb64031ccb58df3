// The load simulation's clock: timers fire in time order (ties in the order set), a cleared timer
// never fires, intervals repeat until cleared, and every promise continuation a timer causes runs
// at that timer's time, before the clock moves on.
import { describe, expect, test } from '@jest/globals';
import { SimClock } from '../simulate/sim-clock.js';

describe('simulated clock', () => {
  test('timers fire in time order, ties in the order they were set, each at its own time', async () => {
    const clock = new SimClock();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 30);
    clock.setTimeout(at('a'), 10);
    clock.setTimeout(at('b1'), 20);
    clock.setTimeout(at('b2'), 20);
    clock.setTimeout(at('late'), 101);
    await clock.runUntil(100);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(100);
    await clock.runUntil(200);
    expect(fired.at(-1)).toBe('late@101');
  });

  test('clearTimeout cancels, before or after others fire', async () => {
    const clock = new SimClock();
    const fired: string[] = [];
    const a = clock.setTimeout(() => fired.push('a'), 10);
    const b = clock.setTimeout(() => fired.push('b'), 30);
    clock.setTimeout(() => clock.clearTimeout(b), 20);
    clock.clearTimeout(a);
    clock.clearTimeout(undefined);
    await clock.runUntil(100);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  test('an interval repeats until cleared, from inside its own callback too', async () => {
    const clock = new SimClock();
    const times: number[] = [];
    const every = clock.setInterval(() => {
      times.push(clock.now());
      if (times.length === 4) clock.clearInterval(every);
    }, 25);
    await clock.runUntil(1000);
    expect(times).toEqual([25, 50, 75, 100]);
  });

  test('promise continuations run before time advances, and see the time of their cause', async () => {
    const clock = new SimClock();
    const seen: string[] = [];
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const chain = async () => {
      await sleep(10);
      await Promise.resolve();
      await Promise.resolve();
      seen.push(`chain@${clock.now()}`);
      // A timer set from a continuation counts from the continuation's time.
      await sleep(5);
      seen.push(`again@${clock.now()}`);
    };
    void chain();
    clock.setTimeout(() => seen.push(`next@${clock.now()}`), 11);
    await clock.runUntil(50);
    expect(seen).toEqual(['chain@10', 'next@11', 'again@15']);
  });

  test('a timer that sets itself again at once is stopped by the bound', async () => {
    const clock = new SimClock(0, 1000);
    const spin = () => clock.setTimeout(spin, 0);
    spin();
    await expect(clock.runUntil(10)).rejects.toThrow(/more than 1000 timers/);
  });
});
