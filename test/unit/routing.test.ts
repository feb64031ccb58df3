// Where a name goes, first match wins: the Mesos domain, the local zones, the longest forward
// zone, else the upstreams. Names reach route() in canonical form (canonicalName).
import { describe, expect, test } from '@jest/globals';
import { type RoutingTable, route } from '../../agent/routing.js';
import { canonicalName, inZone, isValidZoneName } from '../../common/dns/names.js';

const table: RoutingTable = {
  mesosDomain: 'mesos',
  localZones: ['spartan', 'zk', 'localhost'],
  forwardZones: ['example.com', 'corp.example.com', 'dev.corp.example.com', 'in-addr.arpa'],
};

/** Routes a name as the resolver does: canonical form first. */
const r = (name: string, t: RoutingTable = table) => route(canonicalName(name), t);

describe('precedence', () => {
  test('the Mesos domain first', () => {
    expect(r('leader.mesos')).toEqual({ kind: 'mesos' });
    expect(r('_web._tcp.marathon.mesos')).toEqual({ kind: 'mesos' });
    expect(r('mesos')).toEqual({ kind: 'mesos' });
  });

  test('the Mesos domain beats a forward zone configured below it', () => {
    const t = { ...table, forwardZones: [...table.forwardZones, 'marathon.mesos', 'mesos'] };
    expect(r('web.marathon.mesos', t)).toEqual({ kind: 'mesos' });
    expect(r('leader.mesos', t)).toEqual({ kind: 'mesos' });
  });

  test('then the local zones: spartan, zk, localhost', () => {
    expect(r('ready.spartan')).toEqual({ kind: 'local', zone: 'spartan' });
    expect(r('spartan')).toEqual({ kind: 'local', zone: 'spartan' });
    expect(r('zk-1.zk')).toEqual({ kind: 'local', zone: 'zk' });
    expect(r('zk')).toEqual({ kind: 'local', zone: 'zk' });
    expect(r('localhost')).toEqual({ kind: 'local', zone: 'localhost' });
    expect(r('anything.localhost')).toEqual({ kind: 'local', zone: 'localhost' });
    // A missing name in a local zone is still answered locally (NXDOMAIN), not forwarded.
    expect(r('nope.spartan')).toEqual({ kind: 'local', zone: 'spartan' });
  });

  test('local zones beat a forward zone of the same name', () => {
    const t = { ...table, forwardZones: ['zk', 'spartan', 'localhost'] };
    expect(r('zk-1.zk', t)).toEqual({ kind: 'local', zone: 'zk' });
    expect(r('ready.spartan', t)).toEqual({ kind: 'local', zone: 'spartan' });
    expect(r('localhost', t)).toEqual({ kind: 'local', zone: 'localhost' });
  });

  test('the Mesos domain beats a local zone when they overlap', () => {
    const t = { ...table, mesosDomain: 'zk' };
    expect(r('zk-1.zk', t)).toEqual({ kind: 'mesos' });
  });

  test('then the longest matching forward zone', () => {
    expect(r('www.example.com')).toEqual({ kind: 'forward', zone: 'example.com' });
    expect(r('example.com')).toEqual({ kind: 'forward', zone: 'example.com' });
    expect(r('git.corp.example.com')).toEqual({ kind: 'forward', zone: 'corp.example.com' });
    expect(r('corp.example.com')).toEqual({ kind: 'forward', zone: 'corp.example.com' });
    expect(r('a.b.dev.corp.example.com')).toEqual({ kind: 'forward', zone: 'dev.corp.example.com' });
    expect(r('4.3.2.10.in-addr.arpa')).toEqual({ kind: 'forward', zone: 'in-addr.arpa' });
  });

  test('the longest forward zone wins whatever the order it was configured in', () => {
    const reversed = { ...table, forwardZones: [...table.forwardZones].reverse() };
    expect(r('git.corp.example.com', reversed)).toEqual({ kind: 'forward', zone: 'corp.example.com' });
    expect(r('a.dev.corp.example.com', reversed)).toEqual({ kind: 'forward', zone: 'dev.corp.example.com' });
    expect(r('www.example.com', reversed)).toEqual({ kind: 'forward', zone: 'example.com' });
  });

  test('else the upstreams', () => {
    expect(r('www.example.org')).toEqual({ kind: 'upstream' });
    expect(r('com')).toEqual({ kind: 'upstream' });
    expect(r('.')).toEqual({ kind: 'upstream' });
    expect(r('ip6.arpa')).toEqual({ kind: 'upstream' });
  });

  test('with no forward zones, everything outside mesos and the local zones goes upstream', () => {
    const t = { ...table, forwardZones: [] };
    expect(r('www.example.com', t)).toEqual({ kind: 'upstream' });
    expect(r('leader.mesos', t)).toEqual({ kind: 'mesos' });
  });

  test('a multi-label Mesos domain', () => {
    const t = { ...table, mesosDomain: 'dcos.thisdcos.directory' };
    expect(r('web.marathon.dcos.thisdcos.directory', t)).toEqual({ kind: 'mesos' });
    expect(r('leader.mesos', t)).toEqual({ kind: 'upstream' });
    expect(r('thisdcos.directory', t)).toEqual({ kind: 'upstream' });
  });
});

