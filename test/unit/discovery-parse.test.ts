import { describe, expect, test } from '@jest/globals';
import {
  DiscoveryError,
  masterSequence,
  parseExhibitorStatus,
  parseMasterInfo,
  parseMasterListFile,
  parseZooKeeperConfig,
} from '../../agent/discovery/parse.js';

describe('master_list file', () => {
  test('a JSON array of IPs, duplicates removed, order kept', () => {
    expect(parseMasterListFile('["10.0.0.2", "10.0.0.1", "10.0.0.2"]')).toEqual({ masters: ['10.0.0.2', '10.0.0.1'] });
  });
  test.each([
    ['not JSON', '[10.0.0.1', /not valid JSON/],
    ['an object', '{"masters": []}', /not a JSON array/],
    ['empty', '[]', /is empty/],
    ['a hostname', '["master1.example.com"]', /\[0\] is "master1.example.com", not an IP address/],
    ['a number', '["10.0.0.1", 7]', /\[1\] is 7/],
  ])('%s is refused with the reason', (_, text, reason) => {
    expect(() => parseMasterListFile(text)).toThrow(DiscoveryError);
    expect(() => parseMasterListFile(text)).toThrow(reason);
  });
});

describe('Exhibitor cluster status', () => {
  const body = JSON.stringify([
    { code: 3, description: 'serving', hostname: '10.0.4.160', isLeader: false },
    { code: 3, description: 'serving', hostname: '10.0.4.161', isLeader: true },
    { code: 1, description: 'down', hostname: '10.0.4.162', isLeader: false },
  ]);
  test('hostnames are the masters and the ZooKeepers; the leader is marked', () => {
    expect(parseExhibitorStatus(body)).toEqual({
      masters: ['10.0.4.160', '10.0.4.161', '10.0.4.162'],
      leader: '10.0.4.161',
      zookeepers: ['10.0.4.160', '10.0.4.161', '10.0.4.162'],
    });
  });
  test.each([
    ['malformed JSON', '<html>', /not valid JSON/],
    ['not an array', '{"servers":[]}', /not a JSON array/],
    ['empty', '[]', /empty/],
    ['a non-IP hostname', '[{"hostname":"zk-1.internal"}]', /not an IP address/],
    ['entries without hostname', '[{"code":3}]', /not an IP address/],
  ])('%s is refused', (_, text, reason) => {
    expect(() => parseExhibitorStatus(text)).toThrow(reason);
  });
});

describe('MasterInfo znodes', () => {
  test('address.ip is the master', () => {
    expect(parseMasterInfo(JSON.stringify({ hostname: 'm1', address: { ip: '10.0.0.5', port: 5050, hostname: 'm1' } }))).toBe('10.0.0.5');
  });
  test('falls back to an IP hostname', () => {
    expect(parseMasterInfo(JSON.stringify({ hostname: '10.0.0.6', address: { hostname: 'm1' } }))).toBe('10.0.0.6');
  });
  test('garbage and missing addresses are refused', () => {
    expect(() => parseMasterInfo('\u0008binary')).toThrow(/not valid JSON/);
    expect(() => parseMasterInfo('{"hostname":"m1"}')).toThrow(/no IP address/);
    expect(() => parseMasterInfo('null')).toThrow(/no IP address/);
  });
  test('only json.info_ children count, by sequence', () => {
    expect(masterSequence('json.info_0000000012')).toBe(12);
    expect(masterSequence('info_0000000012')).toBeUndefined();
    expect(masterSequence('log_replicas')).toBeUndefined();
  });
});

describe('/zookeeper/config', () => {
  test('server lines in id order, observers and hostnames left out', () => {
    const text = [
      'server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181',
      'server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181',
      'server.2=10.0.0.2:2888:3888;2181',
      'server.4=10.0.0.4:2888:3888:observer;2181',
      'server.5=zk5.internal:2888:3888;2181',
      'version=100000000',
    ].join('\n');
    expect(parseZooKeeperConfig(text)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
  test('a standalone server has an empty config', () => {
    expect(parseZooKeeperConfig('')).toEqual([]);
  });
});
