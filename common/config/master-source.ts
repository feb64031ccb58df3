// Where the list of masters comes from: a static list, ZooKeeper (as Mesos registers itself),
// Exhibitor, or a master_list file. Exactly one; this parses and checks that choice.
import { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';
import { ConfigError } from './error.js';
import type { Group } from './table.js';

export type MasterSource =
  | { kind: 'static' }
  | { kind: 'zookeeper'; hosts: Endpoint[]; path: string; auth: string | undefined; display: string }
  | { kind: 'exhibitor'; url: string; display: string }
  | { kind: 'file'; path: string; display: string };

/** The keys that each name a source; "masters" is declared on its own, as the static list. */
const SOURCE_KEYS = ['masters', 'zookeeper', 'exhibitorUrl', 'masterListFile'] as const;

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

const EXHIBITOR_HINT = 'an http(s) URL such as "http://10.0.0.1:8181" or ".../exhibitor/v1/cluster/status"';
const FILE_HINT = 'an absolute file path such as "/opt/mesosphere/etc/master_list"';

/** The dynamic source keys of the mesos section, read together: at most one source may be set. */
export function masterSource(meaning: { zookeeper: string; exhibitorUrl: string; masterListFile: string }): Group<MasterSource> {
  return {
    kind: 'group',
    docs: {
      zookeeper: { default: 'none', valid: '`"zk://ip[:port],…/path"`, optional `user:password@`', meaning: meaning.zookeeper },
      exhibitorUrl: { default: 'none', valid: 'an http(s) URL', meaning: meaning.exhibitorUrl },
      masterListFile: { default: 'none', valid: 'an absolute path', meaning: meaning.masterListFile },
    },
    read: (m, at) => readMasterSource(m, at.key),
    // Secrets in source URLs (ZooKeeper digest auth, Exhibitor basic auth) never leave as written.
    show: (s, mesos) =>
      s.kind === 'static'
        ? { kind: 'static', masters: (mesos.masters as Endpoint[]).map(formatEndpoint) }
        : { kind: s.kind, location: s.display },
  };
}

function readMasterSource(m: Record<string, unknown>, section: string): MasterSource {
  const given = SOURCE_KEYS.filter((k) => m[k] !== undefined);
  if (given.length > 1) {
    const all = SOURCE_KEYS.map((k) => `${section}.${k}`).join(', ');
    const expected = `only one master source; "${section}.${given[0]}" is already set (choose one of ${all})`;
    throw new ConfigError(`${section}.${given[1]}`, m[given[1]], expected);
  }
  if (m.zookeeper !== undefined) {
    const zk = typeof m.zookeeper === 'string' ? parseZooKeeperUrl(m.zookeeper.trim()) : undefined;
    if (!zk) throw new ConfigError(`${section}.zookeeper`, m.zookeeper, ZK_HINT);
    return {
      kind: 'zookeeper',
      ...zk,
      display: redactUrl(`zk://${zk.auth ? zk.auth + '@' : ''}${zk.hosts.map(formatEndpoint).join(',')}${zk.path}`),
    };
  }
  if (m.exhibitorUrl !== undefined) {
    const url = typeof m.exhibitorUrl === 'string' ? exhibitorStatusUrl(m.exhibitorUrl.trim()) : undefined;
    if (!url) throw new ConfigError(`${section}.exhibitorUrl`, m.exhibitorUrl, EXHIBITOR_HINT);
    return { kind: 'exhibitor', url: url.toString(), display: redactUrl(url.toString()) };
  }
  if (m.masterListFile !== undefined) {
    if (typeof m.masterListFile !== 'string' || !m.masterListFile.startsWith('/')) {
      throw new ConfigError(`${section}.masterListFile`, m.masterListFile, FILE_HINT);
    }
    return { kind: 'file', path: m.masterListFile, display: m.masterListFile };
  }
  return { kind: 'static' };
}
