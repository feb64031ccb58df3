// Mesos master state → the record set Mesos-DNS serves for it, by Mesos-DNS's naming rules
// (mesos-dns records/generator.go; docs/naming.md). Pure: the demo's simulated Mesos-DNS servers
// answer from it.
//
// For a task `T` of framework `F` on agent `S`, with D the domain, `t` = T mangled (its
// DiscoveryInfo name when it has one), `f` = F mangled label by label, and the canonical name
// `c` = `t-<hash>-<s>` (hash: 5 z-base-32 characters of the SHA-1 of the task ID; s: the part of
// the agent ID after its last '-', lower case):
//
//   t.f.D, c.f.D                     A/AAAA  the task's IPs (first IP source that has any)
//   t.f.slave.D, c.f.slave.D         A/AAAA  the agent's IPs
//   _t._tcp.f.slave.D, _t._udp…      SRV     c.f.slave.D : each port of the task's "ports" resource
//   _t._tcp.f.D, _t._udp.f.D         SRV     the same, when the task has no DiscoveryInfo
//   _t._<proto>.f.D, _<name>._t…     SRV     c.f.D : each DiscoveryInfo port (named ones twice)
//   f.D A, _framework._tcp.f.D SRV           the scheduler's address and port
//   slave.D A, _slave._tcp.D SRV             every agent
//   leader.D, master.D, masterN.D A; _leader._tcp.D, _leader._udp.D SRV
//   ns1.D A (the Mesos-DNS servers' own addresses, when given); D SOA and NS
//
// Only TASK_RUNNING tasks on agents present in the state get records. SRV records have priority 0
// and weight 1 (Mesos-DNS's SRVRecordDefaultWeight). Names are lower case, without trailing dot.
//
// Where this differs from Mesos-DNS, on purpose:
// - Hostnames that are not IP literals are never looked up (Mesos-DNS resolves them with the
//   system resolver); such agents, schedulers and leaders simply get no address records.
// - Mesos-DNS also emits DiscoveryInfo names *un*mangled (marked LEGACY in its source); those can
//   hold characters no query can match, and are left out.
// - A task or framework whose name mangles to nothing is skipped rather than given an empty label.
import { createHash } from 'node:crypto';
import type { SoaAnswer, SrvAnswer, StringAnswer } from 'dns-packet';
import { type LabelRule, domainFrag, rfc1123Label, rfc952Label } from './mangle.js';
import {
  type IPAddress,
  type IPSource,
  type MesosFramework,
  type MesosState,
  type MesosTask,
  MesosStateError,
  ipAddress,
  leaderOf,
  parseUpid,
  portsOf,
  splitHostPort,
  taskIPs,
} from './state.js';

export interface MesosRecordOptions {
  /** The Mesos-DNS domain. Default "mesos". */
  domain?: string;
  /** Where task IPs come from, first populated source wins. Default Mesos-DNS's: netinfo, mesos, host. */
  ipSources?: readonly IPSource[];
  /** Mangle with RFC 952 (24 characters, leading letter) instead of RFC 1123. Default false. */
  enforceRFC952?: boolean;
  /** TTL of every record. Default 60. */
  ttl?: number;
  /** Mesos-DNS's "masters": the Mesos masters, "ip:port", for master.D and masterN.D. */
  masters?: readonly string[];
  /** Addresses the Mesos-DNS server itself listens on: A/AAAA records for the SOA mname. */
  nameserverIPs?: readonly string[];
  /** SOA mname and NS target. Default "ns1.<domain>". */
  soaMname?: string;
  /** SOA rname. Default "root.<soaMname>". */
  soaRname?: string;
  /** SOA serial (Mesos-DNS uses the time of its last refresh). Default 1. */
  serial?: number;
}

/** What the generator emits: A/AAAA/NS (string data), SRV and SOA; a dns-packet Answer each. */
export type MesosRecord = StringAnswer | SrvAnswer | SoaAnswer;

export const DEFAULT_IP_SOURCES: readonly IPSource[] = ['netinfo', 'mesos', 'host'];
const SRV_WEIGHT = 1;
const SOA_TIMERS = { refresh: 60, retry: 600, expire: 86400 };

const joinHostPort = (ip: IPAddress, port: number): string => (ip.type === 'AAAA' ? `[${ip.ip}]:${port}` : `${ip.ip}:${port}`);

