// The query pipeline, transport-independent: parse → route → answer locally or race the
// servers → shape the reply for this client. It never throws; every query gets a reply or a
// deliberate silence (unparsable input).
import type { Logger } from 'pino';
import type { ClientAdmission, QueryAdmission } from './admission/client-admission.js';
import type { Config } from '../common/config/schema.js';
import { type Query, parseQuery, replyLimit } from '../common/dns/query.js';
import type { AnswerCache } from './cache/answer-cache.js';
import type { StaleStore } from './cache/stale-store.js';
import {
  CD,
  Class,
  Ede,
  type ExtendedError,
  RA,
  Rcode,
  type Scan,
  TC,
  type Transport,
  Type,
  errorResponse,
  rcodeName,
  shapeResponse,
} from '../common/dns/wire.js';
import { type ForwardedQuestion, ServerAnswers } from './answers/answers.js';
import type { ServerGroup } from './servers/server-group.js';
import type { Metrics } from './metrics.js';
import { type Route, type RoutingTable, route } from './routing.js';
import { encodedAnswer } from './zones/encoded-answers.js';
import type { Zone } from './zones/local-zones.js';

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

const ZONE_TRANSFERS = new Set<number>([Type.IXFR, Type.AXFR]);

/** Why a stale answer was given: every server failed, they are slower than the client-response timer, or the agent is overloaded. */
type StaleReason = 'failed' | 'slow' | 'overloaded';
const STALE_WHY: Record<StaleReason, string> = {
  failed: 'no usable answer from',
  slow: 'no answer yet from',
  overloaded: 'overloaded, not asked:',
};

const TOO_SLOW = Symbol('too slow');

/** `p`'s value, or TOO_SLOW when it has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TOO_SLOW> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms, TOO_SLOW);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A group's servers for EXTRA-TEXT: "mesos 10.0.0.1:53, 10.0.0.2:53 (down)". */
function serverList(group: ServerGroup): string {
  return `${group.name} ${group.servers.map((s) => (s.down ? `${s.address} (down)` : s.address)).join(', ')}`;
}

/** What makes two queries the same to a server: the cache, stale store and coalescing key. */
export function answerKey(q: Query): string {
  return `${q.name}|${q.qtype}|${q.qclass}|${q.flags & CD}|${q.edns?.dnssecOk ? 1 : 0}`;
}

export class Resolver {
  private inflight = 0;
  private rotation = 0;
  private readonly labelCache = new Map<string, { transport: Transport; route: Route['kind']; rcode: string }>();
  private readonly staleLabelCache = new Map<string, { zone: string; reason: StaleReason }>();
  /** The cache, coalescing and prefetch in front of the servers. */
  private readonly answers: ServerAnswers;

  constructor(
    public state: ResolverState,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.answers = new ServerAnswers(metrics);
    metrics.readInflightFrom(() => this.inflight);
  }

  get inflightCount(): number {
    return this.inflight;
  }

