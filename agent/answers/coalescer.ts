// Identical questions in flight share one exchange with the servers: a burst of clients asking
// one name (500 containers starting at once) sends one query upstream, and each client still
// gets its own reply shaped from the shared answer. An exchange started before `notBefore` is
// not joined: the caller knows something it did not (a server is answering again), and a new
// question deserves a new try. Not by age: when the servers are overloaded every exchange is old,
// and starting more of them would add to the overload.

interface Entry<T> {
  result: Promise<T>;
  startedAt: number;
}

export class Coalescer<T> {
  private readonly inFlight = new Map<string, Entry<T>>();

  /**
   * The exchange in flight for `key` when it started at or after `notBefore` (joined: true), or a
   * new one from `start`, which takes its place.
   */
  run(key: string, start: () => Promise<T>, now: number, notBefore: number): { result: Promise<T>; joined: boolean } {
    const waiting = this.inFlight.get(key);
    if (waiting && waiting.startedAt >= notBefore) return { result: waiting.result, joined: true };
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
