// Which servers a query goes to, best first: healthy before down, lower whole failure score first
// (a late server counts one more), ties broken at random, at most `fanout` of them, and never none
// when all are down.
import { describe, expect, test } from '@jest/globals';
import { type Candidate, chooseServers } from '../../agent/servers/policy.js';
import { seededRandom } from '../helpers/seeded-random.js';

interface S extends Candidate {
  name: string;
}
const s = (name: string, score = 0, down = false, late = false): S => ({ name, score, down, late });
const names = (list: S[]) => list.map((x) => x.name);

const always = (x: number) => () => x;

describe('order', () => {
  test('healthy servers only while any is healthy, even with a worse score', () => {
    const servers = [s('down-clean', 0, true), s('up-bad', 7)];
    expect(names(chooseServers(servers, 1, always(0)))).toEqual(['up-bad']);
    expect(names(chooseServers(servers, 1, always(0.999)))).toEqual(['up-bad']);
    // A down server is left to the background probe, even with fanout "all".
    expect(names(chooseServers(servers, 'all', always(0)))).toEqual(['up-bad']);
  });

  test('a lower whole score first', () => {
    const servers = [s('a', 2.2), s('b', 0.4), s('c', 1.0), s('d', 3.9)];
    for (const r of [always(0), always(0.5), always(0.999), seededRandom(1)]) {
      expect(names(chooseServers(servers, 'all', r))).toEqual(['b', 'c', 'a', 'd']);
      expect(names(chooseServers(servers, 2, r))).toEqual(['b', 'c']);
    }
  });

  test('a server that is late right now goes after the punctual ones, like one more failure', () => {
    const servers = [s('late', 0, false, true), s('a'), s('failed-once', 1.2)];
    for (const r of [always(0), always(0.5), always(0.999), seededRandom(3)]) {
      const order = names(chooseServers(servers, 'all', r));
      expect(order[0]).toBe('a');
      expect(order.slice(1).sort()).toEqual(['failed-once', 'late']); // the same rank: either order
    }
  });

  test('scores within the same whole number are a tie, broken at random', () => {
    const servers = [s('a', 0.3), s('b', 0.9)];
    const seen = new Set<string>();
    const rnd = seededRandom(7);
    for (let i = 0; i < 50; i++) seen.add(chooseServers(servers, 1, rnd)[0].name);
    expect([...seen].sort()).toEqual(['a', 'b']);
  });

  test('among down servers, the lower score first', () => {
    const servers = [s('a', 5, true), s('b', 1, true), s('c', 3, true)];
    expect(names(chooseServers(servers, 'all', always(0)))).toEqual(['b', 'c', 'a']);
  });
});

describe('how many', () => {
  test('fanout caps the number of servers', () => {
    const servers = [s('a'), s('b'), s('c'), s('d')];
    expect(chooseServers(servers, 2, seededRandom(3))).toHaveLength(2);
    expect(chooseServers(servers, 1, seededRandom(3))).toHaveLength(1);
  });

  test("fanout 'all' returns every healthy server, best first", () => {
    const servers = [s('a', 1), s('b', 0, true), s('c'), s('d', 2)];
    const out = chooseServers(servers, 'all', seededRandom(4));
    expect(names(out)).toEqual(['c', 'a', 'd']);
    const allDown = [s('a', 1, true), s('b', 0, true)];
    expect(names(chooseServers(allDown, 'all', seededRandom(4)))).toEqual(['b', 'a']);
  });

  test('fanout above the number of servers returns them all, once each', () => {
    const out = chooseServers([s('a'), s('b')], 5, seededRandom(5));
    expect(names(out).sort()).toEqual(['a', 'b']);
  });

  test('no servers, no choice', () => {
    expect(chooseServers([], 2)).toEqual([]);
  });

  test('when every server is down, fanout of them are still returned', () => {
    const servers = [s('a', 9, true), s('b', 2, true), s('c', 4, true)];
    const out = chooseServers(servers, 2, seededRandom(6));
    expect(names(out)).toEqual(['b', 'c']);
    expect(out.every((x) => x.down)).toBe(true);
    const one = chooseServers([s('only', 100, true)], 2, seededRandom(6));
    expect(names(one)).toEqual(['only']);
  });

  test('one healthy server and the rest down: only the healthy one', () => {
    const servers = [s('a', 0, true), s('b', 3, true), s('c', 6)];
    expect(names(chooseServers(servers, 2, seededRandom(8)))).toEqual(['c']);
  });
});

describe('random tie-break', () => {
  test('an injected random decides among equal servers', () => {
    const servers = [s('a'), s('b'), s('c')];
    const low = names(chooseServers(servers, 2, always(0)));
    const high = names(chooseServers(servers, 2, always(0.999)));
    // Fisher-Yates: always the last index keeps the order; always 0 rotates it.
    expect(high).toEqual(['a', 'b']);
    expect(low).toEqual(['b', 'c']);
    expect(low).not.toEqual(high);
  });

  test('the same random sequence gives the same choice', () => {
    const servers = [s('a'), s('b'), s('c'), s('d'), s('e')];
    expect(names(chooseServers(servers, 2, seededRandom(42)))).toEqual(names(chooseServers(servers, 2, seededRandom(42))));
  });

  test('equal servers share the load evenly', () => {
    const servers = [s('a'), s('b'), s('c')];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const rnd = seededRandom(2024);
    const rounds = 3000;
    for (let i = 0; i < rounds; i++) for (const x of chooseServers(servers, 2, rnd)) counts[x.name]++;
    for (const n of Object.keys(counts)) {
      // Each is picked 2/3 of the time: 2000 ± a generous margin.
      expect(counts[n]).toBeGreaterThan(1800);
      expect(counts[n]).toBeLessThan(2200);
    }
  });

  test('the tie-break does not override health or score', () => {
    const servers = [s('down', 0, true), s('bad', 1), s('good1'), s('good2')];
    const rnd = seededRandom(9);
    for (let i = 0; i < 100; i++) {
      expect(names(chooseServers(servers, 2, rnd)).sort()).toEqual(['good1', 'good2']);
    }
  });

  test("the caller's list is not reordered", () => {
    const servers = [s('a', 3), s('b', 0), s('c', 1)];
    chooseServers(servers, 'all', seededRandom(10));
    expect(names(servers)).toEqual(['a', 'b', 'c']);
  });
});
