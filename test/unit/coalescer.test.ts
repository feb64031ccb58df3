// Coalescing: identical questions in flight share one exchange, and the next one after it settles
// (answered or failed), or once the caller knows more than it did (notBefore), starts afresh.
import { describe, expect, test } from '@jest/globals';
import { Coalescer } from '../../agent/answers/coalescer.js';

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
        0,
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
    expect(c.run('a|1|1|0|0', () => never, 0, 0).joined).toBe(false);
    expect(c.run('a|28|1|0|0', () => never, 0, 0).joined).toBe(false);
    expect(c.run('a|1|1|0|1', () => never, 0, 0).joined).toBe(false);
    expect(c.size).toBe(3);
  });

  test('after an exchange settles, answered or failed, the next question starts a new one', async () => {
    const c = new Coalescer<string>();
    const first = deferred<string>();
    const a = c.run('k', () => first.promise, 0, 0);
    first.resolve('one');
    await a.result;
    const second = deferred<string>();
    const b = c.run('k', () => second.promise, 0, 0);
    expect(b.joined).toBe(false);
    second.reject(new Error('down'));
    await expect(b.result).rejects.toThrow('down');
    expect(c.size).toBe(0);
    expect(c.run('k', () => Promise.resolve('three'), 0, 0).joined).toBe(false);
  });

  test('however old, an exchange is joined; one started before notBefore is not, and its late end leaves the new one', async () => {
    const c = new Coalescer<string>();
    const stuck = deferred<string>();
    const old = c.run('k', () => stuck.promise, 0, 0);
    // Overloaded servers make every exchange old: joining still, rather than adding exchanges.
    expect(c.run('k', () => stuck.promise, 60_000, 0).joined).toBe(true);
    // A server answers again at 100: questions from then on start their own.
    const newer = deferred<string>();
    const fresh = c.run('k', () => newer.promise, 150, 100);
    expect(fresh.joined).toBe(false);
    expect(c.run('k', () => newer.promise, 160, 100).joined).toBe(true);
    stuck.resolve('late');
    expect(await old.result).toBe('late');
    expect(c.run('k', () => newer.promise, 170, 100).joined).toBe(true);
    newer.resolve('fresh');
    expect(await fresh.result).toBe('fresh');
  });
});
