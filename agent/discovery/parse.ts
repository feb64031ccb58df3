// What each discovery source returns, checked before it can replace a good master list.
// Pure: every kind of garbage becomes a DiscoveryError that says what was wrong.
import { isIP } from 'node:net';

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

function ipList(items: unknown[], what: string): string[] {
  const out: string[] = [];
  items.forEach((item, i) => {
    if (typeof item !== 'string' || isIP(item.trim()) === 0) {
      throw new DiscoveryError(`${what}[${i}] is ${JSON.stringify(item)}, not an IP address`);
    }
    if (!out.includes(item.trim())) out.push(item.trim());
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
  const leader = leaderEntry ? String((leaderEntry as { hostname: string }).hostname).trim() : undefined;
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
    if (typeof candidate === 'string' && isIP(candidate) !== 0) return candidate;
  }
  throw new DiscoveryError(`MasterInfo has no IP address (address.ip ${JSON.stringify(address?.ip)})`);
}

/** The sequence number of a Mesos master znode, or undefined for other children. */
export function masterSequence(child: string): number | undefined {
  const m = /^json\.info_(\d+)$/.exec(child);
  return m ? Number(m[1]) : undefined;
}

/**
 * ZooKeeper 3.5+'s /zookeeper/config: lines "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181".
 * Returns the server hosts in id order (IP literals only); observers are left out.
 */
export function parseZooKeeperConfig(text: string): string[] {
  const servers: Array<{ id: number; host: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^server\.(\d+)=([^;]+)/.exec(line.trim());
    if (!m) continue;
    const parts = m[2].split(':');
    const role = parts[3];
    let host = parts[0];
    if (host.startsWith('[')) host = m[2].slice(1, m[2].indexOf(']'));
    if (role === 'observer' || isIP(host) === 0) continue;
    servers.push({ id: Number(m[1]), host });
  }
  return servers.sort((a, b) => a.id - b.id).map((s) => s.host);
}
