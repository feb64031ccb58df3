// What the watchdog does after each round of ready checks. Pure, so the rule that decides
// whether a node's only nameserver gets killed is tested on its own.
//
// A restart interrupts the node's only nameserver, so one slow answer must not cause one: every
// address is asked, any answer passes the round (checkAnyReady), and only two failed rounds in a
// row (a retry delay apart) lead to a restart.

export const FAILED_ROUNDS_BEFORE_RESTART = 2;

export type WatchdogStep =
  | { kind: 'healthy' }
  | { kind: 'retry'; delayMs: number }
  /** Run the restart command. */
  | { kind: 'restart' }
  /** watchdog.enabled is false: say what would have been done, do nothing. */
  | { kind: 'report-only' };

/** The step after the rounds so far (oldest first, true = passed). */
export function nextStep(rounds: boolean[], opts: { enabled: boolean; retryDelayMs: number }): WatchdogStep {
  if (rounds.length === 0) throw new Error('nextStep needs at least one round');
  if (rounds[rounds.length - 1]) return { kind: 'healthy' };
  let failedInARow = 0;
  for (let i = rounds.length - 1; i >= 0 && !rounds[i]; i--) failedInARow++;
  if (failedInARow < FAILED_ROUNDS_BEFORE_RESTART) return { kind: 'retry', delayMs: opts.retryDelayMs };
  return opts.enabled ? { kind: 'restart' } : { kind: 'report-only' };
}

/** Exit statuses, documented in the README and relied on by the systemd unit. */
export const EXIT = {
  healthy: 0,
  restarted: 1,
  misconfigured: 2,
  /** Not answering, but not restarted: restarts are disabled, or the restart command failed. */
  notRestarted: 3,
} as const;
