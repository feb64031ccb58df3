// `phalanx-dns explain NAME [TYPE]`: asks the agent's /v1/explain and prints why the name goes
// where it goes, what the stores hold, the servers in the policy's order with their own replies,
// and the answer a client gets; or the JSON as the agent gave it.
import type { DirectReply, ExplainedServer, Explanation } from '../http/explain.js';
import { getJson } from './agent-api.js';
import { type Cell, type Paint, type Style, duration, millis, table } from './table.js';

/** Records shown per reply; the JSON has them all. */
const MAX_RECORDS = 8;

export function fetchExplanation(api: string, name: string, type: string, timeoutMs: number): Promise<Explanation> {
  return getJson<Explanation>(api, `/v1/explain/${encodeURIComponent(name)}/${encodeURIComponent(type)}`, timeoutMs);
}

const SOURCE: Record<Explanation['answer']['from'], string> = {
  'local zone': 'from the local zone',
  'answer cache': 'from the answer cache',
  'stale store': 'from the stale store',
  servers: 'from the servers',
  agent: 'from the agent itself: no server gave a usable answer',
};

const rcodeStyle = (rcode: string): Style => (rcode === 'NOERROR' ? 'green' : rcode === 'NXDOMAIN' ? 'yellow' : 'red');
const failed = (d: DirectReply | null) => d !== null && ('error' in d || (d.rcode !== 'NOERROR' && d.rcode !== 'NXDOMAIN'));

function directText(d: DirectReply | null): string {
  if (!d) return 'not asked (too many servers)';
  if ('error' in d) return `${d.error} after ${millis(d.ms)}`;
  return `${d.rcode}, ${d.answers.length} answer${d.answers.length === 1 ? '' : 's'}, ${millis(d.ms)} over ${d.transport}`;
}

function serverRows(servers: ExplainedServer[]): Cell[][] {
  return servers.map((s) => {
    const reply = directText(s.direct);
    return [
      s.order === null ? '-' : String(s.order),
      s.address,
      s.up ? { text: 'up', style: 'green' } : { text: 'down', style: 'red' },
      s.failureScore.toFixed(2),
      s.rttMs === null ? '-' : millis(s.rttMs),
      s.hedgeDelayMs === null ? '-' : millis(s.hedgeDelayMs),
      failed(s.direct) ? { text: reply, style: 'red' } : reply,
      s.notAsked ?? '',
    ];
  });
}

function records(list: string[], indent = '  '): string[] {
  const shown = list.slice(0, MAX_RECORDS).map((r) => indent + r);
  if (list.length > MAX_RECORDS) shown.push(`${indent}… ${list.length - MAX_RECORDS} more (--json has them all)`);
  return shown;
}

/** Each server's records, once per distinct set: the masters usually agree. */
function serverRecords(servers: ExplainedServer[]): string[] {
  const lines: string[] = [];
  const seen = new Map<string, string>();
  for (const s of servers) {
    const d = s.direct;
    if (!d || 'error' in d || d.answers.length + d.authority.length === 0) continue;
    // TTLs differ between servers that cached it at different times; compare what is left.
    const key = JSON.stringify([d.rcode, [...d.answers, ...d.authority].map((r) => r.replace(/^(\S+) \d+ /, '$1 ')).sort()]);
    const same = seen.get(key);
    if (same) {
      lines.push(`${s.address} answered the same as ${same}`);
      continue;
    }
    seen.set(key, s.address);
    lines.push(`${s.address} answered:`, ...records(d.answers), ...records(d.authority.map((r) => `${r}  (authority)`)));
  }
  return lines;
}

function storesLines(e: Explanation): string[] {
  const c = e.cache;
  const s = e.staleStore;
  const cache =
    c.state === 'hit'
      ? `holds it: stored ${duration(c.ageSec!)} ago, ${duration(c.expiresInSec!)} left, so the client is answered from it`
      : c.state === 'miss'
        ? 'does not hold it: the servers are asked'
        : c.state === 'off'
          ? 'off (cache.enabled)'
          : 'not used for a local zone';
  const stale =
    s.state === 'fresh'
      ? `holds it, within its TTL (stored ${duration(s.ageSec!)} ago): served if every server fails or is slow`
      : s.state === 'expired'
        ? `holds it, expired ${duration(s.expiredSec!)} ago, servable ${duration(s.servableForSec!)} more if every server fails or is slow`
        : s.state === 'miss'
          ? 'does not hold it: if every server fails, the client gets SERVFAIL'
          : s.state === 'off'
            ? 'off (serveStale.enabled)'
            : 'not used for a local zone';
  return [`answer cache ${cache}`, `stale store  ${stale}`];
}

export function renderExplanation(e: Explanation, paint: Paint): string {
  const a = e.answer;
  const lines = [
    `${paint('bold', `${e.question.name} ${e.question.type}`)}`,
    `route        ${paint('bold', e.route.kind)}: ${e.route.why}`,
    ...storesLines(e),
  ];
  if (e.policy) {
    lines.push(...e.policy.why.split('; ').map((why, i) => `${i === 0 ? 'policy ' : '       '}      ${why}`));
    lines.push(`             order: ${e.policy.order.join(', ') || 'none'}; each server's deadline ${e.policy.timeoutMs} ms`);
  }
  if (e.servers.length) {
    const headers = ['ORDER', 'SERVER', 'STATE', 'SCORE', 'SRTT', 'HEDGE', 'ASKED DIRECTLY', 'NOT ASKED BECAUSE'];
    // The last column only when the policy leaves a server out.
    const keep = e.servers.some((s) => s.notAsked) ? headers.length : headers.length - 1;
    const rows = serverRows(e.servers).map((r) => r.slice(0, keep));
    lines.push('', ...table(headers.slice(0, keep), rows, paint));
    const recs = serverRecords(e.servers);
    if (recs.length) lines.push('', ...recs);
  } else if (e.group) {
    lines.push('servers      none known in this group');
  }
  lines.push('', `${paint('bold', 'the client gets')} ${paint(rcodeStyle(a.rcode), a.rcode)} in ${millis(a.ms)}, ${SOURCE[a.from]}`);
  lines.push(...records(a.answers), ...records(a.authority.map((r) => `${r}  (authority)`)));
  if (a.ede) lines.push(`  EDE ${a.ede.code}: ${a.ede.text}`);
  return lines.join('\n') + '\n';
}
