// The config schema: defaults, endpoint forms, self-loop rejection, and error messages that name
// the key, the bad value and what is valid. Also loadConfig on real temporary files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ConfigError, DEFAULT_LISTEN, LOG_LEVELS, describeConfig, parseConfig } from '../../common/config/schema.js';
import { ConfigLoadError, loadConfig } from '../../common/config/load.js';
import { formatEndpoint } from '../../common/config/endpoint.js';

/** Runs parseConfig, expecting a ConfigError; returns it. */
function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`parseConfig(${JSON.stringify(raw)}) did not throw`);
}

/** The error names the key, shows the bad value as JSON, and says what is valid. */
function expectGoodMessage(err: ConfigError, key: string, badValue: unknown, validHint: RegExp | string): void {
  expect(err.key).toBe(key);
  expect(err.message).toContain(`"${key}"`);
  if (badValue !== undefined) expect(err.message).toContain(JSON.stringify(badValue));
  else expect(err.message).toContain('missing');
  if (typeof validHint === 'string') expect(err.message).toContain(validHint);
  else expect(err.message).toMatch(validHint);
  expect(err.message).toMatch(/expected /);
}

describe('defaults', () => {
  const c = parseConfig({});

  test('listens on 198.51.100.1, .2, .3 and fd01:d::c633:6401, port 53', () => {
    expect(DEFAULT_LISTEN).toEqual(['198.51.100.1:53', '198.51.100.2:53', '198.51.100.3:53', '[fd01:d::c633:6401]:53']);
    expect(c.listen).toEqual([
      { host: '198.51.100.1', port: 53, family: 4 },
      { host: '198.51.100.2', port: 53, family: 4 },
      { host: '198.51.100.3', port: 53, family: 4 },
      { host: 'fd01:d::c633:6401', port: 53, family: 6 },
    ]);
  });

  test('no upstreams, no forward zones', () => {
    expect(c.upstreams).toEqual([]);
    expect(c.forwardZones.size).toBe(0);
  });

  test('mesos: domain "mesos", port 61053, no masters', () => {
    expect(c.mesos).toEqual({
      domain: 'mesos',
      port: 61053,
      masters: [],
      source: { kind: 'static' },
      refreshMs: 120_000,
      retryMs: 5000,
      requestTimeoutMs: 10_000,
      zkSessionTimeoutMs: 10_000,
    });
  });

  test('zk servers unset (means: the masters)', () => {
    expect(c.zk.servers).toBeUndefined();
  });

  test('fanout 2, like dcos-dns', () => {
    expect(c.fanout).toBe(2);
  });

  test('timeouts, limits, health and log level', () => {
    expect(c.timeoutMs).toBe(2000);
    expect(c.maxInflight).toBe(1024);
    expect(c.tcp).toEqual({ maxConnections: 256, idleTimeoutMs: 10_000, maxConnectionsPerClient: 32, queryTimeoutMs: 5000 });
    expect(c.health).toEqual({ halfLifeMs: 30_000, downAfterFailures: 3, probeIntervalMs: 2000 });
    expect(c.log).toEqual({ level: 'info' });
  });

  test('the HTTP API, watchdog and genresolv sections have their defaults', () => {
    expect(c.http).toEqual({ enabled: true, listen: { host: '127.0.0.1', port: 62080, family: 4 } });
    expect(c.watchdog.enabled).toBe(true);
    expect(c.watchdog.addresses).toEqual(c.listen);
    expect(c.watchdog.timeoutMs).toBe(5000);
    expect(c.watchdog.retryDelayMs).toBe(60_000);
    expect(c.watchdog.restartCommand).toEqual(['systemctl', 'kill', '--signal', 'SIGKILL', '--kill-who', 'main', 'phalanx-dns.service']);
    expect(c.genresolv).toEqual({ path: '/etc/resolv.conf', search: [], options: ['timeout:1', 'attempts:3'], timeoutMs: 5000 });
  });

  test('those sections refuse unknown keys and bad values by name', () => {
    expect(configError({ watchdog: { kill: false } }).key).toBe('watchdog.kill');
    expect(configError({ watchdog: { restartCommand: [] } }).key).toBe('watchdog.restartCommand');
    expect(configError({ http: { listen: 'localhost:80' } }).key).toBe('http.listen');
    expect(configError({ genresolv: { path: 'resolv.conf' } }).key).toBe('genresolv.path');
    expect(configError({ genresolv: { search: ['bad name!'] } }).key).toBe('genresolv.search[0]');
  });

  test('an explicitly empty section gets the same defaults', () => {
    const e = parseConfig({ mesos: {}, tcp: {}, health: {}, log: {} });
    expect(e.mesos).toEqual(c.mesos);
    expect(e.tcp).toEqual(c.tcp);
    expect(e.health).toEqual(c.health);
    expect(e.log).toEqual(c.log);
  });

  test('describeConfig writes the config back in its JSON shape', () => {
    const d = describeConfig(
      parseConfig({ upstreams: ['10.0.0.2'], forwardZones: { 'Corp.Example': ['[fd00::5]'] }, mesos: { masters: ['10.0.0.1'] } }),
    );
    expect(d.listen).toEqual(DEFAULT_LISTEN);
    expect(d.upstreams).toEqual(['10.0.0.2:53']);
    expect(d.forwardZones).toEqual({ 'corp.example': ['[fd00::5]:53'] });
    expect(d.mesos).toEqual({
      domain: 'mesos',
      port: 61053,
      source: { kind: 'static', masters: ['10.0.0.1:61053'] },
      refreshMs: 120_000,
      retryMs: 5000,
      requestTimeoutMs: 10_000,
      zkSessionTimeoutMs: 10_000,
    });
    expect(d.zk).toEqual({ servers: null });
  });
});

