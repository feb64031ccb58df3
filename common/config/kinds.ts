// The kinds of value a config key holds. Each kind reads and checks a value, says in its error
// what would be valid, writes it back, and describes itself for the reference; a declaration in
// schema.ts picks a kind and gives the key's default, range and meaning.
import { canonicalName, isValidZoneName } from '../dns/names.js';
import { type Cidr, formatCidr, parseCidr } from './cidr.js';
import { type Endpoint, formatEndpoint, isLoopback, isWildcard, parseEndpoint, sameEndpoint } from './endpoint.js';
import { ConfigError } from './error.js';
import { type At, type Doc, type Key, earlier, isObject } from './table.js';

/** A number, or the full name of a key declared earlier that holds it ("mesos.port"). */
type NumberOrKey = number | string;

function key<T>(doc: Doc, read: (value: unknown, at: At) => T, show: (value: T) => unknown = (v) => v): Key<T> {
  return { kind: 'key', doc, read, show };
}

const code = (text: string): string => '`' + text + '`';
const json = (v: unknown): string => code(JSON.stringify(v));
const numberText = (n: NumberOrKey): string => (typeof n === 'number' ? String(n) : code(n));
const numberAt = (n: NumberOrKey, at: At): number => (typeof n === 'number' ? n : earlier<number>(at, n));
const isIntegerIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

export function integer(o: { default: number; min: number; max: NumberOrKey; meaning: string }): Key<number> {
  const doc = { default: json(o.default), valid: `${o.min}–${numberText(o.max)}`, meaning: o.meaning };
  return key(doc, (v, at) => {
    if (v === undefined) return o.default;
    const max = numberAt(o.max, at);
    if (!isIntegerIn(v, o.min, max)) throw new ConfigError(at.key, v, `an integer from ${o.min} to ${max}`);
    return v;
  });
}

/** An integer or one word that means "no limit" (fanout: a number of servers, or "all"). */
export function integerOr<W extends string>(word: W, o: { default: number; min: number; max: number; meaning: string }): Key<number | W> {
  const doc = { default: json(o.default), valid: `${o.min}–${o.max}, or ${json(word)}`, meaning: o.meaning };
  return key(doc, (v, at) => {
    const n = v === undefined ? o.default : v;
    if (n === word) return word;
    if (!isIntegerIn(n, o.min, o.max)) throw new ConfigError(at.key, v, `an integer from ${o.min} to ${o.max}, or "${word}"`);
    return n;
  });
}

export function flag(o: { default: boolean; meaning: string }): Key<boolean> {
  return key({ default: json(o.default), valid: '`true`, `false`', meaning: o.meaning }, (v, at) => {
    if (v === undefined) return o.default;
    if (typeof v !== 'boolean') throw new ConfigError(at.key, v, 'true or false');
    return v;
  });
}

export function oneOf<const V extends readonly string[]>(values: V, o: { default: V[number]; meaning: string }): Key<V[number]> {
  const doc = { default: json(o.default), valid: values.map(json).join(', '), meaning: o.meaning };
  return key(doc, (v, at) => {
    const w = v === undefined ? o.default : v;
    if (typeof w !== 'string' || !values.includes(w)) throw new ConfigError(at.key, v, `one of ${values.join(', ')}`);
    return w;
  });
}

const ENDPOINT_HINT = 'an IP address with an optional port, e.g. "10.0.0.2", "10.0.0.2:5353" or "[fd00::2]:53"';

function readEndpoints(list: unknown, key: string, port: number): Endpoint[] {
  if (!Array.isArray(list)) throw new ConfigError(key, list, `a list of ${ENDPOINT_HINT}`);
  const out: Endpoint[] = [];
  list.forEach((item, i) => {
    const e = typeof item === 'string' ? parseEndpoint(item.trim(), port) : undefined;
    if (!e) throw new ConfigError(`${key}[${i}]`, item, ENDPOINT_HINT);
    if (!out.some((o) => sameEndpoint(o, e))) out.push(e); // duplicates would be raced against themselves
  });
  return out;
}

