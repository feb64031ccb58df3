// Reads a client's query and decides whether it can be served at all. Bad input never throws
// out of here: it becomes "drop" (nothing sensible to answer) or a ready error response.
import { dnsPacket, nameCodec } from './packet.js';
import { canonicalName } from './names.js';
import {
  CLASSIC_UDP_LIMIT,
  type ClientEdns,
  HEADER_LEN,
  MAX_MESSAGE_SIZE,
  Opcode,
  QR,
  Rcode,
  type Transport,
  Type,
  errorResponse,
  readHeader,
  scanMessage,
} from './wire.js';

export interface Query {
  id: number;
  flags: number;
  /** The question section as the client sent it (its spelling, type and class). */
  question: Buffer;
  /** Canonical (lower-case, no trailing dot) question name. */
  name: string;
  qtype: number;
  qclass: number;
  edns: ClientEdns | undefined;
}

export type ParsedQuery =
  { kind: 'query'; query: Query } | { kind: 'error'; response: Buffer; reason: string } | { kind: 'drop'; reason: string };

/** RFC 6891 §6.1.3: a version we do not speak gets BADVERS (extended rcode 16 = 1 << 4). */
const BADVERS_HIGH_BITS = 1;

export function parseQuery(buf: Buffer): ParsedQuery {
  const header = readHeader(buf);
  if (!header) return { kind: 'drop', reason: 'shorter than a DNS header' };
  // Answering a response could start a loop between two resolvers.
  if (header.flags & QR) return { kind: 'drop', reason: 'a response, not a query' };

  let scan;
  let question: Buffer | undefined;
  try {
    scan = scanMessage(buf);
    if (header.qdcount === 1) question = buf.subarray(HEADER_LEN, scan.questionEnd);
  } catch {
    scan = undefined;
  }

  if (header.opcode !== Opcode.QUERY) {
    return error(header.id, header.flags, Rcode.NOTIMP, question, undefined, `opcode ${header.opcode} is not QUERY`);
  }
  if (!scan) return error(header.id, header.flags, Rcode.FORMERR, undefined, undefined, 'malformed message body');
  if (header.qdcount !== 1 || !question) {
    return error(header.id, header.flags, Rcode.FORMERR, undefined, undefined, `${header.qdcount} questions (exactly 1 is allowed)`);
  }

  const records = scan.records;
  let opt = -1;
  for (let i = 0; i < records.length; i++) {
    if (records.type(i) !== Type.OPT) continue;
    if (opt !== -1) return error(header.id, header.flags, Rcode.FORMERR, question, undefined, 'more than one OPT record');
    opt = i;
  }
  let edns: ClientEdns | undefined;
  if (opt !== -1) {
    // OPT layout after its root name (1 byte): type(2) class=udp size(2) ttl=ext-rcode,version,flags(4)
    const start = records.start(opt);
    const at = start + 1;
    if (records.section(opt) !== 'additional' || buf[start] !== 0) {
      return error(header.id, header.flags, Rcode.FORMERR, question, undefined, 'misplaced OPT record');
    }
    edns = {
      udpSize: buf.readUInt16BE(at + 2),
      version: buf[at + 5],
      dnssecOk: (buf.readUInt16BE(at + 6) & dnsPacket.DNSSEC_OK) !== 0,
    };
    if (edns.version !== 0) {
      return error(header.id, header.flags, Rcode.NOERROR, question, edns, `EDNS version ${edns.version}`, BADVERS_HIGH_BITS);
    }
  }

  const qend = scan.questionEnd;
  return {
    kind: 'query',
    query: {
      id: header.id,
      flags: header.flags,
      question,
      name: canonicalName(nameCodec.decode(buf, HEADER_LEN)),
      qtype: buf.readUInt16BE(qend - 4),
      qclass: buf.readUInt16BE(qend - 2),
      edns,
    },
  };
}

function error(
  id: number,
  flags: number,
  rcode: number,
  question: Buffer | undefined,
  edns: ClientEdns | undefined,
  reason: string,
  extendedRcode = 0,
): ParsedQuery {
  return { kind: 'error', response: errorResponse(id, flags, rcode, question, edns, extendedRcode), reason };
}

/** The largest reply this client can take: its EDNS size over UDP (never under 512), 64 KiB over TCP. */
export function replyLimit(query: Query, transport: Transport): number {
  if (transport === 'tcp') return MAX_MESSAGE_SIZE;
  const size = query.edns ? query.edns.udpSize : CLASSIC_UDP_LIMIT;
  return Math.min(Math.max(size, CLASSIC_UDP_LIMIT), MAX_MESSAGE_SIZE);
}
