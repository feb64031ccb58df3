// Wire-level message handling. Forwarded replies are relayed as the server wrote them, with only
// the header, question and OPT touched: decoding and re-encoding would lose name compression
// (dns-packet encodes without it) and could push a reply that fitted 512 bytes over the limit.
import { dnsPacket, nameCodec, recordCodec } from './packet.js';

export const HEADER_LEN = 12;
/** RFC 1035 §4.2.1: without EDNS a UDP message may not exceed 512 bytes. */
export const CLASSIC_UDP_LIMIT = 512;
/** RFC 1035 §4.2.2: the TCP length prefix is 16 bits, so no message is longer. */
export const MAX_MESSAGE_SIZE = 65535;
/** The EDNS buffer size we offer servers and clients (DNS flag day 2020). */
export const EDNS_UDP_SIZE = 1232;

/** Record types the agent reads or asks for (RFC 1035 §3.2.2, RFC 3596, RFC 6891, RFC 1995). */
export const Type = { A: 1, NS: 2, SOA: 6, AAAA: 28, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255 } as const;
/** Record classes (RFC 1035 §3.2.4); ANY is a query class only. */
export const Class = { IN: 1, ANY: 255 } as const;
export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended DNS Error INFO-CODEs the agent gives (RFC 8914 §4). */
export const Ede = {
  OTHER: 0,
  STALE_ANSWER: 3,
  NOT_READY: 14,
  PROHIBITED: 18,
  STALE_NXDOMAIN_ANSWER: 19,
  NO_REACHABLE_AUTHORITY: 22,
} as const;

function namesOf(codes: Record<string, number>): Map<number, string> {
  return new Map(Object.entries(codes).map(([name, code]) => [code, name]));
}
const TYPE_NAMES = namesOf(Type);
const RCODE_NAMES = namesOf(Rcode);

/** The type's mnemonic, or the RFC 3597 §5 form ("TYPE99") for one not in `Type`. */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

// Header flag bits and fields (RFC 1035 §4.1.1), as seen in the 16-bit flags word.
export const QR = 0x8000;
export const AA = 0x0400;
export const TC = 0x0200;
export const RD = 0x0100;
export const RA = 0x0080;
export const CD = 0x0010;
const OPCODE_MASK = 0x7800;
const OPCODE_SHIFT = 11;
const RCODE_MASK = 0x000f;

