// What every case gets from the run: the tools, the NSD servers, the CPU the agent runs on and a
// scratch folder.
import type { Servers } from '../harness/servers.js';
import type { Pinning } from './agent.js';
import type { CaseResult } from './report.js';

export interface ChaosContext {
  tools: Record<string, string>;
  /** NSD masters and upstreams (test/harness/servers.ts), far faster than the agent. */
  servers: Servers;
  /** The agent's own CPU; undefined when there are fewer than two. */
  pinning: Pinning | undefined;
  dir: string;
}

export interface ChaosCase {
  n: string;
  id: string;
  title: string;
  run(ctx: ChaosContext, c: CaseResult): Promise<void>;
}
