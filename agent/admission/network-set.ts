// A set of networks that client addresses are matched against (the ACL, the rate limit's exempt
// list), on Node's own net.BlockList.
import { BlockList } from 'node:net';
import type { Cidr } from '../../common/config/cidr.js';

export class NetworkSet {
  private readonly list = new BlockList();

  constructor(readonly networks: readonly Cidr[]) {
    for (const n of networks) this.list.addSubnet(n.address, n.prefix, n.family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Whether `address` (as a socket reports it) is in one of the networks. Checked as IPv6 when it
   * has a colon: BlockList then matches an IPv4-mapped source (::ffff:10.0.0.1, what a dual-stack
   * socket reports for an IPv4 client) against IPv4 rules too.
   */
  has(address: string): boolean {
    return this.list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }
}
