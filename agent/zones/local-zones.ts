// The zones the agent is authoritative for: spartan, zk and localhost. Building them is pure;
// answering is a lookup plus round-robin rotation of multi-record answers.
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer } from 'dns-packet';
import { Type } from '../../common/dns/wire.js';
import { zkHostsByName } from './zk-ensemble.js';

/** dcos-dns's values, which scripts and health checks written for DC/OS rely on (docs/design.md). */
export const LOCAL_TTL = 5;
const NS_TTL = 3600;
const NS_NAME = 'ns.spartan';
const NS_ADDRESS = '198.51.100.1';
const SOA_DATA = {
  mname: NS_NAME,
  rname: 'support.mesosphere.com',
  serial: 1,
  refresh: 60,
  retry: 180,
  expire: 86400,
  minimum: 1,
};

export interface Zone {
  /** Canonical apex name. */
  apex: string;
  soa: Answer;
  /** Records by canonical owner name. */
  names: Map<string, Answer[]>;
}

function zone(apex: string, records: Answer[]): Zone {
  const soa: Answer = { name: apex, type: 'SOA', class: 'IN', ttl: LOCAL_TTL, data: SOA_DATA };
  const ns: Answer = { name: apex, type: 'NS', class: 'IN', ttl: NS_TTL, data: NS_NAME };
  const names = new Map<string, Answer[]>();
  for (const r of [soa, ns, ...records]) {
    const list = names.get(r.name) ?? [];
    list.push(r);
    names.set(r.name, list);
  }
  return { apex, soa, names };
}

function address(name: string, ip: string): Answer {
  return isIPv6(ip)
    ? { name, type: 'AAAA', class: 'IN', ttl: LOCAL_TTL, data: ip }
    : { name, type: 'A', class: 'IN', ttl: LOCAL_TTL, data: ip };
}

export function spartanZone(): Zone {
  return zone('spartan', [address('ready.spartan', '127.0.0.1'), address(NS_NAME, NS_ADDRESS)]);
}

/** zk-1.zk … zk-5.zk from the ensemble; with no ZooKeepers known the zone holds only SOA/NS. */
export function zkZone(ensemble: readonly string[]): Zone {
  const hosts = zkHostsByName(ensemble.filter((h) => isIPv4(h) || isIPv6(h)));
  return zone(
    'zk',
    hosts.map((ip, i) => address(`zk-${i + 1}.zk`, ip)),
  );
}

export function localhostZone(): Zone {
  return zone('localhost', [address('localhost', '127.0.0.1'), address('localhost', '::1')]);
}

export interface LocalAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  authorities: Answer[];
  /** Which turn of the round robin this is (0 when there is nothing to rotate). */
  turn: number;
}

/**
 * Answers one question from a zone. `rotation` is a counter the caller advances per query so
 * that several records come back in turn (round robin).
 */
export function answerFromZone(z: Zone, name: string, qtype: number, typeName: string, rotation: number): LocalAnswer {
  const records = z.names.get(name);
  if (!records) return { rcode: 'NXDOMAIN', answers: [], authorities: [z.soa], turn: 0 };
  const matching = qtype === Type.ANY ? records : records.filter((r) => r.type === typeName);
  if (matching.length === 0) return { rcode: 'NOERROR', answers: [], authorities: [z.soa], turn: 0 };
  const k = rotation % matching.length;
  return { rcode: 'NOERROR', answers: [...matching.slice(k), ...matching.slice(0, k)], authorities: [], turn: k };
}
