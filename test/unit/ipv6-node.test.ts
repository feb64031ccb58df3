// IPv6 on a node, without sockets: the default listen address fd01:d::c633:6401 and when the agent
// leaves it out (a node without IPv6), which three of the agent's four addresses resolv.conf
// lists, and masters and ZooKeepers on IPv6 from every discovery source. The same end to end, in
// a network namespace: test/integration/netns-e2e.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { type Ipv6Support, listenToSkip, parseIfInet6, readIpv6Support } from '../../agent/listeners/default-ipv6.js';
import { parseExhibitorStatus, parseMasterInfo, parseMasterListFile, parseZooKeeperConfig } from '../../agent/discovery/parse.js';
import { createZooKeeperClient } from '../../agent/discovery/zookeeper.js';
import { formatEndpoint, parseEndpoint } from '../../common/config/endpoint.js';
import { parseZooKeeperUrl } from '../../common/config/master-source.js';
import { DEFAULT_IPV6_LISTEN, parseConfig } from '../../common/config/schema.js';
import type { KernelSocket } from '../../common/kernel-sockets.js';
import type { ReadyCheckResult } from '../../common/ready-check.js';
import { chooseNameservers, limitToMaxns, resolvConfCandidates } from '../../genresolv/nameservers.js';
import { renderResolvConf } from '../../genresolv/render.js';

const ep = (s: string) => parseEndpoint(s, 53)!;
const answered = (a: string): ReadyCheckResult => ({ endpoint: ep(a), ok: true, rttMs: 1 });
const silent = (a: string): ReadyCheckResult => ({ endpoint: ep(a), ok: false, reason: 'cannot ask: connect ENETUNREACH' });
const V6 = 'fd01:d::c633:6401';
const DEFAULTS = parseConfig({});

describe('the default listen addresses', () => {
  test('are 198.51.100.1-3 and [fd01:d::c633:6401], all on port 53', () => {
    expect(DEFAULTS.listen.map(formatEndpoint)).toEqual([
      '198.51.100.1:53',
      '198.51.100.2:53',
      '198.51.100.3:53',
      '[fd01:d::c633:6401]:53',
    ]);
    expect(DEFAULT_IPV6_LISTEN).toBe('[fd01:d::c633:6401]:53');
  });

  test('the watchdog asks all four, the IPv6 one too', () => {
    expect(DEFAULTS.watchdog.addresses.map(formatEndpoint)).toContain('[fd01:d::c633:6401]:53');
    expect(DEFAULTS.watchdog.addresses).toEqual(DEFAULTS.listen);
  });

  test('genresolv may list all four: each is on port 53', () => {
    expect(resolvConfCandidates(DEFAULTS.listen, 'listen')).toEqual({ usable: DEFAULTS.listen, skipped: [] });
    expect(resolvConfCandidates([ep('[fd01:d::1]:5353')], 'listen').skipped).toEqual([
      '[fd01:d::1]:5353 ("listen") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
    ]);
  });
});

