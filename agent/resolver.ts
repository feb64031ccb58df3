// The query pipeline, transport-independent: parse → route → answer locally or race the
// servers → shape the reply for this client. It never throws; every query gets a reply or a
// deliberate silence (unparsable input).
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import type { ClientAdmission, Verdict } from './admission/client-admission.js';
import type { Config } from '../common/config/schema.js';
import { type Query, parseQuery, replyLimit } from '../common/dns/query.js';
import type { AnswerCache } from './cache/answer-cache.js';
import type { StaleStore } from './cache/stale-store.js';
import { AA, CD, RA, RD, Rcode, type Scan, TC, type Transport, errorResponse, rcodeName, scanMessage, shapeResponse } from '../common/dns/wire.js';
import { race } from './forwarding/race.js';
import type { ServerGroup } from './forwarding/server-group.js';
import type { Metrics } from './metrics.js';
import { type Route, type RoutingTable, route } from './routing.js';
import { type Zone, answerFromZone } from './zones/local-zones.js';

/** Everything a query needs, swapped as one object on reload or discovery change. */
export interface ResolverState {
  config: Config;
  table: RoutingTable;
  zones: ReadonlyMap<string, Zone>;
  mesos: ServerGroup;
  upstream: ServerGroup;
  forward: ReadonlyMap<string, ServerGroup>;
  /** Answers from servers; undefined when the cache is disabled. */
  cache: AnswerCache | undefined;
  /** The ACL and per-client rate limit, with what they decided per client address. */
  clients: ClientAdmission;
  /** The last good answers for serve-stale, kept across reloads; undefined when disabled. */
  stale: StaleStore | undefined;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 6: 'SOA', 28: 'AAAA' };
const CLASS_IN = 1;
const CLASS_ANY = 255;
const ZONE_TRANSFERS = new Set([251, 252]); // IXFR, AXFR

export class Resolver {
  private inflight = 0;
  private rotation = 0;
  /** Local answers encoded once per zone, name, type and turn (see answerLocal). */
  private readonly labelCache = new Map<string, { transport: Transport; route: Route['kind']; rcode: string }>();
  private readonly encoded = new WeakMap<Zone, Map<string, { msg: Buffer; scan: Scan }>>();

  constructor(
    public state: ResolverState,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    metrics.readInflightFrom(() => this.inflight);
  }

  get inflightCount(): number {
    return this.inflight;
  }

  /**
   * `client` is the source address, checked before anything else so that a client turned away
   * costs as little as possible; absent for the agent's own lookups (the HTTP API's).
   */
  async resolve(msg: Buffer, transport: Transport, client?: string): Promise<Buffer | undefined> {
    if (client !== undefined) {
      const verdict = this.state.clients.check(client);
      if (verdict !== 'serve') return this.turnAway(msg, verdict, transport, client);
    }
    const parsed = parseQuery(msg);
    if (parsed.kind !== 'query') {
      this.metrics.invalidQueries.inc({ reason: parsed.kind === 'drop' ? 'dropped' : 'error_reply' });
      this.log.debug({ transport, reason: parsed.reason }, 'invalid query');
      return parsed.kind === 'error' ? parsed.response : undefined;
    }
    const q = parsed.query;
    const state = this.state;
    const r = route(q.name, state.table);
    const reply = r.kind === 'local' ? this.answerLocal(q, state.zones.get(r.zone)!, transport) : await this.forward(q, r, state, transport);
    this.metrics.queries.inc(this.queryLabels(transport, r.kind, reply.readUInt16BE(2) & 0xf));
    return reply;
  }

  /**
   * Outside the ACL: REFUSED. Over its rate over UDP: an empty reply with TC, no bigger than the
   * query, so a real client retries over TCP (which proves its address) and a spoofed victim gets
   * nothing amplified; over TCP: REFUSED. Unparsable input from such a client gets silence.
   */
  private turnAway(msg: Buffer, reason: Exclude<Verdict, 'serve'>, transport: Transport, client: string): Buffer | undefined {
    this.metrics.refused.inc({ reason, transport });
    // Debug only: a flood would be a line per packet.
    this.log.debug({ client, reason, transport }, reason === 'acl' ? 'query refused: the client is outside the ACL' : 'query turned away: the client is over its rate');
    const parsed = parseQuery(msg);
    if (parsed.kind !== 'query') return undefined;
    const q = parsed.query;
    if (reason === 'rate' && transport === 'udp') {
      const reply = errorResponse(q.id, q.flags, Rcode.NOERROR, q.question, q.edns);
      reply.writeUInt16BE(reply.readUInt16BE(2) | TC, 2);
      return reply;
    }
    return errorResponse(q.id, q.flags, Rcode.REFUSED, q.question, q.edns);
  }

  /** One labels object per transport, route and rcode, made once (per-query objects showed in profiles). */
  private queryLabels(transport: Transport, route: Route['kind'], rcode: number) {
    const key = `${transport}|${route}|${rcode}`;
    let labels = this.labelCache.get(key);
    if (!labels) {
      labels = { transport, route, rcode: rcodeName(rcode) };
      this.labelCache.set(key, labels);
    }
    return labels;
  }

