// The agent under test, as a real process (test/helpers/agent-process.ts), with what the cases
// watch: its pid and whether it died, its memory from /proc, and its metrics over HTTP.
import { AgentProcess } from '../helpers/agent-process.js';
import { sampleSum } from '../helpers/metrics.js';
import { freePort } from '../../sim/ports.js';
import { onCleanup } from '../harness/cleanup.js';
import { type Memory, memory, pin } from '../harness/system.js';
import { AGENT_LAUNCH } from './settings.js';

export interface Pinning {
  taskset: string;
  cpu: number;
}

export class ChaosAgent {
  private samples: Memory[] = [];
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    /** The config file's content, as written at start. */
    readonly config: Record<string, unknown>,
    readonly proc: AgentProcess,
    readonly host: string,
    readonly port: number,
    readonly httpPort: number,
    readonly pid: number,
  ) {}

  /**
   * Starts the agent on 127.0.0.1 with `config` plus its listen and http addresses, pinned to a
   * CPU of its own when given one. Stopped at the end of the run whatever happens.
   */
  static async start(config: Record<string, unknown>, pinning?: Pinning): Promise<ChaosAgent> {
    const host = '127.0.0.1';
    const port = await freePort(host);
    const httpPort = await freePort(host);
    const full = { listen: [`${host}:${port}`], http: { listen: `${host}:${httpPort}` }, log: { level: 'warn' }, ...config };
    const proc = await AgentProcess.start(full, { nodeArgs: AGENT_LAUNCH.nodeFlags, env: AGENT_LAUNCH.env }); // as deployed
    onCleanup(() => proc.stop());
    const pid = proc.child.pid!;
    if (pinning) pin(pinning.taskset, pid, pinning.cpu);
    return new ChaosAgent(full, proc, host, port, httpPort, pid);
  }

  get endpoint(): string {
    return `${this.host}:${this.port}`;
  }

  /** Whether the process we started is still the one running: 0, or 1 when it exited. */
  get restarts(): number {
    return this.proc.exitCode !== null || this.proc.child.signalCode !== null ? 1 : 0;
  }

  memory(): Memory | null {
    return memory(this.pid);
  }

  /** Reads /proc every `everyMs` until stopSampling (or stop). */
  startSampling(everyMs = 1000): void {
    this.sampler = setInterval(() => {
      const m = this.memory();
      if (m) this.samples.push(m);
    }, everyMs);
  }

  stopSampling(): Memory[] {
    clearInterval(this.sampler);
    this.sampler = undefined;
    return this.samples;
  }

  /** The peak RSS so far: the kernel's VmHWM, which no sampling interval can miss. */
  peakRssKb(): number | null {
    return this.memory()?.hwmKb ?? (this.samples.length ? Math.max(...this.samples.map((s) => s.hwmKb)) : null);
  }

  /** Sum of a metric over the series whose labels include every `labels` pair. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sampleSum(await this.metricsText(), name, labels);
  }

  /** Every series of a metric, by its label text. */
  async series(name: string): Promise<Record<string, number>> {
    const text = await this.metricsText();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) out[m[1] ?? ''] = Number(m[2]);
    return out;
  }

  private async metricsText(): Promise<string> {
    const res = await fetch(`http://${this.host}:${this.httpPort}/v1/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  async stop(): Promise<void> {
    this.stopSampling();
    await this.proc.stop();
  }
}
