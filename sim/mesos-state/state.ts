// The part of a Mesos master's state (GET /master/state) that Mesos-DNS reads, checked once on the
// way in, and the small readings Mesos-DNS takes of it (mesos-dns records/state/state.go): UPIDs,
// port ranges, task IPs by source, the leader. Nothing here does I/O; hostnames that are not IP
// literals are never looked up (a resolver must not depend on DNS to build its own records).
import { isIP } from 'node:net';

export interface MesosState {
  /** The leading master's UPID, "master@10.0.0.1:5050". */
  leader?: string;
  leader_info?: {
    pid?: string;
    hostname?: string;
    port?: number;
    address?: { ip?: string; hostname?: string; port?: number };
  };
  slaves?: MesosSlave[];
  frameworks?: MesosFramework[];
}

export interface MesosSlave {
  id: string;
  /** "slave(1)@10.0.1.11:5051": Mesos-DNS takes the agent's address from here. */
  pid?: string;
  hostname?: string;
  port?: number;
}

export interface MesosFramework {
  name: string;
  /** The scheduler's UPID, "scheduler-…@10.0.0.5:15101". */
  pid?: string;
  hostname?: string;
  tasks?: MesosTask[];
}

export interface MesosTask {
  id: string;
  name: string;
  slave_id: string;
  state: string;
  resources?: { ports?: string };
  statuses?: TaskStatus[];
  discovery?: DiscoveryInfo;
}

export interface TaskStatus {
  state: string;
  timestamp?: number;
  labels?: Array<{ key: string; value: string }>;
  container_status?: {
    network_infos?: Array<{
      ip_addresses?: Array<{ ip_address?: string; protocol?: string }>;
      /** Mesos 0.25's single-address form. */
      ip_address?: string;
    }>;
  };
}

export interface DiscoveryInfo {
  name?: string;
  visibility?: string;
  ports?: { ports?: Array<{ number: number; name?: string; protocol?: string }> };
}

/** Where a task's own IP comes from, in Mesos-DNS's `IPSources` vocabulary. */
export type IPSource = 'netinfo' | 'mesos' | 'docker' | 'host';

export class MesosStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MesosStateError';
  }
}

// ---- checking the JSON --------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MesosStateError(`${path}: expected a list, got ${JSON.stringify(v)?.slice(0, 60)}`);
  return v;
}

function object(v: unknown, path: string): Obj {
  if (!isObject(v)) throw new MesosStateError(`${path}: expected an object, got ${JSON.stringify(v)?.slice(0, 60)}`);
  return v;
}

function string(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string')
    throw new MesosStateError(`${path}.${key}: expected a string, got ${JSON.stringify(v)?.slice(0, 60) ?? 'nothing'}`);
  return v;
}

/**
 * Checks that parsed JSON has the shape of a Mesos master state where Mesos-DNS reads it, and
 * returns it typed. Fields Mesos-DNS ignores are not checked. Throws MesosStateError naming the
 * first bad field, e.g. `frameworks[0].tasks[1].slave_id: expected a string`.
 */
export function parseMesosState(raw: unknown): MesosState {
  const state = object(raw, '(top level)');
  if (state.leader !== undefined && typeof state.leader !== 'string') string(state, 'leader', '');
  if (state.leader_info !== undefined) object(state.leader_info, 'leader_info');
  list(state.slaves, 'slaves').forEach((s, i) => {
    const slave = object(s, `slaves[${i}]`);
    string(slave, 'id', `slaves[${i}]`);
  });
  list(state.frameworks, 'frameworks').forEach((f, i) => {
    const path = `frameworks[${i}]`;
    const framework = object(f, path);
    string(framework, 'name', path);
    list(framework.tasks, `${path}.tasks`).forEach((t, j) => {
      const tpath = `${path}.tasks[${j}]`;
      const task = object(t, tpath);
      for (const key of ['id', 'name', 'slave_id', 'state']) string(task, key, tpath);
      list(task.statuses, `${tpath}.statuses`).forEach((st, k) => object(st, `${tpath}.statuses[${k}]`));
      if (task.discovery !== undefined && task.discovery !== null) object(task.discovery, `${tpath}.discovery`);
    });
  });
  return state as MesosState;
}

// ---- readings -----------------------------------------------------------------------------------

export interface IPAddress {
  ip: string;
  type: 'A' | 'AAAA';
}

