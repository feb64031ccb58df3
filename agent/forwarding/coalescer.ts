// Identical questions in flight share one exchange with the servers: a burst of clients asking
// one name (500 containers starting at once) sends one query upstream, and each client still
// gets its own reply shaped from the shared answer. Only a young exchange is joined: one that has
// waited longer than `maxAgeMs` is on servers that did not answer, and a new question deserves
// a new try (a server may be back).

interface Entry<T> {
  result: Promise<T>;
  startedAt: number;
}

export class Coalescer<T> {
  private readonly inFlight = new Map<string, Entry<T>>();

  /**
   * The exchange in flight for `key` when it started less than `maxAgeMs` before `now`
   * (joined: true), or a new one from `start`, which takes its place.
   */
  run(key: string, start: () => Promise<T>, now: number, maxAgeMs: number): { result: Promise<T>; joined: boolean } {
    const waiting = this.inFlight.get(key);
    if (waiting && now - waiting.startedAt < maxAgeMs) return { result: waiting.result, joined: true };
    const entry: Entry<T> = {
      result: start().finally(() => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      }),
      startedAt: now,
    };
    this.inFlight.set(key, entry);
    return { result: entry.result, joined: false };
  }

  get size(): number {
    return this.inFlight.size;
  }
}
