// Coalescing: identical questions in flight share one young exchange, and the next one after it
// settles (answered or failed), or once it is older than maxAgeMs, starts afresh.
import { describe, expect, test } from '@jest/globals';
import { Coalescer } from '../../agent/forwarding/coalescer.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('coalescer', () => {
  test('500 identical questions in flight start one exchange and all get its answer', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    let started = 0;
    const runs = Array.from({ length: 500 }, () =>
      c.run(
        'a|1|1|0|0',
        () => {
          started++;
          return d.promise;
        },
        0,
        250,
      ),
    );
    expect(started).toBe(1);
    expect(runs.filter((r) => r.joined)).toHaveLength(499);
    d.resolve('answer');
    expect(await Promise.all(runs.map((r) => r.result))).toEqual(Array(500).fill('answer'));
  });

  test('different questions do not share', () => {
    const c = new Coalescer<string>();
    const never = new Promise<string>(() => {});
    expect(c.run('a|1|1|0|0', () => never, 0, 250).joined).toBe(false);
    expect(c.run('a|28|1|0|0', () => never, 0, 250).joined).toBe(false);
    expect(c.run('a|1|1|0|1', () => never, 0, 250).joined).toBe(false);
    expect(c.size).toBe(3);
  });

  test('after an exchange settles, answered or failed, the next question starts a new one', async () => {
    const c = new Coalescer<string>();
    const first = deferred<string>();
    const a = c.run('k', () => first.promise, 0, 250);
    first.resolve('one');
    await a.result;
    const second = deferred<string>();
    const b = c.run('k', () => second.promise, 0, 250);
    expect(b.joined).toBe(false);
    second.reject(new Error('down'));
    await expect(b.result).rejects.toThrow('down');
    expect(c.size).toBe(0);
    expect(c.run('k', () => Promise.resolve('three'), 0, 250).joined).toBe(false);
  });

  test('an exchange older than maxAgeMs is not joined: the next question starts its own, and the old one still settles', async () => {
    const c = new Coalescer<string>();
    const stuck = deferred<string>();
    const old = c.run('k', () => stuck.promise, 0, 250);
    expect(c.run('k', () => stuck.promise, 249, 250).joined).toBe(true);
    const fresh = c.run('k', () => Promise.resolve('fresh'), 250, 250);
    expect(fresh.joined).toBe(false);
    expect(await fresh.result).toBe('fresh');
    // The old one settling later does not remove a newer one.
    const newer = deferred<string>();
    c.run('k', () => newer.promise, 300, 250);
    stuck.resolve('late');
    expect(await old.result).toBe('late');
    expect(c.run('k', () => newer.promise, 301, 250).joined).toBe(true);
  });
});