describe('endpoints and port defaults', () => {
  test('IPv6 "[::1]:53" and bracketed/bare IPv6 without a port', () => {
    const c = parseConfig({ listen: ['[::1]:53', '[fd01:d::c633:6401]', 'fd01:d::c633:6402'] });
    expect(c.listen).toEqual([
      { host: '::1', port: 53, family: 6 },
      { host: 'fd01:d::c633:6401', port: 53, family: 6 },
      { host: 'fd01:d::c633:6402', port: 53, family: 6 },
    ]);
  });

  test('listen, upstreams and forward zones default to port 53', () => {
    const c = parseConfig({ listen: ['127.0.0.1'], upstreams: ['10.0.0.2', '10.0.0.3:5353'], forwardZones: { corp: ['10.0.0.9'] } });
    expect(c.listen.map(formatEndpoint)).toEqual(['127.0.0.1:53']);
    expect(c.upstreams.map(formatEndpoint)).toEqual(['10.0.0.2:53', '10.0.0.3:5353']);
    expect(c.forwardZones.get('corp')?.map(formatEndpoint)).toEqual(['10.0.0.9:53']);
  });

  test('mesos masters default to the mesos port (61053, or the configured one)', () => {
    expect(parseConfig({ mesos: { masters: ['10.0.0.1', '10.0.0.2:8053'] } }).mesos.masters.map(formatEndpoint)).toEqual([
      '10.0.0.1:61053',
      '10.0.0.2:8053',
    ]);
    expect(parseConfig({ mesos: { port: 5300, masters: ['10.0.0.1'] } }).mesos.masters.map(formatEndpoint)).toEqual(['10.0.0.1:5300']);
  });

  test('zk servers keep only the host (port 2181 implied or given)', () => {
    expect(parseConfig({ zk: { servers: ['10.0.0.1:2181', '10.0.0.2', '[fd00::3]:2181'] } }).zk.servers).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      'fd00::3',
    ]);
    expect(parseConfig({ zk: { servers: [] } }).zk.servers).toEqual([]);
  });

  test('surrounding spaces are ignored and duplicates are dropped', () => {
    const c = parseConfig({ upstreams: [' 10.0.0.2 ', '10.0.0.2:53', '10.0.0.3'] });
    expect(c.upstreams.map(formatEndpoint)).toEqual(['10.0.0.2:53', '10.0.0.3:53']);
  });

  test.each([
    ['a hostname', 'dns.example.com'],
    ['port 0', '10.0.0.2:0'],
    ['port 65536', '10.0.0.2:65536'],
    ['an empty port', '10.0.0.2:'],
    ['an IPv4 address in brackets', '[10.0.0.2]:53'],
    ['a non-string', 53],
  ])('upstream as %s is rejected naming the element', (_what, bad) => {
    const err = configError({ upstreams: ['10.0.0.1', bad] });
    expectGoodMessage(err, 'upstreams[1]', bad, /IP address with an optional port/);
  });

  test('upstreams that is not a list is rejected', () => {
    const err = configError({ upstreams: '10.0.0.2' });
    expectGoodMessage(err, 'upstreams', '10.0.0.2', /a list of/);
  });

  test('an empty listen list is rejected', () => {
    const err = configError({ listen: [] });
    expectGoodMessage(err, 'listen', [], /at least one address/);
  });
});

