import { describe, expect, test } from '@jest/globals';
import { matchRoute } from '../../agent/http/api.js';
import { isValidQueryName } from '../../agent/http/lookup.js';
import { hostEntries, recordEntries, serviceEntries } from '../../agent/http/records.js';

describe('routing table', () => {
  test('known paths match with their parameter', () => {
    const m = matchRoute('GET', '/v1/hosts/nginx.marathon.mesos');
    expect('handler' in m && m.param).toBe('nginx.marathon.mesos');
    expect('handler' in matchRoute('HEAD', '/v1/metrics')).toBe(true);
  });

  test('unknown paths are 404, wrong methods on known paths 405', () => {
    expect(matchRoute('GET', '/v1/hosts/a/b')).toEqual({ status: 404, body: { error: 'no such endpoint: /v1/hosts/a/b', status: 404 } });
    const r = matchRoute('POST', '/v1/version');
    expect('status' in r && r.status).toBe(405);
    const unknownPost = matchRoute('POST', '/nope');
    expect('status' in unknownPost && unknownPost.status).toBe(404);
  });
});

describe('names in paths', () => {
  test.each(['nginx.marathon.mesos', '_nginx._tcp.marathon.mesos', 'ready.spartan.', 'a-b.c'])('%s is valid', (n) => {
    expect(isValidQueryName(n)).toBe(true);
  });
  test.each(['', '.', 'a..b', 'a b', 'ä.mesos', 'a'.repeat(64), `${'a.'.repeat(127)}ab`])('%j is not', (n) => {
    expect(isValidQueryName(n)).toBe(false);
  });
});

describe('record listings', () => {
  test('hosts keep A and AAAA only', () => {
    expect(
      hostEntries('x.mesos', [
        { name: 'x.mesos', type: 'A', data: '10.0.0.1' },
        { name: 'x.mesos', type: 'AAAA', data: 'fd00::1' },
        { name: 'x.mesos', type: 'TXT', data: 'hi' },
      ]),
    ).toEqual([
      { host: 'x.mesos', ip: '10.0.0.1' },
      { host: 'x.mesos', ip: 'fd00::1' },
    ]);
  });

  test('services join SRV targets with additional addresses, case-insensitively; missing ones get ""', () => {
    const srv = (target: string, port: number) => ({
      name: '_s._tcp.m',
      type: 'SRV' as const,
      data: { target, port, priority: 0, weight: 0 },
    });
    expect(serviceEntries('_s._tcp.m', [srv('A.m', 1), srv('b.m', 2)], [{ name: 'a.m', type: 'A', data: '10.0.0.9' }])).toEqual([
      { service: '_s._tcp.m', host: 'A.m', ip: '10.0.0.9', port: '1' },
      { service: '_s._tcp.m', host: 'b.m', ip: '', port: '2' },
    ]);
  });

  test('records: SRV as target:port, A as its address', () => {
    expect(
      recordEntries([
        { name: 'r.spartan', type: 'A', data: '127.0.0.1' },
        { name: '_x._tcp.spartan', type: 'SRV', data: { target: 't.spartan', port: 80 } },
      ]),
    ).toEqual([
      { name: 'r.spartan', host: '127.0.0.1', rtype: 'A' },
      { name: '_x._tcp.spartan', host: 't.spartan:80', rtype: 'SRV' },
    ]);
  });
});
