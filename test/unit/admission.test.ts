// Who gets served: the network matcher (IPv4, IPv6, IPv4-mapped sources), the node's default
// networks and addresses, and the per-client token bucket with its bounded memory.
import { describe, expect, test } from '@jest/globals';
import { ClientAdmission, clientKey } from '../../agent/admission/client-admission.js';
import { NetworkSet } from '../../agent/admission/network-set.js';
import { type Interfaces, nodeAddresses, nodeNetworks } from '../../agent/admission/node-networks.js';
import { type Cidr, formatCidr, parseCidr } from '../../common/config/cidr.js';

const nets = (...list: string[]): NetworkSet => new NetworkSet(list.map((t) => parseCidr(t)!));

describe('parseCidr', () => {
  test('networks, bare addresses and what is not one', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 4 });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 6 });
    expect(parseCidr('192.0.2.1')).toEqual({ address: '192.0.2.1', prefix: 32, family: 4 });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 6 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ address: '0.0.0.0', prefix: 0, family: 4 });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', '10.0.0.0/', '10.0.0.0/8/8', 'host/8', '', '10.0.0.0/+8', '10.0.0.0/0x8']) {
      expect(parseCidr(bad)).toBeUndefined();
    }
    expect(formatCidr(parseCidr('192.0.2.1')!)).toBe('192.0.2.1/32');
  });
});

describe('NetworkSet', () => {
  test('IPv4 networks, host bits ignored', () => {
    const s = nets('10.0.0.0/8', '192.0.2.7', '172.16.5.9/12');
    expect(s.has('10.255.0.1')).toBe(true);
    expect(s.has('11.0.0.1')).toBe(false);
    expect(s.has('192.0.2.7')).toBe(true);
    expect(s.has('192.0.2.8')).toBe(false);
    expect(s.has('172.31.0.1')).toBe(true);
    expect(s.has('172.32.0.1')).toBe(false);
  });

  test('IPv6 networks, any spelling, with or without a zone index', () => {
    const s = nets('fd00:1::/32', '::1', 'fe80::/64');
    expect(s.has('fd00:1:ffff::5')).toBe(true);
    expect(s.has('fd00:0001:0:0:0:0:0:5')).toBe(true);
    expect(s.has('fd00:2::5')).toBe(false);
    expect(s.has('::1')).toBe(true);
    expect(s.has('::2')).toBe(false);
    expect(s.has('fe80::1%eth0')).toBe(true);
  });

  test('an IPv4-mapped IPv6 source (a dual-stack socket) matches the IPv4 rules', () => {
    const s = nets('10.0.0.0/8');
    expect(s.has('::ffff:10.0.0.1')).toBe(true);
    expect(s.has('::ffff:11.0.0.1')).toBe(false);
    expect(nets('127.0.0.0/8').has('::ffff:127.0.0.1')).toBe(true);
  });

  test('an IPv4 rule does not match a plain IPv6 address, nor the reverse', () => {
    expect(nets('0.0.0.0/0').has('fd00::1')).toBe(false);
    expect(nets('fd00::/8').has('10.0.0.1')).toBe(false);
  });

  test('an empty set matches nothing', () => {
    expect(nets().has('127.0.0.1')).toBe(false);
  });
});