describe('the agent never forwards to itself', () => {
  test('an upstream equal to a default listen address is rejected', () => {
    const err = configError({ upstreams: ['10.0.0.2', '198.51.100.2'] });
    expectGoodMessage(err, 'upstreams[1]', '198.51.100.2:53', /other than the agent itself/);
    expect(err.message).toContain('loop');
  });

  test('an upstream equal to a configured listen address is rejected, a different port is fine', () => {
    expect(configError({ listen: ['127.0.0.1:53'], upstreams: ['127.0.0.1:53'] }).key).toBe('upstreams[0]');
    expect(parseConfig({ listen: ['127.0.0.1:53'], upstreams: ['127.0.0.1:5353'] }).upstreams.map(formatEndpoint)).toEqual([
      '127.0.0.1:5353',
    ]);
  });

  test('IPv6: an upstream equal to an IPv6 listen address is rejected', () => {
    expect(configError({ listen: ['[::1]:53'], upstreams: ['[::1]:53'] }).key).toBe('upstreams[0]');
  });

  test('IPv6: the same address written another way is still the agent itself', () => {
    // 0:0:0:0:0:0:0:1 is ::1 (RFC 4291 §2.2); a query to it lands on the [::1]:53 socket.
    const err = configError({ listen: ['[::1]:53'], upstreams: ['[0:0:0:0:0:0:0:1]:53'] });
    expect(err.key).toBe('upstreams[0]');
  });

  test('a loopback upstream on the port of a 0.0.0.0 listen is rejected', () => {
    const err = configError({ listen: ['0.0.0.0:53'], upstreams: ['127.0.0.53'] });
    expectGoodMessage(err, 'upstreams[0]', '127.0.0.53:53', /other than the agent itself/);
  });

  test('a loopback upstream on another port than the 0.0.0.0 listen is accepted', () => {
    const c = parseConfig({ listen: ['0.0.0.0:53'], upstreams: ['127.0.0.1:5353'] });
    expect(c.upstreams.map(formatEndpoint)).toEqual(['127.0.0.1:5353']);
  });

  test('an IPv6 loopback upstream on the port of a [::] listen is rejected', () => {
    expect(configError({ listen: ['[::]:53'], upstreams: ['[::1]:53'] }).key).toBe('upstreams[0]');
  });

  test('an IPv4 loopback upstream on the port of a dual-stack [::] listen is rejected', () => {
    // Node binds "::" dual-stack (ipv6Only is false by default), so 127.0.0.1:53 reaches it.
    expect(configError({ listen: ['[::]:53'], upstreams: ['127.0.0.1:53'] }).key).toBe('upstreams[0]');
  });

  test('a forward-zone server equal to a listen address is rejected', () => {
    const err = configError({ forwardZones: { corp: ['10.0.0.9', '198.51.100.3'] } });
    expectGoodMessage(err, 'forwardZones.corp[1]', '198.51.100.3:53', /other than the agent itself/);
  });
});

