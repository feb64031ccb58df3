import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { AnswerCache, cacheableTtl } from '../../agent/cache/answer-cache.js';
import { scanMessage } from '../../common/dns/wire.js';

const soa = (ttl: number, minimum: number) => ({
  name: 'example.org',
  type: 'SOA' as const,
  ttl,
  data: { mname: 'ns1.example.org', rname: 'root.example.org', serial: 1, refresh: 60, retry: 60, expire: 60, minimum },
});

function reply(opts: { rcode?: number; flags?: number; answers?: dnsPacket.Answer[]; authorities?: dnsPacket.Answer[] }): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: (opts.flags ?? 0) | (opts.rcode ?? 0),
    questions: [{ name: 'www.example.org', type: 'A' }],
    answers: opts.answers ?? [],
    authorities: opts.authorities ?? [],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  });
}
const a = (ttl: number, ip = '192.0.2.1'): dnsPacket.Answer => ({ name: 'www.example.org', type: 'A', ttl, data: ip });
const ttlOf = (c: { msg: Buffer }) => (dnsPacket.decode(c.msg).answers![0] as { ttl: number }).ttl;

describe('how long a reply may be cached', () => {
  test('the smallest TTL among its records (OPT is not a TTL)', () => {
    const m = reply({ answers: [a(300), a(60, '192.0.2.2')] });
    expect(cacheableTtl(m, scanMessage(m))).toBe(60);
  });
  test('NXDOMAIN and NODATA: min(SOA TTL, SOA MINIMUM) (RFC 2308)', () => {
    const nx = reply({ rcode: 3, authorities: [soa(3600, 30)] });
    expect(cacheableTtl(nx, scanMessage(nx))).toBe(30);
    const nodata = reply({ authorities: [soa(10, 900)] });
    expect(cacheableTtl(nodata, scanMessage(nodata))).toBe(10);
  });
  test('never: errors, truncated replies, negative answers without SOA', () => {
    for (const m of [
      reply({ rcode: 2 }),
      reply({ rcode: 5 }),
      reply({ flags: dnsPacket.TRUNCATED_RESPONSE, answers: [a(60)] }),
      reply({ rcode: 3 }),
    ]) {
      expect(cacheableTtl(m, scanMessage(m))).toBe(0);
    }
  });
});

describe('AnswerCache', () => {
  test('a hit returns the reply with TTLs aged by whole seconds in the cache', () => {
    const c = new AnswerCache(10);
    const m = reply({ answers: [a(300)] });
    c.set('k', m, scanMessage(m), 600, 1_000_000);
    expect(ttlOf(c.get('k', 1_000_500)!)).toBe(300);
    expect(ttlOf(c.get('k', 1_042_100)!)).toBe(258);
  });
  test('the zone cap shortens the lifetime; expired entries are gone', () => {
    const c = new AnswerCache(10);
    const m = reply({ answers: [a(300)] });
    c.set('k', m, scanMessage(m), 2, 0);
    expect(c.get('k', 1999)).toBeDefined();
    expect(c.get('k', 2000)).toBeUndefined();
    expect(c.size).toBe(0);
  });
  test('a cap of 0 means no caching', () => {
    const c = new AnswerCache(10);
    const m = reply({ answers: [a(300)] });
    c.set('k', m, scanMessage(m), 0, 0);
    expect(c.get('k', 1)).toBeUndefined();
  });
  test('bounded: the least recently used entry goes first', () => {
    const c = new AnswerCache(2);
    const m = reply({ answers: [a(300)] });
    const s = scanMessage(m);
    c.set('a', m, s, 300, 0);
    c.set('b', m, s, 300, 0);
    c.get('a', 1); // a is now more recent than b
    c.set('c', m, s, 300, 0);
    expect(c.size).toBe(2);
    expect(c.get('b', 2)).toBeUndefined();
    expect(c.get('a', 2)).toBeDefined();
    expect(c.get('c', 2)).toBeDefined();
  });
  test('a hit is a copy: shaping it for one client never changes the stored reply', () => {
    const c = new AnswerCache(10);
    const m = reply({ answers: [a(300)] });
    c.set('k', m, scanMessage(m), 300, 0);
    c.get('k', 5000)!.msg.fill(0);
    expect(ttlOf(c.get('k', 5000)!)).toBe(295);
  });
});
