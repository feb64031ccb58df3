// Property tests for the packet path (the chaos suite's case 2, run with fast-check): whatever a
// client sends, parsing never throws; whatever the agent sends back decodes and answers the
// client's own ID and question.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import type { Answer, Packet, RecordType } from 'dns-packet';
import { parseQuery } from '../../common/dns/query.js';
import { HEADER_LEN, QR, RD, Rcode, errorResponse, scanMessage, shapeResponse } from '../../common/dns/wire.js';

// Enough runs to reach the rare shapes, few enough that the suite takes a few seconds.
const RUNS = 2000;

/** A header that parses as one query, so random bodies reach the name and record parsing. */
function queryHeader(counts: [number, number, number, number]): Buffer {
  const h = Buffer.alloc(HEADER_LEN);
  h.writeUInt16BE(0x1234, 0);
  h.writeUInt16BE(RD, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return h;
}

const anyBytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
/** Random bodies behind a plausible header: most random bytes would stop at the header. */
const plausibleBytes = fc
  .tuple(fc.tuple(fc.constant(1), fc.nat(3), fc.nat(3), fc.nat(3)), fc.uint8Array({ maxLength: 400 }))
  .map(([counts, body]) => Buffer.concat([queryHeader(counts), Buffer.from(body)]));
/** Labels made of length octets and bytes, overlong names and pointers included. */
const labelSoup = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 63 }).chain((n) => fc.constant([n, ...Array(n).fill(0x61)])),
      fc.constant([0xc0, 12]),
      fc.constant([0xc0, 0xff]),
      fc.constant([0x40]),
    ),
    { maxLength: 8 },
  )
  .map((parts) => Buffer.concat([queryHeader([1, 0, 0, 0]), Buffer.from(parts.flat()), Buffer.from([0, 0, 1, 0, 1])]));
/** Names right at the RFC 1035 limit of 255 octets, where off-by-one errors live. */
const nearLimit = fc
  .tuple(fc.integer({ min: 250, max: 258 }), fc.array(fc.integer({ min: 40, max: 63 }), { minLength: 3, maxLength: 3 }))
  .map(([total, first]) => [...first, total - first.reduce((n, l) => n + l + 1, 0) - 2])
  .filter((lengths) => lengths[3] >= 1 && lengths[3] <= 63)
  .map((lengths) =>
    Buffer.concat([
      queryHeader([1, 0, 0, 0]),
      ...lengths.map((n) => Buffer.from([n, ...Array(n).fill(0x61)])),
      Buffer.from([0, 0, 1, 0, 1]),
    ]),
  );
const messages = fc.oneof(anyBytes, plausibleBytes, labelSoup, nearLimit);

// ---- valid queries ---------------------------------------------------------------------------

/** A label dns-packet can carry as written: 1–63 bytes of printable ASCII other than the dot. */
const label = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*'.split('')),
  minLength: 1,
  maxLength: 63,
});
/** Names within the RFC 1035 limit: at most 255 octets on the wire. */
const name = fc
  .array(label, { minLength: 1, maxLength: 6 })
  .filter((labels) => labels.reduce((n, l) => n + l.length + 1, 1) <= 255)
  .map((labels) => labels.join('.'));
// dns-packet encodes ANY (255) though its types leave it out.
const TYPES = ['A', 'AAAA', 'SRV', 'TXT', 'MX', 'NS', 'SOA', 'CNAME', 'PTR', 'ANY', 'CAA', 'NAPTR'] as RecordType[];
const CLASSES = ['IN', 'CH', 'HS', 'ANY'] as const;
const TYPE_CODES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  ANY: 255,
  CAA: 257,
};
const CLASS_CODES: Record<string, number> = { IN: 1, CH: 3, HS: 4, ANY: 255 };

// dns-packet writes a size of 0 as 4096, so sizes start at 1.
const edns = fc.option(fc.record({ udpPayloadSize: fc.integer({ min: 1, max: 65535 }), dnssecOk: fc.boolean() }), { nil: undefined });
const validQuery = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  rd: fc.boolean(),
  name,
  type: fc.constantFrom(...TYPES),
  qclass: fc.constantFrom(...CLASSES),
  edns,
});
type ValidQuery = typeof validQuery extends fc.Arbitrary<infer T> ? T : never;

function encode(q: ValidQuery): Buffer {
  const additionals: Answer[] = q.edns
    ? [
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: q.edns.udpPayloadSize,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: q.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
          flag_do: q.edns.dnssecOk,
          options: [],
        },
      ]
    : [];
  const packet: Packet = {
    type: 'query',
    id: q.id,
    flags: q.rd ? RD : 0,
    questions: [{ name: q.name, type: q.type, class: q.qclass }],
    additionals,
  };
  return dnsPacket.encode(packet);
}

/** What every reply to `query` must be: a response dns-packet decodes, with the client's ID and question. */
function expectAnswers(reply: Buffer, query: Buffer): void {
  const decoded = dnsPacket.decode(reply);
  const asked = dnsPacket.decode(query);
  expect(decoded.type).toBe('response');
  expect(decoded.id).toBe(asked.id);
  expect(decoded.questions).toEqual(asked.questions);
}