describe('a name that merely ends with the zone text is not in it', () => {
  test.each([
    ['notmesos', { kind: 'upstream' }],
    ['leader.notmesos', { kind: 'upstream' }],
    ['xspartan', { kind: 'upstream' }],
    ['ready.myzk', { kind: 'upstream' }],
    ['notlocalhost', { kind: 'upstream' }],
    ['myexample.com', { kind: 'upstream' }],
    ['www.mycorp.example.com', { kind: 'forward', zone: 'example.com' }],
    ['mesos.example.com', { kind: 'forward', zone: 'example.com' }],
    ['zk.example.com', { kind: 'forward', zone: 'example.com' }],
  ])('%s', (name, expected) => {
    expect(r(name)).toEqual(expected);
  });
});

describe('case and trailing dot', () => {
  test.each([
    ['Leader.MESOS.', { kind: 'mesos' }],
    ['READY.Spartan', { kind: 'local', zone: 'spartan' }],
    ['ZK-1.ZK.', { kind: 'local', zone: 'zk' }],
    ['LocalHost.', { kind: 'local', zone: 'localhost' }],
    ['Git.CORP.Example.Com.', { kind: 'forward', zone: 'corp.example.com' }],
    ['WWW.EXAMPLE.ORG.', { kind: 'upstream' }],
  ])('%s', (name, expected) => {
    expect(r(name)).toEqual(expected);
  });

  test('canonicalName lower-cases and drops trailing dots only', () => {
    expect(canonicalName('Leader.MESOS.')).toBe('leader.mesos');
    expect(canonicalName('a.b..')).toBe('a.b');
    expect(canonicalName('.')).toBe('');
    expect(canonicalName('')).toBe('');
    expect(canonicalName('MiXeD-Case_1.Example')).toBe('mixed-case_1.example');
  });
});

describe('inZone and isValidZoneName', () => {
  test('inZone: the zone itself and names below it, on label boundaries', () => {
    expect(inZone('mesos', 'mesos')).toBe(true);
    expect(inZone('a.mesos', 'mesos')).toBe(true);
    expect(inZone('notmesos', 'mesos')).toBe(false);
    expect(inZone('mesos.com', 'mesos')).toBe(false);
    expect(inZone('anything', '')).toBe(true); // the root holds every name
  });

  test('isValidZoneName', () => {
    expect(isValidZoneName('corp.example.com')).toBe(true);
    expect(isValidZoneName('Corp.Example.COM.')).toBe(true);
    expect(isValidZoneName('_tcp.example')).toBe(true);
    expect(isValidZoneName('bad zone')).toBe(false);
    expect(isValidZoneName('-lead.example')).toBe(false);
    expect(isValidZoneName('a..b')).toBe(false);
    expect(isValidZoneName(`${'a'.repeat(63)}.example`)).toBe(true);
    expect(isValidZoneName(`${'a'.repeat(64)}.example`)).toBe(false);
    expect(isValidZoneName(Array.from({ length: 64 }, () => 'abc').join('.'))).toBe(false); // 255 chars
  });
});
