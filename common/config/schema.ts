// The one config schema for the whole product (agent, watchdog, genresolv share the file).
// Parsed and validated once; everything downstream gets a fully-defaulted, typed Config.
// Every error names the key, the bad value and what would be valid.
import { canonicalName, isValidZoneName } from '../dns/names.js';
import { type Cidr, formatCidr, parseCidr } from './cidr.js';
import { type MasterSource, SOURCE_KEYS, parseMasterSource } from './master-source.js';
import {
  type Endpoint,
  formatEndpoint,
  isLoopback,
  isWildcard,
  parseEndpoint,
  sameEndpoint,
} from './endpoint.js';

export const DEFAULT_LISTEN = ['198.51.100.1:53', '198.51.100.2:53', '198.51.100.3:53'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HealthConfig {
  /** A failure's weight halves every halfLifeMs: an old failure is forgiven (dcos-dns never forgot). */
  halfLifeMs: number;
  /** Consecutive failures that mark a server down. */
  downAfterFailures: number;
  /** How often a down server is probed in the background. */
  probeIntervalMs: number;
}

export interface Config {
  listen: Endpoint[];
  upstreams: Endpoint[];
  forwardZones: Map<string, Endpoint[]>; // canonical zone name → servers
  mesos: {
    domain: string;
    port: number;
    /** The static list (source "static"), or empty while a dynamic source has not reported. */
    masters: Endpoint[];
    source: MasterSource;
    /** Dynamic sources: how often to re-read when healthy. */
    refreshMs: number;
    /** First retry after a failure; doubles up to refreshMs. */
    retryMs: number;
    /** Deadline of one Exhibitor request or ZooKeeper read. */
    requestTimeoutMs: number;
    zkSessionTimeoutMs: number;
  };
  /** ZooKeeper hosts for the zk zone; undefined means "the masters' addresses". */
  zk: { servers: string[] | undefined };
  fanout: number | 'all';
  timeoutMs: number;
  maxInflight: number;
  tcp: TcpConfig;
  /** Client networks served; undefined: loopback and the node's own networks (read at start and on reload). */
  acl: Cidr[] | undefined;
  rateLimit: RateLimitConfig;
  health: HealthConfig;
  log: { level: LogLevel };
  cache: CacheConfig;
  serveStale: ServeStaleConfig;
  http: HttpConfig;
  watchdog: WatchdogConfig;
  genresolv: GenresolvConfig;
}

export interface TcpConfig {
  maxConnections: number;
  idleTimeoutMs: number;
  /** Open connections one client address may hold (the node's own addresses are exempt). */
  maxConnectionsPerClient: number;
  /** A message whose length prefix has arrived must be complete within this (slowloris). */
  queryTimeoutMs: number;
}

export interface RateLimitConfig {
  /** Queries per second per client address; 0 turns the limit off. */
  perClientQps: number;
  burst: number;
  /** Never limited; undefined: loopback and the node's own addresses (read at start and on reload). */
  exempt: Cidr[] | undefined;
}

export interface CacheConfig {
  enabled: boolean;
  maxEntries: number;
  /** Longest time any answer is kept, seconds (its own TTL permitting). */
  maxTtlSec: number;
  /** The same for the Mesos domain: short, so new and moved tasks show up quickly. */
  mesosMaxTtlSec: number;
}

/** Serve-stale (RFC 8767): the last good answer when every server fails. */
export interface ServeStaleConfig {
  enabled: boolean;
  maxEntries: number;
  /** Memory cap: message bytes plus a per-entry overhead estimate. */
  maxBytes: number;
  /** An answer this many seconds after a server gave it is never served. */
  maxStaleSec: number;
  /** The TTL given to every record of a stale answer. */
  ttlSec: number;
}

export interface HttpConfig {
  enabled: boolean;
  listen: Endpoint;
}

export interface WatchdogConfig {
  /** false: only log what it would do. */
  enabled: boolean;
  /** Addresses asked for ready.spartan; default: every "listen" address. */
  addresses: Endpoint[];
  /** Per-address deadline for one ready.spartan query. */
  timeoutMs: number;
  /** Wait between the first failed round and the second. */
  retryDelayMs: number;
  /** argv run after two failed rounds. */
  restartCommand: string[];
}

export interface GenresolvConfig {
  /** The file written. */
  path: string;
  search: string[];
  options: string[];
  /** Per-address deadline for one ready.spartan query. */
  timeoutMs: number;
}

export const DEFAULT_RESTART_COMMAND = ['systemctl', 'kill', '--signal', 'SIGKILL', '--kill-who', 'main', 'phalanx-dns.service'];

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`key "${key}": ${describe(value)} is not valid; expected ${expected}`);
    this.name = 'ConfigError';
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'a missing value';
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

