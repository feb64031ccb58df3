// `npm run simulate`: the masters' load for clusters of 100 to 5,000 nodes, running the agent's own
// policy code (cache, coalescing, prefetch, hedging, health) on a simulated clock with no sockets,
// beside one Mesos-DNS's measured capacity; then each lever turned off alone, and one master hung.
// Prints the table and writes test-results/simulate.json. docs/simulation.md gives the method and
// what it assumes.
import { HUNG_SCENARIOS, SCENARIOS, type Scenario } from './levers.js';
import { COLUMN_NOTES, resultTable, writeResults } from './report.js';
import { RESULTS_JSON, USAGE, readSettings } from './settings.js';
import { type RunResult, simulate } from './simulation.js';

/**
 * Where one master hangs: the largest cluster, and the largest whose masters with every lever
 * stay under (M − 1)/M of capacity, so that the others can carry a lost master's share.
 */
function hungMasterSizes(rows: readonly RunResult[], clusterSizes: readonly number[], masters: number): number[] {
  const all = rows.filter((r) => r.scenario === 'all');
  const largest = Math.max(...clusterSizes);
  const fits = all.filter((r) => r.busiestShare < (masters - 1) / masters).map((r) => r.nodes);
  const sizes = fits.length > 0 && masters > 1 ? [Math.max(...fits), largest] : [largest];
  return [...new Set(sizes)];
}

async function main(): Promise<void> {
  const started = performance.now();
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const { clusterSizes, policies, base } = readSettings(process.argv.slice(2));
  const chosen = (list: readonly Scenario[]) => list.filter((s) => !policies || policies.includes(s.id));
  const b = base;
  const about = [
    `${b.qpsPerNode} lookups/s per node`,
    `${b.tasksPerNode} tasks per node in apps of ${b.instances}`,
    `Zipf ${b.zipfExponent}`,
    `TTL ${b.ttlSec} s kept at most ${b.mesosMaxTtlSec} s`,
    `${b.movesPerMinute * 100} % of apps moving per minute`,
    `${b.masters} masters of ${b.capacityQps.toLocaleString('en-US')} q/s;`,
    `${b.sample} sample nodes, ${b.warmupSec} s warm-up + ${b.measureSec} s measured (simulated), seed ${b.seed}`,
  ];
  console.log(`phalanx-dns load simulation: ${about.join(', ').replaceAll(';,', ';')}`);
  const rows: RunResult[] = [];
  const runOne = async (nodes: number, scenario: Scenario) => {
    const r = await simulate({ nodes, ...base }, scenario);
    rows.push(r);
    console.log(`  ${nodes} nodes, ${scenario.label}: ${(r.wallMs / 1000).toFixed(1)} s`);
  };
  for (const nodes of clusterSizes) for (const scenario of chosen(SCENARIOS)) await runOne(nodes, scenario);
  const hungSizes = hungMasterSizes(rows, clusterSizes, base.masters);
  for (const nodes of hungSizes) for (const scenario of chosen(HUNG_SCENARIOS)) await runOne(nodes, scenario);
  rows.sort((a, b) => a.nodes - b.nodes);
  const wallMs = performance.now() - started;
  console.log(`\n${resultTable(rows)}\n\n${COLUMN_NOTES}\n`);
  // A partial run (some policies) leaves the full run's file alone.
  if (!policies) writeResults(RESULTS_JSON, base, rows, wallMs);
  console.log(`${rows.length} runs in ${(wallMs / 1000).toFixed(1)} s${policies ? '' : `; ${RESULTS_JSON} written`}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
