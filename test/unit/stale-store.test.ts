// The serve-stale store: which replies it keeps, its three bounds (entries, bytes, age), least
// recently used first, and the TTLs of what it gives back.
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { type StaleLimits, StaleStore } from '../../agent/cache/stale-store.js';
import { scanMessage } from '../../common/dns/wire.js';

const LIMITS: StaleLimits = { maxEntries: 100, maxBytes: 1 << 20, maxStaleSec: 86_400, ttlSec: 30 };
const DAY_MS = 86_400_000;

const soa = {
  name: 'example.org',
  type: 'SOA' as const,
  ttl: 3600,
  data: { mname: 'ns1.example.org', rname: 'root.example.org', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 },
};
const a = (ip: string, ttl = 300): dnsPacket.Answer => ({ name: 'www.example.org', type: 'A', ttl, data: ip });

function reply(opts: { rcode?: number; flags?: number; answers?: dnsPacket.Answer[]; authorities?: dnsPacket.Answer[] } = {}): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: (opts.flags ?? 0) | (opts.rcode ?? 0),
    questions: [{ name: 'www.example.org', type: 'A' }],
    answers: opts.answers ?? [a('192.0.2.1')],
    authorities: opts.authorities ?? [],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  });
}

function put(store: StaleStore, key: string, msg: Buffer, now = 0): void {
  store.set(key, msg, scanMessage(msg), now);
}

const ttlOf = (r: dnsPacket.Answer) => (r as { ttl: number }).ttl;
const addresses = (got: { msg: Buffer } | undefined) => dnsPacket.decode(got!.msg).answers!.map((r) => (r as { data: string }).data);

