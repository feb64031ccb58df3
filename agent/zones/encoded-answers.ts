// The local zones' answers as wire messages, encoded once per zone, name, type, turn of the
// round robin and RD bit; the resolver then only patches them per client (ID, question spelling,
// OPT, size). Zones are immutable, so a new ensemble brings a new zone object and a fresh set,
// and the old set goes with the old zone. Only answers with records are kept (bounded by the
// zone's records), so queries for random names or types cannot grow it.
import dnsPacket from 'dns-packet';
import { AA, RD, Rcode, type Scan, scanMessage, typeName } from '../../common/dns/wire.js';
import { type Zone, answerFromZone } from './local-zones.js';

export interface EncodedAnswer {
  msg: Buffer;
  scan: Scan;
}

const byZone = new WeakMap<Zone, Map<string, EncodedAnswer>>();

/** The answer to `name`/`qtype` from `zone` for this turn of the rotation, with the client's RD bit. */
export function encodedAnswer(zone: Zone, name: string, qtype: number, queryFlags: number, rotation: number): EncodedAnswer {
  const a = answerFromZone(zone, name, qtype, typeName(qtype), rotation);
  const keep = a.answers.length > 0;
  let cached = byZone.get(zone);
  if (!cached) {
    cached = new Map();
    byZone.set(zone, cached);
  }
  const key = `${name}|${qtype}|${a.turn}|${queryFlags & RD}`;
  const hit = keep ? cached.get(key) : undefined;
  if (hit) return hit;
  const msg = dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: AA | (queryFlags & RD) | (a.rcode === 'NXDOMAIN' ? Rcode.NXDOMAIN : 0),
    questions: [{ name, type: `UNKNOWN_${qtype}` as dnsPacket.RecordType, class: 'IN' }],
    answers: a.answers,
    authorities: a.authorities,
  });
  const encoded = { msg, scan: scanMessage(msg) };
  if (keep) cached.set(key, encoded);
  return encoded;
}