  /**
   * The reply to `msg`: at once when the agent has it (a local zone, the cache, an error), a
   * promise when servers are asked; undefined for silence (unparsable input). Answering without a
   * promise keeps the common cases to one synchronous step per query. `client` is the source
   * address, checked before anything else so that a client turned away costs as little as
   * possible; absent for the agent's own lookups (the HTTP API's).
   */
  resolve(msg: Buffer, transport: Transport, client?: string): Buffer | undefined | Promise<Buffer> {
    if (client !== undefined) {
      const admission = this.state.clients.admitQuery(client);
      if (admission !== 'serve') return this.turnAway(msg, admission, transport, client);
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
    if (r.kind === 'local') return this.counted(transport, r.kind, this.answerLocal(q, state.zones.get(r.zone)!, transport));
    const now = this.answerNow(q, r, state, transport);
    if (Buffer.isBuffer(now)) return this.counted(transport, r.kind, now);
    return this.forward(q, r, now, state, transport).then((reply) => this.counted(transport, r.kind, reply));
  }

  private counted(transport: Transport, kind: Route['kind'], reply: Buffer): Buffer {
    this.metrics.queries.inc(this.queryLabels(transport, kind, reply.readUInt16BE(2) & 0xf));
    return reply;
  }

  /**
   * Outside the ACL: REFUSED. Over its rate over UDP: an empty reply with TC, no bigger than the
   * query, so a real client retries over TCP (which proves its address) and a spoofed victim gets
   * nothing amplified; over TCP: REFUSED. Unparsable input from such a client gets silence.
   */
  private turnAway(msg: Buffer, reason: Exclude<QueryAdmission, 'serve'>, transport: Transport, client: string): Buffer | undefined {
    this.metrics.refused.inc({ reason, transport });
    // Debug only: a flood would be a line per packet. reason: "acl" (outside it) or "rate" (over it).
    this.log.debug({ client, reason, transport }, 'query turned away');
    const parsed = parseQuery(msg);
    if (parsed.kind !== 'query') return undefined;
    const q = parsed.query;
    if (reason === 'rate' && transport === 'udp') {
      const reply = this.fail(q, Rcode.NOERROR);
      reply.writeUInt16BE(reply.readUInt16BE(2) | TC, 2);
      return reply;
    }
    if (reason === 'acl') return this.fail(q, Rcode.REFUSED, { code: Ede.PROHIBITED, text: `${client} is outside the acl` });
    return this.fail(q, Rcode.REFUSED);
  }

  /** One labels object per transport, route and rcode, made once: not an allocation per query. */
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
    if ((q.qclass !== Class.IN && q.qclass !== Class.ANY) || ZONE_TRANSFERS.has(q.qtype)) return this.fail(q, Rcode.REFUSED);
    const a = encodedAnswer(zone, q.name, q.qtype, q.flags, this.rotation++);
    return this.reply(q, a, transport);
  }

  /** A reply to `q` from a message held for many clients: patched with its ID, question spelling, OPT and size. */
  private reply(q: Query, held: { msg: Buffer; scan: Scan }, transport: Transport, ede?: ExtendedError): Buffer {
    return shapeResponse(held.msg, held.scan, {
      id: q.id,
      question: q.question,
      edns: q.edns,
      limit: replyLimit(q, transport),
      setFlags: RA,
      ede,
    });
  }

  /** An error reply to `q`: its ID, flags and question, with `rcode` (and why, to an EDNS client). */
  private fail(q: Query, rcode: number, ede?: ExtendedError): Buffer {
    return errorResponse(q.id, q.flags, rcode, q.question, q.edns, 0, ede);
  }

  /**
   * What a forwarded name gets without asking a server: REFUSED for a zone transfer, the cached
   * answer, SERVFAIL with no servers, or the immediate answer past maxInflight. Otherwise the
   * question to ask the servers.
   */
  private answerNow(
    q: Query,
    r: Exclude<Route, { kind: 'local' }>,
    state: ResolverState,
    transport: Transport,
  ): Buffer | ForwardedQuestion {
    const group = this.groupFor(r, state);
    if (ZONE_TRANSFERS.has(q.qtype)) return this.fail(q, Rcode.REFUSED);
    const fq: ForwardedQuestion = {
      key: answerKey(q),
      question: { question: q.question, flags: q.flags, dnssecOk: q.edns?.dnssecOk ?? false },
      maxTtlSec: r.kind === 'mesos' ? state.config.cache.mesosMaxTtlSec : state.config.cache.maxTtlSec,
    };
    const cached = this.answers.cached(fq, group, state);
    if (cached) return this.reply(q, cached, transport);
    if (group.servers.length === 0) {
      this.metrics.forwardedFailures.inc(group.labels);
      const ede =
        r.kind === 'mesos'
          ? { code: Ede.NOT_READY, text: 'no Mesos master known yet (see /v1/enumerate discovery)' }
          : { code: Ede.NO_REACHABLE_AUTHORITY, text: `no ${group.name} servers configured` };
      return this.fail(q, Rcode.SERVFAIL, ede);
    }
    // Past the limit an immediate answer beats silence (the client's resolver moves on at once).
    // The limit is reached when servers are slow or down, just when serve-stale helps most.
    if (this.inflight >= state.config.maxInflight) {
      this.metrics.overload.inc();
      return (
        this.answerStale(q, fq.key, state, group, transport, 'overloaded') ??
        this.fail(q, Rcode.SERVFAIL, { code: Ede.OTHER, text: `overloaded: ${state.config.maxInflight} queries waiting for servers` })
      );
    }
    return fq;
  }

