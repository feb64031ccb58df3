// The query pipeline, transport-independent: parse → route → answer from a local zone, or ask the
// answer layer (answers/) for the route's server group → shape the reply for this client. It never
// throws; every query gets a reply or a deliberate silence (unparsable input).
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
import { type Answer, Answers, type ForwardedQuestion, type StaleReason } from './answers/answers.js';
import { type Clock, systemClock } from './clock.js';
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

const STALE_WHY: Record<StaleReason, string> = {
  failed: 'no usable answer from',
  slow: 'no answer yet from',
  overloaded: 'overloaded, not asked:',
};

/** A group's servers for EXTRA-TEXT: "mesos 10.0.0.1:53, 10.0.0.2:53 (down)". */
function serverList(group: ServerGroup): string {
  return `${group.name} ${group.servers.map((s) => (s.down ? `${s.address} (down)` : s.address)).join(', ')}`;
}

/** What makes two queries the same to a server: the cache, stale store and coalescing key. */
export function answerKey(q: Query): string {
  return `${q.name}|${q.qtype}|${q.qclass}|${q.flags & CD}|${q.edns?.dnssecOk ? 1 : 0}`;
}

/** The server group a forwarded route asks. */
export function groupFor(r: Exclude<Route, { kind: 'local' }>, state: ResolverState): ServerGroup {
  return r.kind === 'mesos' ? state.mesos : r.kind === 'forward' ? state.forward.get(r.zone)! : state.upstream;
}

/** Where a client's reply came from, as explain reports it. */
export type ReplySource = 'local zone' | 'answer cache' | 'stale store' | 'servers' | 'agent';
const SOURCE: Record<Answer['source'], ReplySource> = { cache: 'answer cache', servers: 'servers', stale: 'stale store', none: 'agent' };

/** A question routed: answered by the agent at once (a local zone, a refusal), or by a group through the answer layer. */
type Routed =
  | { kind: 'now'; route: Route['kind']; reply: Buffer; source: ReplySource }
  | { kind: 'group'; route: Exclude<Route, { kind: 'local' }>; group: ServerGroup; answer: Answer | Promise<Answer> };

export class Resolver {
  private rotation = 0;
  private readonly labelCache = new Map<string, { transport: Transport; route: Route['kind']; rcode: string }>();
  /** The cache, coalescing, prefetch, the in-flight limit and serve-stale in front of the servers. */
  private readonly answers: Answers;

  constructor(
    public state: ResolverState,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    clock: Clock = systemClock,
  ) {
    this.answers = new Answers(metrics, clock);
    metrics.readInflightFrom(() => this.answers.waiting);
  }

  get inflightCount(): number {
    return this.answers.waiting;
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
    const q = this.parse(msg, transport);
    if (!q || Buffer.isBuffer(q)) return q;
    const routed = this.route(q, transport);
    if (routed.kind === 'now') return this.counted(transport, routed.route, routed.reply);
    const { answer, route: r, group } = routed;
    if (!(answer instanceof Promise)) return this.counted(transport, r.kind, this.shape(q, answer, r, group, transport));
    return answer.then((a) => this.counted(transport, r.kind, this.shape(q, a, r, group, transport)));
  }

  /** As resolve(), for the agent's own lookups (explain), with where the reply came from. */
  async resolveWithSource(msg: Buffer, transport: Transport): Promise<{ reply: Buffer | undefined; source: ReplySource }> {
    const q = this.parse(msg, transport);
    if (!q || Buffer.isBuffer(q)) return { reply: q, source: 'agent' };
    const routed = this.route(q, transport);
    if (routed.kind === 'now') return { reply: this.counted(transport, routed.route, routed.reply), source: routed.source };
    const a = await routed.answer;
    return {
      reply: this.counted(transport, routed.route.kind, this.shape(q, a, routed.route, routed.group, transport)),
      source: SOURCE[a.source],
    };
  }

  /** The query, or the error reply to unparsable input (a Buffer), or undefined for silence. */
  private parse(msg: Buffer, transport: Transport): Query | Buffer | undefined {
    const parsed = parseQuery(msg);
    if (parsed.kind === 'query') return parsed.query;
    this.metrics.invalidQueries.inc({ reason: parsed.kind === 'drop' ? 'dropped' : 'error_reply' });
    this.log.debug({ transport, reason: parsed.reason }, 'invalid query');
    return parsed.kind === 'error' ? parsed.response : undefined;
  }

  /** Where `q` goes, and its answer from there. */
  private route(q: Query, transport: Transport): Routed {
    const state = this.state;
    const r = route(q.name, state.table);
    if (r.kind === 'local')
      return { kind: 'now', route: 'local', reply: this.answerLocal(q, state.zones.get(r.zone)!, transport), source: 'local zone' };
    const group = groupFor(r, state);
    // Zone transfers are never forwarded: a node is no secondary of the masters.
    if (ZONE_TRANSFERS.has(q.qtype)) return { kind: 'now', route: r.kind, reply: this.fail(q, Rcode.REFUSED), source: 'agent' };
    const fq: ForwardedQuestion = {
      key: answerKey(q),
      question: { wire: q.question, flags: q.flags, dnssecOk: q.edns?.dnssecOk ?? false },
      maxTtlSec: r.kind === 'mesos' ? state.config.cache.mesosMaxTtlSec : state.config.cache.maxTtlSec,
    };
    return { kind: 'group', route: r, group, answer: this.answers.answer(fq, group, state) };
  }

  /** The reply to `q` from the answer layer's answer: the held reply shaped for this client, or SERVFAIL saying why. */
  private shape(q: Query, a: Answer, r: Exclude<Route, { kind: 'local' }>, group: ServerGroup, transport: Transport): Buffer {
    switch (a.source) {
      case 'cache':
      case 'servers':
        return this.reply(q, a.held, transport);
      case 'stale': {
        // Debug only: during an outage this is every query for a known name.
        this.log.debug(
          { qname: q.name, qtype: q.qtype, group: group.name, why: a.why, expiredSec: a.held.expiredSec },
          'answered from the stale store',
        );
        const nx = a.held.scan.header.rcode === Rcode.NXDOMAIN;
        return this.reply(q, a.held, transport, {
          code: nx ? Ede.STALE_NXDOMAIN_ANSWER : Ede.STALE_ANSWER,
          text: `${STALE_WHY[a.why]} ${serverList(group)}; ${a.held.expiredSec > 0 ? `expired ${a.held.expiredSec} s ago` : 'within its TTL'}`,
        });
      }
      case 'none':
        return this.fail(q, Rcode.SERVFAIL, this.whyNone(a.why, r, group));
    }
  }

  private whyNone(why: Extract<Answer, { source: 'none' }>['why'], r: Route, group: ServerGroup): ExtendedError {
    if (why === 'overloaded') return { code: Ede.OTHER, text: `overloaded: ${this.state.config.maxInflight} queries waiting for servers` };
    if (why === 'failed') return { code: Ede.NO_REACHABLE_AUTHORITY, text: `no usable answer from ${serverList(group)}` };
    return r.kind === 'mesos'
      ? { code: Ede.NOT_READY, text: 'no Mesos master known yet (see /v1/enumerate discovery)' }
      : { code: Ede.NO_REACHABLE_AUTHORITY, text: `no ${group.name} servers configured` };
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
}
