// "ip[:port]" and "[v6]:port" endpoints: the only address form the config accepts.
import { describe, expect, test } from '@jest/globals';
import { formatEndpoint, isLoopback, isWildcard, parseEndpoint, sameEndpoint } from '../../common/config/endpoint.js';

describe('parseEndpoint', () => {
  test.each([
    ['10.0.0.2:5353', undefined, { host: '10.0.0.2', port: 5353, family: 4 }],
    ['10.0.0.2', 53, { host: '10.0.0.2', port: 53, family: 4 }],
    ['10.0.0.2:1', 53, { host: '10.0.0.2', port: 1, family: 4 }],
    ['10.0.0.2:65535', 53, { host: '10.0.0.2', port: 65535, family: 4 }],
    ['[::1]:53', undefined, { host: '::1', port: 53, family: 6 }],
    ['[::1]', 5353, { host: '::1', port: 5353, family: 6 }],
    ['::1', 53, { host: '::1', port: 53, family: 6 }],
    ['fd01:d::c633:6401', 53, { host: 'fd01:d::c633:6401', port: 53, family: 6 }],
    ['[FD00::ABCD]:8053', undefined, { host: 'fd00::abcd', port: 8053, family: 6 }],
    ['0.0.0.0:53', undefined, { host: '0.0.0.0', port: 53, family: 4 }],
    ['[::]:53', undefined, { host: '::', port: 53, family: 6 }],
  ])('%s (default port %p)', (text, dflt, expected) => {
    expect(parseEndpoint(text, dflt)).toEqual(expected);
  });

  test('a bare IPv6 literal never takes its last group as a port', () => {
    // "fd00::53" is an address, not fd00:: on port 53.
    expect(parseEndpoint('fd00::53', 5353)).toEqual({ host: 'fd00::53', port: 5353, family: 6 });
  });

  test.each([
    ['a hostname', 'dns.example.com:53'],
    ['a hostname without port', 'localhost'],
    ['port 0', '10.0.0.2:0'],
    ['port 65536', '10.0.0.2:65536'],
    ['a six-digit port', '10.0.0.2:000053'],
    ['an empty port', '10.0.0.2:'],
    ['a signed port', '10.0.0.2:+53'],
    ['a named port', '10.0.0.2:dns'],
    ['IPv4 in brackets', '[10.0.0.2]:53'],
    ['IPv6 bracket with empty port', '[::1]:'],
    ['an incomplete IPv4 address', '10.0.0:53'],
    ['an IPv4 octet over 255', '10.0.0.256'],
    ['an empty string', ''],
    ['two ports', '10.0.0.2:53:53'],
  ])('rejects %s', (_what, text) => {
    expect(parseEndpoint(text, 53)).toBeUndefined();
  });

  test('no port and no default port is not an endpoint', () => {
    expect(parseEndpoint('10.0.0.2')).toBeUndefined();
    expect(parseEndpoint('[::1]')).toBeUndefined();
  });

  test('a default port out of range is not accepted either', () => {
    expect(parseEndpoint('10.0.0.2', 0)).toBeUndefined();
    expect(parseEndpoint('10.0.0.2', 70000)).toBeUndefined();
  });
});

describe('formatEndpoint', () => {
  test('IPv4 as ip:port, IPv6 in brackets', () => {
    expect(formatEndpoint({ host: '10.0.0.2', port: 53, family: 4 })).toBe('10.0.0.2:53');
    expect(formatEndpoint({ host: 'fd00::2', port: 5353, family: 6 })).toBe('[fd00::2]:5353');
  });

  test.each(['10.0.0.2:53', '[fd00::2]:53', '[::]:61053'])('round-trips %s', (text) => {
    const e = parseEndpoint(text);
    expect(e).toBeDefined();
    expect(formatEndpoint(e!)).toBe(text);
  });
});

describe('sameEndpoint', () => {
  test('same host and port', () => {
    expect(sameEndpoint(parseEndpoint('10.0.0.2:53')!, parseEndpoint('10.0.0.2', 53)!)).toBe(true);
    expect(sameEndpoint(parseEndpoint('[FD00::2]:53')!, parseEndpoint('[fd00::2]:53')!)).toBe(true);
  });

  test('another port or host is another endpoint', () => {
    expect(sameEndpoint(parseEndpoint('10.0.0.2:53')!, parseEndpoint('10.0.0.2:5353')!)).toBe(false);
    expect(sameEndpoint(parseEndpoint('10.0.0.2:53')!, parseEndpoint('10.0.0.3:53')!)).toBe(false);
  });
});

describe('isWildcard and isLoopback', () => {
  test('wildcards', () => {
    expect(isWildcard(parseEndpoint('0.0.0.0:53')!)).toBe(true);
    expect(isWildcard(parseEndpoint('[::]:53')!)).toBe(true);
    expect(isWildcard(parseEndpoint('127.0.0.1:53')!)).toBe(false);
    expect(isWildcard(parseEndpoint('198.51.100.1:53')!)).toBe(false);
  });

  test('loopback: all of 127.0.0.0/8 and ::1', () => {
    expect(isLoopback(parseEndpoint('127.0.0.1:53')!)).toBe(true);
    expect(isLoopback(parseEndpoint('127.0.0.53:53')!)).toBe(true);
    expect(isLoopback(parseEndpoint('127.255.255.254:53')!)).toBe(true);
    expect(isLoopback(parseEndpoint('[::1]:53')!)).toBe(true);
    expect(isLoopback(parseEndpoint('10.0.0.2:53')!)).toBe(false);
    expect(isLoopback(parseEndpoint('128.0.0.1:53')!)).toBe(false);
    expect(isLoopback(parseEndpoint('[fd00::1]:53')!)).toBe(false);
  });
});
