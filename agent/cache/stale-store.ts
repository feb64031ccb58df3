// Serve-stale (RFC 8767): the last good reply per question, kept after its TTL, so that when every
// server for a name fails the client gets that answer with a short TTL instead of SERVFAIL. A
// master outage would otherwise take every Mesos name on every node down within seconds, while
// the tasks behind those names are still running. Independent of the answer cache: it works with
// the cache off and outlives reloads. Bounded by entries, by bytes and by age.
import type { ServeStaleConfig } from '../../common/config/schema.js';
import type { Scan, ScannedMessage } from '../../common/dns/wire.js';
import { cacheableTtl } from './answer-cache.js';
import { type StoredReply, copyWithTtls, touch } from './stored-reply.js';

/** What bounds the store and what it gives back (the switch and the timer are the resolver's). */
export type StaleLimits = Pick<ServeStaleConfig, 'maxEntries' | 'maxBytes' | 'maxStaleSec' | 'ttlSec'>;

/**
 * An estimate of what an entry costs beside its message: the Map slot, the entry, the Buffer
 * object, the key string and the scan; and per record, its 8 bytes of spans (wire.ts
 * RecordSpans). Enough to keep a store of many tiny replies from passing maxBytes by several times.
 */
const ENTRY_OVERHEAD_BYTES = 320;
const RECORD_OVERHEAD_BYTES = 8;

interface Entry extends StoredReply {
  bytes: number;
  /** When its TTL ran out: a stale answer's age counts from here (RFC 8767 §5). */
  expiresAt: number;
}

function entryBytes(key: string, msg: Buffer, scan: Scan): number {
  return msg.length + key.length + ENTRY_OVERHEAD_BYTES + scan.records.length * RECORD_OVERHEAD_BYTES;
}

/**
 * A message that owns its memory. UDP replies already do; a TCP reply is a slice of Node's shared
 * 8 KiB pool, and keeping it for a day would pin the whole slab.
 */
function owned(msg: Buffer): Buffer {
  if (msg.byteOffset === 0 && msg.buffer.byteLength === msg.length) return msg;
  const copy = Buffer.allocUnsafeSlow(msg.length);
  msg.copy(copy);
  return copy;
}

export class StaleStore {
  /** Least recently used first (touch). */
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(private limits: StaleLimits) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** New limits on reload: the entries stay, and those past a smaller cap go now. */
  setLimits(limits: StaleLimits, now: number): void {
    this.limits = limits;
    this.evict(now);
  }

  /**
   * Remembers a server's reply: only what the answer cache would keep (NOERROR with answers,
   * or a negative answer with its SOA; not truncated; TTL above 0, since a TTL of 0 asks that
   * the answer never be reused). Called for every forwarded reply, so no decoding here.
   */
  set(key: string, msg: Buffer, scan: Scan, now: number): void {
    const ttl = cacheableTtl(msg, scan);
    if (ttl <= 0) return;
    const old = this.entries.get(key);
    // Most replies repeat the one kept (a Mesos name's records and TTLs change only when its tasks
    // do). Then only the time moves: no new entry, so under load the store makes no garbage that
    // lives long enough to be promoted to the old generation. The ID (the first two octets) is
    // ours, chosen per query, so it is not compared.
    if (old && old.msg.length === msg.length && msg.compare(old.msg, 2, old.msg.length, 2, msg.length) === 0) {
      old.storedAt = now;
      old.expiresAt = now + ttl * 1000;
      touch(this.entries, key, old);
      return;
    }
    const bytes = entryBytes(key, msg, scan);
    if (bytes > this.limits.maxBytes) return;
    if (old) this.remove(key, old);
    this.entries.set(key, { msg: owned(msg), scan, storedAt: now, expiresAt: now + ttl * 1000, bytes });
    this.totalBytes += bytes;
    this.evict(now);
  }

  /** Whether a reply is kept for `key` (perhaps too old to serve: get says). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * A copy of the last good reply with every TTL set to ttlSec, or undefined when none is kept
   * or it expired more than maxStaleSec ago; expiredSec is 0 while its own TTL still runs.
   */
  get(key: string, now: number): (ScannedMessage & { expiredSec: number }) | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.tooOld(e, now)) {
      this.remove(key, e);
      return undefined;
    }
    touch(this.entries, key, e);
    const { ttlSec } = this.limits;
    return { msg: copyWithTtls(e, () => ttlSec), scan: e.scan, expiredSec: Math.max(0, Math.floor((now - e.expiresAt) / 1000)) };
  }

  /**
   * When the entry was stored, when its TTL ran out and until when it may be served, without
   * touching its place in the LRU order or removing it (for /v1/explain).
   */
  peek(key: string, now: number): { storedAt: number; expiresAt: number; servableUntil: number } | undefined {
    const e = this.entries.get(key);
    if (!e || this.tooOld(e, now)) return undefined;
    return { storedAt: e.storedAt, expiresAt: e.expiresAt, servableUntil: e.expiresAt + this.limits.maxStaleSec * 1000 };
  }

  private tooOld(e: Entry, now: number): boolean {
    return now - e.expiresAt > this.limits.maxStaleSec * 1000;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= e.bytes;
  }

  /**
   * Least recently used first while over a cap. Entries too old to serve that reach the front go
   * too; the others go when asked for or pushed out, so a set never walks the whole store.
   */
  private evict(now: number): void {
    const { maxEntries, maxBytes } = this.limits;
    for (const [key, e] of this.entries) {
      if (this.entries.size <= maxEntries && this.totalBytes <= maxBytes && !this.tooOld(e, now)) return;
      this.remove(key, e);
    }
  }
}
