// The bench's Mesos-DNS masters and upstream resolvers: one NSD process each (Debian's nsd), on
// 127.0.0.11–13 and 127.0.0.21–22 and one shared port, so they answer far faster than either peer
// forwards and the figures measure the forwarders, not the servers behind them.
//
// Like Mesos-DNS, the masters cut UDP answers at 512 bytes with TC even for a client that offers
// EDNS (`ipv4-edns-size: 512`), so the big app needs the TCP retry. A "hung" master is its whole
// process group stopped with SIGSTOP: its sockets stay open, the kernel queues what is sent to it,
// and nothing ever answers; SIGCONT brings it back.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLoopback, bindUdpAndTcp, freePort } from '../../sim/ports.js';
import { onCleanup, stopChild, trackGroup } from './cleanup.js';
import { waitUntilAnswering } from './dig.js';
import { ADDRESSES, CACHE_TTL_S } from './settings.js';
import { mesosZone, upstreamZone } from './zones.js';

export interface NsdServer {
  name: string;
  endpoint: string;
  /** Its process group (nsd forks a server and a transfer process). */
  pgid: number;
  hang(): void;
  resume(): void;
}

export interface Servers {
  port: number;
  masters: NsdServer[];
  upstreams: NsdServer[];
  all: NsdServer[];
}

interface NsdConfig {
  dir: string;
  address: string;
  port: number;
  zone: string;
  zoneFile: string;
  /** The largest UDP answer, EDNS or not; 512 makes NSD truncate like Mesos-DNS. */
  ednsSize: number;
}

export function nsdConf(c: NsdConfig): string {
  return `# written by the phalanx-dns bench; everything in ${c.dir}
server:
  ip-address: ${c.address}@${c.port}
  port: ${c.port}
  do-ip6: no
  server-count: 1
  reuseport: no
  tcp-count: 256
  username: ""
  chroot: ""
  zonesdir: "${c.dir}"
  database: ""
  zonelistfile: "${c.dir}/zone.list"
  xfrdfile: ""
  xfrdir: "${c.dir}"
  pidfile: "${c.dir}/nsd.pid"
  logfile: "${c.dir}/nsd.log"
  verbosity: 0
  hide-version: yes
  minimal-responses: yes
  refuse-any: yes
  ipv4-edns-size: ${c.ednsSize}
  # Response rate limiting is on by default (200 q/s per /24): it would drop most of the bench.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: ${c.zone}
  zonefile: "${c.zoneFile}"
`;
}

/** A port free for UDP and TCP on every address, so all five servers share one number. */
async function commonFreePort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(addresses[0]);
    const bound = [];
    try {
      for (const a of addresses.slice(1)) bound.push(await bindUdpAndTcp(a, port));
      return port;
    } catch {
      // taken on one of them: try another number
    } finally {
      for (const b of bound) {
        b.udp.close();
        b.tcp.close();
      }
    }
  }
  throw new Error(`no port free on all of ${addresses.join(' ')}`);
}

async function startNsd(nsd: string, name: string, c: NsdConfig, zoneText: string): Promise<NsdServer> {
  assertLoopback(c.address);
  mkdirSync(c.dir, { recursive: true });
  writeFileSync(c.zoneFile, zoneText);
  const confFile = join(c.dir, 'nsd.conf');
  writeFileSync(confFile, nsdConf(c));
  // detached: its own process group, so SIGSTOP reaches the forked server process too.
  const child: ChildProcess = spawn(nsd, ['-d', '-c', confFile], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const pgid = child.pid!;
  trackGroup(pgid);
  onCleanup(() => stopChild(child, 3000, true));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const endpoint = `${c.address}:${c.port}`;
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (!(await waitUntilAnswering(endpoint, c.zone, 'SOA', alive))) {
    throw new Error(`nsd ${name} did not answer on ${endpoint} (see ${c.dir}/nsd.log): ${stderr}`);
  }
  return {
    name,
    endpoint,
    pgid,
    hang: () => process.kill(-pgid, 'SIGSTOP'),
    resume: () => process.kill(-pgid, 'SIGCONT'),
  };
}

export async function startServers(nsd: string, dir: string): Promise<Servers> {
  const port = await commonFreePort([...ADDRESSES.masters, ...ADDRESSES.upstreams]);
  const start = (name: string, address: string, zone: 'mesos' | 'example.org') =>
    startNsd(
      nsd,
      name,
      { dir: join(dir, name), address, port, zone, zoneFile: join(dir, name, `${zone}.zone`), ednsSize: zone === 'mesos' ? 512 : 1232 },
      zone === 'mesos' ? mesosZone(ADDRESSES.masters[0]) : upstreamZone(CACHE_TTL_S),
    );
  const masters = await Promise.all(ADDRESSES.masters.map((a, i) => start(`master-${i + 1}`, a, 'mesos')));
  const upstreams = await Promise.all(ADDRESSES.upstreams.map((a, i) => start(`upstream-${i + 1}`, a, 'example.org')));
  return { port, masters, upstreams, all: [...masters, ...upstreams] };
}