  private answerLocal(q: Query, zone: Zone, transport: Transport): Buffer {
    if ((q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) || ZONE_TRANSFERS.has(q.qtype)) {
      return errorResponse(q.id, q.flags, Rcode.REFUSED, q.question, q.edns);
    }
    const a = answerFromZone(zone, q.name, q.qtype, TYPE_NAMES[q.qtype] ?? '', this.rotation++);
    // The fast path: a zone's answers are encoded once per name, type and turn, then only
    // patched per client (ID, question spelling, OPT, size). Zones are immutable, so a new
    // ensemble brings a new zone object and a fresh set. Only answers with records are kept
    // (bounded by the zone's records), so queries for random names or types cannot grow it.
    const keep = a.answers.length > 0;
    const key = `${q.name}|${q.qtype}|${a.turn}|${q.flags & RD}`;
    let encoded = keep ? this.encodedAnswers(zone).get(key) : undefined;
    if (!encoded) {
      const msg = dnsPacket.encode({
        type: 'response',
        id: 0,
        flags: AA | (q.flags & RD) | (a.rcode === 'NXDOMAIN' ? Rcode.NXDOMAIN : 0),
        questions: [{ name: q.name, type: `UNKNOWN_${q.qtype}` as dnsPacket.RecordType, class: 'IN' }],
        answers: a.answers,
        authorities: a.authorities,
      });
      encoded = { msg, scan: scanMessage(msg) };
      if (keep) this.encodedAnswers(zone).set(key, encoded);
    }
    return shapeResponse(encoded.msg, encoded.scan, {
      id: q.id,
      question: q.question,
      edns: q.edns,
      limit: replyLimit(q, transport),
      setFlags: RA,
    });
  }

  private encodedAnswers(zone: Zone): Map<string, { msg: Buffer; scan: Scan }> {
    let m = this.encoded.get(zone);
    if (!m) {
      m = new Map();
      this.encoded.set(zone, m);
    }
    return m;
  }

  private async forward(q: Query, r: Exclude<Route, { kind: 'local' }>, state: ResolverState, transport: Transport): Promise<Buffer> {
    const group = r.kind === 'mesos' ? state.mesos : r.kind === 'forward' ? state.forward.get(r.zone)! : state.upstream;
    if (ZONE_TRANSFERS.has(q.qtype)) return errorResponse(q.id, q.flags, Rcode.REFUSED, q.question, q.edns);
    // Built only with a cache or stale store: no string work on the hot path when both are off.
    const cacheKey = state.cache || state.stale ? `${q.name}|${q.qtype}|${q.qclass}|${q.flags & CD}|${q.edns?.dnssecOk ? 1 : 0}` : '';
    const cached = state.cache?.get(cacheKey, Date.now());
    if (cached) {
      this.metrics.cacheLookups.inc({ result: 'hit' });
      return shapeResponse(cached.msg, cached.scan, { id: q.id, question: q.question, edns: q.edns, limit: replyLimit(q, transport), setFlags: RA });
    }
    if (state.cache) this.metrics.cacheLookups.inc({ result: 'miss' });
    if (group.servers.length === 0) {
      this.metrics.forwarderFailures.inc({ zone: group.name });
      return errorResponse(q.id, q.flags, Rcode.SERVFAIL, q.question, q.edns);
    }
    // Past the limit an immediate answer beats silence: the client's resolver moves on at once.
    // The stale answer when one is kept, else SERVFAIL: the limit is reached when servers are
    // slow or down and queries pile up waiting for them, which is when serve-stale is meant to
    // help. It adds no load on any server, and its short TTL brings the client back soon.
    if (this.inflight >= state.config.maxInflight) {
      this.metrics.overload.inc();
      return this.answerStale(q, cacheKey, state, group, transport) ?? errorResponse(q.id, q.flags, Rcode.SERVFAIL, q.question, q.edns);
    }
    this.inflight++;
    const started = performance.now();
    try {
      const reply = await race(
        group,
        { question: q.question, flags: q.flags, dnssecOk: q.edns?.dnssecOk ?? false },
        state.config.fanout,
        state.config.timeoutMs,
      );
      if (!reply) {
        const stale = this.answerStale(q, cacheKey, state, group, transport);
        if (stale) return stale;
        this.metrics.forwarderFailures.inc({ zone: group.name });
        return errorResponse(q.id, q.flags, Rcode.SERVFAIL, q.question, q.edns);
      }
      const c = state.config.cache;
      const now = Date.now();
      state.cache?.set(cacheKey, reply.msg, reply.scan, r.kind === 'mesos' ? c.mesosMaxTtlSec : c.maxTtlSec, now);
      state.stale?.set(cacheKey, reply.msg, reply.scan, now);
      return shapeResponse(reply.msg, reply.scan, {
        id: q.id,
        question: q.question,
        edns: q.edns,
        limit: replyLimit(q, transport),
        setFlags: RA,
      });
    } finally {
      this.metrics.forwarderDuration.observe(group.labels, (performance.now() - started) / 1000);
      this.inflight--;
    }
  }

  /** Serve-stale (RFC 8767): the last good answer, TTLs set to ttlSec, when no server gives one now. */
  private answerStale(q: Query, key: string, state: ResolverState, group: ServerGroup, transport: Transport): Buffer | undefined {
    const stale = state.stale?.get(key, Date.now());
    if (!stale) return undefined;
    this.metrics.staleAnswers.inc(group.labels);
    // Debug only: during an outage this is every query for a known name.
    this.log.debug({ qname: q.name, qtype: q.qtype, zone: group.name, ageSec: stale.ageSec }, 'answered from the stale store');
    return shapeResponse(stale.msg, stale.scan, { id: q.id, question: q.question, edns: q.edns, limit: replyLimit(q, transport), setFlags: RA });
  }
}