describe('unknown keys', () => {
  test('an unknown top-level key is rejected naming the key', () => {
    const err = configError({ upstream: ['10.0.0.2'] });
    expectGoodMessage(err, 'upstream', ['10.0.0.2'], /unknown key/);
    expect(err.message).toContain('upstreams'); // the valid spelling is listed
  });

  test.each([
    ['mesos', { mesos: { domian: 'mesos' } }, 'mesos.domian', 'domain, port, masters'],
    ['zk', { zk: { hosts: ['10.0.0.1'] } }, 'zk.hosts', 'servers'],
    ['tcp', { tcp: { maxConn: 5 } }, 'tcp.maxConn', 'maxConnections, idleTimeoutMs'],
    ['health', { health: { halfLife: 5 } }, 'health.halfLife', 'halfLifeMs'],
    ['log', { log: { lvl: 'info' } }, 'log.lvl', 'level'],
  ])('an unknown key in %s is rejected naming the full key', (_s, raw, key, valid) => {
    const err = configError(raw);
    expect(err.key).toBe(key);
    expect(err.message).toContain(`"${key}"`);
    expect(err.message).toContain(valid);
    expect(err.message).toContain('unknown key');
  });

  test('a section that is not an object is rejected', () => {
    const err = configError({ mesos: 'mesos' });
    expectGoodMessage(err, 'mesos', 'mesos', /an object with keys domain, port, masters/);
  });

  test('a top level that is not an object is rejected', () => {
    expect(configError([]).key).toBe('(top level)');
    expect(configError(null).message).toContain('a JSON object');
  });
});

describe('error messages name the key, the bad value and what is valid', () => {
  test.each([
    ['timeoutMs', { timeoutMs: 10 }, 'timeoutMs', 10, 'an integer from 50 to 30000'],
    ['timeoutMs non-integer', { timeoutMs: 100.5 }, 'timeoutMs', 100.5, 'an integer from 50 to 30000'],
    ['maxInflight', { maxInflight: 0 }, 'maxInflight', 0, 'an integer from 1 to 1000000'],
    ['mesos.port', { mesos: { port: 70000 } }, 'mesos.port', 70000, 'an integer from 1 to 65535'],
    ['mesos.port as string', { mesos: { port: '61053' } }, 'mesos.port', '61053', 'an integer from 1 to 65535'],
    ['tcp.maxConnections', { tcp: { maxConnections: -1 } }, 'tcp.maxConnections', -1, 'an integer from 1 to 100000'],
    ['tcp.idleTimeoutMs', { tcp: { idleTimeoutMs: 1 } }, 'tcp.idleTimeoutMs', 1, 'an integer from 100 to 600000'],
    ['health.halfLifeMs', { health: { halfLifeMs: 5 } }, 'health.halfLifeMs', 5, 'an integer from 100 to 3600000'],
    ['health.downAfterFailures', { health: { downAfterFailures: 0 } }, 'health.downAfterFailures', 0, 'an integer from 1 to 100'],
    ['health.probeIntervalMs', { health: { probeIntervalMs: 1 } }, 'health.probeIntervalMs', 1, 'an integer from 50 to 600000'],
    ['mesos.domain', { mesos: { domain: 'bad domain' } }, 'mesos.domain', 'bad domain', 'a domain name'],
    ['mesos.domain root', { mesos: { domain: '.' } }, 'mesos.domain', '.', 'a domain name'],
    ['mesos.masters', { mesos: { masters: ['master.example'] } }, 'mesos.masters[0]', 'master.example', 'IP address'],
    ['zk.servers', { zk: { servers: ['zk1'] } }, 'zk.servers[0]', 'zk1', 'IP address'],
  ])('%s', (_what, raw, key, bad, valid) => {
    expectGoodMessage(configError(raw), key, bad, valid);
  });

  test('mesos.retryMs may not exceed mesos.refreshMs, whose value the message gives', () => {
    expect(parseConfig({ mesos: { refreshMs: 1000, retryMs: 1000 } }).mesos.retryMs).toBe(1000);
    expectGoodMessage(configError({ mesos: { refreshMs: 1000, retryMs: 1001 } }), 'mesos.retryMs', 1001, 'an integer from 50 to 1000');
  });

  test('ConfigError carries key, value and expectation as fields', () => {
    const err = configError({ timeoutMs: 'fast' });
    expect(err.name).toBe('ConfigError');
    expect(err.key).toBe('timeoutMs');
    expect(err.value).toBe('fast');
    expect(err.expected).toBe('an integer from 50 to 30000');
    expect(err.message).toBe('key "timeoutMs": "fast" is not valid; expected an integer from 50 to 30000');
  });

  test('a very long bad value is shortened in the message', () => {
    const long = 'x'.repeat(500);
    const err = configError({ mesos: { domain: long } });
    expect(err.key).toBe('mesos.domain');
    expect(err.message.length).toBeLessThan(250);
    expect(err.message).toContain('...');
  });
});

