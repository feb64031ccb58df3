// Lookups for the HTTP API go through the agent's own query pipeline, exactly as a DNS client's
// would (so /v1/hosts/nginx.marathon.mesos is answered by the masters, as on Mesos-DNS).
import { randomInt } from 'node:crypto';
import { dnsPacket } from '../../common/dns/packet.js';

export interface LookupResult {
  rcode: string;
  answers: dnsPacket.Answer[];
  additionals: dnsPacket.Answer[];
}

export async function lookup(
  agent: { resolve(query: Buffer): Promise<Buffer | undefined> },
  name: string,
  type: 'A' | 'AAAA' | 'SRV',
): Promise<LookupResult> {
  const query = dnsPacket.encode({
    type: 'query',
    id: randomInt(0, 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
  });
  const reply = await agent.resolve(query);
  if (!reply) return { rcode: 'SERVFAIL', answers: [], additionals: [] };
  const decoded = dnsPacket.decode(reply) as dnsPacket.DecodedPacket & { rcode?: string };
  return { rcode: decoded.rcode ?? 'NOERROR', answers: decoded.answers ?? [], additionals: decoded.additionals ?? [] };
}

/** RFC 1035 limits and the characters names are made of (Mesos-DNS names included). */
export function isValidQueryName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  return n.split('.').every((label) => label.length >= 1 && label.length <= 63 && /^[A-Za-z0-9_-]+$/.test(label));
}
