// A load generator that checks every reply, where dnsperf only counts them: bounded in count,
// rate and time, over UDP from a few sockets on 127.0.0.1. Each reply must carry its query's ID
// and question and, for NOERROR, exactly the records a correct answer has; SERVFAIL counts as
// correct only when the plan says nothing could have answered.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, OptAnswer, Packet, RecordType } from 'dns-packet';
import { assertLoopback } from '../../sim/ports.js';

export interface Expected {
  name: string;
  type: 'A' | 'SRV';
  /** Every address (A) or "port target" (SRV) a correct answer carries, no more, no fewer. */
  records: string[];
  /** Which servers answer it. */
  route: 'mesos' | 'upstream';
  /** Offer EDNS with this buffer size (a big answer then arrives whole, by the agent's TCP retry). */
  ednsSize?: number;
}

export interface LoadPlan {
  host: string;
  port: number;
  names: Expected[];
  qps: number;
  /** Queries at most… */
  count: number;
  /** …and sending stops after this long in any case. */
  seconds: number;
  replyTimeoutMs: number;
  /** The phase a query belongs to, read when it is sent. */
  phase?: () => string;
  /**
   * Whether a SERVFAIL is a correct answer to this query: only while nothing could answer it.
   * `answeredBefore`: the name had a fresh answer earlier (so serve-stale has it).
   */
  servfailAllowed?: (q: Expected, sentAt: number, answeredBefore: boolean) => boolean;
  /** Records of this TTL are serve-stale's (RFC 8767 §4 recommends 30 s). */
  staleTtl?: number;
}

export interface Tally {
  sent: number;
  answered: number;
  wrong: number;
  lost: number;
  /** SERVFAILs that were allowed (a disallowed one is wrong). */
  servfail: number;
  /** Correct answers from serve-stale. */
  stale: number;
  /** How long each stale answer took, ms. */
  staleMs: number[];
  /** Correct but truncated (TC, a subset of the records): the client would retry over TCP. */
  truncated: number;
  rcodes: Record<string, number>;
}

export interface LoadResult extends Tally {
  byPhase: Record<string, Tally>;
  wrongReasons: Record<string, number>;
  /** The first few wrong replies, described. */
  wrongSamples: string[];
  seconds: number;
}

const SOCKETS = 4;
const TICK_MS = 10;
const MAX_SAMPLES = 10;

interface Pending {
  q: Expected;
  sentAt: number;
  phase: string;
}

const ednsOpt = (udpPayloadSize: number): OptAnswer => ({
  name: '.',
  type: 'OPT',
  udpPayloadSize,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: [],
});

const emptyTally = (): Tally => ({ sent: 0, answered: 0, wrong: 0, lost: 0, servfail: 0, stale: 0, staleMs: [], truncated: 0, rcodes: {} });

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** What the answer section says, in the form Expected.records uses. */
function recordsOf(p: DecodedPacket, q: Expected): { data: string[]; ttls: number[] } {
  const answers = (p.answers ?? []) as Array<{ type: string; name: string; ttl?: number; data: unknown }>;
  const of = answers.filter((a) => a.type === q.type && a.name.toLowerCase() === q.name.toLowerCase());
  return {
    data: of.map((a) =>
      a.type === 'SRV' ? `${(a.data as { port: number }).port} ${(a.data as { target: string }).target}` : String(a.data),
    ),
    ttls: of.map((a) => a.ttl ?? 0),
  };
}