describe('fanout', () => {
  test('"all" is accepted', () => {
    expect(parseConfig({ fanout: 'all' }).fanout).toBe('all');
  });

  test.each([1, 3, 16])('%d is accepted', (n) => {
    expect(parseConfig({ fanout: n }).fanout).toBe(n);
  });

  test.each([0, 17, 1.5, '2', 'ALL', null])('%p is rejected naming fanout and the bad value', (bad) => {
    const err = configError({ fanout: bad });
    expectGoodMessage(err, 'fanout', bad, 'an integer from 1 to 16');
  });

  test('the error for a bad fanout says that "all" is valid too', () => {
    const err = configError({ fanout: 'everyone' });
    expect(err.key).toBe('fanout');
    expect(err.message).toContain('"all"');
  });
});

describe('forwardZones', () => {
  test('zone names are canonical (lower case, no trailing dot) and servers parsed', () => {
    const c = parseConfig({
      forwardZones: {
        'Corp.Example.COM.': ['10.0.0.5', '10.0.0.6:5353'],
        'in-addr.arpa': ['[fd00::53]'],
      },
    });
    expect([...c.forwardZones.keys()]).toEqual(['corp.example.com', 'in-addr.arpa']);
    expect(c.forwardZones.get('corp.example.com')?.map(formatEndpoint)).toEqual(['10.0.0.5:53', '10.0.0.6:5353']);
    expect(c.forwardZones.get('in-addr.arpa')?.map(formatEndpoint)).toEqual(['[fd00::53]:53']);
  });

  test('mesos.domain is canonical too', () => {
    expect(parseConfig({ mesos: { domain: 'DCOS.ThisDCOS.Directory.' } }).mesos.domain).toBe('dcos.thisdcos.directory');
  });

  test('a zone with no servers is rejected', () => {
    expectGoodMessage(configError({ forwardZones: { corp: [] } }), 'forwardZones.corp', [], /at least one server/);
  });

  test('an invalid zone name is rejected naming it', () => {
    const err = configError({ forwardZones: { 'bad zone': ['10.0.0.5'] } });
    expectGoodMessage(err, 'forwardZones.bad zone', 'bad zone', /a domain name/);
  });

  test('the root zone is rejected (that is what upstreams are for)', () => {
    expect(configError({ forwardZones: { '.': ['10.0.0.5'] } }).key).toBe('forwardZones..');
  });

  test('a label over 63 octets is rejected', () => {
    const zone = `${'a'.repeat(64)}.example`;
    expect(configError({ forwardZones: { [zone]: ['10.0.0.5'] } }).key).toBe(`forwardZones.${zone}`);
  });

  test('a bad server in a zone is rejected naming zone and index', () => {
    const err = configError({ forwardZones: { corp: ['10.0.0.5', 'ns.corp'] } });
    expectGoodMessage(err, 'forwardZones.corp[1]', 'ns.corp', /IP address/);
  });

  test('forwardZones that is not an object is rejected', () => {
    const err = configError({ forwardZones: ['corp'] });
    expectGoodMessage(err, 'forwardZones', ['corp'], /an object mapping zone names/);
  });
});

describe('log.level', () => {
  test.each([...LOG_LEVELS])('%s is accepted', (level) => {
    expect(parseConfig({ log: { level } }).log.level).toBe(level);
  });

  test.each(['verbose', 'INFO', 3])('%p is rejected listing the valid levels', (bad) => {
    const err = configError({ log: { level: bad } });
    expectGoodMessage(err, 'log.level', bad, 'one of fatal, error, warn, info, debug, trace, silent');
  });
});