describe('the node: default ACL and exempt list', () => {
  const interfaces: Interfaces = {
    lo: [
      { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
      {
        address: '::1',
        netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
        family: 'IPv6',
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '::1/128',
        scopeid: 0,
      },
    ],
    eth0: [
      { address: '10.0.4.17', netmask: '255.255.240.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.0.4.17/20' },
      {
        address: 'fd00::17',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '02:00:00:00:00:01',
        internal: false,
        cidr: 'fd00::17/64',
        scopeid: 0,
      },
    ],
    docker0: [
      { address: '172.17.0.1', netmask: '255.255.0.0', family: 'IPv4', mac: '02:00:00:00:00:02', internal: false, cidr: '172.17.0.1/16' },
    ],
    spartan: [
      {
        address: '198.51.100.1',
        netmask: '255.255.255.255',
        family: 'IPv4',
        mac: '02:00:00:00:00:03',
        internal: false,
        cidr: '198.51.100.1/32',
      },
    ],
  };
  const text = (list: Cidr[]) => list.map(formatCidr);

  test('the ACL: loopback plus every network an interface is on', () => {
    expect(text(nodeNetworks(interfaces))).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '127.0.0.1/8',
      '10.0.4.17/20',
      'fd00::17/64',
      '172.17.0.1/16',
      '198.51.100.1/32',
    ]);
    const acl = new NetworkSet(nodeNetworks(interfaces));
    expect(acl.has('172.17.3.4')).toBe(true); // a container on the bridge
    expect(acl.has('10.0.15.254')).toBe(true); // a neighbour on the subnet
    expect(acl.has('10.0.16.1')).toBe(false);
    expect(acl.has('fd00::99')).toBe(true);
    expect(acl.has('203.0.113.9')).toBe(false);
  });

  test("the exempt list: loopback plus the node's own addresses, not their networks", () => {
    const exempt = new NetworkSet(nodeAddresses(interfaces));
    expect(exempt.has('127.0.0.1')).toBe(true);
    expect(exempt.has('127.0.0.53')).toBe(true);
    expect(exempt.has('10.0.4.17')).toBe(true);
    expect(exempt.has('198.51.100.1')).toBe(true);
    expect(exempt.has('10.0.4.18')).toBe(false);
    expect(exempt.has('172.17.0.2')).toBe(false);
  });

  test('no interfaces known: loopback only', () => {
    expect(text(nodeNetworks({}))).toEqual(['127.0.0.0/8', '::1/128']);
    expect(text(nodeAddresses({}))).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

describe('ClientAdmission', () => {
  /** A clock the test moves by hand (ms). */
  function clock() {
    const c = { now: 0, read: () => c.now };
    return c;
  }

  test('outside the ACL: refused, whatever its rate', () => {
    const a = new ClientAdmission(nets('10.0.0.0/8'), nets(), { perClientQps: 0, burst: 1 });
    expect(a.admitQuery('10.1.2.3')).toBe('serve');
    expect(a.admitQuery('127.0.0.1')).toBe('acl');
    expect(a.admitQuery('::ffff:127.0.0.1')).toBe('acl');
    expect(a.admitQuery('::ffff:10.0.0.1')).toBe('serve');
  });

  test('a burst, then one query per 1/qps seconds', () => {
    const t = clock();
    const a = new ClientAdmission(nets('0.0.0.0/0'), nets(), { perClientQps: 10, burst: 3 }, 100, { monotonic: t.read });
    expect([1, 2, 3, 4].map(() => a.admitQuery('10.0.0.1'))).toEqual(['serve', 'serve', 'serve', 'rate']);
    t.now += 50; // half a token
    expect(a.admitQuery('10.0.0.1')).toBe('rate');
    t.now += 50;
    expect(a.admitQuery('10.0.0.1')).toBe('serve');
    expect(a.admitQuery('10.0.0.1')).toBe('rate');
    // Another client has its own bucket.
    expect(a.admitQuery('10.0.0.2')).toBe('serve');
    // A long pause refills to the burst, no more.
    t.now += 60_000;
    expect([1, 2, 3, 4].map(() => a.admitQuery('10.0.0.1'))).toEqual(['serve', 'serve', 'serve', 'rate']);
  });

  test('limited queries do not use up tokens: a client hammering past its rate still gets qps through', () => {
    const t = clock();
    const a = new ClientAdmission(nets('0.0.0.0/0'), nets(), { perClientQps: 100, burst: 1 }, 100, { monotonic: t.read });
    let served = 0;
    for (let ms = 0; ms < 1000; ms += 5) {
      t.now = ms;
      for (let i = 0; i < 10; i++) if (a.admitQuery('10.0.0.1') === 'serve') served++;
    }
    expect(served).toBe(100);
  });

  test('exempt addresses and perClientQps 0 are never limited', () => {
    const t = clock();
    const a = new ClientAdmission(nets('0.0.0.0/0', '::/0'), nets('127.0.0.0/8', '::1'), { perClientQps: 1, burst: 1 }, 100, {
      monotonic: t.read,
    });
    for (let i = 0; i < 1000; i++) {
      expect(a.admitQuery('127.0.0.1')).toBe('serve');
      expect(a.admitQuery('::1')).toBe('serve');
      expect(a.admitQuery('::ffff:127.0.0.9')).toBe('serve');
    }
    const off = new ClientAdmission(nets('0.0.0.0/0'), nets(), { perClientQps: 0, burst: 1 }, 100, { monotonic: t.read });
    for (let i = 0; i < 1000; i++) expect(off.admitQuery('10.0.0.1')).toBe('serve');
  });

  test('client TCP connections: the total cap for everyone, the per-client cap for all but the exempt addresses', () => {
    const a = new ClientAdmission(nets('0.0.0.0/0', '::/0'), nets('127.0.0.0/8', '::1'), { perClientQps: 1, burst: 1 }, 100, {
      monotonic: () => 0,
    });
    const caps = { maxConnections: 10, maxConnectionsPerClient: 2 };
    expect(a.admitConnection('10.0.0.1', { total: 3, fromClient: 1 }, caps)).toBe('accept');
    expect(a.admitConnection('10.0.0.1', { total: 3, fromClient: 2 }, caps)).toBe('per_client');
    expect(a.admitConnection('127.0.0.1', { total: 3, fromClient: 9 }, caps)).toBe('accept'); // the node itself
    expect(a.admitConnection('::ffff:127.0.0.1', { total: 3, fromClient: 9 }, caps)).toBe('accept');
    expect(a.admitConnection('127.0.0.1', { total: 10, fromClient: 0 }, caps)).toBe('max_connections');
    expect(a.admitConnection('10.0.0.1', { total: 10, fromClient: 0 }, caps)).toBe('max_connections');
  });

  test("at a cap, an idle connection makes room (RFC 7766 §6.2.3): the client's own past its cap, anyone's past the total", () => {
    const a = new ClientAdmission(nets('0.0.0.0/0'), nets('127.0.0.0/8'), { perClientQps: 1, burst: 1 }, 100, { monotonic: () => 0 });
    const caps = { maxConnections: 10, maxConnectionsPerClient: 2 };
    // Past the total: the longest idle of anyone, or refused when none is idle.
    expect(a.admitConnection('10.0.0.1', { total: 10, fromClient: 0, idle: 3, idleFromClient: 0 }, caps)).toBe('evict_idle');
    expect(a.admitConnection('10.0.0.1', { total: 10, fromClient: 0, idle: 0, idleFromClient: 0 }, caps)).toBe('max_connections');
    expect(a.admitConnection('127.0.0.1', { total: 10, fromClient: 9, idle: 1, idleFromClient: 0 }, caps)).toBe('evict_idle');
    // Past its own cap: only one of its own; never someone else's, which would let it grow.
    expect(a.admitConnection('10.0.0.1', { total: 5, fromClient: 2, idle: 3, idleFromClient: 1 }, caps)).toBe('evict_client_idle');
    expect(a.admitConnection('10.0.0.1', { total: 5, fromClient: 2, idle: 3, idleFromClient: 0 }, caps)).toBe('per_client');
    // At both caps, closing one of its own makes room under both.
    expect(a.admitConnection('10.0.0.1', { total: 10, fromClient: 2, idle: 1, idleFromClient: 1 }, caps)).toBe('evict_client_idle');
  });

  test('an IPv4 client seen through a dual-stack socket shares its bucket', () => {
    const a = new ClientAdmission(nets('0.0.0.0/0'), nets(), { perClientQps: 1, burst: 2 }, 100, { monotonic: () => 0 });
    expect(a.admitQuery('10.0.0.1')).toBe('serve');
    expect(a.admitQuery('::ffff:10.0.0.1')).toBe('serve');
    expect(a.admitQuery('10.0.0.1')).toBe('rate');
    expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('::ffff:a00:1')).toBe('::ffff:a00:1');
    expect(clientKey('fd00::1')).toBe('fd00::1');
  });

  test('memory is bounded: past maxClients the least recently seen client is forgotten', () => {
    const t = clock();
    // A slow refill (0.1 token a second), so no bucket refills during the test.
    const a = new ClientAdmission(nets('0.0.0.0/0'), nets(), { perClientQps: 0.1, burst: 1 }, 3, { monotonic: t.read });
    expect(a.admitQuery('10.0.0.1')).toBe('serve');
    expect(a.admitQuery('10.0.0.2')).toBe('serve');
    expect(a.admitQuery('10.0.0.3')).toBe('serve');
    t.now = 1000; // .1 is seen again after a while (still over its rate): it becomes the most recent
    expect(a.admitQuery('10.0.0.1')).toBe('rate');
    expect(a.admitQuery('10.0.0.4')).toBe('serve'); // evicts .2, the least recently seen
    expect(a.size).toBe(3);
    // .3 and .4 are still remembered (empty buckets); .2 comes back with a full one.
    expect(a.admitQuery('10.0.0.3')).toBe('rate');
    expect(a.admitQuery('10.0.0.2')).toBe('serve');
    expect(a.size).toBe(3);
    for (let i = 0; i < 1000; i++) a.admitQuery(`10.1.${i >> 8}.${i & 255}`);
    expect(a.size).toBe(3);
  });
});