const TOP_KEYS = [
  'listen',
  'upstreams',
  'forwardZones',
  'mesos',
  'zk',
  'fanout',
  'timeoutMs',
  'maxInflight',
  'tcp',
  'acl',
  'rateLimit',
  'health',
  'log',
  'cache',
  'serveStale',
  'http',
  'watchdog',
  'genresolv',
];

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function section(raw: Obj, key: string, allowed: string[]): Obj {
  const v = raw[key];
  if (v === undefined) return {};
  if (!isObject(v)) throw new ConfigError(key, v, `an object with keys ${allowed.join(', ')}`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ConfigError(`${key}.${k}`, v[k], `one of the keys ${allowed.join(', ')} (unknown key)`);
  }
  return v;
}

function integer(v: unknown, key: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(key, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

const ENDPOINT_HINT = 'an IP address with an optional port, e.g. "10.0.0.2", "10.0.0.2:5353" or "[fd00::2]:53"';

function bool(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(key, v, 'true or false');
  return v;
}

function stringList(v: unknown, key: string, valid: (s: string) => boolean, what: string, dflt: string[] = []): string[] {
  if (v === undefined) return dflt;
  if (!Array.isArray(v)) throw new ConfigError(key, v, `a list of ${what}`);
  v.forEach((item, i) => {
    if (typeof item !== 'string' || !valid(item)) throw new ConfigError(`${key}[${i}]`, item, what);
  });
  return v as string[];
}

function endpoints(v: unknown, key: string, defaultPort: number, dflt: string[] = []): Endpoint[] {
  const list = v === undefined ? dflt : v;
  if (!Array.isArray(list)) throw new ConfigError(key, v, `a list of ${ENDPOINT_HINT}`);
  const out: Endpoint[] = [];
  list.forEach((item, i) => {
    const e = typeof item === 'string' ? parseEndpoint(item.trim(), defaultPort) : undefined;
    if (!e) throw new ConfigError(`${key}[${i}]`, item, ENDPOINT_HINT);
    if (!out.some((o) => sameEndpoint(o, e))) out.push(e); // duplicates would be raced against themselves
  });
  return out;
}

const CIDR_HINT = 'a network such as "10.0.0.0/8" or "fd00::/8", or one address such as "10.0.0.7"';

/** A list of networks; undefined (the key left out) stays undefined: the caller's default applies. */
function cidrs(v: unknown, key: string): Cidr[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(key, v, `a list of networks, each ${CIDR_HINT}`);
  return v.map((item, i) => {
    const c = typeof item === 'string' ? parseCidr(item.trim()) : undefined;
    if (!c) throw new ConfigError(`${key}[${i}]`, item, CIDR_HINT);
    return c;
  });
}

function zoneName(v: unknown, key: string): string {
  if (typeof v !== 'string' || !isValidZoneName(v) || canonicalName(v) === '') {
    throw new ConfigError(key, v, 'a domain name such as "mesos" or "corp.example.com"');
  }
  return canonicalName(v);
}

/** Builds the typed config from parsed JSON. Throws ConfigError on the first problem. */
export function parseConfig(raw: unknown): Config {
  if (!isObject(raw)) throw new ConfigError('(top level)', raw, 'a JSON object');
  for (const k of Object.keys(raw)) {
    if (!TOP_KEYS.includes(k)) throw new ConfigError(k, raw[k], `one of the keys ${TOP_KEYS.join(', ')} (unknown key)`);
  }

  const listen = endpoints(raw.listen, 'listen', 53, DEFAULT_LISTEN);
  if (listen.length === 0) throw new ConfigError('listen', raw.listen, 'at least one address to listen on');

  const upstreams = endpoints(raw.upstreams, 'upstreams', 53);
  upstreams.forEach((u, i) => {
    if (listensOn(listen, u)) {
      throw new ConfigError(
        `upstreams[${i}]`,
        formatEndpoint(u),
        'a resolver other than the agent itself (it is one of "listen"; the agent would query itself in a loop)',
      );
    }
  });

  const forwardZones = new Map<string, Endpoint[]>();
  const fz = raw.forwardZones;
  if (fz !== undefined && !isObject(fz)) throw new ConfigError('forwardZones', fz, 'an object mapping zone names to server lists');
  for (const [zone, servers] of Object.entries(fz ?? {})) {
    const key = `forwardZones.${zone}`;
    const name = zoneName(zone, key);
    const list = endpoints(servers, key, 53);
    if (list.length === 0) throw new ConfigError(key, servers, 'at least one server');
    list.forEach((s, i) => {
      if (listensOn(listen, s)) throw new ConfigError(`${key}[${i}]`, formatEndpoint(s), 'a server other than the agent itself');
    });
    forwardZones.set(name, list);
  }

  const m = section(raw, 'mesos', ['domain', 'port', ...SOURCE_KEYS, 'refreshMs', 'retryMs', 'requestTimeoutMs', 'zkSessionTimeoutMs']);
  const mesosPort = integer(m.port, 'mesos.port', 61053, 1, 65535);
  const source = parseMasterSource(m);
  if ('key' in source) throw new ConfigError(source.key, source.value, source.expected);
  const refreshMs = integer(m.refreshMs, 'mesos.refreshMs', 120_000, 100, 3_600_000);
  const mesos = {
    domain: m.domain === undefined ? 'mesos' : zoneName(m.domain, 'mesos.domain'),
    port: mesosPort,
    masters: endpoints(m.masters, 'mesos.masters', mesosPort),
    source,
    refreshMs,
    retryMs: integer(m.retryMs, 'mesos.retryMs', 5000, 50, refreshMs),
    requestTimeoutMs: integer(m.requestTimeoutMs, 'mesos.requestTimeoutMs', 10_000, 50, 120_000),
    zkSessionTimeoutMs: integer(m.zkSessionTimeoutMs, 'mesos.zkSessionTimeoutMs', 10_000, 1000, 120_000),
  };

  const z = section(raw, 'zk', ['servers']);
  let zkServers: string[] | undefined;
  if (z.servers !== undefined) {
    zkServers = endpoints(z.servers, 'zk.servers', 2181).map((e) => e.host);
  }

  const fanout = raw.fanout === undefined ? 2 : raw.fanout;
  if (fanout !== 'all' && (typeof fanout !== 'number' || !Number.isInteger(fanout) || fanout < 1 || fanout > 16)) {
    throw new ConfigError('fanout', raw.fanout, 'an integer from 1 to 16, or "all"');
  }

  const t = section(raw, 'tcp', ['maxConnections', 'idleTimeoutMs', 'maxConnectionsPerClient', 'queryTimeoutMs']);
  const rl = section(raw, 'rateLimit', ['perClientQps', 'burst', 'exempt']);
  const h = section(raw, 'health', ['halfLifeMs', 'downAfterFailures', 'probeIntervalMs']);
  const l = section(raw, 'log', ['level']);
  const level = l.level === undefined ? 'info' : l.level;
  if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('log.level', l.level, `one of ${LOG_LEVELS.join(', ')}`);
  }

  const ca = section(raw, 'cache', ['enabled', 'maxEntries', 'maxTtlSec', 'mesosMaxTtlSec']);
  const st = section(raw, 'serveStale', ['enabled', 'maxEntries', 'maxBytes', 'maxStaleSec', 'ttlSec']);
  const http = section(raw, 'http', ['enabled', 'listen']);
  const httpListen = typeof http.listen === 'string' ? parseEndpoint(http.listen, 62080) : http.listen === undefined ? parseEndpoint('127.0.0.1:62080') : undefined;
  if (!httpListen) throw new ConfigError('http.listen', http.listen, ENDPOINT_HINT);

  const w = section(raw, 'watchdog', ['enabled', 'addresses', 'timeoutMs', 'retryDelayMs', 'restartCommand']);
  const restartCommand = w.restartCommand ?? DEFAULT_RESTART_COMMAND;
  if (!Array.isArray(restartCommand) || restartCommand.length === 0 || !restartCommand.every((a) => typeof a === 'string' && a !== '')) {
    throw new ConfigError('watchdog.restartCommand', w.restartCommand, 'a non-empty list of strings (program and arguments)');
  }

  const g = section(raw, 'genresolv', ['path', 'search', 'options', 'timeoutMs']);
  if (g.path !== undefined && (typeof g.path !== 'string' || !g.path.startsWith('/'))) {
    throw new ConfigError('genresolv.path', g.path, 'an absolute file path such as "/etc/resolv.conf"');
  }

  return {
    listen,
    upstreams,
    forwardZones,
    mesos,
    zk: { servers: zkServers },
    fanout,
    timeoutMs: integer(raw.timeoutMs, 'timeoutMs', 2000, 50, 30000),
    maxInflight: integer(raw.maxInflight, 'maxInflight', 1024, 1, 1_000_000),
    tcp: {
      maxConnections: integer(t.maxConnections, 'tcp.maxConnections', 256, 1, 100_000),
      idleTimeoutMs: integer(t.idleTimeoutMs, 'tcp.idleTimeoutMs', 10_000, 100, 600_000),
      maxConnectionsPerClient: integer(t.maxConnectionsPerClient, 'tcp.maxConnectionsPerClient', 32, 1, 100_000),
      queryTimeoutMs: integer(t.queryTimeoutMs, 'tcp.queryTimeoutMs', 5000, 100, 600_000),
    },
    acl: cidrs(raw.acl, 'acl'),
    rateLimit: {
      perClientQps: integer(rl.perClientQps, 'rateLimit.perClientQps', 1000, 0, 1_000_000),
      burst: integer(rl.burst, 'rateLimit.burst', 2000, 1, 10_000_000),
      exempt: cidrs(rl.exempt, 'rateLimit.exempt'),
    },
    health: {
      halfLifeMs: integer(h.halfLifeMs, 'health.halfLifeMs', 30_000, 100, 3_600_000),
      downAfterFailures: integer(h.downAfterFailures, 'health.downAfterFailures', 3, 1, 100),
      probeIntervalMs: integer(h.probeIntervalMs, 'health.probeIntervalMs', 2000, 50, 600_000),
    },
    log: { level: level as LogLevel },
    cache: {
      enabled: bool(ca.enabled, 'cache.enabled', true),
      maxEntries: integer(ca.maxEntries, 'cache.maxEntries', 10_000, 1, 10_000_000),
      maxTtlSec: integer(ca.maxTtlSec, 'cache.maxTtlSec', 300, 0, 86_400),
      mesosMaxTtlSec: integer(ca.mesosMaxTtlSec, 'cache.mesosMaxTtlSec', 2, 0, 86_400),
    },
    serveStale: {
      enabled: bool(st.enabled, 'serveStale.enabled', true),
      maxEntries: integer(st.maxEntries, 'serveStale.maxEntries', 10_000, 1, 10_000_000),
      // At least one largest DNS message (64 KiB); at most 1 GiB.
      maxBytes: integer(st.maxBytes, 'serveStale.maxBytes', 16 * 1024 * 1024, 65_536, 1024 * 1024 * 1024),
      // RFC 8767 §5 suggests 1 to 3 days; a week at most (its cap for any TTL).
      maxStaleSec: integer(st.maxStaleSec, 'serveStale.maxStaleSec', 86_400, 1, 604_800),
      // RFC 8767 §4 recommends 30 s; 0 would tell clients not to keep it at all.
      ttlSec: integer(st.ttlSec, 'serveStale.ttlSec', 30, 1, 3600),
    },
    http: { enabled: bool(http.enabled, 'http.enabled', true), listen: httpListen },
    watchdog: {
      enabled: bool(w.enabled, 'watchdog.enabled', true),
      addresses: w.addresses === undefined ? listen : endpoints(w.addresses, 'watchdog.addresses', 53),
      timeoutMs: integer(w.timeoutMs, 'watchdog.timeoutMs', 5000, 50, 60_000),
      retryDelayMs: integer(w.retryDelayMs, 'watchdog.retryDelayMs', 60_000, 0, 600_000),
      restartCommand: restartCommand as string[],
    },
    genresolv: {
      path: (g.path as string | undefined) ?? '/etc/resolv.conf',
      search: stringList(g.search, 'genresolv.search', (v) => isValidZoneName(v) && canonicalName(v) !== '', 'domain names such as "marathon.mesos"'),
      options: stringList(g.options, 'genresolv.options', (v) => /^[a-z0-9-]+(:\d+)?$/.test(v), 'resolv.conf options such as "timeout:1"', ['timeout:1', 'attempts:3']),
      timeoutMs: integer(g.timeoutMs, 'genresolv.timeoutMs', 5000, 50, 60_000),
    },
  };
}

/** Would a query sent to `target` land on one of the agent's own sockets? */
function listensOn(listen: Endpoint[], target: Endpoint): boolean {
  return listen.some(
    (l) =>
      sameEndpoint(l, target) ||
      // A "::" socket on Linux also takes IPv4 traffic, so it covers 127.x as well.
      (isWildcard(l) && l.port === target.port && (l.family === target.family || l.host === '::') && isLoopback(target)),
  );
}

/** A config in the JSON shape it was written in, for logs and the HTTP API. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    listen: c.listen.map(formatEndpoint),
    upstreams: c.upstreams.map(formatEndpoint),
    forwardZones: Object.fromEntries([...c.forwardZones].map(([z, s]) => [z, s.map(formatEndpoint)])),
    mesos: {
      domain: c.mesos.domain,
      port: c.mesos.port,
      // Secrets in source URLs (ZooKeeper digest auth, Exhibitor basic auth) never leave as written.
      source: c.mesos.source.kind === 'static' ? { kind: 'static', masters: c.mesos.masters.map(formatEndpoint) } : { kind: c.mesos.source.kind, location: c.mesos.source.display },
      refreshMs: c.mesos.refreshMs,
      retryMs: c.mesos.retryMs,
      requestTimeoutMs: c.mesos.requestTimeoutMs,
      zkSessionTimeoutMs: c.mesos.zkSessionTimeoutMs,
    },
    zk: { servers: c.zk.servers ?? null },
    fanout: c.fanout,
    timeoutMs: c.timeoutMs,
    maxInflight: c.maxInflight,
    tcp: c.tcp,
    // null: the default, loopback and the node's own networks (addresses for exempt); /v1/enumerate shows them.
    acl: c.acl?.map(formatCidr) ?? null,
    rateLimit: { ...c.rateLimit, exempt: c.rateLimit.exempt?.map(formatCidr) ?? null },
    health: c.health,
    log: c.log,
    cache: c.cache,
    serveStale: c.serveStale,
    http: { enabled: c.http.enabled, listen: formatEndpoint(c.http.listen) },
    watchdog: { ...c.watchdog, addresses: c.watchdog.addresses.map(formatEndpoint) },
    genresolv: c.genresolv,
  };
}
