// Random 16-bit values for query IDs and socket choice, drawn from the CSPRNG a few thousand at
// a time: one randomInt call per query costs more than the rest of picking an ID (RFC 5452 wants
// the ID unpredictable, so Math.random will not do).
import { randomFillSync } from 'node:crypto';

export class RandomWords {
  private readonly words = new Uint16Array(4096);
  private next = this.words.length;

  take(): number {
    if (this.next === this.words.length) {
      randomFillSync(this.words);
      this.next = 0;
    }
    return this.words[this.next++];
  }

  /** A random ID that no pending query in `pending` uses. */
  unusedIn(pending: ReadonlyMap<number, unknown>): number {
    let id = this.take();
    while (pending.has(id)) id = this.take();
    return id;
  }
}