/** An IP literal in one spelling (IPv6 per RFC 5952; IPv4-mapped IPv6 as IPv4, as Go's To4 does). */
export function ipAddress(text: string): IPAddress | undefined {
  const host = text.trim().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family === 4) return { ip: host, type: 'A' };
  if (family !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped && isIP(mapped[1]) === 4) return { ip: mapped[1], type: 'A' };
  const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    return { ip: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, type: 'A' };
  }
  return { ip: canonical, type: 'AAAA' };
}

export interface Upid {
  id: string;
  host: string;
  port?: number;
}

/** A libprocess UPID, "id@host:port" (host may be "[v6]"); undefined when it is not one. */
export function parseUpid(text: string | undefined): Upid | undefined {
  if (!text) return undefined;
  const parts = text.split('@');
  if (parts.length !== 2) return undefined;
  const hp = splitHostPort(parts[1]);
  if (!hp || hp.port === undefined || hp.port < 1 || hp.port > 65535) return undefined;
  return { id: parts[0], host: hp.host, port: hp.port };
}

/** "10.0.0.1:5050", "[fd00::1]:5050", or a bare IP literal. */
export function splitHostPort(text: string): { host: string; port?: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (m) return { host: m[1] ?? m[2], port: Number(m[3]) };
  return ipAddress(text) ? { host: text.trim().replace(/^\[(.*)\]$/, '$1') } : undefined;
}

/** The leading master's address: from `leader`, else from `leader_info` (newer masters). */
export function leaderOf(state: MesosState): { host: string; port?: number } | undefined {
  const fromLeader = parseUpid(state.leader);
  if (fromLeader) return fromLeader;
  const info = state.leader_info;
  if (!info) return undefined;
  const fromPid = parseUpid(info.pid);
  if (fromPid) return fromPid;
  const host = info.address?.ip ?? info.address?.hostname ?? info.hostname;
  const port = info.address?.port ?? info.port;
  return host ? { host, ...(port !== undefined ? { port } : {}) } : undefined;
}

/**
 * Ports from a Mesos ranges string, "[31000-31001, 31005-31005]" → 31000, 31001, 31005.
 * Ranges are clamped to 1–65535, so one bad value cannot make the loop run away.
 */
export function portsOf(ranges: string | undefined): number[] {
  if (!ranges) return [];
  const inner = /\[([^\]]*)\]/.exec(ranges)?.[1] ?? ranges;
  const ports: number[] = [];
  for (const part of inner.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const lo = Math.max(1, Number(m[1]));
    const hi = Math.min(65535, Number(m[2] ?? m[1]));
    for (let p = lo; p <= hi; p++) ports.push(p);
  }
  return ports;
}

// Mesos-DNS reads container IPs from these status labels (executors set them; Mesos ≥ 0.24).
export const DOCKER_IP_LABEL = 'Docker.NetworkSettings.IPAddress';
export const MESOS_IP_LABEL = 'MesosContainerizer.NetworkSettings.IPAddress';

/**
 * The latest TASK_RUNNING status by timestamp: Mesos makes no promise about the order of
 * statuses, so Mesos-DNS picks by time (first one on a tie).
 */
function latestRunning(statuses: TaskStatus[] | undefined): TaskStatus | undefined {
  let best: TaskStatus | undefined;
  let bestTs = -1;
  for (const s of statuses ?? []) {
    const ts = typeof s.timestamp === 'number' ? s.timestamp : 0;
    if (s.state === 'TASK_RUNNING' && ts > bestTs) {
      best = s;
      bestTs = ts;
    }
  }
  return best;
}

function sourceIPs(task: MesosTask, source: IPSource, slaveIPs: IPAddress[]): string[] {
  if (source === 'host') return slaveIPs.map((a) => a.ip);
  const status = latestRunning(task.statuses);
  if (!status) return [];
  if (source === 'netinfo') {
    return (status.container_status?.network_infos ?? []).flatMap((ni) =>
      ni.ip_addresses && ni.ip_addresses.length > 0 ? ni.ip_addresses.map((a) => a.ip_address ?? '') : ni.ip_address ? [ni.ip_address] : [],
    );
  }
  const key = source === 'docker' ? DOCKER_IP_LABEL : MESOS_IP_LABEL;
  return (status.labels ?? []).filter((l) => l.key === key).map((l) => l.value);
}

/** The task's IPs from the first source, in priority order, that yields any (Mesos-DNS's rule). */
export function taskIPs(task: MesosTask, sources: readonly IPSource[], slaveIPs: IPAddress[]): IPAddress[] {
  for (const source of sources) {
    const ips = sourceIPs(task, source, slaveIPs).flatMap((text) => {
      const a = typeof text === 'string' ? ipAddress(text) : undefined;
      return a ? [a] : [];
    });
    if (ips.length > 0) return ips;
  }
  return [];
}
