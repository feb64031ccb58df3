// What each discovery source returns, checked before it can replace a good master list.
// Pure: every kind of garbage becomes a DiscoveryError that says what was wrong.
import { isIP } from 'node:net';
import { parseEndpoint } from '../../common/config/endpoint.js';

export interface DiscoveredCluster {
  /** Master IPs, leader first when known. */
  masters: string[];
  leader?: string;
  /** The ZooKeeper ensemble, when the source knows it. */
  zookeepers?: string[];
}

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/** An IP literal in one spelling per address (RFC 5952 for IPv6), so a list holds each once; else undefined. */
function canonicalIp(text: string): string | undefined {
  const ip = text.trim();
  const family = isIP(ip);
  if (family === 0) return undefined;
  return family === 4 ? ip : parseEndpoint(`[${ip}]`, 1)?.host;
}

function ipList(items: unknown[], what: string): string[] {
  const out: string[] = [];
  items.forEach((item, i) => {
    const ip = typeof item === 'string' ? canonicalIp(item) : undefined;
    if (ip === undefined) throw new DiscoveryError(`${what}[${i}] is ${JSON.stringify(item)}, not an IP address`);
    if (!out.includes(ip)) out.push(ip);
  });
  if (out.length === 0) throw new DiscoveryError(`${what} is empty`);
  return out;
}

function parseJsonArray(text: string, of: string): unknown[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new DiscoveryError(`not a JSON array of ${of}`);
  return raw;
}

/** A DC/OS master_list file: a JSON array of IP strings. */
export function parseMasterListFile(text: string): DiscoveredCluster {
  const raw = parseJsonArray(text, 'IP addresses');
  return { masters: ipList(raw, 'the master list') };
}

/** Exhibitor's /exhibitor/v1/cluster/status: [{hostname, code, description, isLeader}, …]. */
export function parseExhibitorStatus(text: string): DiscoveredCluster {
  const raw = parseJsonArray(text, 'servers');
  const hosts = ipList(
    raw.map((s) => (typeof s === 'object' && s !== null ? (s as { hostname?: unknown }).hostname : s)),
    'the Exhibitor server list hostname',
  );
  const leaderEntry = raw.find((s) => typeof s === 'object' && s !== null && (s as { isLeader?: unknown }).isLeader === true);
  const leader = leaderEntry ? canonicalIp(String((leaderEntry as { hostname: string }).hostname)) : undefined;
  // Masters and ZooKeepers are the same hosts in a DC/OS cluster.
  return { masters: hosts, leader, zookeepers: hosts };
}

/** One `json.info_<seq>` znode: Mesos's MasterInfo as JSON. Returns the master's IP. */
export function parseMasterInfo(text: string): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(`MasterInfo is not valid JSON (${(err as Error).message})`);
  }
  const address = (raw as { address?: { ip?: unknown; hostname?: unknown } } | null)?.address;
  const hostname = (raw as { hostname?: unknown } | null)?.hostname;
  for (const candidate of [address?.ip, address?.hostname, hostname]) {
    const ip = typeof candidate === 'string' ? canonicalIp(candidate) : undefined;
    if (ip !== undefined) return ip;
  }
  throw new DiscoveryError(`MasterInfo has no IP address (address.ip ${JSON.stringify(address?.ip)})`);
}

/** The sequence number of a Mesos master znode, or undefined for other children. */
export function masterSequence(child: string): number | undefined {
  const m = /^json\.info_(\d+)$/.exec(child);
  return m ? Number(m[1]) : undefined;
}

/**
 * ZooKeeper 3.5+'s /zookeeper/config: lines "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181",
 * an IPv6 server in brackets ("server.2=[fd00::2]:2888:3888:participant;…"). Returns the server
 * hosts in id order (IP literals only); observers are left out.
 */
export function parseZooKeeperConfig(text: string): string[] {
  const servers: Array<{ id: number; host: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^server\.(\d+)=(?:\[([^\]]+)\]|([^:;]+))((?::[^:;]*)*)/.exec(line.trim());
    if (!m) continue;
    // After the host: ":quorumPort:electionPort[:role]".
    const role = m[4].split(':')[3];
    const host = canonicalIp(m[2] ?? m[3]);
    if (role === 'observer' || host === undefined) continue;
    servers.push({ id: Number(m[1]), host });
  }
  return servers.sort((a, b) => a.id - b.id).map((s) => s.host);
}
