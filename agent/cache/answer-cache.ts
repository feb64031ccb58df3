// Answers from servers, kept for their TTL (capped per zone), so repeated lookups neither wait for
// a server nor add to the masters' load. Entries are whole replies as the server sent them; on a
// hit the TTLs are lowered by the time spent in the cache (RFC 1035 §6.1.2).
import { Rcode, type Scan, type ScannedMessage, TC, Type } from '../../common/dns/wire.js';
import { type StoredReply, copyWithTtls, touch } from './stored-reply.js';

interface Entry extends StoredReply {
  expiresAt: number;
}

/**
 * How long a reply may be cached, in seconds: the smallest TTL in it; for a negative answer
 * (NXDOMAIN, or NODATA) the SOA's TTL or MINIMUM, whichever is smaller (RFC 2308 §5); 0 when
 * it must not be cached (truncated, errors, negative answers without SOA).
 */
export function cacheableTtl(msg: Buffer, scan: Scan): number {
  const { rcode, flags } = scan.header;
  if (flags & TC) return 0;
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return 0;
  // Plain loops: this runs for every forwarded reply (the stale store keeps them all).
  let ttl = Infinity;
  let answers = 0;
  let soa = -1;
  const records = scan.records;
  for (let i = 0; i < records.length; i++) {
    const type = records.type(i);
    if (type === Type.OPT) continue;
    const section = records.section(i);
    if (section === 'answer') answers++;
    else if (section === 'authority' && type === Type.SOA && soa === -1) soa = i;
    ttl = Math.min(ttl, msg.readUInt32BE(records.ttlAt(i)));
  }
  if (rcode === Rcode.NXDOMAIN || answers === 0) {
    if (soa === -1) return 0;
    // SOA MINIMUM is the last 32-bit field of its data.
    return Math.min(msg.readUInt32BE(records.ttlAt(soa)), msg.readUInt32BE(records.end(soa) - 4));
  }
  return ttl === Infinity ? 0 : ttl;
}

export class AnswerCache {
  /** Least recently used first (touch). */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Stores a reply for up to maxTtlSec seconds (never longer than its own TTLs allow). */
  set(key: string, msg: Buffer, scan: Scan, maxTtlSec: number, now: number): void {
    const ttl = Math.min(cacheableTtl(msg, scan), maxTtlSec);
    if (ttl <= 0) return;
    touch(this.entries, key, { msg, scan, storedAt: now, expiresAt: now + ttl * 1000 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /**
   * A copy of the cached reply with its TTLs aged, or undefined when absent or expired;
   * `expiring` in the last tenth of the time it may be kept (time to refresh it).
   */
  get(key: string, now: number): (ScannedMessage & { expiring: boolean }) | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    touch(this.entries, key, e);
    const age = Math.floor((now - e.storedAt) / 1000);
    const msg = age > 0 ? copyWithTtls(e, (ttl) => Math.max(0, ttl - age)) : Buffer.from(e.msg);
    return { msg, scan: e.scan, expiring: (e.expiresAt - now) * 10 < e.expiresAt - e.storedAt };
  }

  /**
   * When the entry was stored and when it expires, without touching its place in the LRU order or
   * removing it: what /v1/explain shows, before its own query asks like any client's.
   */
  peek(key: string, now: number): { storedAt: number; expiresAt: number } | undefined {
    const e = this.entries.get(key);
    return e && now < e.expiresAt ? { storedAt: e.storedAt, expiresAt: e.expiresAt } : undefined;
  }

  clear(): void {
    this.entries.clear();
  }
}