describe('arbitrary bytes', () => {
  test('parseQuery never throws, and what it decides is one of query, error reply or drop', () => {
    fc.assert(
      fc.property(messages, (buf) => {
        const parsed = parseQuery(buf);
        expect(['query', 'error', 'drop']).toContain(parsed.kind);
        if (parsed.kind === 'error') {
          // An error reply is itself a well-formed response with the client's ID.
          expect(dnsPacket.decode(parsed.response).id).toBe(buf.readUInt16BE(0));
          expect(parsed.response.readUInt16BE(2) & QR).toBe(QR);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('scanMessage throws an Error or returns record spans inside the buffer, in order', () => {
    fc.assert(
      fc.property(messages, (buf) => {
        let scan;
        try {
          scan = scanMessage(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          return;
        }
        expect(scan.questionEnd).toBeGreaterThanOrEqual(HEADER_LEN);
        expect(scan.questionEnd).toBeLessThanOrEqual(buf.length);
        const h = scan.header;
        expect(scan.records.list().map((r) => r.section)).toEqual([
          ...Array<string>(h.ancount).fill('answer'),
          ...Array<string>(h.nscount).fill('authority'),
          ...Array<string>(h.arcount).fill('additional'),
        ]);
        let at = scan.questionEnd;
        for (const r of scan.records.list()) {
          // Contiguous: each record starts where the previous one ended, and ends inside the buffer.
          expect(r.start).toBe(at);
          expect(r.end).toBeGreaterThan(r.start);
          expect(r.end).toBeLessThanOrEqual(buf.length);
          expect(r.ttlAt + 4).toBeLessThanOrEqual(r.end);
          at = r.end;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('valid queries encoded with dns-packet', () => {
  test('parse as a query with the canonical lower-case name, its type and class', () => {
    fc.assert(
      fc.property(validQuery, (q) => {
        const parsed = parseQuery(encode(q));
        if (parsed.kind !== 'query') throw new Error(`${parsed.kind}: ${parsed.reason}`);
        expect(parsed.query.id).toBe(q.id);
        expect(parsed.query.name).toBe(q.name.toLowerCase());
        expect(parsed.query.qtype).toBe(TYPE_CODES[q.type]);
        expect(parsed.query.qclass).toBe(CLASS_CODES[q.qclass]);
        expect(parsed.query.edns?.udpSize).toBe(q.edns?.udpPayloadSize);
        expect(parsed.query.edns?.dnssecOk).toBe(q.edns?.dnssecOk);
      }),
      { numRuns: RUNS },
    );
  });

  test('errorResponse output decodes and carries the client ID and question', () => {
    const rcodes = fc.constantFrom(...Object.values(Rcode));
    fc.assert(
      fc.property(validQuery, rcodes, (q, rcode) => {
        const query = encode(q);
        const parsed = parseQuery(query);
        if (parsed.kind !== 'query') throw new Error(parsed.kind);
        const p = parsed.query;
        const reply = errorResponse(p.id, p.flags, rcode, p.question, p.edns);
        expectAnswers(reply, query);
        expect(reply.readUInt16BE(2) & 0xf).toBe(rcode);
      }),
      { numRuns: RUNS },
    );
  });

  test('shapeResponse output decodes, carries the client ID and question, and fits its limit', () => {
    // A server's reply to the same question spelled in lower case, with a random number of
    // records, cut to a random client limit.
    const server = fc.record({
      id: fc.integer({ min: 0, max: 0xffff }),
      answers: fc.nat(60),
      additionals: fc.nat(10),
      limit: fc.integer({ min: 512, max: 65535 }),
    });
    fc.assert(
      fc.property(validQuery, server, (q, s) => {
        const query = encode(q);
        const parsed = parseQuery(query);
        if (parsed.kind !== 'query') throw new Error(parsed.kind);
        const p = parsed.query;
        const records = (n: number, base: number): Answer[] =>
          Array.from({ length: n }, (_, i) => ({
            name: p.name || '.',
            type: 'A',
            class: 'IN',
            ttl: 60,
            data: `10.${base}.${i >> 8}.${i & 255}`,
          }));
        const serverReply = dnsPacket.encode({
          type: 'response',
          id: s.id,
          flags: RD,
          questions: [{ name: p.name || '.', type: q.type, class: q.qclass }],
          answers: records(s.answers, 1),
          additionals: records(s.additionals, 2),
        });
        const reply = shapeResponse(serverReply, scanMessage(serverReply), {
          id: p.id,
          question: p.question,
          edns: p.edns,
          limit: s.limit,
        });
        expectAnswers(reply, query);
        // Whole records only: never more than the client can take, unless the bare question is more.
        expect(reply.length).toBeLessThanOrEqual(Math.max(s.limit, HEADER_LEN + p.question.length + (p.edns ? 11 : 0)));
        expect(dnsPacket.decode(reply).answers?.length).toBeLessThanOrEqual(s.answers);
      }),
      { numRuns: RUNS },
    );
  });
});
