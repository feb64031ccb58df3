// The simulation's table, plain text for the terminal and docs/simulation.md, and its JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunResult, SimulationParams } from './simulation.js';

const COLUMNS: { head: string; cell: (r: RunResult) => string }[] = [
  { head: 'nodes', cell: (r) => String(r.nodes) },
  { head: 'policy', cell: (r) => r.label },
  { head: 'masters q/s', cell: (r) => thousands(r.mastersQps) },
  { head: 'busiest master q/s', cell: (r) => thousands(r.busiestMasterQps) },
  { head: 'of 1 Mesos-DNS', cell: (r) => percent(r.busiestShare) },
  { head: 'hits', cell: (r) => percent(r.hitShare) },
  { head: 'per query', cell: (r) => r.perClientQuery.toFixed(3) },
  { head: 'per exchange', cell: (r) => r.perExchange.toFixed(2) },
  { head: 'p50 ms', cell: (r) => r.p50Ms.toFixed(2) },
  { head: 'p99 ms', cell: (r) => r.p99Ms.toFixed(2) },
  { head: 'SERVFAIL', cell: (r) => percent(r.servfailShare, 2) },
  { head: 'stale', cell: (r) => percent(r.staleShare, 2) },
  { head: 'hedges', cell: (r) => percent(r.hedgesPerExchange) },
  { head: 'down/node', cell: (r) => r.markedDownPerNode.toFixed(1) },
];

function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function percent(share: number, digits = 0): string {
  return `${(share * 100).toFixed(digits)} %`;
}

/** The rows as an aligned plain-text table, a rule between cluster sizes. */
export function resultTable(rows: readonly RunResult[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i].length)));
  // Numbers right-aligned, the policy's name left-aligned.
  const line = (row: string[]) => row.map((s, i) => (i === 1 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(COLUMNS.map((c) => c.head)), rule];
  rows.forEach((r, i) => {
    if (i > 0 && r.nodes !== rows[i - 1].nodes) out.push('');
    out.push(line(cells[i]));
  });
  return out.join('\n');
}

/** What the columns mean, printed under the table. */
export const COLUMN_NOTES = [
  'masters q/s: what the whole cluster sends the masters, probes included; busiest master: the one sent most, and that as a share of one',
  "Mesos-DNS's capacity; hits: client queries the cache answered; per query: master requests per client query; per exchange: per question",
  'the cache could not answer (a miss or a prefetch, after coalescing); p50/p99: simulated ms a client waits (a cache hit is 0); SERVFAIL',
  'and stale: shares of client queries; hedges: hedges fired per exchange; down/node: servers marked down per node in the window.',
].join('\n');

export function writeResults(path: string, params: Omit<SimulationParams, 'nodes'>, rows: readonly RunResult[], wallMs: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const doc = { date: new Date().toISOString(), node: process.version, wallSeconds: wallMs / 1000, params, rows };
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
}