describe('the default IPv6 address on a node without IPv6', () => {
  const withAddress: Ipv6Support = { kernel: true, disabled: false, addresses: ['::1', V6] };
  const disabled: Ipv6Support = { kernel: true, disabled: true, addresses: [] };
  const noKernel: Ipv6Support = { kernel: false, disabled: true, addresses: [] };
  const skipped = (listen: string[], ipv6: Ipv6Support, inherited: KernelSocket[] = []) =>
    listenToSkip(listen.map(ep), inherited, ipv6).map((s) => [formatEndpoint(s.endpoint), s.reason]);

  test('is served where an interface has it', () => {
    expect(skipped(DEFAULTS.listen.map(formatEndpoint), withAddress)).toEqual([]);
  });

  test('is left out, with the reason, where IPv6 is disabled or missing from the kernel', () => {
    const listen = DEFAULTS.listen.map(formatEndpoint);
    expect(skipped(listen, disabled)).toEqual([
      ['[fd01:d::c633:6401]:53', 'IPv6 is disabled on this node (net.ipv6.conf.all.disable_ipv6 = 1)'],
    ]);
    expect(skipped(listen, noKernel)).toEqual([
      ['[fd01:d::c633:6401]:53', 'this kernel has no IPv6 (/proc/net/if_inet6 is missing: booted with ipv6.disable=1?)'],
    ]);
    expect(skipped(listen, { kernel: true, disabled: false, addresses: ['::1'] })[0][1]).toMatch(
      /no interface has the address: spartan-interface.sh adds it unless IPv6 is disabled on the interface/,
    );
  });

  test('is served from the socket systemd passed for it, whatever the node says', () => {
    const passed: KernelSocket[] = [{ transport: 'udp', endpoint: ep(DEFAULT_IPV6_LISTEN) }];
    expect(skipped(DEFAULTS.listen.map(formatEndpoint), disabled, passed)).toEqual([]);
  });

  test('any other address, IPv6 too, stays: binding it fails and the agent does not start', () => {
    expect(skipped(['198.51.100.1:53', '[fd01:d::c633:6402]:53', '[fd01:d::c633:6401]:5353'], disabled)).toEqual([]);
  });

  test('is never all the agent has: alone in "listen" it must bind or the agent fails', () => {
    expect(skipped([DEFAULT_IPV6_LISTEN], disabled)).toEqual([]);
  });

  test('/proc/net/if_inet6 as the kernel prints it', () => {
    const table = [
      '00000000000000000000000000000001 01 80 10 80       lo',
      'fe8000000000000008b644fffe201885 02 40 20 c0  spartan',
      'fd01000d0000000000000000c6336401 02 80 00 82  spartan',
      '',
    ].join('\n');
    expect(parseIfInet6(table)).toEqual(['::1', 'fe80::8b6:44ff:fe20:1885', V6]);
    expect(parseIfInet6('garbage\n')).toEqual([]);
  });

  describe('read from /proc', () => {
    const proc = mkdtempSync(join(tmpdir(), 'phalanx-proc-'));
    afterAll(() => rmSync(proc, { recursive: true, force: true }));

    test('no if_inet6: no IPv6 in the kernel', () => {
      expect(readIpv6Support(proc)).toEqual({ kernel: false, disabled: true, addresses: [] });
    });

    test('disable_ipv6 and the addresses', () => {
      mkdirSync(join(proc, 'net'));
      mkdirSync(join(proc, 'sys/net/ipv6/conf/all'), { recursive: true });
      writeFileSync(join(proc, 'net/if_inet6'), 'fd01000d0000000000000000c6336401 02 80 00 82  spartan\n');
      writeFileSync(join(proc, 'sys/net/ipv6/conf/all/disable_ipv6'), '0\n');
      expect(readIpv6Support(proc)).toEqual({ kernel: true, disabled: false, addresses: [V6] });
      writeFileSync(join(proc, 'net/if_inet6'), '');
      writeFileSync(join(proc, 'sys/net/ipv6/conf/all/disable_ipv6'), '1\n');
      expect(readIpv6Support(proc)).toEqual({ kernel: true, disabled: true, addresses: [] });
    });
  });
});

