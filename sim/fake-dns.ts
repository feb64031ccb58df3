// In-process fake DNS servers for the tests and the demo: they play Mesos-DNS masters and
// upstream resolvers, answer like a small authoritative server, and can be switched into the
// failure modes the agent has to survive.
//
// All wire work goes through dns-packet, which does not compress names: replies are somewhat
// larger than a real server's, so truncation kicks in a few records earlier than with Mesos-DNS.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question, SoaAnswer, StringAnswer } from 'dns-packet';
import type { Transport } from '../common/dns/wire.js';
import { bindUdp, bindUdpAndTcp } from './ports.js';

export type Behaviour =
  | { kind: 'answer' }
  | { kind: 'silent' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'rcode'; rcode: 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP' }
  | { kind: 'garbage' }
  | { kind: 'wrong-id' }
  | { kind: 'wrong-question' }
  | { kind: 'other-port' }
  /**
   * Spoofing (RFC 5452): before each real UDP reply, three forged ones whose A record is
   * `forgedAddress`: a wrong ID; the right ID with another question; the right ID and question
   * from another port. Counted in `forgeriesSent`.
   */
  | { kind: 'forge-first'; forgedAddress: string };

export interface FakeDnsOptions {
  address?: string;
  port?: number;
  zone: string;
  records: Answer[];
  behaviour?: Behaviour;
  udpLimit?: number | 'edns';
  authoritative?: boolean;
  ttl?: number;
}

/** How the TCP side departs from a plain server, as real ones do; UDP is unaffected. */
export interface TcpQuirks {
  /** End each connection after this many answers (dnsmasq: 100); 0 ends it at the first query. */
  closeAfter?: number;
  /** Hold answers until this many are due on a connection, then send them last first (RFC 7766 allows any order). */
  reverseBatch?: number;
  /** Read queries, never answer. */
  hang?: boolean;
}

export interface ReceivedQuery {
  transport: Transport;
  id: number;
  name: string;
  type: string;
  ednsSize?: number;
  at: number;
}

type RcodeName = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
// dns-packet decodes rcodes to names but only encodes raw header flags.
const RCODE: Record<RcodeName, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

// What we advertise back to EDNS clients: the DNS-flag-day value, so clients never believe we can
// take fragmented UDP.
const REPLY_EDNS_SIZE = 1232;
const MIN_UDP = 512;

/** Lowercase, no trailing dot: DNS names compare case-insensitively. */
const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

interface Reply {
  packet: Packet; // answers/authorities/additionals, never the OPT
  opt?: OptAnswer;
}

export class FakeDnsServer {
  readonly queries: ReceivedQuery[] = [];
  /** TCP connections accepted so far. */
  tcpAccepted = 0;
  forgeriesSent = 0;
  private tcpQuirks: TcpQuirks = {};
  private behaviour: Behaviour;
  private records: Answer[];
  /**
   * The zone's records by lower-case name, built on first use after a change: a fake master must
   * answer thousands of names a second without being the bottleneck.
   */
  private byName: Map<string, Answer[]> | undefined;
  private readonly zone: string;
  private readonly udpLimit: number | 'edns';
  private readonly authoritative: boolean;
  private readonly ttl: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly conns = new Set<net.Socket>();
  private stopping?: Promise<void>;

  private constructor(
    readonly address: string,
    readonly port: number,
    private readonly udp: dgram.Socket,
    private readonly otherUdp: dgram.Socket,
    private readonly tcp: net.Server,
    opts: FakeDnsOptions,
  ) {
    this.zone = norm(opts.zone);
    this.records = opts.records;
    this.behaviour = opts.behaviour ?? { kind: 'answer' };
    this.udpLimit = opts.udpLimit ?? MIN_UDP;
    this.authoritative = opts.authoritative ?? true;
    this.ttl = opts.ttl ?? 60;

    // Send errors (e.g. the client went away) must not crash the test run.
    udp.on('error', () => {});
    otherUdp.on('error', () => {});
    udp.on('message', (msg, rinfo) =>
      this.handle(msg, 'udp', (reply, fromOtherPort) => (fromOtherPort ? otherUdp : udp).send(reply, rinfo.port, rinfo.address, () => {})),
    );
    tcp.on('connection', (sock) => this.onConnection(sock));
  }

  static async start(opts: FakeDnsOptions): Promise<FakeDnsServer> {
    const address = opts.address ?? '127.0.0.1';
    const { udp, tcp, port } = await bindUdpAndTcp(address, opts.port ?? 0);
    // Bound up front so 'other-port' can be switched on at any time.
    const otherUdp = await bindUdp(address, 0);
    return new FakeDnsServer(address, port, udp, otherUdp, tcp, opts);
  }

  /** "ip:port", as a config names it. */
  get endpoint(): string {
    return `${this.address}:${this.port}`;
  }

  setBehaviour(b: Behaviour): void {
    this.behaviour = b;
  }

  setTcpQuirks(q: TcpQuirks): void {
    this.tcpQuirks = q;
  }

  get openTcpConnections(): number {
    return this.conns.size;
  }

  setRecords(records: Answer[]): void {
    this.records = records;
    this.byName = undefined;
  }

  queryCount(transport?: Transport): number {
    return transport ? this.queries.filter((q) => q.transport === transport).length : this.queries.length;
  }

  resetQueries(): void {
    // In place, so callers holding `queries` keep seeing the live list.
    this.queries.length = 0;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      // server.close() waits for open connections, so end them first.
      for (const c of this.conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => this.udp.close(() => r())),
        new Promise<void>((r) => this.otherUdp.close(() => r())),
        new Promise<void>((r) => this.tcp.close(() => r())),
      ]);
    })();
    return this.stopping;
  }

  // RFC 7766: a connection carries any number of length-prefixed messages, and a read may end
  // anywhere inside one.
  private onConnection(sock: net.Socket): void {
    if (this.stopping) return void sock.destroy();
    this.tcpAccepted++;
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => {}); // clients resetting mid-reply is expected in failure tests
    let pending = Buffer.alloc(0);
    let answered = 0;
    let held: Buffer[] = [];
    const closing = () => this.tcpQuirks.closeAfter !== undefined && answered >= this.tcpQuirks.closeAfter;
    const send = (reply: Buffer) => {
      const { reverseBatch, hang } = this.tcpQuirks;
      if (hang || sock.destroyed || sock.writableEnded) return;
      held.push(reply);
      if (held.length < (reverseBatch ?? 1)) return;
      for (const r of held.reverse()) {
        sock.write(frame(r));
        answered++;
        if (closing()) return void sock.end();
      }
      held = [];
    };
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        if (closing()) return void sock.end();
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        this.handle(msg, 'tcp', send);
      }
    });
  }

  private handle(msg: Buffer, transport: Transport, send: (reply: Buffer, fromOtherPort?: boolean) => void): void {
    if (this.stopping) return;
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // malformed: a real server may just drop it, and so do we
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return;
    const opt = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    this.queries.push({
      transport,
      id: query.id ?? 0,
      name: question.name,
      type: question.type,
      ...(opt ? { ednsSize: opt.udpPayloadSize } : {}),
      at: Date.now(),
    });

    const b = this.behaviour;
    if (b.kind === 'silent') return;
    if (b.kind === 'forge-first' && transport === 'udp') {
      for (const [forged, fromOtherPort] of this.forgeries(query, question, b.forgedAddress)) {
        send(forged, fromOtherPort);
        this.forgeriesSent++;
      }
    }
    if (b.kind === 'garbage') return send(randomBytes(12 + Math.floor(Math.random() * 100)));

    const reply = b.kind === 'rcode' ? this.errorReply(query, question, b.rcode) : this.resolve(query, question);
    if (opt) reply.opt = this.replyOpt();
    if (b.kind === 'wrong-id') reply.packet.id = ((query.id ?? 0) + 1) & 0xffff;
    if (b.kind === 'wrong-question') reply.packet.questions = [{ ...question, name: `wrong.${question.name}` }];

    // TCP replies are never truncated. Over UDP, Mesos-DNS ignores the client's EDNS size, which
    // is exactly the behaviour the agent must cope with.
    let limit = Infinity;
    if (transport === 'udp') {
      limit = this.udpLimit === 'edns' ? Math.max(MIN_UDP, opt?.udpPayloadSize ?? MIN_UDP) : this.udpLimit;
    }
    const wire = this.encode(reply, limit);
    const fromOtherPort = b.kind === 'other-port' && transport === 'udp';

    if (b.kind === 'slow') {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send(wire);
      }, b.delayMs);
      this.timers.add(t);
    } else {
      send(wire, fromOtherPort);
    }
  }

  /** What an off-path attacker would race the real reply with: each pair is the message and whether it comes from the other port. */
  private forgeries(query: DecodedPacket, question: Question, address: string): Array<[Buffer, boolean]> {
    const forged = (id: number, q: Question): Buffer =>
      dnsPacket.encode({
        ...this.header(query, q, 'NOERROR', true),
        id,
        answers: [{ name: q.name, type: 'A', ttl: 86400, data: address }],
      });
    const id = query.id ?? 0;
    return [
      [forged((id + 1) & 0xffff, question), false],
      [forged(id, { ...question, name: `forged.${question.name}` }), false],
      [forged(id, question), true],
    ];
  }

  private header(query: DecodedPacket, question: Question, rcode: RcodeName, aa: boolean): Packet {
    return {
      type: 'response',
      id: query.id,
      flags: (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | RCODE[rcode],
      // Echoed as received (case included): clients compare it with what they sent.
      questions: [question],
      answers: [],
      authorities: [],
      additionals: [],
    };
  }

  private errorReply(query: DecodedPacket, question: Question, rcode: RcodeName): Reply {
    return { packet: this.header(query, question, rcode, false) };
  }

  /** The zone's SOA: the one among the records when given (e.g. a generated Mesos-DNS zone), else Mesos-DNS's defaults. */
  private soa(): SoaAnswer {
    const given = this.records.find((r): r is SoaAnswer => r.type === 'SOA' && norm(r.name) === this.zone);
    if (given) return { ...given, ttl: given.ttl ?? this.ttl };
    const ns = this.zone ? `ns1.${this.zone}` : 'ns1';
    return {
      name: this.zone,
      type: 'SOA',
      class: 'IN',
      ttl: 60,
      data: { mname: ns, rname: `root.${ns}`, serial: 1, refresh: 60, retry: 600, expire: 86400, minimum: 60 },
    };
  }

  /** The configured records plus the apex SOA/NS every zone has, unless given explicitly; by name. */
  private zoneRecords(): Map<string, Answer[]> {
    if (this.byName) return this.byName;
    const apex = this.records.filter((r) => norm(r.name) === this.zone);
    const extra: Answer[] = [];
    if (!apex.some((r) => r.type === 'SOA')) extra.push(this.soa());
    if (!apex.some((r) => r.type === 'NS')) {
      extra.push({ name: this.zone, type: 'NS', class: 'IN', ttl: this.ttl, data: `ns1.${this.zone}`.replace(/\.$/, '') });
    }
    const byName = new Map<string, Answer[]>();
    for (const r of [...this.records, ...extra]) {
      const withTtl = 'ttl' in r && r.ttl !== undefined ? r : ({ ...r, ttl: this.ttl } as Answer);
      const key = norm(r.name);
      const list = byName.get(key);
      if (list) list.push(withTtl);
      else byName.set(key, [withTtl]);
    }
    this.byName = byName;
    return byName;
  }

  private resolve(query: DecodedPacket, question: Question): Reply {
    const qname = norm(question.name);
    const inZone = this.zone === '' || qname === this.zone || qname.endsWith(`.${this.zone}`);
    if (!inZone) return this.errorReply(query, question, 'REFUSED');

    const all = this.zoneRecords();
    const atName = all.get(qname) ?? [];
    const ofType = (name: string, type: string) => (all.get(norm(name)) ?? []).filter((r) => type === 'ANY' || r.type === type);

    let answers = shuffle(ofType(qname, question.type));
    if (answers.length === 0 && question.type !== 'CNAME') {
      // Authoritative CNAME handling, one level deep (enough for upstream fakes).
      const cname = atName.find((r): r is StringAnswer => r.type === 'CNAME');
      if (cname) answers = [cname, ...shuffle(ofType(cname.data, question.type))];
    }

    if (answers.length > 0) {
      const packet = this.header(query, question, 'NOERROR', this.authoritative);
      packet.answers = answers;
      // Like Mesos-DNS: glue A records for SRV targets, so clients need no second lookup.
      const targets = new Set(answers.flatMap((a) => (a.type === 'SRV' ? [norm(a.data.target)] : [])));
      packet.additionals = [...targets].flatMap((t) => ofType(t, 'A'));
      return { packet };
    }

    // Empty non-terminals count as non-existent, as in Mesos-DNS.
    const packet = this.header(query, question, atName.length ? 'NOERROR' : 'NXDOMAIN', this.authoritative);
    packet.authorities = [this.soa()];
    return { packet };
  }

  private replyOpt(): OptAnswer {
    return {
      name: '.',
      type: 'OPT',
      udpPayloadSize: REPLY_EDNS_SIZE,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options: [],
    };
  }

  /**
   * Mesos-DNS style truncation: if the reply does not fit, set TC, drop all additional records,
   * then drop answers from the end until it fits.
   */
  private encode(reply: Reply, limit: number): Buffer {
    const p = reply.packet;
    const build = (): Packet => ({ ...p, additionals: [...(p.additionals ?? []), ...(reply.opt ? [reply.opt] : [])] });
    if (dnsPacket.encodingLength(build()) <= limit) return dnsPacket.encode(build());

    p.flags = (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE;
    p.additionals = [];
    p.answers = [...(p.answers ?? [])];
    while (p.answers.length > 0 && dnsPacket.encodingLength(build()) > limit) p.answers.pop();
    return dnsPacket.encode(build());
  }
}