describe('dispatch and hedge', () => {
  test('hedged by default, a hedge delay within 5..250 ms; race keeps fanout', () => {
    const c = parseConfig({});
    expect(c.dispatch).toBe('hedged');
    expect(c.hedge).toEqual({ maxMs: 250, minMs: 5 });
    expect(parseConfig({ dispatch: 'race', fanout: 'all' })).toEqual(expect.objectContaining({ dispatch: 'race', fanout: 'all' }));
  });

  test.each([
    [{ dispatch: 'fastest' }, 'dispatch'],
    [{ hedge: { minMs: 300 } }, 'hedge.minMs'],
    [{ hedge: { maxMs: 0 } }, 'hedge.maxMs'],
  ])('%j is refused, naming %s', (raw, key) => {
    expect(() => parseConfig(raw)).toThrow(new RegExp(`key "${key.replace('.', '\\.')}"`));
  });
});

describe('serveStale', () => {
  test('on by default: 10,000 answers, 16 MiB, a day past their TTL at most, served with TTL 30 after 400 ms of silence (RFC 8767)', () => {
    expect(parseConfig({}).serveStale).toEqual({
      enabled: true,
      maxEntries: 10_000,
      maxBytes: 16_777_216,
      maxStaleSec: 86_400,
      ttlSec: 30,
      clientTimeoutMs: 400,
    });
    expect(parseConfig({ serveStale: {} }).serveStale).toEqual(parseConfig({}).serveStale);
  });

  test('every key can be set, and describeConfig shows them', () => {
    const stale = { enabled: false, maxEntries: 500, maxBytes: 1_048_576, maxStaleSec: 3600, ttlSec: 10, clientTimeoutMs: 250 };
    expect(parseConfig({ serveStale: stale }).serveStale).toEqual(stale);
    expect(describeConfig(parseConfig({ serveStale: stale })).serveStale).toEqual(stale);
  });

  test.each([
    ['enabled', 'yes', 'true or false'],
    ['maxEntries', 0, 'an integer from 1 to 10000000'],
    ['maxBytes', 1000, 'an integer from 65536 to 1073741824'],
    ['maxStaleSec', 0, 'an integer from 1 to 604800'],
    ['maxStaleSec', 1.5, 'an integer from 1 to 604800'],
    ['ttlSec', 0, 'an integer from 1 to 3600'],
    ['clientTimeoutMs', 0, 'an integer from 1 to 60000'],
    ['ttlSec', '30', 'an integer from 1 to 3600'],
  ])('serveStale.%s = %p is rejected, saying what is valid', (key, bad, hint) => {
    expectGoodMessage(configError({ serveStale: { [key]: bad } }), `serveStale.${key}`, bad, hint);
  });

  test('an unknown key is rejected by name', () => {
    expect(configError({ serveStale: { ttl: 30 } }).key).toBe('serveStale.ttl');
  });
});