  private groupFor(r: Exclude<Route, { kind: 'local' }>, state: ResolverState): ServerGroup {
    return r.kind === 'mesos' ? state.mesos : r.kind === 'forward' ? state.forward.get(r.zone)! : state.upstream;
  }

  /**
   * The answer to a query a server must give. Identical queries in flight share one exchange
   * (ServerAnswers); each client gets the reply shaped for it (its ID, question spelling, size).
   * With a stale answer kept, the client gets it once the servers have taken
   * serveStale.clientTimeoutMs (RFC 8767's client-response timer), before its own resolver gives
   * up; the exchange goes on and refreshes the stores if an answer comes.
   */
  private async forward(
    q: Query,
    r: Exclude<Route, { kind: 'local' }>,
    fq: ForwardedQuestion,
    state: ResolverState,
    transport: Transport,
  ): Promise<Buffer> {
    const group = this.groupFor(r, state);
    this.inflight++;
    const started = performance.now();
    try {
      const fetching = this.answers.fetch(fq, group, state);
      let reply = state.stale?.has(fq.key) ? await within(fetching, state.config.serveStale.clientTimeoutMs) : await fetching;
      if (reply === TOO_SLOW) {
        const stale = this.answerStale(q, fq.key, state, group, transport, 'slow');
        if (stale) return stale;
        reply = await fetching;
      }
      if (reply) return this.reply(q, reply, transport);
      const stale = this.answerStale(q, fq.key, state, group, transport, 'failed');
      if (stale) return stale;
      this.metrics.forwardedFailures.inc(group.labels);
      return this.fail(q, Rcode.SERVFAIL, { code: Ede.NO_REACHABLE_AUTHORITY, text: `no usable answer from ${serverList(group)}` });
    } finally {
      this.metrics.forwardedDuration.observe(group.labels, (performance.now() - started) / 1000);
      this.inflight--;
    }
  }

  /**
   * Serve-stale (RFC 8767): the last good answer, TTLs set to serveStale.ttlSec, because the
   * servers failed, are slow (the client-response timer) or the agent is overloaded.
   */
  private answerStale(
    q: Query,
    key: string,
    state: ResolverState,
    group: ServerGroup,
    transport: Transport,
    why: StaleReason,
  ): Buffer | undefined {
    const stale = state.stale?.get(key, Date.now());
    if (!stale) return undefined;
    this.metrics.staleAnswers.inc(this.staleLabels(group, why));
    // Debug only: during an outage this is every query for a known name.
    this.log.debug(
      { qname: q.name, qtype: q.qtype, group: group.name, why, expiredSec: stale.expiredSec },
      'answered from the stale store',
    );
    const nx = stale.scan.header.rcode === Rcode.NXDOMAIN;
    return this.reply(q, stale, transport, {
      code: nx ? Ede.STALE_NXDOMAIN_ANSWER : Ede.STALE_ANSWER,
      text: `${STALE_WHY[why]} ${serverList(group)}; ${stale.expiredSec > 0 ? `expired ${stale.expiredSec} s ago` : 'within its TTL'}`,
    });
  }

  /** One labels object per group and reason. */
  private staleLabels(group: ServerGroup, reason: StaleReason): { zone: string; reason: StaleReason } {
    const key = `${group.name}|${reason}`;
    let labels = this.staleLabelCache.get(key);
    if (!labels) {
      labels = { zone: group.name, reason };
      this.staleLabelCache.set(key, labels);
    }
    return labels;
  }
}
