// Waiting in tests: for a condition, polled with a deadline, or (rarely) for wall time itself.

/**
 * Waits `ms` of wall time. Only for a test whose subject is time passing (a TTL running out, an
 * idle timeout, nothing happening for a while); anything else waits for its event with waitFor.
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Give up after this long; the caller's expect then says what was missing. */
  timeoutMs?: number;
  /** How often `pred` is asked. */
  everyMs?: number;
}

/**
 * Asks `pred` every `everyMs` until it holds or `timeoutMs` has passed; resolves with whether it
 * held. It never throws on the deadline, so the test's own assertion names what did not happen.
 */
export async function waitFor(pred: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<boolean> {
  const { timeoutMs = 5000, everyMs = 20 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(0, deadline - Date.now()))));
  }
}

/** true when `p` settled within ms, false on timeout; never leaves a timer behind. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