describe('what is kept', () => {
  test('NOERROR with answers, NXDOMAIN and NODATA with their SOA', () => {
    const s = new StaleStore(LIMITS);
    put(s, 'answer', reply());
    put(s, 'nxdomain', reply({ rcode: 3, answers: [], authorities: [soa] }));
    put(s, 'nodata', reply({ answers: [], authorities: [soa] }));
    expect(s.size).toBe(3);
    expect(s.get('nxdomain', 1)!.scan.header.rcode).toBe(3);
  });

  test('never SERVFAIL, REFUSED, a truncated reply, a negative answer without SOA, or a TTL of 0', () => {
    const s = new StaleStore(LIMITS);
    put(s, 'servfail', reply({ rcode: 2, answers: [] }));
    put(s, 'refused', reply({ rcode: 5, answers: [] }));
    put(s, 'truncated', reply({ flags: dnsPacket.TRUNCATED_RESPONSE }));
    put(s, 'nxdomain-no-soa', reply({ rcode: 3, answers: [] }));
    put(s, 'ttl0', reply({ answers: [a('192.0.2.1', 0)] }));
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  test('a newer reply replaces the older one for the same question', () => {
    const s = new StaleStore(LIMITS);
    put(s, 'k', reply({ answers: [a('192.0.2.1')] }));
    const oneEntry = s.bytes;
    put(s, 'k', reply({ answers: [a('192.0.2.2')] }), 1000);
    expect(s.size).toBe(1);
    expect(s.bytes).toBe(oneEntry);
    expect(addresses(s.get('k', 2000))).toEqual(['192.0.2.2']);
  });

  test('the same reply again (another ID) keeps the entry and restarts its age; a changed one replaces it', () => {
    const s = new StaleStore(LIMITS);
    const first = reply();
    put(s, 'k', first);
    const again = Buffer.from(first);
    again.writeUInt16BE(0xbeef, 0); // each forwarded query has its own ID
    put(s, 'k', again, DAY_MS);
    // Refreshed a day later: its 300 s TTL runs from then, not from the first reply.
    expect(s.get('k', 2 * DAY_MS)?.expiredSec).toBe(86_400 - 300);
    expect(s.bytes).toBeGreaterThan(0);
    expect(s.size).toBe(1);
    const changed = reply({ answers: [a('192.0.2.9')] });
    put(s, 'k', changed, 2 * DAY_MS);
    expect(addresses(s.get('k', 2 * DAY_MS + 1))).toEqual(['192.0.2.9']);
  });

  test('a reply that shares its memory (a TCP reply from the buffer pool) is kept as its own copy', () => {
    const s = new StaleStore(LIMITS);
    const msg = reply();
    const pooled = Buffer.concat([Buffer.alloc(7), msg]).subarray(7);
    put(s, 'k', pooled);
    pooled.fill(0);
    expect(addresses(s.get('k', 1))).toEqual(['192.0.2.1']);
  });
});

describe('what is given back', () => {
  test('every record TTL set to ttlSec, the OPT left as it was, and the rest of the reply unchanged', () => {
    const s = new StaleStore({ ...LIMITS, ttlSec: 30 });
    const msg = reply({ answers: [a('192.0.2.1', 300), a('192.0.2.2', 60)], authorities: [soa] });
    put(s, 'k', msg);
    const got = s.get('k', 3 * 3600_000)!;
    const decoded = dnsPacket.decode(got.msg);
    expect(decoded.answers!.map(ttlOf)).toEqual([30, 30]);
    expect(decoded.authorities!.map(ttlOf)).toEqual([30]);
    const opt = decoded.additionals!.find((r) => r.type === 'OPT') as unknown as { udpPayloadSize: number; flags: number };
    expect(opt).toEqual(expect.objectContaining({ udpPayloadSize: 1232, flags: 0 }));
    expect(addresses(got)).toEqual(['192.0.2.1', '192.0.2.2']);
    // Its age as a stale answer counts from when its smallest TTL (60 s) ran out (RFC 8767 §5).
    expect(got.expiredSec).toBe(3 * 3600 - 60);
  });

  test('a copy: shaping it for one client never changes what is kept', () => {
    const s = new StaleStore(LIMITS);
    put(s, 'k', reply());
    s.get('k', 1)!.msg.fill(0);
    expect(addresses(s.get('k', 2))).toEqual(['192.0.2.1']);
  });

  test('nothing for a question never answered', () => {
    expect(new StaleStore(LIMITS).get('never', 0)).toBeUndefined();
  });
});

describe('bounds', () => {
  test('least recently used goes first: a stale answer served counts as a use', () => {
    const s = new StaleStore({ ...LIMITS, maxEntries: 2 });
    put(s, 'a', reply());
    put(s, 'b', reply());
    s.get('a', 1); // a is now more recent than b
    put(s, 'c', reply());
    expect(s.size).toBe(2);
    expect(s.get('b', 2)).toBeUndefined();
    expect(s.get('a', 2)).toBeDefined();
    expect(s.get('c', 2)).toBeDefined();
  });

  test('the entry cap', () => {
    const s = new StaleStore({ ...LIMITS, maxEntries: 3 });
    for (let i = 0; i < 10; i++) put(s, `k${i}`, reply(), i);
    expect(s.size).toBe(3);
    expect(['k7', 'k8', 'k9'].every((k) => s.get(k, 10))).toBe(true);
    expect(s.get('k6', 10)).toBeUndefined();
  });

  test('the byte cap evicts the oldest until the rest fits', () => {
    const probe = new StaleStore(LIMITS);
    put(probe, 'k0', reply());
    const entry = probe.bytes; // every key below has the same length, so every entry this size
    expect(entry).toBeGreaterThan(reply().length); // message plus the overhead estimate

    const s = new StaleStore({ ...LIMITS, maxBytes: entry * 3 + entry / 2 });
    for (let i = 0; i < 5; i++) put(s, `k${i}`, reply(), i);
    expect(s.size).toBe(3);
    expect(s.bytes).toBe(entry * 3);
    expect(s.get('k0', 5)).toBeUndefined();
    expect(s.get('k1', 5)).toBeUndefined();
    expect(['k2', 'k3', 'k4'].every((k) => s.get(k, 5))).toBe(true);
  });

  test('a reply bigger than the whole byte cap is not kept and evicts nothing', () => {
    const probe = new StaleStore(LIMITS);
    put(probe, 'k', reply());
    const s = new StaleStore({ ...LIMITS, maxBytes: probe.bytes });
    put(s, 'k', reply());
    put(s, 'big', reply({ answers: Array.from({ length: 20 }, (_, i) => a(`192.0.2.${i + 1}`)) }));
    expect(s.size).toBe(1);
    expect(s.get('k', 1)).toBeDefined();
  });

  test('an answer more than maxStaleSec past its TTL is never served, and is dropped', () => {
    const s = new StaleStore({ ...LIMITS, maxStaleSec: 86_400 });
    put(s, 'k', reply(), 0); // TTL 300 s
    expect(s.get('k', 1000)?.expiredSec).toBe(0);
    expect(s.get('k', 300_000 + DAY_MS)).toBeDefined();
    expect(s.get('k', 300_000 + DAY_MS + 1)).toBeUndefined();
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  test('a fresh reply restarts the age', () => {
    const s = new StaleStore({ ...LIMITS, maxStaleSec: 60 });
    const short = () => reply({ answers: [a('192.0.2.1', 10)] });
    put(s, 'k', short(), 0);
    expect(s.get('k', 71_000)).toBeUndefined(); // 61 s past its TTL
    put(s, 'k', short(), 50_000);
    expect(s.get('k', 100_000)?.expiredSec).toBe(40);
  });

  test('too-old entries at the front go when something new is kept', () => {
    const s = new StaleStore({ ...LIMITS, maxStaleSec: 60 });
    put(s, 'old', reply({ answers: [a('192.0.2.1', 1)] }), 0);
    put(s, 'new', reply(), 62_000);
    expect(s.size).toBe(1);
  });

  test('smaller limits on reload apply at once; the entries that fit stay', () => {
    const s = new StaleStore(LIMITS);
    for (let i = 0; i < 5; i++) put(s, `k${i}`, reply(), i);
    s.setLimits({ ...LIMITS, maxEntries: 2, ttlSec: 10 }, 10);
    expect(s.size).toBe(2);
    const got = s.get('k4', 11)!;
    expect(ttlOf(dnsPacket.decode(got.msg).answers![0])).toBe(10);
    expect(s.get('k2', 11)).toBeUndefined();
  });
});
