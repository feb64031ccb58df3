// `phalanx-dns status`: asks the running agent and prints what a person reads at a glance, or
// JSON for scripts. Rates come from two scrapes of /v1/metrics a second apart; the exit status
// is 0 healthy, 1 degraded, 2 no answer (the last decided by the caller), so it serves as a
// monitoring check.
import type { AgentDescription } from '../http/enumerate.js';
import { getJson, getText } from './agent-api.js';
import { parseSamples } from './prometheus-text.js';
import { type ServerLine, type StatusReport, buildStatus } from './status-report.js';
import { type Cell, type Paint, bytes, duration, millis, percent, table } from './table.js';

/** Between the two scrapes: long enough to see a busy node's rates, short enough for a check. */
const WINDOW_MS = 1000;
const REQUEST_TIMEOUT_MS = 3000;

export async function fetchStatus(api: string, windowMs = WINDOW_MS): Promise<StatusReport> {
  const scrape = async () => ({ at: performance.now(), samples: parseSamples(await getText(api, '/v1/metrics', REQUEST_TIMEOUT_MS)) });
  const before = await scrape();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const [after, description, version] = await Promise.all([
    scrape(),
    getJson<AgentDescription>(api, '/v1/enumerate', REQUEST_TIMEOUT_MS),
    getJson<{ Version: string }>(api, '/v1/version', REQUEST_TIMEOUT_MS),
  ]);
  return buildStatus({
    api,
    version: version.Version,
    description,
    scrapes: { before: before.samples, after: after.samples, seconds: (after.at - before.at) / 1000 },
    now: Date.now(),
  });
}

const SINCE_START = '*';

const SERVER_STATES: Record<ServerLine['state'], Cell> = {
  up: { text: 'up', style: 'green' },
  failing: { text: 'failing, probing', style: 'yellow' },
  down: { text: 'down, probing', style: 'red' },
};

function replyTime(s: ServerLine, ms: number | null): Cell {
  if (ms === null) return '-';
  const text = millis(ms) + (s.replyTimes === 'since start' ? SINCE_START : '');
  return s.replyTimes === 'since start' ? { text, style: 'dim' } : text;
}

function serverRows(servers: ServerLine[]): Cell[][] {
  return servers.map((s) => [
    s.group,
    s.address,
    SERVER_STATES[s.state],
    s.failureScore.toFixed(2),
    replyTime(s, s.p50Ms),
    replyTime(s, s.p99Ms),
    `${s.answered}/${s.failed}`,
    s.lastFailure ? `${s.lastFailure.reason}${s.lastFailure.agoSec === null ? '' : `, ${duration(s.lastFailure.agoSec)} ago`}` : '-',
  ]);
}

function discoveryLine(d: StatusReport['discovery'], paint: Paint): string {
  const state = d.state === 'ok' ? paint('green', 'ok') : d.state === 'error' ? paint('red', 'error') : paint('yellow', d.state);
  const parts = [
    `${d.source}${d.location && d.location !== d.source ? ` ${d.location}` : ''}: ${state}`,
    d.error ? `(${d.error})` : '',
    `${d.masters} master${d.masters === 1 ? '' : 's'}`,
    d.leader ? `leader ${d.leader}` : '',
    d.lastGoodReportAgoSec !== null
      ? `last good report ${duration(d.lastGoodReportAgoSec)} ago`
      : d.source === 'static'
        ? 'from the config'
        : 'no good report yet',
  ];
  return parts.filter(Boolean).join(', ');
}

function since(window: string | null): string {
  return window === 'since start' ? SINCE_START : '';
}

export function renderStatus(r: StatusReport, paint: Paint): string {
  const head = r.verdict.status === 'healthy' ? paint('green', 'healthy') : paint('yellow', `degraded (${r.verdict.reasons.length})`);
  const q = r.queries;
  const routes = Object.entries(q.perSecond)
    .map(([route, qps]) => `${route} ${qps}/s`)
    .join(', ');
  const total = Object.values(q.perSecond).reduce((a, b) => a + b, 0);
  const lines = [
    `${paint('bold', 'phalanx-dns')} ${r.agent.version} at ${r.agent.api}: ${head}`,
    ...r.verdict.reasons.map((why) => `  ${paint('yellow', '!')} ${why}`),
    paint(
      'dim',
      `rates over ${r.windowSec} s between two scrapes of /v1/metrics; ${SINCE_START} since the agent started (nothing in that time)`,
    ),
    '',
    ...table(['GROUP', 'SERVER', 'STATE', 'SCORE', 'P50', 'P99', 'OK/FAILED', 'LAST FAILURE'], serverRows(r.servers), paint),
    '',
    `discovery    ${discoveryLine(r.discovery, paint)}`,
    `cache        ${r.cache ? `${r.cache.entries} of ${r.cache.maxEntries} entries, hit rate ${percent(r.cache.hitRate)}${since(r.cache.window)}` : 'off'}`,
    `stale store  ${r.staleStore ? `${r.staleStore.entries} entries, ${bytes(r.staleStore.bytes)} of ${bytes(r.staleStore.maxBytes)}` : 'off'}`,
    `queries      ${Math.round(total * 10) / 10}/s (${routes}), ${q.total} since start; stale ${percent(q.staleShare)}${since(q.window)}, SERVFAIL ${percent(q.servfailShare)}${since(q.window)}; ${r.agent.inflight} in flight`,
  ];
  return lines.join('\n') + '\n';
}
