// Identical questions in flight share one exchange with the servers: a burst of clients asking
// one name (500 containers starting at once) sends one query upstream, and each client still
// gets its own reply shaped from the shared answer.

export class Coalescer<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** The exchange in flight for `key` (joined: true), or a new one from `start`. */
  run(key: string, start: () => Promise<T>): { result: Promise<T>; joined: boolean } {
    const waiting = this.inFlight.get(key);
    if (waiting) return { result: waiting, joined: true };
    const result = start().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return { result, joined: false };
  }

  get size(): number {
    return this.inFlight.size;
  }
}
