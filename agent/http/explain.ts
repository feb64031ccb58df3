// GET /v1/explain/{name}[/{type}]: what the agent does with one question and why, then does it.
// The route and the rule that chose it, what the answer cache and the stale store hold, the
// servers in the order the policy would ask them, each server's own reply when asked directly,
// and the reply a client gets. Backs `phalanx-dns explain`.
import { randomInt } from 'node:crypto';
import { dnsPacket, recordTypes } from '../../common/dns/packet.js';
import { type Query, parseQuery } from '../../common/dns/query.js';
import { type Question, RD, buildQuery, encodeQuestion, rcodeName } from '../../common/dns/wire.js';
import { ExchangeError, type ServerPools, exchange } from '../transport/exchange.js';
import type { Server, ServerGroup } from '../servers/server-group.js';
import type { Clock } from '../clock.js';
import { type ReplySource, type ResolverState, answerKey, groupFor } from '../resolver.js';
import { type Route, route } from '../routing.js';

/** Servers asked directly per explanation: a group is a handful; this bounds a long forward zone list. */
const MAX_ASKED = 16;

export interface ExplainDeps {
  state: ResolverState;
  pools: ServerPools;
  /** The agent's own pipeline, as for a TCP client (never truncated), and where its reply came from. */
  resolve(query: Buffer): Promise<{ reply: Buffer | undefined; source: ReplySource }>;
}

export interface ReplySummary {
  rcode: string;
  ms: number;
  /** Records as text: "name TTL TYPE data". */
  answers: string[];
  authority: string[];
}

export type DirectReply = (ReplySummary & { transport: 'udp' | 'tcp' }) | { error: string; detail: string; ms: number };

export interface ExplainedServer {
  address: string;
  /** Its place in the order the policy would ask (1 first); null when it would not be asked. */
  order: number | null;
  /** Why it would not be asked, when it would not. */
  notAsked: string | null;
  up: boolean;
  failureScore: number;
  rttMs: number | null;
  hedgeDelayMs: number | null;
  consecutiveFailures: number;
  lastFailure: string | null;
  /** Its own reply to the question, asked once directly; null past MAX_ASKED. */
  direct: DirectReply | null;
}

export interface ClientAnswer extends ReplySummary {
  /** Extended DNS Error (RFC 8914) the agent attached: why it answered so. */
  ede: { code: number; text: string } | null;
  from: ReplySource;
}

export interface Explanation {
  question: { name: string; type: string };
  route: { kind: Route['kind']; zone: string | null; why: string };
  /** The server group asked: "mesos", "upstream" or the forward zone; null for a local zone. */
  group: string | null;
  cache: { state: 'off' | 'not used' | 'miss' | 'hit'; ageSec?: number; expiresInSec?: number };
  staleStore: { state: 'off' | 'not used' | 'miss' | 'fresh' | 'expired'; ageSec?: number; expiredSec?: number; servableForSec?: number };
  policy: { dispatch: string; fanout: number | 'all'; timeoutMs: number; order: string[]; why: string } | null;
  servers: ExplainedServer[];
  answer: ClientAnswer;
}

