// The simulation's parameters: each default with why (docs/simulation.md says more), and the
// flags that change them (`npm run simulate -- --nodes 100,1000 --seed 7`).
import { parseArgs } from 'node:util';
import { parseConfig } from '../../common/config/schema.js';
import { HUNG_SCENARIOS, SCENARIOS } from './levers.js';
import type { SimulationParams } from './simulation.js';

/** One Mesos-DNS's answers a second on one core: measured by the bench, see docs/benchmark.md. */
export const MESOS_DNS_CAPACITY_QPS = 80_000;

export const RESULTS_JSON = 'test-results/simulate.json';

export interface Settings {
  clusterSizes: number[];
  /** Scenario ids to run (levers.ts); undefined for all of them, the only run that writes RESULTS_JSON. */
  policies: string[] | undefined;
  base: Omit<SimulationParams, 'nodes'>;
}

interface NumberFlag {
  default: number;
  min: number;
  whole?: boolean;
}

/** Every numeric flag with its default and why (in the comment), in the order usage lists them. */
const FLAGS = {
  // Enough nodes that hedges, coalescing and probes average out; few enough to run in minutes.
  sample: { default: 20, min: 1, whole: true },
  // "A few hundred times a second": a node's tasks resolving the services they call.
  qps: { default: 200, min: 0.001 },
  'tasks-per-node': { default: 10, min: 0.01 },
  // Apps of three tasks each (apps = tasks / 3), one A record per task in an answer.
  instances: { default: 3, min: 1, whole: true },
  // Zipf's law, as web and service lookups follow: a few names take most lookups.
  zipf: { default: 1.0, min: 0 },
  // Mesos-DNS's default TTL.
  ttl: { default: 60, min: 0, whole: true },
  // The agent's own cap on it, as shipped.
  'mesos-max-ttl': { default: parseConfig({}).cache.mesosMaxTtlSec, min: 0, whole: true },
  // A busy cluster: a tenth of the apps redeployed (new names) every minute.
  moves: { default: 0.1, min: 0 },
  // DC/OS's usual three masters, each running Mesos-DNS.
  masters: { default: 3, min: 1, whole: true },
  capacity: { default: MESOS_DNS_CAPACITY_QPS, min: 1 },
  // A round trip inside one datacenter, varied by ±20 %.
  rtt: { default: 0.2, min: 0 },
  jitter: { default: 0.2, min: 0 },
  // The work a master holds before it drops (its socket buffer and backlog): 4,000 queries at 80,000 q/s.
  'queue-ms': { default: 50, min: 0 },
  warmup: { default: 10, min: 0 },
  seconds: { default: 30, min: 0.001 },
  seed: { default: 1, min: 0, whole: true },
} satisfies Record<string, NumberFlag>;

type FlagName = keyof typeof FLAGS;

const DEFAULT_NODES = '100,500,1000,2000,5000';
/** Long enough that the sample's lumps (N/S queries each) smooth out into a utilization. */
const RATE_WINDOW_MS = 1000;

export const USAGE = [
  'usage: npm run simulate --',
  `[--nodes ${DEFAULT_NODES}]`,
  '[--policies all,race,…]',
  ...Object.entries(FLAGS).map(([name, f]) => `[--${name} ${f.default}]`),
]
  .join(' ')
  .replace(/(.{1,110})(\s|$)/g, '$1\n  ')
  .trimEnd();

function readNumber(name: string, text: string | undefined, f: NumberFlag): number {
  if (text === undefined) return f.default;
  const v = Number(text);
  if (!Number.isFinite(v) || v < f.min || (f.whole && !Number.isInteger(v))) {
    throw new Error(`--${name} ${text}: expected ${f.whole ? 'a whole number' : 'a number'} ≥ ${f.min}\n${USAGE}`);
  }
  return v;
}

export function readSettings(argv: string[]): Settings {
  const options = Object.fromEntries(['nodes', 'policies', ...Object.keys(FLAGS)].map((n) => [n, { type: 'string' as const }]));
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`, { cause: err });
  }
  const clusterSizes = (values.nodes ?? DEFAULT_NODES)
    .split(',')
    .map((s) => readNumber('nodes', s.trim(), { default: 0, min: 1, whole: true }));
  const policies = values.policies?.split(',').map((s) => s.trim());
  const known = [...SCENARIOS, ...HUNG_SCENARIOS].map((s) => s.id);
  const unknown = policies?.filter((id) => !known.includes(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--policies: no such policy ${unknown.join(', ')}; known: ${known.join(', ')}\n${USAGE}`);
  const flag = (name: FlagName) => readNumber(name, values[name], FLAGS[name]);
  return {
    clusterSizes,
    policies,
    base: {
      sample: flag('sample'),
      qpsPerNode: flag('qps'),
      tasksPerNode: flag('tasks-per-node'),
      instances: flag('instances'),
      zipfExponent: flag('zipf'),
      ttlSec: flag('ttl'),
      mesosMaxTtlSec: flag('mesos-max-ttl'),
      movesPerMinute: flag('moves'),
      masters: flag('masters'),
      capacityQps: flag('capacity'),
      rttMs: flag('rtt'),
      jitter: Math.min(1, flag('jitter')),
      queueLimitMs: flag('queue-ms'),
      rateWindowMs: RATE_WINDOW_MS,
      warmupSec: flag('warmup'),
      measureSec: flag('seconds'),
      seed: flag('seed'),
    },
  };
}

/** The defaults as parameters, for tests that change a few. */
export function defaultParams(nodes: number): SimulationParams {
  return { nodes, ...readSettings([]).base };
}