export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  assertLoopback(plan.host);
  const total: LoadResult = { ...emptyTally(), byPhase: {}, wrongReasons: {}, wrongSamples: [], seconds: 0 };
  const answeredBefore = new Set<string>();
  const tally = (phase: string, f: (t: Tally) => void) => {
    f(total);
    f((total.byPhase[phase] ??= emptyTally()));
  };
  const wrong = (p: Pending, reason: string, detail: string) => {
    tally(p.phase, (t) => t.wrong++);
    total.wrongReasons[reason] = (total.wrongReasons[reason] ?? 0) + 1;
    if (total.wrongSamples.length < MAX_SAMPLES) total.wrongSamples.push(`${p.phase}: ${p.q.name} ${p.q.type}: ${reason} (${detail})`);
  };

  const judge = (p: Pending, msg: Buffer) => {
    let r: DecodedPacket;
    try {
      r = dnsPacket.decode(msg);
    } catch (err) {
      return wrong(p, 'undecodable reply', (err as Error).message);
    }
    const rcode = RCODES[(r.flags ?? 0) & 0xf] ?? `RCODE${(r.flags ?? 0) & 0xf}`;
    tally(p.phase, (t) => {
      t.answered++;
      t.rcodes[rcode] = (t.rcodes[rcode] ?? 0) + 1;
    });
    const question = r.questions?.[0];
    if (r.type !== 'response' || question?.name.toLowerCase() !== p.q.name.toLowerCase() || question.type !== p.q.type) {
      return wrong(p, 'not a reply to the question', `${r.type}, ${question?.name} ${question?.type}`);
    }
    if (rcode === 'SERVFAIL') {
      if (plan.servfailAllowed?.(p.q, p.sentAt, answeredBefore.has(p.q.name))) return tally(p.phase, (t) => t.servfail++);
      return wrong(
        p,
        `SERVFAIL while ${answeredBefore.has(p.q.name) ? 'a server or serve-stale' : 'a server'} could answer`,
        `sent in ${p.phase}`,
      );
    }
    if (rcode !== 'NOERROR') return wrong(p, rcode, 'every name asked exists');
    const { data, ttls } = recordsOf(r, p.q);
    const expected = new Set(p.q.records);
    const foreign = data.filter((d) => !expected.has(d));
    if (foreign.length > 0) return wrong(p, 'records that are not the name’s', foreign.slice(0, 3).join(', '));
    const truncated = r.flag_tc === true;
    if (!truncated && new Set(data).size !== expected.size) return wrong(p, 'records missing', `${new Set(data).size} of ${expected.size}`);
    const stale = plan.staleTtl !== undefined && ttls.length > 0 && ttls.every((t) => t === plan.staleTtl);
    const tookMs = Date.now() - p.sentAt;
    tally(p.phase, (t) => {
      if (truncated) t.truncated++;
      if (stale) {
        t.stale++;
        t.staleMs.push(tookMs);
      }
    });
    if (!stale && !truncated) answeredBefore.add(p.q.name);
  };

  const queries = plan.names
    .map(
      (q) =>
        ({
          type: 'query',
          id: 0,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ name: q.name, type: q.type as RecordType }],
          additionals: q.ednsSize ? [ednsOpt(q.ednsSize)] : [],
        }) satisfies Packet,
    )
    .map((p) => dnsPacket.encode(p));

  return new Promise((resolve) => {
    const sockets = Array.from({ length: SOCKETS }, () => ({ sock: dgram.createSocket('udp4'), pending: new Map<number, Pending>() }));
    for (const s of sockets) {
      s.sock.on('error', () => {}); // e.g. ECONNREFUSED while the agent is gone: the query is then lost
      s.sock.on('message', (msg) => {
        if (msg.length < 2) return;
        const p = s.pending.get(msg.readUInt16BE(0));
        if (!p) return; // a late reply to a query already counted as lost
        s.pending.delete(msg.readUInt16BE(0));
        judge(p, msg);
      });
      s.sock.bind(0, '127.0.0.1');
    }
    const started = performance.now();
    let i = 0;
    let done = false;
    const tick = setInterval(() => {
      const now = performance.now();
      const elapsed = now - started;
      const sending = i < plan.count && elapsed < plan.seconds * 1000;
      if (sending) {
        const due = Math.min(plan.count, Math.floor((elapsed * plan.qps) / 1000) + 1);
        for (; i < due; i++) {
          const s = sockets[i % SOCKETS];
          let id = Math.floor(Math.random() * 65536);
          while (s.pending.has(id)) id = (id + 1) & 0xffff;
          const q = plan.names[i % plan.names.length];
          const msg = Buffer.from(queries[i % queries.length]);
          msg.writeUInt16BE(id, 0);
          const p: Pending = { q, sentAt: Date.now(), phase: plan.phase?.() ?? 'all' };
          s.pending.set(id, p);
          tally(p.phase, (t) => t.sent++);
          s.sock.send(msg, plan.port, plan.host);
        }
      }
      const wallNow = Date.now();
      let open = 0;
      for (const s of sockets) {
        for (const [id, p] of s.pending) {
          if (wallNow - p.sentAt > plan.replyTimeoutMs) {
            s.pending.delete(id);
            tally(p.phase, (t) => t.lost++);
          } else {
            open++;
          }
        }
      }
      if (!sending && open === 0 && !done) {
        done = true;
        clearInterval(tick);
        total.seconds = (performance.now() - started) / 1000;
        let closing = sockets.length;
        for (const s of sockets) s.sock.close(() => --closing === 0 && resolve(total));
      }
    }, TICK_MS);
  });
}

/** How a tally reads in a detail line. */
export function tallyText(t: Tally): string {
  const rcodes = Object.entries(t.rcodes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const extra = [t.stale ? `stale ${t.stale}` : '', t.truncated ? `TC ${t.truncated}` : ''].filter(Boolean).join(', ');
  return `sent ${t.sent}, answered ${t.answered}, wrong ${t.wrong}, lost ${t.lost}, SERVFAIL allowed ${t.servfail}${extra ? `, ${extra}` : ''}${rcodes ? ` (${rcodes})` : ''}`;
}