export interface Header {
  id: number;
  flags: number;
  opcode: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export function readHeader(buf: Buffer): Header | undefined {
  if (buf.length < HEADER_LEN) return undefined;
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    flags,
    opcode: (flags & OPCODE_MASK) >> OPCODE_SHIFT,
    rcode: flags & RCODE_MASK,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

export type Section = 'answer' | 'authority' | 'additional';
export interface RecordSpan {
  section: Section;
  start: number;
  end: number;
  type: number;
  /** Offset of the record's 32-bit TTL field (for OPT: its extended flags, not a TTL). */
  ttlAt: number;
}

/** Smallest possible record: a root name (1), type, class, TTL and RDLENGTH (10), no data. */
const MIN_RECORD_LEN = 11;
const FIELDS = 4; // start, end, type, ttlAt

/**
 * Where each record of a message lies, in message order (answer, authority, additional): four
 * 16-bit numbers per record in one typed array, not an object per record, since every forwarded
 * reply and every cache entry has one. Offsets fit 16 bits: a message is at most 65,535 bytes.
 */
export class RecordSpans {
  constructor(
    private readonly spans: Uint16Array,
    readonly length: number,
    /** Records before this index are answers; before authorityEnd, authority; then additional. */
    private readonly answerEnd: number,
    private readonly authorityEnd: number,
  ) {}

  start(i: number): number {
    return this.spans[i * FIELDS];
  }
  end(i: number): number {
    return this.spans[i * FIELDS + 1];
  }
  type(i: number): number {
    return this.spans[i * FIELDS + 2];
  }
  ttlAt(i: number): number {
    return this.spans[i * FIELDS + 3];
  }
  section(i: number): Section {
    return i < this.answerEnd ? 'answer' : i < this.authorityEnd ? 'authority' : 'additional';
  }

  /** The records as objects: for code off the hot path (the ready check, tests). */
  list(): RecordSpan[] {
    return Array.from({ length: this.length }, (_, i) => ({
      section: this.section(i),
      start: this.start(i),
      end: this.end(i),
      type: this.type(i),
      ttlAt: this.ttlAt(i),
    }));
  }
}

export interface Scan {
  header: Header;
  /** Offset just past the question section. */
  questionEnd: number;
  records: RecordSpans;
}

/** A whole message with its scan: what the forwarder relays and the caches keep. */
export interface ScannedMessage {
  msg: Buffer;
  scan: Scan;
}

/**
 * Skips a (possibly compressed) name without decoding it: decoding every owner name of a big
 * reply into strings would cost more than relaying it. Labels are at most 63 bytes; a
 * compression pointer ends the name and must point before it (RFC 1035 §4.1.4 points at a
 * prior occurrence), which also rules out loops.
 */
function nameEnd(buf: Buffer, offset: number): number {
  const start = offset;
  for (;;) {
    if (offset >= buf.length) throw new Error('name runs past the end of the message');
    const len = buf[offset];
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) {
      if (offset + 2 > buf.length) throw new Error('name runs past the end of the message');
      const target = ((len & 0x3f) << 8) | buf[offset + 1];
      if (target >= start || target < HEADER_LEN) throw new Error('compression pointer does not point to an earlier name');
      return offset + 2;
    }
    if (len > 63) throw new Error(`label type 0x${len.toString(16)} is not supported`);
    offset += 1 + len;
    // RFC 1035 §3.1: at most 255 octets, length octets and the final zero included (dns-packet,
    // which decodes the question name, throws past that).
    if (offset + 1 - start > 255) throw new Error('name longer than 255 bytes');
  }
}

/**
 * Finds the section boundaries and each record's extent without decoding record data.
 * Throws when the message is cut short or its counts lie.
 */
export function scanMessage(buf: Buffer): Scan {
  const header = readHeader(buf);
  if (!header) throw new Error('message shorter than a DNS header');
  let offset = HEADER_LEN;
  for (let i = 0; i < header.qdcount; i++) {
    offset = nameEnd(buf, offset) + 4;
    if (offset > buf.length) throw new Error('question runs past the end of the message');
  }
  const questionEnd = offset;
  const count = header.ancount + header.nscount + header.arcount;
  // Counts that cannot fit are refused before anything is allocated for them.
  if (count * MIN_RECORD_LEN > buf.length - questionEnd) throw new Error(`${count} records claimed, more than the message can hold`);
  const spans = new Uint16Array(count * FIELDS);
  for (let i = 0; i < count; i++) {
    const start = offset;
    offset = nameEnd(buf, offset);
    if (offset + 10 > buf.length) throw new Error('record header runs past the end of the message');
    const at = i * FIELDS;
    spans[at] = start;
    spans[at + 2] = buf.readUInt16BE(offset);
    spans[at + 3] = offset + 4;
    offset += 10 + buf.readUInt16BE(offset + 8);
    if (offset > buf.length) throw new Error('record data runs past the end of the message');
    spans[at + 1] = offset;
  }
  return { header, questionEnd, records: new RecordSpans(spans, count, header.ancount, header.ancount + header.nscount) };
}

/** Case-insensitive comparison of two question sections (RFC 4343); type and class exactly. */
export function sameQuestion(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  const nameLen = a.length - 4;
  for (let i = 0; i < a.length; i++) {
    let x = a[i];
    let y = b[i];
    if (i < nameLen) {
      if (x >= 0x41 && x <= 0x5a) x |= 0x20;
      if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    }
    if (x !== y) return false;
  }
  return true;
}

/** The client's EDNS state, read from its OPT record. */
export interface ClientEdns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

const optCache = new Map<string, Buffer>();
/** Our OPT record for replies and upstream queries: root name, our buffer size, DO echoed. */
export function optRecord(dnssecOk: boolean, extendedRcode = 0): Buffer {
  const key = `${dnssecOk}:${extendedRcode}`;
  let buf = optCache.get(key);
  if (!buf) {
    buf = Buffer.from(
      recordCodec.encode({
        name: '.',
        type: 'OPT',
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode,
        flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        options: [],
      } as unknown as dnsPacket.Answer),
    );
    optCache.set(key, buf);
  }
  return buf;
}

/** An Extended DNS Error (RFC 8914): why the answer is what it is, for a person reading dig. */
export interface ExtendedError {
  code: number;
  /** EXTRA-TEXT: a short UTF-8 note, e.g. the servers tried. */
  text: string;
}

/** EXTRA-TEXT longer than this is cut: it rides in every such reply, within the client's size. */
const EDE_TEXT_MAX_BYTES = 160;
const EDE_OPTION = 15;

/** `opt` (an OPT record with no options) carrying `ede` as its one option. */
function withEde(opt: Buffer, ede: ExtendedError): Buffer {
  let text = Buffer.from(ede.text, 'utf8');
  if (text.length > EDE_TEXT_MAX_BYTES)
    text = Buffer.from(new TextDecoder().decode(text.subarray(0, EDE_TEXT_MAX_BYTES)).replace(/\uFFFD$/, ''));
  const out = Buffer.allocUnsafe(opt.length + 6 + text.length);
  opt.copy(out);
  // The OPT's RDLENGTH, its last two octets before the (empty) RDATA.
  out.writeUInt16BE(6 + text.length, opt.length - 2);
  out.writeUInt16BE(EDE_OPTION, opt.length);
  out.writeUInt16BE(2 + text.length, opt.length + 2);
  out.writeUInt16BE(ede.code, opt.length + 4);
  text.copy(out, opt.length + 6);
  return out;
}

export interface ShapeOptions {
  /** The client's query ID. */
  id: number;
  /** The client's question section, spelled as the client spelled it. */
  question: Buffer;
  /** Present when the client used EDNS: an OPT goes back (RFC 6891 §7: never otherwise). */
  edns: ClientEdns | undefined;
  /** Largest message the client can take on this transport. */
  limit: number;
  /** Extra header bits to set (RA on everything we answer). */
  setFlags?: number;
  /** Said to a client that sent EDNS; others get nothing of it. */
  ede?: ExtendedError;
}

/**
 * Turns a complete DNS message (a server's reply or a locally built answer) into the reply for
 * one client: its ID, its question spelling, our OPT instead of the server's, cut to its size.
 * A cut keeps a prefix of whole records, so compression pointers (which only point backwards)
 * stay valid. Dropping additional records needs no TC; cutting answer or authority does
 * (RFC 2181 §9).
 */
export function shapeResponse(msg: Buffer, scan: Scan, opts: ShapeOptions): Buffer {
  const base = opts.edns ? optRecord(opts.edns.dnssecOk) : undefined;
  const opt = base && opts.ede ? withEde(base, opts.ede) : base;
  const optLen = opt ? opt.length : 0;
  const budget = Math.max(opts.limit, HEADER_LEN + opts.question.length + optLen);

  // The server's OPT is its own business; it and anything after it are left behind.
  const records = scan.records;
  let count = 0;
  while (count < records.length && records.type(count) !== Type.OPT) count++;

  const questionEnd = scan.questionEnd;
  const sizeWith = (n: number) => (n === 0 ? questionEnd : records.end(n - 1)) + optLen;
  let kept = count;
  while (kept > 0 && sizeWith(kept) > budget) kept--;
  let truncated = false;
  for (let i = kept; i < count; i++) if (records.section(i) !== 'additional') truncated = true;

  const bodyEnd = kept === 0 ? questionEnd : records.end(kept - 1);
  const out = Buffer.allocUnsafe(bodyEnd + optLen);
  msg.copy(out, 0, 0, bodyEnd);
  if (opt) opt.copy(out, bodyEnd);
  out.writeUInt16BE(opts.id, 0);
  let flags = out.readUInt16BE(2) | QR | (opts.setFlags ?? 0);
  if (truncated) flags |= TC;
  out.writeUInt16BE(flags, 2);
  let an = 0;
  let ns = 0;
  let ar = 0;
  for (let i = 0; i < kept; i++) {
    const s = records.section(i);
    if (s === 'answer') an++;
    else if (s === 'authority') ns++;
    else ar++;
  }
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(ar + (opt ? 1 : 0), 10);
  // Same name, same length (the question is never compressed): restore the client's spelling.
  if (questionEnd - HEADER_LEN === opts.question.length) opts.question.copy(out, HEADER_LEN);
  return out;
}

/**
 * A reply carrying only a header and, when known, the question: for errors we produce
 * ourselves (SERVFAIL, FORMERR, NOTIMP, REFUSED). QR is always set: it is a response (RFC 1035 §4.1.1).
 */
export function errorResponse(
  id: number,
  queryFlags: number,
  rcode: number,
  question: Buffer | undefined,
  edns: ClientEdns | undefined,
  extendedRcode = 0,
  ede?: ExtendedError,
): Buffer {
  const base = edns ? optRecord(edns.dnssecOk, extendedRcode) : undefined;
  const opt = base && ede ? withEde(base, ede) : base;
  const qlen = question ? question.length : 0;
  const out = Buffer.alloc(HEADER_LEN + qlen + (opt ? opt.length : 0));
  out.writeUInt16BE(id, 0);
  // Keep the opcode, RD and CD the client sent; everything else is ours.
  const flags = QR | RA | (queryFlags & (OPCODE_MASK | RD | CD)) | (rcode & RCODE_MASK);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(question ? 1 : 0, 4);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  if (question) question.copy(out, HEADER_LEN);
  if (opt) opt.copy(out, HEADER_LEN + qlen);
  return out;
}

/** The DNS transports: a client's query, a server's reply. */
export type Transport = 'udp' | 'tcp';

/** A question as the agent asks it of a server, in wire form. */
export interface Question {
  /** Wire form of the question section (name, type, class). */
  wire: Buffer;
  /** Client flags whose meaning must reach the server: RD and CD. */
  flags: number;
  dnssecOk: boolean;
}

/** The wire form of a question section for `name` (text, any case, trailing dot optional). */
export function encodeQuestion(name: string, type: number, qclass: number = Class.IN): Buffer {
  // The root is "" in canonical form (names.ts); dns-packet sizes "" as two bytes, "." as one.
  const encodedName = nameCodec.encode(name || '.');
  const out = Buffer.allocUnsafe(encodedName.length + 4);
  encodedName.copy(out);
  out.writeUInt16BE(type, encodedName.length);
  out.writeUInt16BE(qclass, encodedName.length + 2);
  return out;
}

/** A query for `q` with `id`, RD and CD as the client set them, and our OPT record. */
export function buildQuery(id: number, q: Question): Buffer {
  const opt = optRecord(q.dnssecOk);
  const out = Buffer.alloc(HEADER_LEN + q.wire.length + opt.length);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(q.flags & (RD | CD), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  q.wire.copy(out, HEADER_LEN);
  opt.copy(out, HEADER_LEN + q.wire.length);
  return out;
}

/** Why a message is not the reply to a query: another ID (or not a response), or another question. */
export type ReplyMismatch = 'id' | 'question';

/**
 * Whether `msg` is the reply to the query with `id` and `question` (RFC 5452 §9.1: ID and
 * question must match; the caller checks the source). Returns its scan, or why it is not ours.
 * Throws when it is ours but cut short or inconsistent: the server itself sent something broken.
 */
export function matchReply(msg: Buffer, id: number, question: Buffer): Scan | ReplyMismatch {
  if (msg.length < HEADER_LEN || msg.readUInt16BE(0) !== id || !(msg.readUInt16BE(2) & QR)) return 'id';
  let scan: Scan;
  try {
    scan = scanMessage(msg);
  } catch (err) {
    throw new Error(`malformed reply: ${(err as Error).message}`, { cause: err });
  }
  if (scan.header.qdcount !== 1 || !sameQuestion(msg.subarray(HEADER_LEN, scan.questionEnd), question)) return 'question';
  return scan;
}
