// docs/metrics.md, written from the registry createMetrics() builds, so that the reference lists
// what /v1/metrics exports: `npm run docs:metrics` writes it, and a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, Gauge, Histogram } from 'prom-client';
import { DCOS_DNS_ALIASES, createMetrics } from './metrics.js';
import { markdownCell as cell } from '../common/markdown.js';

/** Where the reference lives, from the repository root. */
export const METRICS_REFERENCE_PATH = 'docs/metrics.md';

/** The agent's own families; the registry also holds prom-client's process_* and nodejs_* ones. */
const OWN_PREFIX = 'phalanx_dns_';

/** A family as the registry holds it: prom-client's own object, whose labelNames its types leave out. */
interface Family {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export function renderMetricsReference(): string {
  const own = (createMetrics().registry.getMetricsAsArray() as Family[]).filter((m) => m.name.startsWith(OWN_PREFIX));
  const lines = [
    '# Metrics',
    '',
    '<!-- Written by `npm run docs:metrics` from agent/metrics.ts: change the declarations there, not this file. -->',
    '',
    '`GET /v1/metrics` on the HTTP API (`http.listen`, default `127.0.0.1:62080`) answers in the Prometheus text',
    "format: the families below, prom-client's standard `process_*` and `nodejs_*` families (memory, CPU,",
    'event-loop lag, file descriptors), and the dcos-dns aliases at the end.',
    '',
    "A server is a master, an upstream or a forward zone's server, and `upstream_address` names any of them;",
    '`zone` (and `group`) names the server group: `mesos`, `upstream` or the forward zone.',
    '',
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
    ...own.map((m) => `| \`${m.name}\` | ${type(m)} | ${labels(m.labelNames)} | ${cell(m.help)} |`),
    '',
    '## dcos-dns aliases',
    '',
    'For dashboards made for dcos-dns, these families are also exposed under its names, with the same values:',
    'the lines are written again under the old name when scraped, so a query is counted once.',
    '',
    '| alias (dcos-dns) | same as | labels |',
    '|---|---|---|',
    ...DCOS_DNS_ALIASES.map((a) => `| \`${a.alias}\` | \`${a.name}\` | ${renames(a.labels)} |`),
  ];
  return lines.join('\n') + '\n';
}

function type(m: Family): string {
  if (m instanceof Histogram) return 'histogram';
  if (m instanceof Counter) return 'counter';
  if (m instanceof Gauge) return 'gauge';
  throw new Error(`${m.name}: a metric of a type the reference does not name`);
}

function labels(names: readonly string[] | undefined): string {
  return names && names.length > 0 ? names.map((n) => `\`${n}\``).join(', ') : '';
}

function renames(map: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(map ?? {});
  return pairs.length === 0 ? 'the same' : pairs.map(([from, to]) => `\`${to}\` for \`${from}\``).join(', ');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(process.argv[2] ?? METRICS_REFERENCE_PATH, renderMetricsReference());
}
