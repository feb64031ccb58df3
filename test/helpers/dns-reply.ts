// The response code of a reply, as tests read it: from the header alone (the rest may be
// malformed on purpose), or from a reply that must decode whole, as dig would show it.
import dnsPacket from 'dns-packet';

/** The header's RCODE: the low four bits of the flags word (RFC 1035 §4.1.1). */
export function rcodeOf(reply: Buffer): number {
  return reply.readUInt16BE(2) & 0xf;
}

/** The RCODE's name ("FORMERR") of a reply that must be there and decode whole. */
export function decodedRcode(reply: Buffer | undefined): string {
  if (!reply) throw new Error('expected a reply, got none');
  // dns-packet's types leave out `rcode`.
  return (dnsPacket.decode(reply) as unknown as { rcode: string }).rcode;
}
