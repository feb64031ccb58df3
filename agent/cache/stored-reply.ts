// What the answer cache and the stale store have in common: each keeps a server's reply as it was
// sent, hands out a copy with its TTLs rewritten, and orders its entries least recently used first.
import { type ScannedMessage, Type } from '../../common/dns/wire.js';

export interface StoredReply extends ScannedMessage {
  /** When the server gave it (ms since the epoch). */
  storedAt: number;
}

/**
 * A copy of the message with every record's TTL replaced by `ttl(old)`; the kept message is
 * untouched. The OPT's field is its extended flags, not a TTL, and is left alone.
 */
export function copyWithTtls(stored: ScannedMessage, ttl: (old: number) => number): Buffer {
  const msg = Buffer.from(stored.msg);
  const records = stored.scan.records;
  for (let i = 0; i < records.length; i++) {
    if (records.type(i) === Type.OPT) continue;
    const at = records.ttlAt(i);
    msg.writeUInt32BE(ttl(msg.readUInt32BE(at)), at);
  }
  return msg;
}

/** Moves `key` to the end: a Map iterates in insertion order, so its first key is the least recently used. */
export function touch<K, V>(entries: Map<K, V>, key: K, value: V): void {
  entries.delete(key);
  entries.set(key, value);
}