describe('acl and rateLimit', () => {
  test('defaults: the ACL and the exempt list follow the node (undefined here), 1000 q/s per client, burst 2000', () => {
    const c = parseConfig({});
    expect(c.acl).toBeUndefined();
    expect(c.rateLimit).toEqual({ perClientQps: 1000, burst: 2000, exempt: undefined });
    expect(describeConfig(c).acl).toBeNull();
    expect(describeConfig(c).rateLimit).toEqual({ perClientQps: 1000, burst: 2000, exempt: null });
  });

  test('networks in IPv4 and IPv6, and bare addresses as one host', () => {
    const c = parseConfig({ acl: ['10.0.0.0/8', ' fd00::/8 ', '192.0.2.7', '::1'], rateLimit: { perClientQps: 0, burst: 1, exempt: [] } });
    expect(c.acl).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 4 },
      { address: 'fd00::', prefix: 8, family: 6 },
      { address: '192.0.2.7', prefix: 32, family: 4 },
      { address: '::1', prefix: 128, family: 6 },
    ]);
    expect(c.rateLimit).toEqual({ perClientQps: 0, burst: 1, exempt: [] });
    expect(describeConfig(c).acl).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.7/32', '::1/128']);
  });

  test.each([
    ['10.0.0.0/33', 1],
    ['fd00::/129', 1],
    ['10.0.0/8', 1],
    ['10.0.0.0/', 1],
    ['10.0.0.0/-1', 1],
    ['example.com/8', 1],
    [42, 1],
  ])('acl entry %p is rejected naming its index', (bad, index) => {
    expectGoodMessage(configError({ acl: ['127.0.0.0/8', bad] }), `acl[${index}]`, bad, 'a network such as "10.0.0.0/8" or "fd00::/8"');
  });

  test('acl that is not a list is rejected', () => {
    expectGoodMessage(configError({ acl: '10.0.0.0/8' }), 'acl', '10.0.0.0/8', 'a list of networks');
  });

  test.each([
    ['perClientQps', -1, 'an integer from 0 to 1000000'],
    ['perClientQps', 2.5, 'an integer from 0 to 1000000'],
    ['burst', 0, 'an integer from 1 to 10000000'],
    ['exempt', '127.0.0.1', 'a list of networks'],
  ])('rateLimit.%s = %p is rejected, saying what is valid', (key, bad, hint) => {
    expectGoodMessage(configError({ rateLimit: { [key]: bad } }), `rateLimit.${key}`, bad, hint);
  });

  test('a bad exempt network is rejected naming its index; unknown keys by name', () => {
    expectGoodMessage(configError({ rateLimit: { exempt: ['10.0.0.0/99'] } }), 'rateLimit.exempt[0]', '10.0.0.0/99', 'a network such as');
    expect(configError({ rateLimit: { qps: 5 } }).key).toBe('rateLimit.qps');
  });

  test('tcp.maxConnectionsPerClient and tcp.queryTimeoutMs are set and checked', () => {
    expect(parseConfig({ tcp: { maxConnectionsPerClient: 4, queryTimeoutMs: 250 } }).tcp).toEqual({
      maxConnections: 256,
      idleTimeoutMs: 10_000,
      maxConnectionsPerClient: 4,
      queryTimeoutMs: 250,
    });
    expectGoodMessage(
      configError({ tcp: { maxConnectionsPerClient: 0 } }),
      'tcp.maxConnectionsPerClient',
      0,
      'an integer from 1 to 100000',
    );
    expectGoodMessage(configError({ tcp: { queryTimeoutMs: 50 } }), 'tcp.queryTimeoutMs', 50, 'an integer from 100 to 600000');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'phalanx-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function loadError(path: string): ConfigLoadError {
    try {
      loadConfig(path);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigLoadError);
      return err as ConfigLoadError;
    }
    throw new Error(`loadConfig(${path}) did not throw`);
  }

  test('a valid file gives the parsed config', () => {
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify({ upstreams: ['10.0.0.2'], fanout: 'all' }));
    const c = loadConfig(path);
    expect(c.upstreams.map(formatEndpoint)).toEqual(['10.0.0.2:53']);
    expect(c.fanout).toBe('all');
    expect(c.listen.map(formatEndpoint)).toEqual(DEFAULT_LISTEN);
  });

  test('a missing file: the message names the path and says it was not found', () => {
    const path = join(dir, 'missing.json');
    const err = loadError(path);
    expect(err.path).toBe(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain('file not found');
    expect(err.message).toContain('--config');
  });

  test('a directory instead of a file is a ConfigLoadError naming the path', () => {
    const err = loadError(dir);
    expect(err.message).toContain(dir);
  });

  test('invalid JSON: the message names the path and says so', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "upstreams": [ "10.0.0.2", ] ');
    const err = loadError(path);
    expect(err.path).toBe(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain('not valid JSON');
  });

  test('a bad key: the message names the path, the key and the value', () => {
    const path = join(dir, 'badkey.json');
    writeFileSync(path, JSON.stringify({ fanout: 2, timeoutMs: 1 }));
    const err = loadError(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain('"timeoutMs"');
    expect(err.message).toContain('an integer from 50 to 30000');
  });

  test('an unknown key: the message names the path and the key', () => {
    const path = join(dir, 'unknown.json');
    writeFileSync(path, JSON.stringify({ upstreamz: [] }));
    const err = loadError(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain('"upstreamz"');
  });
});