describe('resolv.conf with the agent on four addresses (glibc reads three)', () => {
  const all = DEFAULTS.listen.map((e) => answered(formatEndpoint(e)));

  test('two IPv4 and the IPv6 one, in listen order; the third IPv4 left out, as information', () => {
    const c = chooseNameservers(all, []);
    expect(c).toEqual({
      source: 'agent',
      nameservers: ['198.51.100.1', '198.51.100.2', V6],
      notes: [],
      leftOut: 'only 3 answering agent addresses are listed (glibc reads at most 3), one of each address family: 198.51.100.3 left out',
    });
  });

  test('the IPv6 address does not answer (a node without IPv6): the three IPv4 ones', () => {
    const c = chooseNameservers([...all.slice(0, 3), silent(DEFAULT_IPV6_LISTEN)], []);
    expect(c).toEqual({ source: 'agent', nameservers: ['198.51.100.1', '198.51.100.2', '198.51.100.3'], notes: [] });
  });

  test('only the IPv6 address answers: it alone', () => {
    const c = chooseNameservers([...all.slice(0, 3).map((r) => silent(formatEndpoint(r.endpoint))), all[3]], []);
    expect(c).toEqual({ source: 'agent', nameservers: [V6], notes: [] });
  });

  test('the first of each family is kept wherever it stands, the rest fill in order', () => {
    expect(limitToMaxns(['fd00::1', 'fd00::2', 'fd00::3', '10.0.0.1'])).toEqual({
      listed: ['fd00::1', 'fd00::2', '10.0.0.1'],
      leftOut: ['fd00::3'],
    });
    expect(limitToMaxns(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])).toEqual({
      listed: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
      leftOut: ['10.0.0.4'],
    });
    expect(limitToMaxns(['10.0.0.1', '10.0.0.1', 'fd00::1'])).toEqual({ listed: ['10.0.0.1', 'fd00::1'], leftOut: [] });
  });

  test('IPv6-only upstreams stand in for the agent, as plain addresses', () => {
    const c = chooseNameservers(
      all.map((r) => silent(formatEndpoint(r.endpoint))),
      ['[fd53::21]:53', '[fd53::22]:5353', 'fd53::23'].map(ep),
    );
    expect(c.nameservers).toEqual(['fd53::21', 'fd53::23']);
    expect(c.notes).toEqual([
      '[fd53::22]:5353 ("upstreams") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
    ]);
  });

  test('an IPv6 nameserver line has the bare address: no brackets, no port', () => {
    const text = renderResolvConf({ nameservers: ['198.51.100.1', '198.51.100.2', V6], source: 'agent', search: [], options: [] });
    expect(text).toContain('\nnameserver 198.51.100.1\nnameserver 198.51.100.2\nnameserver fd01:d::c633:6401\n');
  });
});

describe('masters and ZooKeepers on IPv6', () => {
  test('a master_list file: IPv6 addresses in one spelling each', () => {
    expect(parseMasterListFile('["fd00:0:0::a", "10.0.0.1", "FD00::A", "fd00::b"]')).toEqual({
      masters: ['fd00::a', '10.0.0.1', 'fd00::b'],
    });
  });

  test('Exhibitor: IPv6 hostnames, the leader among them', () => {
    const body = JSON.stringify([
      { code: 3, description: 'serving', hostname: 'fd00::a', isLeader: false },
      { code: 3, description: 'serving', hostname: 'FD00:0::B', isLeader: true },
    ]);
    expect(parseExhibitorStatus(body)).toEqual({ masters: ['fd00::a', 'fd00::b'], leader: 'fd00::b', zookeepers: ['fd00::a', 'fd00::b'] });
  });

  test("ZooKeeper's MasterInfo: an IPv6 address.ip", () => {
    const info = { id: 'x', pid: 'master@[fd00::a]:5050', port: 5050, address: { ip: 'FD00:0::A', port: 5050, hostname: 'm1' } };
    expect(parseMasterInfo(JSON.stringify(info))).toBe('fd00::a');
  });

  test("ZooKeeper's /zookeeper/config: bracketed IPv6 servers, observers left out", () => {
    const config = [
      'server.2=[fd00::b]:2888:3888:participant;[::]:2181',
      'server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181',
      'server.3=[fd00::c]:2888:3888:observer;[fd00::c]:2181',
      'server.4=[FD00:0::D]:2888:3888;[fd00::d]:2181',
      'version=0',
    ].join('\n');
    expect(parseZooKeeperConfig(config)).toEqual(['10.0.0.1', 'fd00::b', 'fd00::d']);
  });

  test('the ZooKeeper URL takes IPv6 hosts, and the client connects to them as written', () => {
    const url = parseZooKeeperUrl('zk://[fd00::a]:2181,10.0.0.2,[fd00::c]:2182/mesos')!;
    expect(url.hosts.map(formatEndpoint)).toEqual(['[fd00::a]:2181', '10.0.0.2:2181', '[fd00::c]:2182']);
    const client = createZooKeeperClient(url.hosts, { sessionTimeout: 1000, retries: 0 });
    // Never connected: the server list is what node-zookeeper-client would hand to net.connect.
    const servers = (client as unknown as { connectionManager: { servers: Array<{ host: string; port: string | number }> } })
      .connectionManager.servers;
    expect(servers.map((s) => `${s.host} ${s.port}`).sort()).toEqual(['10.0.0.2 2181', 'fd00::a 2181', 'fd00::c 2182']);
  });
});
