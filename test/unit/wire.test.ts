// Wire-level handling: scanning, question comparison, shaping a reply for one client, and the
// error replies the agent writes itself. Messages are built and checked with dns-packet.
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, RecordType } from 'dns-packet';
import {
  AA,
  CD,
  CLASSIC_UDP_LIMIT,
  EDNS_UDP_SIZE,
  HEADER_LEN,
  QR,
  RA,
  RD,
  Rcode,
  TC,
  Type,
  errorResponse,
  rcodeName,
  readHeader,
  sameQuestion,
  scanMessage,
  shapeResponse,
} from '../../common/dns/wire.js';
import { rcodeOf } from '../helpers/dns-reply.js';

// ---- helpers ---------------------------------------------------------------------------------

/** The question section (name, type, class) as it appears on the wire. */
function questionBytes(name: string, type: RecordType | string = 'A', klass: 'IN' | 'CH' = 'IN'): Buffer {
  const q = dnsPacket.encode({ type: 'query', id: 0, questions: [{ name, type: type as RecordType, class: klass }] });
  return q.subarray(HEADER_LEN);
}

function flagsOf(buf: Buffer): number {
  return buf.readUInt16BE(2);
}
function optOf(p: DecodedPacket): OptAnswer[] {
  return (p.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
}
function nonOpt(list: Answer[] | undefined): Answer[] {
  return (list ?? []).filter((a) => a.type !== 'OPT');
}

function aRecords(name: string, n: number, ttl = 60): Answer[] {
  return Array.from({ length: n }, (_, i): Answer => ({ name, type: 'A', class: 'IN', ttl, data: `10.1.${i >> 8}.${i & 255}` }));
}

function reply(p: Packet): Buffer {
  return dnsPacket.encode({ type: 'response', ...p });
}

/**
 * A reply that uses name compression the way real servers write it: every answer's owner is a
 * pointer to the question name at offset 12. dns-packet itself never compresses.
 */
function compressedReply(id: number, name: string, ips: string[]): Buffer {
  const head = Buffer.alloc(HEADER_LEN);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(QR | AA | RD | RA, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(ips.length, 6);
  const q = questionBytes(name, 'A');
  const rrs = ips.map((ip) => {
    const rr = Buffer.alloc(2 + 10 + 4);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    return rr;
  });
  return Buffer.concat([head, q, ...rrs]);
}

// ---- readHeader / rcodeName -------------------------------------------------------------------

describe('readHeader', () => {
  test('reads every field of the header', () => {
    const buf = dnsPacket.encode({
      type: 'response',
      id: 0xbeef,
      flags: (5 << 11) | AA | RD | 3,
      questions: [{ name: 'a.example', type: 'A' }],
      answers: aRecords('a.example', 2),
      authorities: [{ name: 'example', type: 'NS', data: 'ns.example' }],
      additionals: aRecords('ns.example', 3),
    });
    expect(readHeader(buf)).toEqual({
      id: 0xbeef,
      flags: QR | (5 << 11) | AA | RD | 3,
      opcode: 5,
      rcode: 3,
      qdcount: 1,
      ancount: 2,
      nscount: 1,
      arcount: 3,
    });
  });

  test('less than 12 bytes has no header', () => {
    expect(readHeader(Buffer.alloc(11))).toBeUndefined();
    expect(readHeader(Buffer.alloc(0))).toBeUndefined();
  });
});

test('rcodeName names the common rcodes and numbers the rest', () => {
  expect(rcodeName(Rcode.NOERROR)).toBe('NOERROR');
  expect(rcodeName(Rcode.SERVFAIL)).toBe('SERVFAIL');
  expect(rcodeName(Rcode.NXDOMAIN)).toBe('NXDOMAIN');
  expect(rcodeName(Rcode.REFUSED)).toBe('REFUSED');
  expect(rcodeName(9)).toBe('RCODE9');
});

// ---- scanMessage -----------------------------------------------------------------------------

describe('scanMessage', () => {
  const msg = reply({
    id: 7,
    questions: [{ name: 'web.marathon.mesos', type: 'A' }],
    answers: aRecords('web.marathon.mesos', 2),
    authorities: [{ name: 'mesos', type: 'NS', ttl: 60, data: 'ns1.mesos' }],
    additionals: [
      { name: 'ns1.mesos', type: 'A', ttl: 60, data: '10.0.0.1' },
      { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  });

  test('finds the question end and every record with its section and type', () => {
    const scan = scanMessage(msg);
    expect(scan.header.id).toBe(7);
    expect(scan.questionEnd).toBe(HEADER_LEN + questionBytes('web.marathon.mesos').length);
    expect(scan.records.list().map((r) => [r.section, r.type])).toEqual([
      ['answer', 1],
      ['answer', 1],
      ['authority', 2],
      ['additional', 1],
      ['additional', Type.OPT],
    ]);
  });

  test('record spans are contiguous, whole and end at the end of the message', () => {
    const scan = scanMessage(msg);
    let at = scan.questionEnd;
    for (const r of scan.records.list()) {
      expect(r.start).toBe(at);
      expect(r.end).toBeGreaterThan(r.start);
      at = r.end;
    }
    expect(at).toBe(msg.length);
    // Each span is exactly one record: a message made of the header, question and one span
    // decodes to that record.
    const second = scan.records.list()[1];
    const one = Buffer.concat([msg.subarray(0, scan.questionEnd), msg.subarray(second.start, second.end)]);
    one.writeUInt16BE(1, 6);
    one.writeUInt16BE(0, 8);
    one.writeUInt16BE(0, 10);
    expect(dnsPacket.decode(one).answers).toEqual([expect.objectContaining({ type: 'A', data: '10.1.0.1' })]);
  });

  test('follows compression pointers in owner names', () => {
    const m = compressedReply(1, 'svc.example', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const scan = scanMessage(m);
    expect(scan.records.list()).toHaveLength(3);
    expect(scan.records.list().map((r) => r.end - r.start)).toEqual([16, 16, 16]);
    expect(scan.records.list()[2].end).toBe(m.length);
  });

  test('counts that the message cannot hold are refused at once, however large', () => {
    const lie = Buffer.from(msg);
    lie.writeUInt16BE(65_535, 6); // ancount
    lie.writeUInt16BE(65_535, 10); // arcount (nscount stays 1)
    expect(() => scanMessage(lie)).toThrow('131071 records claimed, more than the message can hold');
  });

  test('a message cut anywhere throws', () => {
    for (let len = 0; len < msg.length; len++) {
      expect(() => scanMessage(msg.subarray(0, len))).toThrow();
    }
  });

  test('counts that promise more records than there are throw', () => {
    const lie = Buffer.from(msg);
    lie.writeUInt16BE(3, 6); // ancount 3, but only 2 answers before the authority record...
    lie.writeUInt16BE(5, 10); // ...and 5 additional records
    expect(() => scanMessage(lie)).toThrow();
  });

  test('a question count past the data throws', () => {
    const q = Buffer.from(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.example', type: 'A' }] }));
    q.writeUInt16BE(2, 4);
    expect(() => scanMessage(q)).toThrow();
  });

  test('garbage throws', () => {
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt16BE(1, 4); // one question
    // a label length with the reserved 0x40/0x80 bits
    expect(() => scanMessage(Buffer.concat([header, Buffer.from([0x80, 1, 2, 3, 4, 5])]))).toThrow();
    // a compression pointer pointing forward (at itself)
    expect(() => scanMessage(Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]))).toThrow();
    // a label longer than what is left
    expect(() => scanMessage(Buffer.concat([header, Buffer.from([20, 0x61, 0x62])]))).toThrow();
    // all ones: 65535 of everything
    expect(() => scanMessage(Buffer.alloc(64, 0xff))).toThrow();
  });

  test('a pointer into the header, or a name over 255 bytes, throws', () => {
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt16BE(1, 4);
    expect(() => scanMessage(Buffer.concat([header, Buffer.from([1, 0x61, 0xc0, 2, 0, 1, 0, 1])]))).toThrow('earlier name');
    const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
    const long = Buffer.concat([header, label, label, label, label, Buffer.from([0, 0, 1, 0, 1])]);
    expect(() => scanMessage(long)).toThrow('255');
  });

  test('a name of 255 octets (length octets and the final zero included) scans; one of 256 throws', () => {
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt16BE(1, 4);
    const label = (n: number) => Buffer.concat([Buffer.from([n]), Buffer.alloc(n, 0x61)]);
    const question = (last: number) => Buffer.concat([header, label(63), label(63), label(63), label(last), Buffer.from([0, 0, 1, 0, 1])]);
    expect(scanMessage(question(61)).questionEnd).toBe(HEADER_LEN + 255 + 4);
    expect(() => scanMessage(question(62))).toThrow('255');
  });

  test('a record whose rdlength runs past the end throws', () => {
    const m = Buffer.from(reply({ id: 1, questions: [{ name: 'a.example', type: 'A' }], answers: aRecords('a.example', 1) }));
    m.writeUInt16BE(200, m.length - 6); // rdlength of the only answer
    expect(() => scanMessage(m)).toThrow();
  });
});

// ---- sameQuestion ----------------------------------------------------------------------------

describe('sameQuestion', () => {
  test('identical questions match', () => {
    expect(sameQuestion(questionBytes('www.example.com'), questionBytes('www.example.com'))).toBe(true);
  });

  test('the name compares case-insensitively', () => {
    expect(sameQuestion(questionBytes('WwW.ExAmPlE.CoM'), questionBytes('www.example.com'))).toBe(true);
    expect(sameQuestion(questionBytes('www.example.com'), questionBytes('WWW.EXAMPLE.COM'))).toBe(true);
  });

  test('another name does not match', () => {
    expect(sameQuestion(questionBytes('www.example.com'), questionBytes('www.example.org'))).toBe(false);
    expect(sameQuestion(questionBytes('www.example.com'), questionBytes('www.example.co'))).toBe(false);
  });

  test('only ASCII letters fold: "[" is not "{"', () => {
    expect(sameQuestion(questionBytes('a[b.example'), questionBytes('a{b.example'))).toBe(false);
  });

  test('type and class compare exactly', () => {
    expect(sameQuestion(questionBytes('example.com', 'A'), questionBytes('example.com', 'AAAA'))).toBe(false);
    expect(sameQuestion(questionBytes('example.com', 'A', 'IN'), questionBytes('example.com', 'A', 'CH'))).toBe(false);
    // Type 65 is 0x0041 ("A") and type 97 is 0x0061 ("a"): case folding must not touch them.
    expect(sameQuestion(questionBytes('example.com', 'UNKNOWN_65'), questionBytes('example.com', 'UNKNOWN_97'))).toBe(false);
    // Class 0x0041 vs 0x0061 likewise.
    const a = Buffer.from(questionBytes('example.com'));
    const b = Buffer.from(questionBytes('example.com'));
    a.writeUInt16BE(0x41, a.length - 2);
    b.writeUInt16BE(0x61, b.length - 2);
    expect(sameQuestion(a, b)).toBe(false);
  });
});

// ---- shapeResponse ---------------------------------------------------------------------------

describe('shapeResponse', () => {
  const serverQuestion = { name: 'www.example.com', type: 'A' as const };
  const clientQuestion = questionBytes('WwW.ExAmPlE.cOm', 'A');

  function shape(msg: Buffer, opts: Partial<Parameters<typeof shapeResponse>[2]> = {}): Buffer {
    return shapeResponse(msg, scanMessage(msg), {
      id: 4242,
      question: clientQuestion,
      edns: undefined,
      limit: CLASSIC_UDP_LIMIT,
      ...opts,
    });
  }

  test("patches the ID and restores the client's spelling of the question", () => {
    const msg = reply({ id: 999, flags: AA | RD | RA, questions: [serverQuestion], answers: aRecords('www.example.com', 2) });
    const out = dnsPacket.decode(shape(msg));
    expect(out.id).toBe(4242);
    expect(out.questions).toEqual([{ name: 'WwW.ExAmPlE.cOm', type: 'A', class: 'IN' }]);
    expect(out.answers?.map((a) => (a as { data: string }).data)).toEqual(['10.1.0.0', '10.1.0.1']);
    expect(out.flag_aa).toBe(true);
    expect(out.flag_tc).toBe(false);
  });

  test('sets QR even on a message built without it, and the extra flags asked for', () => {
    const local = dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: AA,
      questions: [serverQuestion],
      answers: aRecords('www.example.com', 1),
    });
    const out = shape(local, { setFlags: RA });
    expect(flagsOf(out) & QR).toBe(QR);
    expect(flagsOf(out) & RA).toBe(RA);
    expect(flagsOf(out) & AA).toBe(AA);
    const d = dnsPacket.decode(out);
    expect(d.flag_qr).toBe(true);
    expect(d.flag_ra).toBe(true);
  });

  test('keeps the server rcode', () => {
    const msg = reply({
      id: 1,
      flags: AA | 3,
      questions: [serverQuestion],
      authorities: [{ name: 'example.com', type: 'SOA', ttl: 60, data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1 } }],
    });
    const out = shape(msg);
    expect(rcodeOf(out)).toBe(Rcode.NXDOMAIN);
    expect(dnsPacket.decode(out).authorities).toHaveLength(1);
  });

  test("drops the server's OPT when the client sent no EDNS, keeping other additional records", () => {
    const msg = reply({
      id: 1,
      questions: [serverQuestion],
      answers: aRecords('www.example.com', 1),
      additionals: [
        { name: 'x.example.com', type: 'A', ttl: 1, data: '10.9.9.9' },
        { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
      ],
    });
    const out = shape(msg);
    const d = dnsPacket.decode(out);
    expect(optOf(d)).toEqual([]);
    expect(d.additionals).toEqual([expect.objectContaining({ name: 'x.example.com', type: 'A', data: '10.9.9.9' })]);
    expect(out.readUInt16BE(10)).toBe(1);
  });

  test("replaces the server's OPT with ours when the client sent EDNS (DO echoed)", () => {
    const msg = reply({
      id: 1,
      questions: [serverQuestion],
      answers: aRecords('www.example.com', 1),
      additionals: [
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [{ code: 3, data: Buffer.from('nsid') } as never],
        },
      ],
    });
    for (const dnssecOk of [false, true]) {
      const d = dnsPacket.decode(shape(msg, { edns: { udpSize: 4096, version: 0, dnssecOk }, limit: 4096 }));
      const opts = optOf(d);
      expect(opts).toHaveLength(1);
      expect(opts[0].udpPayloadSize).toBe(EDNS_UDP_SIZE);
      expect(opts[0].ednsVersion).toBe(0);
      expect(opts[0].extendedRcode).toBe(0);
      expect(opts[0].flag_do).toBe(dnssecOk);
      expect(opts[0].options).toEqual([]); // the server's NSID is not passed on
    }
  });

  test('adds our OPT when the client sent EDNS and the server replied without', () => {
    const msg = reply({ id: 1, questions: [serverQuestion], answers: aRecords('www.example.com', 1) });
    const out = shape(msg, { edns: { udpSize: 1232, version: 0, dnssecOk: false }, limit: 1232 });
    const d = dnsPacket.decode(out);
    expect(optOf(d)).toHaveLength(1);
    expect(d.answers).toHaveLength(1);
    // OPT is the last record
    expect(d.additionals?.[d.additionals.length - 1].type).toBe('OPT');
  });

  test('a reply over 512 bytes keeps the largest prefix of whole answers and sets TC', () => {
    const answers = aRecords('big.example.com', 60);
    const msg = reply({ id: 1, flags: AA, questions: [{ name: 'big.example.com', type: 'A' }], answers });
    expect(msg.length).toBeGreaterThan(CLASSIC_UDP_LIMIT);
    const out = shapeResponse(msg, scanMessage(msg), {
      id: 5,
      question: questionBytes('BIG.example.com'),
      edns: undefined,
      limit: CLASSIC_UDP_LIMIT,
    });
    expect(out.length).toBeLessThanOrEqual(CLASSIC_UDP_LIMIT);
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(true);
    const n = d.answers!.length;
    // A prefix, in order, of the server's answers...
    expect(d.answers!.map((a) => (a as { data: string }).data)).toEqual(answers.slice(0, n).map((a) => (a as { data: string }).data));
    // ...and the largest one: one more record would not fit.
    const recordLen = (msg.length - HEADER_LEN - questionBytes('big.example.com').length) / answers.length;
    expect(n).toBeGreaterThan(0);
    expect(out.length + recordLen).toBeGreaterThan(CLASSIC_UDP_LIMIT);
    expect(out.readUInt16BE(6)).toBe(n);
  });

  test('the EDNS size of the client is the limit, our OPT included', () => {
    const msg = reply({ id: 1, questions: [{ name: 'big.example.com', type: 'A' }], answers: aRecords('big.example.com', 100) });
    expect(msg.length).toBeGreaterThan(1232);
    const out = shape(msg, {
      question: questionBytes('big.example.com'),
      edns: { udpSize: 1232, version: 0, dnssecOk: false },
      limit: 1232,
    });
    expect(out.length).toBeLessThanOrEqual(1232);
    expect(out.length).toBeGreaterThan(1232 - 31); // filled up to the last whole record
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(true);
    expect(optOf(d)).toHaveLength(1);
    expect(d.answers!.length).toBeGreaterThan(15);
  });

  test('a reply that fits is passed whole, without TC', () => {
    const msg = reply({ id: 1, questions: [serverQuestion], answers: aRecords('www.example.com', 5) });
    const out = shape(msg, { limit: 65535 });
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(5);
    expect(out.length).toBe(msg.length);
  });

  test('cutting authority records sets TC', () => {
    const msg = reply({
      id: 1,
      questions: [serverQuestion],
      authorities: Array.from({ length: 30 }, (_, i): Answer => ({ name: 'example.com', type: 'NS', ttl: 60, data: `ns${i}.example.com` })),
    });
    expect(msg.length).toBeGreaterThan(CLASSIC_UDP_LIMIT);
    const out = shape(msg);
    expect(out.length).toBeLessThanOrEqual(CLASSIC_UDP_LIMIT);
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(true);
    expect(d.authorities!.length).toBeGreaterThan(0);
    expect(d.authorities!.length).toBeLessThan(30);
  });

  test('dropping only additional records does not set TC', () => {
    const msg = reply({
      id: 1,
      questions: [{ name: '_web._tcp.marathon.mesos', type: 'SRV' }],
      answers: [
        {
          name: '_web._tcp.marathon.mesos',
          type: 'SRV',
          ttl: 60,
          data: { target: 'web-1.marathon.mesos', port: 31000, priority: 0, weight: 0 },
        },
        {
          name: '_web._tcp.marathon.mesos',
          type: 'SRV',
          ttl: 60,
          data: { target: 'web-2.marathon.mesos', port: 31001, priority: 0, weight: 0 },
        },
      ],
      additionals: aRecords('web-1.marathon.mesos', 30),
    });
    expect(msg.length).toBeGreaterThan(CLASSIC_UDP_LIMIT);
    const out = shape(msg, { question: questionBytes('_web._tcp.marathon.mesos', 'SRV') });
    expect(out.length).toBeLessThanOrEqual(CLASSIC_UDP_LIMIT);
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(2);
    expect(d.additionals!.length).toBeGreaterThan(0);
    expect(d.additionals!.length).toBeLessThan(30);
  });

  test('dropping additional records with our OPT still does not set TC and keeps the OPT', () => {
    const msg = reply({
      id: 1,
      questions: [serverQuestion],
      answers: aRecords('www.example.com', 1),
      additionals: aRecords('extra.example.com', 40),
    });
    const out = shape(msg, { edns: { udpSize: 512, version: 0, dnssecOk: true }, limit: 512 });
    expect(out.length).toBeLessThanOrEqual(512);
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(1);
    expect(optOf(d)).toHaveLength(1);
    expect(optOf(d)[0].flag_do).toBe(true);
  });

  test('a compressed reply cut to size still decodes, every owner name intact', () => {
    const ips = Array.from({ length: 60 }, (_, i) => `10.2.0.${i}`);
    const msg = compressedReply(77, 'svc.example', ips);
    expect(msg.length).toBeGreaterThan(CLASSIC_UDP_LIMIT);
    const out = shape(msg, { question: questionBytes('SVC.example') });
    expect(out.length).toBeLessThanOrEqual(CLASSIC_UDP_LIMIT);
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(true);
    expect(d.questions?.[0].name).toBe('SVC.example');
    expect(d.answers!.length).toBeGreaterThan(20);
    // The pointers now point at the client's spelling: same name, case aside.
    for (const [i, a] of d.answers!.entries()) {
      expect(a.name.toLowerCase()).toBe('svc.example');
      expect((a as { data: string }).data).toBe(ips[i]);
    }
  });

  test('a limit below header + question still yields a decodable reply with TC', () => {
    const msg = reply({ id: 1, questions: [serverQuestion], answers: aRecords('www.example.com', 3) });
    const out = shape(msg, { limit: 20 });
    const d = dnsPacket.decode(out);
    expect(d.flag_tc).toBe(true);
    expect(d.answers).toEqual([]);
    expect(d.questions).toHaveLength(1);
  });

  test('records after the server OPT are dropped with it; the output always decodes', () => {
    // A TSIG-like record after the OPT: whatever follows the OPT goes too.
    const msg = reply({
      id: 1,
      questions: [serverQuestion],
      answers: aRecords('www.example.com', 1),
      additionals: [
        { name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
        { name: 'after.example.com', type: 'A', ttl: 1, data: '10.3.3.3' },
      ],
    });
    const d = dnsPacket.decode(shape(msg));
    expect(d.answers).toHaveLength(1);
    expect(nonOpt(d.additionals)).toEqual([]);
  });
});

// ---- errorResponse ---------------------------------------------------------------------------

describe('errorResponse', () => {
  const question = questionBytes('Leader.Mesos', 'A');

  test('QR and RA set, the ID, the question, RD copied, the rcode', () => {
    const out = errorResponse(0x1234, RD, Rcode.SERVFAIL, question, undefined);
    const d = dnsPacket.decode(out);
    expect(d.id).toBe(0x1234);
    expect(d.flag_qr).toBe(true);
    expect(d.flag_ra).toBe(true);
    expect(d.flag_rd).toBe(true);
    expect(d.flag_aa).toBe(false);
    expect(rcodeOf(out)).toBe(Rcode.SERVFAIL);
    expect(d.questions).toEqual([{ name: 'Leader.Mesos', type: 'A', class: 'IN' }]);
    expect(d.answers).toEqual([]);
    expect(d.authorities).toEqual([]);
    expect(d.additionals).toEqual([]);
  });

  test('RD clear in the query stays clear; CD and the opcode are copied', () => {
    const out = errorResponse(1, CD | (2 << 11), Rcode.NOTIMP, question, undefined);
    expect(flagsOf(out) & RD).toBe(0);
    expect(flagsOf(out) & CD).toBe(CD);
    expect((flagsOf(out) >> 11) & 0xf).toBe(2);
    expect(rcodeOf(out)).toBe(Rcode.NOTIMP);
  });

  test("the query's AA, TC and rcode bits are not copied", () => {
    const out = errorResponse(1, AA | TC | RD | 0xf, Rcode.REFUSED, question, undefined);
    expect(flagsOf(out) & AA).toBe(0);
    expect(flagsOf(out) & TC).toBe(0);
    expect(rcodeOf(out)).toBe(Rcode.REFUSED);
  });

  test('without a question: header only, qdcount 0', () => {
    const out = errorResponse(9, RD, Rcode.FORMERR, undefined, undefined);
    expect(out.length).toBe(HEADER_LEN);
    const d = dnsPacket.decode(out);
    expect(d.id).toBe(9);
    expect(d.flag_qr).toBe(true);
    expect(d.questions).toEqual([]);
    expect(rcodeOf(out)).toBe(Rcode.FORMERR);
  });

  test('with EDNS: one OPT, DO echoed, extended rcode carried', () => {
    const out = errorResponse(2, RD, Rcode.NOERROR, question, { udpSize: 4096, version: 1, dnssecOk: true }, 1);
    const d = dnsPacket.decode(out);
    const opts = optOf(d);
    expect(opts).toHaveLength(1);
    expect(opts[0].extendedRcode).toBe(1);
    expect(opts[0].ednsVersion).toBe(0);
    expect(opts[0].flag_do).toBe(true);
    expect(opts[0].udpPayloadSize).toBe(EDNS_UDP_SIZE);
    expect(d.questions).toHaveLength(1);
  });
});