/** Refuses a server that is the agent itself (one of "listen"): it would query itself in a loop. */
function refuseTheAgent(list: Endpoint[], key: string, at: At, expected: string): void {
  const listen = earlier<Endpoint[]>(at, 'listen');
  list.forEach((e, i) => {
    if (listensOn(listen, e)) throw new ConfigError(`${key}[${i}]`, formatEndpoint(e), expected);
  });
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

export function endpoints(o: {
  /** The port of an address written without one, or the key that gives it. */
  port: NumberOrKey;
  /** Addresses as written, or the key whose addresses are the default; none: an empty list. */
  default?: readonly string[] | string;
  /** What is valid when the list is empty; none: an empty list is fine. */
  nonEmpty?: string;
  /** What is valid when an address is one of "listen"; none: the agent's own addresses are fine. */
  notTheAgent?: string;
  /** Written back inside another key (the static masters show in mesos.source). */
  hidden?: boolean;
  meaning: string;
}): Key<Endpoint[]> {
  const doc = {
    default: typeof o.default === 'string' ? `the ${code(o.default)} addresses` : json(o.default ?? []),
    valid: `${o.nonEmpty ? 'non-empty ' : ''}list of \`"ip[:port]"\`, port ${numberText(o.port)} if left out`,
    meaning: o.meaning,
  };
  const read = (v: unknown, at: At): Endpoint[] => {
    if (v === undefined && typeof o.default === 'string') return earlier<Endpoint[]>(at, o.default);
    const list = readEndpoints(v === undefined ? (o.default ?? []) : v, at.key, numberAt(o.port, at));
    if (o.nonEmpty && list.length === 0) throw new ConfigError(at.key, v, o.nonEmpty);
    if (o.notTheAgent) refuseTheAgent(list, at.key, at, o.notTheAgent);
    return list;
  };
  return key(doc, read, (list) => (o.hidden ? undefined : list.map(formatEndpoint)));
}

export function endpoint(o: { default: string; port: number; meaning: string }): Key<Endpoint> {
  const doc = { default: json(o.default), valid: `\`"ip[:port]"\`, port ${o.port} if left out`, meaning: o.meaning };
  const read = (v: unknown, at: At): Endpoint => {
    const e = typeof v === 'string' ? parseEndpoint(v, o.port) : v === undefined ? parseEndpoint(o.default) : undefined;
    if (!e) throw new ConfigError(at.key, v, ENDPOINT_HINT);
    return e;
  };
  return key(doc, read, formatEndpoint);
}

/** Addresses of which only the host is kept; left out, the program works them out (undefined). */
export function hosts(o: { port: number; defaultText: string; meaning: string }): Key<string[] | undefined> {
  const doc = { default: o.defaultText, valid: 'list of `"ip"`', meaning: o.meaning };
  const read = (v: unknown, at: At) => (v === undefined ? undefined : readEndpoints(v, at.key, o.port).map((e) => e.host));
  return key(doc, read, (list) => list ?? null);
}

/** A name within the RFC 1035 limits, not the root. */
export const isDomainName = (s: string): boolean => isValidZoneName(s) && canonicalName(s) !== '';

/** Names in canonical form (lower case, no trailing dot). */
function readZoneName(v: unknown, key: string): string {
  if (typeof v !== 'string' || !isDomainName(v)) {
    throw new ConfigError(key, v, 'a domain name such as "mesos" or "corp.example.com"');
  }
  return canonicalName(v);
}

export function domain(o: { default: string; meaning: string }): Key<string> {
  const doc = { default: json(o.default), valid: 'a domain name', meaning: o.meaning };
  return key(doc, (v, at) => (v === undefined ? o.default : readZoneName(v, at.key)));
}

/** Zone name → its servers (forwardZones). */
export function zoneServers(o: { meaning: string }): Key<Map<string, Endpoint[]>> {
  const doc = { default: '`{}`', valid: '`{"zone": ["ip[:port]", …]}`, port 53 if left out', meaning: o.meaning };
  const read = (v: unknown, at: At): Map<string, Endpoint[]> => {
    if (v !== undefined && !isObject(v)) throw new ConfigError(at.key, v, 'an object mapping zone names to server lists');
    const zones = new Map<string, Endpoint[]>();
    for (const [zone, servers] of Object.entries(v ?? {})) {
      const key = `${at.key}.${zone}`;
      const name = readZoneName(zone, key);
      const list = readEndpoints(servers, key, 53);
      if (list.length === 0) throw new ConfigError(key, servers, 'at least one server');
      refuseTheAgent(list, key, at, 'a server other than the agent itself');
      zones.set(name, list);
    }
    return zones;
  };
  return key(doc, read, (zones) => Object.fromEntries([...zones].map(([z, s]) => [z, s.map(formatEndpoint)])));
}

const CIDR_HINT = 'a network such as "10.0.0.0/8" or "fd00::/8", or one address such as "10.0.0.7"';

/** Networks; left out, the program works them out from the node (undefined). */
export function networks(o: { defaultText: string; meaning: string }): Key<Cidr[] | undefined> {
  const valid = 'list of networks `"10.0.0.0/8"`, `"fd00::/8"` or addresses `"192.0.2.7"`';
  const doc = { default: o.defaultText, valid, meaning: o.meaning };
  const read = (v: unknown, at: At): Cidr[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new ConfigError(at.key, v, `a list of networks, each ${CIDR_HINT}`);
    return v.map((item, i) => {
      const c = typeof item === 'string' ? parseCidr(item.trim()) : undefined;
      if (!c) throw new ConfigError(`${at.key}[${i}]`, item, CIDR_HINT);
      return c;
    });
  };
  return key(doc, read, (list) => list?.map(formatCidr) ?? null);
}

/** A list of words, each checked by `valid`, described as `what` ("domain names such as …"). */
export function words(o: { default: readonly string[]; valid: (s: string) => boolean; what: string; meaning: string }): Key<string[]> {
  const doc = { default: json(o.default), valid: `list of ${o.what}`, meaning: o.meaning };
  return key(doc, (v, at) => {
    if (v === undefined) return [...o.default];
    if (!Array.isArray(v)) throw new ConfigError(at.key, v, `a list of ${o.what}`);
    v.forEach((item, i) => {
      if (typeof item !== 'string' || !o.valid(item)) throw new ConfigError(`${at.key}[${i}]`, item, o.what);
    });
    return v as string[];
  });
}

/** A program and its arguments. */
export function argv(o: { default: readonly string[]; meaning: string }): Key<string[]> {
  return key({ default: json(o.default), valid: 'non-empty list of strings', meaning: o.meaning }, (v, at) => {
    const list: unknown = v ?? o.default; // null, too, means the default
    if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a !== '')) {
      throw new ConfigError(at.key, v, 'a non-empty list of strings (program and arguments)');
    }
    return [...(list as string[])];
  });
}

export function absolutePath(o: { default: string; meaning: string }): Key<string> {
  return key({ default: json(o.default), valid: 'an absolute path', meaning: o.meaning }, (v, at) => {
    if (v === undefined) return o.default;
    if (typeof v !== 'string' || !v.startsWith('/')) throw new ConfigError(at.key, v, `an absolute file path such as "${o.default}"`);
    return v;
  });
}
