// The default IPv6 listen address on a node without IPv6. The default `listen` holds
// fd01:d::c633:6401 beside the three IPv4 addresses, and the same config ships to every node; one
// booted with ipv6.disable=1 or with net.ipv6.conf.*.disable_ipv6 = 1 cannot have that address
// (spartan-interface.sh leaves it out there), and must still serve its IPv4 addresses rather than
// lose its only nameserver. Any other address, IPv6 too, must bind or the agent does not start.
import { existsSync, readFileSync } from 'node:fs';
import { type Endpoint, parseEndpoint, sameEndpoint } from '../../common/config/endpoint.js';
import { DEFAULT_IPV6_LISTEN } from '../../common/config/schema.js';
import type { KernelSocket } from '../../common/kernel-sockets.js';

/** What the kernel says about IPv6 in this network namespace. */
export interface Ipv6Support {
  /** /proc/net/if_inet6 exists: the kernel has IPv6. */
  kernel: boolean;
  /** net.ipv6.conf.all.disable_ipv6 = 1. */
  disabled: boolean;
  /** Every IPv6 address on an interface, canonical. */
  addresses: string[];
}

export interface SkippedListen {
  endpoint: Endpoint;
  /** Why the node cannot have it, fit for a log line. */
  reason: string;
}

const DEFAULT_IPV6 = parseEndpoint(DEFAULT_IPV6_LISTEN)!;

/**
 * The `listen` addresses to leave out: the default IPv6 one when no interface has it, unless
 * systemd passed a socket for it (bound with FreeBind, it serves harmlessly as it is). Never every
 * address: an agent left with nothing to serve should fail to start and say why.
 */
export function listenToSkip(listen: Endpoint[], inherited: KernelSocket[], ipv6: Ipv6Support): SkippedListen[] {
  const skip = listen.filter(
    (e) => sameEndpoint(e, DEFAULT_IPV6) && !inherited.some((s) => sameEndpoint(s.endpoint, e)) && !ipv6.addresses.includes(e.host),
  );
  if (skip.length === listen.length) return [];
  return skip.map((endpoint) => ({ endpoint, reason: whyNoIpv6(ipv6) }));
}

function whyNoIpv6(ipv6: Ipv6Support): string {
  if (!ipv6.kernel) return 'this kernel has no IPv6 (/proc/net/if_inet6 is missing: booted with ipv6.disable=1?)';
  if (ipv6.disabled) return 'IPv6 is disabled on this node (net.ipv6.conf.all.disable_ipv6 = 1)';
  return 'no interface has the address: spartan-interface.sh adds it unless IPv6 is disabled on the interface (net.ipv6.conf.spartan.disable_ipv6)';
}

/**
 * The addresses in /proc/net/if_inet6: one line per address, "fd01000d0000000000000000c6336401
 * 02 80 00 82 spartan", the address as 32 hex digits in network byte order.
 */
export function parseIfInet6(table: string): string[] {
  const addresses: string[] = [];
  for (const line of table.split('\n')) {
    const hex = line.trim().split(/\s+/)[0];
    if (!/^[0-9a-f]{32}$/i.test(hex)) continue;
    const groups = hex.match(/.{4}/g)!.join(':');
    addresses.push(parseEndpoint(`[${groups}]`, 53)!.host);
  }
  return addresses;
}

/** Reads this network namespace's IPv6 state; `proc` is for tests. */
export function readIpv6Support(proc = '/proc'): Ipv6Support {
  const table = `${proc}/net/if_inet6`;
  if (!existsSync(table)) return { kernel: false, disabled: true, addresses: [] };
  let disabled = false;
  try {
    disabled = readFileSync(`${proc}/sys/net/ipv6/conf/all/disable_ipv6`, 'utf8').trim() === '1';
  } catch {
    // Unreadable: the addresses below still tell whether the one we want is there.
  }
  let addresses: string[] = [];
  try {
    addresses = parseIfInet6(readFileSync(table, 'utf8'));
  } catch {
    // Unreadable: as if the address were missing, which the reason then names.
  }
  return { kernel: true, disabled, addresses };
}
