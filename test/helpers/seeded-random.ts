// A small deterministic PRNG for tests and the chaos suite: seeded, so a run can be replayed.

export type Random = () => number;

/** mulberry32: small, fast and good enough to pick mutations; seeded so runs replay. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
