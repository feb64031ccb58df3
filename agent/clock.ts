// Time and timers, passed to everything on a query's path that reads the time or sets a timer
// (the answer layer, server groups and their health, the exchange, the pools, admission). The
// agent uses the system's; tests and the load simulation (test/simulate/) pass a simulated clock,
// so the same code runs minutes of simulated time in seconds, with no sockets.

export interface Clock {
  /** Milliseconds since the epoch: deadlines, the failure score's decay, cache ages. */
  now(): number;
  /** A monotonic reading with sub-millisecond precision, ms: round-trip times, rate limits. */
  monotonic(): number;
  /** `background`: the timer does not keep the process alive on its own (probes, idle closes). */
  setTimeout(fn: () => void, ms: number, background?: boolean): Timer;
  clearTimeout(timer: Timer | undefined): void;
  /** A repeating timer that does not keep the process alive on its own. */
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(timer: Timer | undefined): void;
}

/** Opaque to its users: a Node.js Timeout on the system clock, anything on a simulated one. */
export type Timer = object;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms, background) => {
    const t = setTimeout(fn, ms);
    return background ? t.unref() : t;
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (t) => clearInterval(t as NodeJS.Timeout | undefined),
};
