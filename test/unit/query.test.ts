// Reading a client's query: what is dropped, what gets an error reply, and what is served.
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import type { Answer, OptAnswer, Packet } from 'dns-packet';
import { type ParsedQuery, type Query, parseQuery, replyLimit } from '../../common/dns/query.js';
import { CD, HEADER_LEN, QR, RD, Rcode } from '../../common/dns/wire.js';
import { rcodeOf } from '../helpers/dns-reply.js';

function opt(udpPayloadSize: number, { version = 0, dnssecOk = false } = {}): Answer {
  return {
    name: '.',
    type: 'OPT',
    udpPayloadSize,
    extendedRcode: 0,
    ednsVersion: version,
    flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
    flag_do: dnssecOk,
    options: [],
  };
}

function encodeQuery(p: Packet): Buffer {
  return dnsPacket.encode({ type: 'query', id: 0x2a2a, flags: RD, ...p });
}

function expectQuery(parsed: ParsedQuery): Query {
  if (parsed.kind !== 'query') throw new Error(`expected a query, got ${parsed.kind}: ${'reason' in parsed ? parsed.reason : ''}`);
  return parsed.query;
}

function expectError(parsed: ParsedQuery): Buffer {
  if (parsed.kind !== 'error') throw new Error(`expected an error reply, got ${parsed.kind}`);
  expect(parsed.reason.length).toBeGreaterThan(0);
  return parsed.response;
}

const opcodeOf = (b: Buffer) => (b.readUInt16BE(2) >> 11) & 0xf;

describe('dropped without a reply', () => {
  test('fewer than 12 bytes', () => {
    for (const len of [0, 1, 11]) {
      const r = parseQuery(Buffer.alloc(len));
      expect(r.kind).toBe('drop');
    }
  });

  test('a message with QR set (a response, not a query)', () => {
    const msg = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'example.com', type: 'A' }] });
    expect(parseQuery(msg).kind).toBe('drop');
  });

  test('a garbage message with QR set is dropped too, not answered', () => {
    const msg = Buffer.alloc(30, 0xff);
    expect(parseQuery(msg).kind).toBe('drop');
  });
});

describe('FORMERR', () => {
  test('no question', () => {
    const msg = encodeQuery({ questions: [] });
    const out = expectError(parseQuery(msg));
    const d = dnsPacket.decode(out);
    expect(d.id).toBe(0x2a2a);
    expect(d.flag_qr).toBe(true);
    expect(d.flag_rd).toBe(true);
    expect(rcodeOf(out)).toBe(Rcode.FORMERR);
  });

  test('two questions', () => {
    const msg = encodeQuery({
      questions: [
        { name: 'a.example', type: 'A' },
        { name: 'b.example', type: 'A' },
      ],
    });
    const out = expectError(parseQuery(msg));
    expect(dnsPacket.decode(out).flag_qr).toBe(true);
    expect(rcodeOf(out)).toBe(Rcode.FORMERR);
    expect(out.readUInt16BE(0)).toBe(0x2a2a);
  });

  test('a readable header with a garbage body', () => {
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt16BE(0x7777, 0);
    header.writeUInt16BE(RD, 2);
    header.writeUInt16BE(1, 4);
    for (const body of [
      Buffer.from([0x80, 0x01, 0x02]),
      Buffer.from([0x05, 0x61]),
      Buffer.alloc(0),
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1]),
    ]) {
      const out = expectError(parseQuery(Buffer.concat([header, body])));
      expect(out.readUInt16BE(0)).toBe(0x7777);
      expect(rcodeOf(out)).toBe(Rcode.FORMERR);
      expect(dnsPacket.decode(out).flag_qr).toBe(true);
      expect(dnsPacket.decode(out).questions).toEqual([]); // nothing trustworthy to echo
    }
  });

  test('a header whose counts promise more than the body has', () => {
    const msg = Buffer.from(encodeQuery({ questions: [{ name: 'a.example', type: 'A' }] }));
    msg.writeUInt16BE(1, 6); // one answer that is not there
    expect(rcodeOf(expectError(parseQuery(msg)))).toBe(Rcode.FORMERR);
  });

  test('two OPT records', () => {
    const msg = encodeQuery({ questions: [{ name: 'a.example', type: 'A' }], additionals: [opt(1232), opt(4096)] });
    const out = expectError(parseQuery(msg));
    expect(rcodeOf(out)).toBe(Rcode.FORMERR);
    expect(dnsPacket.decode(out).questions).toEqual([{ name: 'a.example', type: 'A', class: 'IN' }]);
  });

  test('an OPT record outside the additional section', () => {
    const msg = encodeQuery({ questions: [{ name: 'a.example', type: 'A' }], answers: [opt(1232)] });
    expect(rcodeOf(expectError(parseQuery(msg)))).toBe(Rcode.FORMERR);
  });
});

describe('NOTIMP for opcodes other than QUERY', () => {
  test.each([
    [2, 'STATUS'],
    [4, 'NOTIFY'],
    [5, 'UPDATE'],
    [1, 'IQUERY'],
  ])('opcode %d (%s)', (opcode) => {
    const msg = encodeQuery({ flags: (opcode << 11) | RD, questions: [{ name: 'zone.example', type: 'SOA' }] });
    const out = expectError(parseQuery(msg));
    const d = dnsPacket.decode(out);
    expect(rcodeOf(out)).toBe(Rcode.NOTIMP);
    expect(d.flag_qr).toBe(true);
    expect(d.id).toBe(0x2a2a);
    expect(opcodeOf(out)).toBe(opcode);
    expect(d.questions).toEqual([{ name: 'zone.example', type: 'SOA', class: 'IN' }]);
  });

  test('an unknown opcode with a garbage body is still NOTIMP, without a question', () => {
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt16BE(9, 0);
    header.writeUInt16BE(4 << 11, 2);
    header.writeUInt16BE(1, 4);
    const out = expectError(parseQuery(Buffer.concat([header, Buffer.from([0x80])])));
    expect(rcodeOf(out)).toBe(Rcode.NOTIMP);
    expect(out.readUInt16BE(4)).toBe(0);
  });
});

