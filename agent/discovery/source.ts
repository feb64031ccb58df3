// The contract every master source keeps with the discovery runner: report a whole, validated
// cluster view, or a failure; never a partial or empty list.
import type { DiscoveredCluster } from './parse.js';

export interface SourceEvents {
  update(cluster: DiscoveredCluster): void;
  failure(err: Error): void;
  /** Something an operator should see even while the source is failing (a session renewed). */
  notice(message: string, details?: Record<string, unknown>): void;
}

export interface MasterSourceRunner {
  /** Starts reporting; the first report may come at any time (or never, if the source is down). */
  start(events: SourceEvents): void;
  /** Stops every timer and connection; after it resolves nothing is reported. */
  stop(): Promise<void>;
}

/**
 * Runs `read` now, again every refreshMs while it succeeds, and after a failure retries at
 * retryMs, doubling up to refreshMs, so a source that is down is not hammered. Used by the file
 * and Exhibitor sources.
 */
export class PollingSource implements MasterSourceRunner {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delay: number;

  constructor(
    private readonly read: () => Promise<DiscoveredCluster>,
    private readonly refreshMs: number,
    private readonly retryMs: number,
  ) {
    this.delay = retryMs;
  }

  start(events: SourceEvents): void {
    const tick = async () => {
      let next: number;
      try {
        const cluster = await this.read();
        if (this.stopped) return;
        events.update(cluster);
        this.delay = this.retryMs;
        next = this.refreshMs;
      } catch (err) {
        if (this.stopped) return;
        events.failure(err as Error);
        next = this.delay;
        this.delay = Math.min(this.delay * 2, this.refreshMs);
      }
      this.timer = setTimeout(() => void tick(), next);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