/** z-base-32 (human-oriented base 32) of the first 25 bits: Mesos-DNS's 5-character task hash. */
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';
export function taskHash(taskId: string): string {
  const bits = createHash('sha1').update(taskId).digest().readUInt32BE(0);
  let out = '';
  for (let i = 0; i < 5; i++) out += ZBASE32[(bits >>> (27 - 5 * i)) & 31];
  return out;
}

/** "…-S1" → "s1": the agent's sequence number, which keeps canonical names short. */
export function slaveIdTail(slaveId: string): string {
  const fields = slaveId.split('-');
  return fields[fields.length - 1].toLowerCase();
}

/** Collects records once each (Mesos-DNS keeps a set per name and type), in insertion order. */
class RecordSet {
  private readonly seen = new Set<string>();
  readonly records: MesosRecord[] = [];
  constructor(private readonly ttl: number) {}

  address(name: string, a: IPAddress): boolean {
    return this.add(`${a.type} ${name} ${a.ip}`, { name, type: a.type, class: 'IN', ttl: this.ttl, data: a.ip });
  }

  srv(name: string, target: string, port: number): void {
    const record: SrvAnswer = { name, type: 'SRV', class: 'IN', ttl: this.ttl, data: { priority: 0, weight: SRV_WEIGHT, port, target } };
    this.add(`SRV ${name} ${target}:${port}`, record);
  }

  add(key: string, record: MesosRecord): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.records.push(record);
    return true;
  }
}

/**
 * Every record Mesos-DNS would serve for `state`. Throws MesosStateError when the state names no
 * leader: Mesos-DNS then keeps its previous records, and so should a caller.
 */
export function mesosRecords(state: MesosState, opts: MesosRecordOptions = {}): MesosRecord[] {
  const domain = (opts.domain ?? 'mesos').toLowerCase().replace(/\.+$/, '');
  const rule: LabelRule = opts.enforceRFC952 ? rfc952Label : rfc1123Label;
  const ipSources = opts.ipSources ?? DEFAULT_IP_SOURCES;
  const ttl = opts.ttl ?? 60;
  const out = new RecordSet(ttl);

  const leader = leaderOf(state);
  if (!leader) throw new MesosStateError('the state names no leading master ("leader" or "leader_info"); Mesos-DNS ignores such a state');

  frameworkRecords(state, domain, rule, out);
  const slaveIPs = slaveRecords(state, domain, out);
  nameserverRecords(opts, domain, out);
  masterRecords(leader, opts.masters ?? [], domain, out);
  for (const framework of state.frameworks ?? []) {
    for (const task of framework.tasks ?? []) {
      const ips = slaveIPs.get(task.slave_id);
      if (ips && task.state === 'TASK_RUNNING') taskRecords(task, framework, ips, domain, rule, ipSources, out);
    }
  }
  apexRecords(opts, domain, ttl, out);
  return out.records;
}

function frameworkRecords(state: MesosState, domain: string, rule: LabelRule, out: RecordSet): void {
  for (const f of state.frameworks ?? []) {
    const upid = parseUpid(f.pid);
    const ip = ipAddress(upid?.host ?? f.hostname ?? '');
    const fname = domainFrag(f.name, rule);
    if (!ip || fname === '') continue;
    const name = `${fname}.${domain}`;
    out.address(name, ip);
    if (upid?.port) out.srv(`_framework._tcp.${name}`, name, upid.port);
  }
}

/** slave.D and _slave._tcp.D; returns each agent's IPs by agent ID (empty when not an IP literal). */
function slaveRecords(state: MesosState, domain: string, out: RecordSet): Map<string, IPAddress[]> {
  const byId = new Map<string, IPAddress[]>();
  const name = `slave.${domain}`;
  for (const s of state.slaves ?? []) {
    const upid = parseUpid(s.pid);
    const ip = ipAddress(upid?.host ?? s.hostname ?? '');
    byId.set(s.id, ip ? [ip] : []);
    if (!ip) continue;
    out.address(name, ip);
    const port = upid?.port ?? s.port;
    if (port) out.srv(`_slave._tcp.${domain}`, name, port);
  }
  return byId;
}

function nameserverRecords(opts: MesosRecordOptions, domain: string, out: RecordSet): void {
  const mname = (opts.soaMname ?? `ns1.${domain}`).toLowerCase().replace(/\.+$/, '');
  for (const text of opts.nameserverIPs ?? []) {
    const ip = ipAddress(text);
    if (ip) out.address(mname, ip);
  }
}

