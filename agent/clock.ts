// Time, timers and chance as the forwarding policy sees them. The agent uses the system's; the
// load simulation (test/simulate/) passes a simulated clock so that the same policy code can run
// thousands of nodes for minutes of simulated time in seconds, with no sockets.

export interface Clock {
  /** Milliseconds since the epoch: deadlines, the failure score's decay, cache ages. */
  now(): number;
  /** A monotonic reading with sub-millisecond precision, ms: round-trip times. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
  /** A repeating timer that does not keep the process alive on its own (the background probe). */
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(timer: Timer | undefined): void;
}

/** Opaque to the policy: a Node.js Timeout on the system clock, anything on a simulated one. */
export type Timer = object;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (t) => clearInterval(t as NodeJS.Timeout | undefined),
};
