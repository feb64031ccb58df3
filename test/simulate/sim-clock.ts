// A Clock (agent/clock.ts) on a discrete-event queue, so the agent's own policy code
// runs minutes of simulated time in seconds. Timers sit in a binary heap ordered by due time (then
// by creation, so timers due together fire in the order they were set); the run loop pops the
// earliest, moves time there, fires it, and lets every promise continuation it caused run before
// the next: the policy code is promise-based, and a continuation must see the time its cause
// happened at.
import type { Clock, Timer } from '../../agent/clock.js';

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  /** The period of an interval; undefined for a one-shot timer. */
  everyMs: number | undefined;
  cancelled: boolean;
}

/** An interval shorter than this would let one timer spin the loop without time moving. */
const MIN_INTERVAL_MS = 0.001;

/**
 * Calls `fn` once every promise continuation queued so far, and every one those queue, has run:
 * a tick queued from a microtask runs only when the microtask queue is empty. Ten times cheaper
 * than a turn of the event loop (setImmediate), which the simulation would pay once per event.
 * The policy code queues no ticks of its own (process.nextTick), or they could run after `fn`.
 */
const afterContinuations = (fn: () => void) => queueMicrotask(() => process.nextTick(fn));

/** Events between turns of the event loop, so that I/O and signals are still served during a long run. */
const EVENTS_PER_TURN = 4096;

export class SimClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: SimTimer[] = [];
  /** Timers fired so far: the run loop's bound is checked against it. */
  fired = 0;

  constructor(
    startMs = 0,
    /** A backstop against a timer that keeps setting itself at the same instant. */
    private readonly maxTimers = 100_000_000,
  ) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }
  monotonic(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, undefined);
  }
  clearTimeout(timer: Timer | undefined): void {
    if (timer) (timer as SimTimer).cancelled = true;
  }
  setInterval(fn: () => void, ms: number): Timer {
    const every = Math.max(MIN_INTERVAL_MS, ms);
    return this.add(fn, every, every);
  }
  clearInterval(timer: Timer | undefined): void {
    this.clearTimeout(timer);
  }

  /** Timers set and not yet fired or cancelled (cancelled ones leave the heap when they come up). */
  get pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /** Fires every timer due up to `untilMs` in time order, continuations included, then sets the time to `untilMs`. */
  runUntil(untilMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let sinceTurn = 0;
      const step = () => {
        try {
          const t = this.nextDue(untilMs);
          if (!t) {
            this.time = Math.max(this.time, untilMs);
            resolve();
            return;
          }
          if (++this.fired > this.maxTimers) throw new Error(`more than ${this.maxTimers} timers fired: a timer loop?`);
          this.time = t.at;
          if (t.everyMs !== undefined) {
            t.at += t.everyMs;
            t.seq = this.seq++;
            this.push(t);
          }
          t.fn();
        } catch (err) {
          reject(err as Error);
          return;
        }
        if (++sinceTurn < EVENTS_PER_TURN) afterContinuations(step);
        else {
          sinceTurn = 0;
          setImmediate(step);
        }
      };
      afterContinuations(step);
    });
  }

  /** The earliest timer due by `untilMs` that is still set, taken off the heap. */
  private nextDue(untilMs: number): SimTimer | undefined {
    while (this.heap.length > 0 && this.heap[0].at <= untilMs) {
      const t = this.pop();
      if (!t.cancelled) return t;
    }
    return undefined;
  }

  private add(fn: () => void, ms: number, everyMs: number | undefined): SimTimer {
    const t: SimTimer = { at: this.time + Math.max(0, ms || 0), seq: this.seq++, fn, everyMs, cancelled: false };
    this.push(t);
    return t;
  }

  private earlier(a: SimTimer, b: SimTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: SimTimer): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.earlier(t, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = t;
  }

  private pop(): SimTimer {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const child = r < h.length && this.earlier(h[r], h[l]) ? r : l;
        if (!this.earlier(h[child], last)) break;
        h[i] = h[child];
        i = child;
      }
      h[i] = last;
    }
    return top;
  }
}