/** leader.D, master.D, masterN.D in the order of the masters list, the leader numbered last if unlisted. */
function masterRecords(leader: { host: string; port?: number }, masters: readonly string[], domain: string, out: RecordSet): void {
  const ip = ipAddress(leader.host);
  if (!ip) return;
  const leaderName = `leader.${domain}`;
  const allName = `master.${domain}`;
  out.address(leaderName, ip);
  out.address(allName, ip);
  if (leader.port) {
    out.srv(`_leader._tcp.${domain}`, leaderName, leader.port);
    out.srv(`_leader._udp.${domain}`, leaderName, leader.port);
  }
  const leaderAddress = leader.port ? joinHostPort(ip, leader.port) : undefined;
  let index = 0;
  let leaderNumbered = false;
  for (const master of masters) {
    const split = splitHostPort(master);
    const masterIP = split && ipAddress(split.host);
    if (!masterIP) continue;
    const isLeader = split.port !== undefined && joinHostPort(masterIP, split.port) === leaderAddress;
    // A master listed twice is numbered once; the leader is in master.D already.
    if (!out.address(allName, masterIP) && !isLeader) continue;
    if (isLeader && leaderNumbered) continue;
    out.address(`master${index}.${domain}`, masterIP);
    index++;
    if (isLeader) leaderNumbered = true;
  }
  if (!leaderNumbered) out.address(`master${index}.${domain}`, ip);
}

function taskRecords(
  task: MesosTask,
  framework: MesosFramework,
  slaveIPs: IPAddress[],
  domain: string,
  rule: LabelRule,
  ipSources: readonly IPSource[],
  out: RecordSet,
): void {
  const fname = domainFrag(framework.name, rule);
  const discovery = task.discovery?.name ? task.discovery : undefined;
  const taskName = rule(discovery?.name ?? task.name);
  if (fname === '' || taskName === '') return;

  const canonical = `${taskName}-${taskHash(task.id)}-${slaveIdTail(task.slave_id)}.${fname}`;
  const short = `${taskName}.${fname}`;
  for (const ip of taskIPs(task, ipSources, slaveIPs)) {
    out.address(`${short}.${domain}`, ip);
    out.address(`${canonical}.${domain}`, ip);
  }
  for (const ip of slaveIPs) {
    out.address(`${short}.slave.${domain}`, ip);
    out.address(`${canonical}.slave.${domain}`, ip);
  }

  // Host ports: always under .slave (the target is the agent), and under the framework itself
  // too when the task does not describe its own ports with DiscoveryInfo.
  const slaveTarget = `${canonical}.slave.${domain}`;
  const subdomains = discovery ? ['.slave'] : ['.slave', ''];
  for (const port of portsOf(task.resources?.ports)) {
    for (const sub of subdomains) {
      for (const proto of ['tcp', 'udp']) out.srv(`_${taskName}._${proto}.${fname}${sub}.${domain}`, slaveTarget, port);
    }
  }
  if (!discovery) return;

  // DiscoveryInfo ports: the task's own port numbers, on the task's name (its own IPs).
  const target = `${canonical}.${domain}`;
  for (const p of discovery.ports?.ports ?? []) {
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > 65535) continue;
    const proto = rule(p.protocol ?? '');
    const portName = rule(p.name ?? '');
    for (const pr of proto ? [proto] : ['tcp', 'udp']) {
      const service = `_${taskName}._${pr}.${fname}.${domain}`;
      out.srv(service, target, p.number);
      if (portName) out.srv(`_${portName}.${service}`, target, p.number);
    }
  }
}

function apexRecords(opts: MesosRecordOptions, domain: string, ttl: number, out: RecordSet): void {
  const mname = (opts.soaMname ?? `ns1.${domain}`).toLowerCase().replace(/\.+$/, '');
  const rname = (opts.soaRname ?? `root.${mname}`).toLowerCase().replace(/\.+$/, '');
  out.add(`SOA ${domain}`, {
    name: domain,
    type: 'SOA',
    class: 'IN',
    ttl,
    data: { mname, rname, serial: opts.serial ?? 1, ...SOA_TIMERS, minimum: ttl },
  });
  out.add(`NS ${domain}`, { name: domain, type: 'NS', class: 'IN', ttl, data: mname });
}
