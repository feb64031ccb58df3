// Where the list of masters comes from: a static list, ZooKeeper (as Mesos registers itself),
// Exhibitor, or a master_list file. Exactly one; this parses and checks that choice.
import { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';

export type MasterSource =
  | { kind: 'static' }
  | { kind: 'zookeeper'; hosts: Endpoint[]; path: string; auth: string | undefined; display: string }
  | { kind: 'exhibitor'; url: string; display: string }
  | { kind: 'file'; path: string; display: string };

export const SOURCE_KEYS = ['masters', 'zookeeper', 'exhibitorUrl', 'masterListFile'] as const;

/** Thrown with the key, the value and what is valid; schema.ts turns it into a ConfigError. */
export interface SourceProblem {
  key: string;
  value: unknown;
  expected: string;
}

const ZK_HINT = 'a ZooKeeper URL "zk://10.0.0.1:2181,10.0.0.2:2181/mesos" (IP addresses; optional user:password@ for digest auth)';

/** "zk://[user:pass@]ip[:port],ip[:port]/path" → hosts and path; IPs only (no DNS to find DNS). */
export function parseZooKeeperUrl(text: string): { hosts: Endpoint[]; path: string; auth: string | undefined } | undefined {
  const m = /^zk:\/\/(?:([^@/]+)@)?([^/]+)(\/[^\s]*)$/.exec(text);
  if (!m) return undefined;
  const hosts: Endpoint[] = [];
  for (const h of m[2].split(',')) {
    const e = parseEndpoint(h.trim(), 2181);
    if (!e) return undefined;
    hosts.push(e);
  }
  const path = m[3].replace(/\/+$/, '') || '/';
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(path)) return undefined;
  return { hosts, path, auth: m[1] };
}

/** The Exhibitor status URL; a bare base URL gets the standard path appended. */
export function exhibitorStatusUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/exhibitor/v1/cluster/status';
  return url;
}

/** A URL fit for logs and the HTTP API: any password replaced. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/)([^@/]+)@/i, (_, scheme: string, userinfo: string) => {
    const user = userinfo.split(':')[0];
    return `${scheme}${user}:REDACTED@`;
  });
}

export function parseMasterSource(m: Record<string, unknown>): MasterSource | SourceProblem {
  const given = SOURCE_KEYS.filter((k) => m[k] !== undefined);
  if (given.length > 1) {
    return {
      key: `mesos.${given[1]}`,
      value: m[given[1]],
      expected: `only one master source; "mesos.${given[0]}" is already set (choose one of ${SOURCE_KEYS.map((k) => `mesos.${k}`).join(', ')})`,
    };
  }
  if (m.zookeeper !== undefined) {
    const zk = typeof m.zookeeper === 'string' ? parseZooKeeperUrl(m.zookeeper.trim()) : undefined;
    if (!zk) return { key: 'mesos.zookeeper', value: m.zookeeper, expected: ZK_HINT };
    return { kind: 'zookeeper', ...zk, display: redactUrl(`zk://${zk.auth ? zk.auth + '@' : ''}${zk.hosts.map(formatEndpoint).join(',')}${zk.path}`) };
  }
  if (m.exhibitorUrl !== undefined) {
    const url = typeof m.exhibitorUrl === 'string' ? exhibitorStatusUrl(m.exhibitorUrl.trim()) : undefined;
    if (!url) {
      return { key: 'mesos.exhibitorUrl', value: m.exhibitorUrl, expected: 'an http(s) URL such as "http://10.0.0.1:8181" or ".../exhibitor/v1/cluster/status"' };
    }
    return { kind: 'exhibitor', url: url.toString(), display: redactUrl(url.toString()) };
  }
  if (m.masterListFile !== undefined) {
    if (typeof m.masterListFile !== 'string' || !m.masterListFile.startsWith('/')) {
      return { key: 'mesos.masterListFile', value: m.masterListFile, expected: 'an absolute file path such as "/opt/mesosphere/etc/master_list"' };
    }
    return { kind: 'file', path: m.masterListFile, display: m.masterListFile };
  }
  return { kind: 'static' };
}
