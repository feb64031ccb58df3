// "10.0.0.0/8", "fd00::/8" or a bare address (one host): the form the ACL and the rate limit's
// exempt list are written in.
import { isIP } from 'node:net';

export interface Cidr {
  /** The address as written (host bits may be set; matching masks them). */
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Parses a network; returns undefined when the text is not one. A bare address is a /32 or /128. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (slash === -1) return { address, prefix: bits, family };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  return { address, prefix: Number(prefixText), family };
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}