describe('EDNS', () => {
  test('BADVERS for EDNS version 1: rcode 0 in the header, extended rcode 1 in our OPT (version 0)', () => {
    const msg = encodeQuery({ questions: [{ name: 'ready.spartan', type: 'A' }], additionals: [opt(1232, { version: 1 })] });
    const out = expectError(parseQuery(msg));
    const d = dnsPacket.decode(out);
    expect(d.flag_qr).toBe(true);
    expect(rcodeOf(out)).toBe(0);
    const opts = (d.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
    expect(opts).toHaveLength(1);
    expect(opts[0].extendedRcode).toBe(1); // (1 << 4) | 0 = 16 = BADVERS
    expect(opts[0].ednsVersion).toBe(0); // the highest version we speak
    expect(d.questions).toEqual([{ name: 'ready.spartan', type: 'A', class: 'IN' }]);
    expect(d.answers).toEqual([]);
  });

  test('size, version and DO are read', () => {
    const msg = encodeQuery({ questions: [{ name: 'a.example', type: 'A' }], additionals: [opt(4096, { dnssecOk: true })] });
    expect(expectQuery(parseQuery(msg)).edns).toEqual({ udpSize: 4096, version: 0, dnssecOk: true });
  });

  test('DO clear', () => {
    const msg = encodeQuery({ questions: [{ name: 'a.example', type: 'A' }], additionals: [opt(1232)] });
    expect(expectQuery(parseQuery(msg)).edns).toEqual({ udpSize: 1232, version: 0, dnssecOk: false });
  });

  test('no OPT: no EDNS', () => {
    const msg = encodeQuery({ questions: [{ name: 'a.example', type: 'A' }] });
    expect(expectQuery(parseQuery(msg)).edns).toBeUndefined();
  });
});

describe('a good query', () => {
  test('id, flags, canonical name, type, class and the question as sent', () => {
    const msg = encodeQuery({ id: 513, flags: RD | CD, questions: [{ name: 'Web.Marathon.MESOS.', type: 'AAAA' }] });
    const q = expectQuery(parseQuery(msg));
    expect(q.id).toBe(513);
    expect(q.flags & (RD | CD | QR)).toBe(RD | CD);
    expect(q.name).toBe('web.marathon.mesos');
    expect(q.qtype).toBe(28);
    expect(q.qclass).toBe(1);
    // The client's own spelling is kept for echoing.
    expect(q.question.equals(msg.subarray(HEADER_LEN))).toBe(true);
    expect(q.question.toString('latin1')).toContain('Marathon');
  });

  test('the question excludes the additional section', () => {
    const msg = encodeQuery({ questions: [{ name: 'x.example', type: 'SRV' }], additionals: [opt(1232)] });
    const q = expectQuery(parseQuery(msg));
    const plain = encodeQuery({ questions: [{ name: 'x.example', type: 'SRV' }] });
    expect(q.question.equals(plain.subarray(HEADER_LEN))).toBe(true);
    expect(q.qtype).toBe(33);
  });

  test('a query for the root', () => {
    const q = expectQuery(parseQuery(encodeQuery({ questions: [{ name: '.', type: 'NS' }] })));
    expect(q.name).toBe('');
    expect(q.qtype).toBe(2);
  });

  test('class CH is read', () => {
    const q = expectQuery(parseQuery(encodeQuery({ questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] })));
    expect(q.qclass).toBe(3);
  });
});

describe('replyLimit', () => {
  const base: Query = { id: 1, flags: 0, question: Buffer.alloc(0), name: 'a', qtype: 1, qclass: 1, edns: undefined };
  const withSize = (udpSize: number): Query => ({ ...base, edns: { udpSize, version: 0, dnssecOk: false } });

  test('512 over UDP without EDNS', () => {
    expect(replyLimit(base, 'udp')).toBe(512);
  });

  test("the client's EDNS size over UDP", () => {
    expect(replyLimit(withSize(1232), 'udp')).toBe(1232);
    expect(replyLimit(withSize(4096), 'udp')).toBe(4096);
  });

  test('never under 512', () => {
    expect(replyLimit(withSize(0), 'udp')).toBe(512);
    expect(replyLimit(withSize(100), 'udp')).toBe(512);
    expect(replyLimit(withSize(511), 'udp')).toBe(512);
  });

  test('65535 over TCP whatever the EDNS size', () => {
    expect(replyLimit(base, 'tcp')).toBe(65535);
    expect(replyLimit(withSize(512), 'tcp')).toBe(65535);
    expect(replyLimit(withSize(65535), 'udp')).toBe(65535);
  });

  test('the limit of a parsed query', () => {
    const q = expectQuery(parseQuery(encodeQuery({ questions: [{ name: 'a.example', type: 'A' }], additionals: [opt(2048)] })));
    expect(replyLimit(q, 'udp')).toBe(2048);
  });
});