/** The record type's number for its mnemonic ("srv" or "SRV"), or undefined for none known. */
export function queryType(text: string): number | undefined {
  const t = recordTypes.toType(text);
  return t > 0 ? t : undefined;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;
const since = (clock: Clock, started: number) => Math.round((clock.monotonic() - started) * 10) / 10;

export function routeReason(r: Route, state: ResolverState): string {
  switch (r.kind) {
    case 'local':
      return `"${r.zone}" is a local zone: the agent answers it itself`;
    case 'mesos':
      return `in the Mesos domain "${state.config.mesos.domain}" (mesos.domain): asked of the Mesos-DNS masters`;
    case 'forward': {
      const others = state.table.forwardZones.filter((z) => z !== r.zone && r.zone.endsWith(`.${z}`));
      const longest = others.length ? `, the longest match (also in ${others.join(', ')})` : '';
      return `in the forward zone "${r.zone}" (forwardZones)${longest}: asked of its servers`;
    }
    case 'upstream':
      return `not in the Mesos domain "${state.config.mesos.domain}", a local zone or a forward zone: asked of the upstreams`;
  }
}

/** Data that dns-packet decodes into an object: its fields in presentation order (RFC 1035 §5, RFC 2782). */
const FIELDS: Record<string, string[]> = {
  SRV: ['priority', 'weight', 'port', 'target'],
  MX: ['preference', 'exchange'],
  SOA: ['mname', 'rname', 'serial', 'refresh', 'retry', 'expire', 'minimum'],
};

function recordText(record: dnsPacket.Answer): string {
  const r = record as { name: string; type: string; ttl?: number; data?: unknown };
  const d = r.data as Record<string, unknown> | string | Buffer | Array<string | Buffer> | undefined;
  const fields = FIELDS[r.type];
  let data: string;
  if (fields) {
    data = fields.map((f) => String((d as Record<string, unknown>)[f])).join(' ');
  } else if (r.type === 'TXT') {
    data = (Array.isArray(d) ? d : [d]).map((s) => JSON.stringify(String(s))).join(' ');
  } else {
    data = typeof d === 'string' ? d : Buffer.isBuffer(d) ? d.toString('hex') : JSON.stringify(d);
  }
  return `${r.name || '.'} ${r.ttl ?? 0} ${r.type} ${data}`;
}

function summarize(msg: Buffer, ms: number): ReplySummary & { ede: ClientAnswer['ede'] } {
  let p: dnsPacket.DecodedPacket & { rcode?: string };
  try {
    p = dnsPacket.decode(msg);
  } catch (err) {
    // A reply the agent accepted (wire.ts scans it) with record data dns-packet cannot read.
    const rcode = rcodeName(msg.readUInt16BE(2) & 0xf);
    return { rcode, ms, answers: [`(records not shown: ${(err as Error).message})`], authority: [], ede: null };
  }
  const opt = (p.additionals ?? []).find((a) => a.type === 'OPT') as { options?: Array<{ code: number; data: Buffer }> } | undefined;
  const ede = opt?.options?.find((o) => o.code === 15 && o.data.length >= 2);
  return {
    rcode: p.rcode ?? 'NOERROR',
    ms,
    answers: (p.answers ?? []).map(recordText),
    authority: (p.authorities ?? []).map(recordText),
    ede: ede ? { code: ede.data.readUInt16BE(0), text: ede.data.subarray(2).toString('utf8') } : null,
  };
}

/**
 * One server's reply to `q`. exchange() directly, not ServerGroup.ask(): an explanation must not
 * move the server's health (three SERVFAILs here would mark it down) nor the metrics of clients'
 * queries. It goes through the agent's own sockets, so it sees what a query would.
 */
async function askDirectly(server: Server, q: Question, deps: ExplainDeps): Promise<DirectReply> {
  const { clock } = deps.pools;
  const started = clock.monotonic();
  try {
    const reply = await exchange(server.endpoint, q, clock.now() + deps.state.config.timeoutMs, () => {}, deps.pools);
    const { ede: _ignored, ...summary } = summarize(reply.msg, since(clock, started));
    return { ...summary, transport: reply.transport };
  } catch (err) {
    const reason = err instanceof ExchangeError ? err.reason : 'network';
    return { error: reason, detail: (err as Error).message, ms: since(clock, started) };
  }
}

function policyFor(group: ServerGroup, state: ResolverState): { chosen: Server[]; policy: NonNullable<Explanation['policy']> } {
  const c = state.config;
  const chosen = group.choose(c.dispatch === 'race' ? c.fanout : 'all');
  const how =
    c.dispatch === 'race'
      ? `race: ${chosen.length} at once, the first usable answer (NOERROR or NXDOMAIN) wins`
      : 'hedged: the first, then the next when it fails or has not answered within its hedge delay';
  const down = group.servers.filter((s) => s.down).length;
  const why = [
    group.servers.length === 0 ? 'no servers known: the client gets SERVFAIL (or a stale answer)' : how,
    down && down === group.servers.length ? 'every server is down, so the best of them are still tried' : '',
    down && down < group.servers.length ? 'down servers are left to the background probe' : '',
    // chooseServers shuffles before ranking, so a query may start at another of equal rank.
    chosen.length > 1 ? 'servers of equal failure score are in random order, so another query may start elsewhere' : '',
  ].filter(Boolean);
  return {
    chosen,
    policy: { dispatch: c.dispatch, fanout: c.fanout, timeoutMs: c.timeoutMs, order: chosen.map((s) => s.address), why: why.join('; ') },
  };
}

function describeServer(s: Server, chosen: Server[], state: ResolverState, direct: DirectReply | null): ExplainedServer {
  const order = chosen.indexOf(s);
  const { minMs, maxMs } = state.config.hedge;
  return {
    address: s.address,
    order: order === -1 ? null : order + 1,
    notAsked: order !== -1 ? null : s.down ? 'down: left to the background probe' : `beyond fanout (${state.config.fanout})`,
    up: !s.down,
    failureScore: Number(s.score.toFixed(3)),
    rttMs: s.health.rttMs === undefined ? null : Number(s.health.rttMs.toFixed(3)),
    hedgeDelayMs: state.config.dispatch === 'race' ? null : Number(s.health.hedgeDelayMs(minMs, maxMs).toFixed(3)),
    consecutiveFailures: s.health.consecutiveFailures,
    lastFailure: s.health.lastFailure ?? null,
    direct,
  };
}

/** What the stores hold for `key` now, before the explanation's own query asks like a client's. */
function storesFor(q: Query, state: ResolverState, now: number): Pick<Explanation, 'cache' | 'staleStore'> {
  const key = answerKey(q);
  const hit = state.cache?.peek(key, now);
  const kept = state.stale?.peek(key, now);
  return {
    cache: !state.cache
      ? { state: 'off' }
      : hit
        ? { state: 'hit', ageSec: seconds(now - hit.storedAt), expiresInSec: seconds(hit.expiresAt - now) }
        : { state: 'miss' },
    staleStore: !state.stale
      ? { state: 'off' }
      : kept
        ? {
            state: now < kept.expiresAt ? 'fresh' : 'expired',
            ageSec: seconds(now - kept.storedAt),
            expiredSec: seconds(Math.max(0, now - kept.expiresAt)),
            servableForSec: seconds(kept.servableUntil - now),
          }
        : { state: 'miss' },
  };
}

/** Explains `name` `qtype` (already validated) on the agent's current state. */
export async function explain(deps: ExplainDeps, name: string, qtype: number): Promise<Explanation> {
  const { state } = deps;
  const question: Question = { wire: encodeQuestion(name, qtype), flags: RD, dnssecOk: false };
  // With our OPT record: an EDNS client, so the reply carries the agent's Extended DNS Error.
  const query = buildQuery(randomInt(0, 65536), question);
  const parsed = parseQuery(query);
  if (parsed.kind !== 'query') throw new Error(`cannot build a query for ${name}: ${parsed.reason}`);
  const q = parsed.query;
  const r = route(q.name, state.table);
  const group = r.kind === 'local' ? undefined : groupFor(r, state);
  const stores: Pick<Explanation, 'cache' | 'staleStore'> = group
    ? storesFor(q, state, deps.pools.clock.now())
    : { cache: { state: 'not used' }, staleStore: { state: 'not used' } };
  const plan = group ? policyFor(group, state) : undefined;

  const servers = group?.servers ?? [];
  const { clock } = deps.pools;
  const answering = async () => {
    const started = clock.monotonic();
    const { reply, source } = await deps.resolve(query);
    const summary = reply
      ? summarize(reply, since(clock, started))
      : { rcode: 'none', ms: since(clock, started), answers: [], authority: [], ede: null };
    return { ...summary, from: source };
  };
  // In parallel: the explanation takes no longer than the slowest server's deadline.
  const [direct, answer] = await Promise.all([
    Promise.all(servers.map((s, i) => (i < MAX_ASKED ? askDirectly(s, question, deps) : Promise.resolve(null)))),
    answering(),
  ]);
  return {
    question: { name: q.name, type: recordTypes.toString(qtype) },
    route: {
      kind: r.kind,
      zone: r.kind === 'local' || r.kind === 'forward' ? r.zone : r.kind === 'mesos' ? state.config.mesos.domain : null,
      why: routeReason(r, state),
    },
    group: group?.name ?? null,
    ...stores,
    policy: plan?.policy ?? null,
    // In the order they would be asked, then those that would not be.
    servers: servers
      .map((s, i) => describeServer(s, plan!.chosen, state, direct[i]))
      .sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity)),
    answer,
  };
}
