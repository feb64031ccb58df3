// What "this node" means for the defaults: the networks its interfaces are on (who may ask, by
// default) and its own addresses (who is never rate-limited, by default). Pure: the agent reads
// os.networkInterfaces() at start and on every reload and passes it in.
import type { NetworkInterfaceInfo } from 'node:os';
import type { Cidr } from '../../common/config/cidr.js';

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const LOOPBACK: readonly Cidr[] = [
  { address: '127.0.0.0', prefix: 8, family: 4 },
  { address: '::1', prefix: 128, family: 6 },
];

function entries(interfaces: Interfaces): NetworkInterfaceInfo[] {
  return Object.values(interfaces).flatMap((list) => list ?? []);
}

/** Node 18.0–18.3 reported the family as a number. */
function familyOf(i: NetworkInterfaceInfo): 4 | 6 {
  return (i.family as unknown) === 6 || i.family === 'IPv6' ? 6 : 4;
}

function unique(list: Cidr[]): Cidr[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const key = `${c.address}/${c.prefix}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/**
 * The default ACL: loopback plus every network an interface is on (containers on a bridge, the
 * cluster's subnet, an overlay), each as the interface's address and prefix.
 */
export function nodeNetworks(interfaces: Interfaces): Cidr[] {
  const networks = entries(interfaces).flatMap((i): Cidr[] => {
    const prefix = i.cidr ? Number(i.cidr.slice(i.cidr.lastIndexOf('/') + 1)) : NaN;
    return Number.isInteger(prefix) ? [{ address: i.address, prefix, family: familyOf(i) }] : [];
  });
  return unique([...LOOPBACK, ...networks]);
}

/**
 * The default rate-limit exemption: loopback and the node's own addresses, not its networks.
 * Every process on the node asks from one of these, so limiting them would limit the node itself;
 * a neighbour on the same subnet is limited like anyone else.
 */
export function nodeAddresses(interfaces: Interfaces): Cidr[] {
  const own = entries(interfaces).map((i): Cidr => {
    const family = familyOf(i);
    return { address: i.address, prefix: family === 4 ? 32 : 128, family };
  });
  return unique([...LOOPBACK, ...own]);
}
