// Record listings in the shapes Mesos-DNS and dcos-dns users script against.
import type { Answer } from 'dns-packet';

export interface HostEntry {
  host: string;
  ip: string;
}
export interface ServiceEntry {
  service: string;
  host: string;
  ip: string;
  port: string;
}
export interface RecordEntry {
  name: string;
  host: string;
  rtype: string;
}

type Data = { data?: unknown; type: string; name: string };

export function hostEntries(host: string, answers: readonly Answer[]): HostEntry[] {
  return (answers as Data[]).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => ({ host, ip: String(a.data) }));
}

/** SRV answers joined with the target addresses from the additional section. */
export function serviceEntries(service: string, answers: readonly Answer[], additionals: readonly Answer[]): ServiceEntry[] {
  const addresses = new Map<string, string[]>();
  for (const a of additionals as Data[]) {
    if (a.type !== 'A' && a.type !== 'AAAA') continue;
    const key = a.name.toLowerCase();
    addresses.set(key, [...(addresses.get(key) ?? []), String(a.data)]);
  }
  const out: ServiceEntry[] = [];
  for (const a of answers as Data[]) {
    if (a.type !== 'SRV') continue;
    const srv = a.data as { target: string; port: number };
    const ips = addresses.get(srv.target.toLowerCase()) ?? [''];
    for (const ip of ips) out.push({ service, host: srv.target, ip, port: String(srv.port) });
  }
  return out;
}

/** Every record of the local zones; SRV hosts as "target:port", as Mesos-DNS does. */
export function recordEntries(records: readonly { name: string; type: string; data: unknown }[]): RecordEntry[] {
  return records.map((r) => {
    let host: string;
    if (r.type === 'SRV') {
      const srv = r.data as { target: string; port: number };
      host = `${srv.target}:${srv.port}`;
    } else if (r.type === 'SOA') {
      const soa = r.data as { mname: string; rname: string };
      host = `${soa.mname} ${soa.rname}`;
    } else {
      host = String(r.data);
    }
    return { name: r.name, host, rtype: r.type };
  });
}
