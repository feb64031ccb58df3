// The bench's Mesos-DNS masters and upstream resolvers, on 127.0.0.11–13 and 127.0.0.21–22 and one
// shared port, in two kinds that take turns on the same addresses (the peers never notice which):
//
// - zone servers, one NSD process each (the binary from Debian's nsd package), serving the generated zones of zones.ts.
//   Like Mesos-DNS, the masters cut UDP answers at 512 bytes with TC even for a client that offers
//   EDNS (`ipv4-edns-size: 512`), so the big apps need the TCP retry. The chaos suite uses these.
// - fast servers, one fast-server.c process each, answering every A question with one address at
//   about 6 µs of CPU an answer, against 12–16 for NSD or dnsmasq `--address=/mesos/…`: so that at
//   a peer's full rate the masters, sharing one CPU with dnsperf, are not what runs out first
//   (dnsmasq --all-servers makes them answer three times its rate). The throughput and latency
//   targets are measured against these.
//
// A "hung" server is its whole process group stopped with SIGSTOP: its sockets stay open, the
// kernel queues what is sent to it, and nothing ever answers; SIGCONT brings it back.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertLoopback, bindUdpAndTcp, freePort } from '../../sim/ports.js';
import { onCleanup, stopChild, trackGroup } from './cleanup.js';
import { waitUntilAnswering } from './dig.js';
import { ADDRESSES, CACHE_TTL_S, REPO_ROOT } from './settings.js';
import { MESOS_TTL, mesosZone, upstreamZone } from './zones.js';

export interface SimServer {
  name: string;
  endpoint: string;
  /** Its process group (nsd forks a server and a transfer process). */
  pgid: number;
  hang(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Kept for the chaos suite, which names the NSD servers so. */
export type NsdServer = SimServer;

export interface Servers {
  /** "nsd" (the zones) or "fast" (fast-server.c: any name, one address). */
  kind: 'nsd' | 'fast';
  port: number;
  masters: SimServer[];
  upstreams: SimServer[];
  all: SimServer[];
  /** Each server's command line, for the results. */
  commands: string[][];
  stop(): Promise<void>;
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
export async function commonFreePort(addresses: string[] = [...ADDRESSES.masters, ...ADDRESSES.upstreams]): Promise<number> {
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

/** Starts `cmd` in a process group of its own and waits until it answers `probe` on `endpoint`. */
async function startServer(
  name: string,
  cmd: string,
  args: string[],
  endpoint: string,
  probe: { name: string; type: 'A' | 'SOA' },
  logHint: string,
): Promise<SimServer> {
  // detached: its own process group, so SIGSTOP reaches a forked server process too.
  const child: ChildProcess = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const pgid = child.pid!;
  trackGroup(pgid);
  const stop = () => stopChild(child, 3000, true);
  onCleanup(stop);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (!(await waitUntilAnswering(endpoint, probe.name, probe.type, alive))) {
    throw new Error(`${name} did not answer on ${endpoint}${logHint}: ${stderr}`);
  }
  return {
    name,
    endpoint,
    pgid,
    hang: () => process.kill(-pgid, 'SIGSTOP'),
    resume: () => process.kill(-pgid, 'SIGCONT'),
    stop,
  };
}

function serverSet(kind: Servers['kind'], port: number, masters: SimServer[], upstreams: SimServer[], commands: string[][]): Servers {
  const all = [...masters, ...upstreams];
  return { kind, port, masters, upstreams, all, commands, stop: async () => void (await Promise.all(all.map((s) => s.stop()))) };
}

/** The zone servers (NSD), on `port` or on one found free on all five addresses. */
export async function startServers(nsd: string, dir: string, port?: number): Promise<Servers> {
  port ??= await commonFreePort();
  const commands: string[][] = [];
  const start = (name: string, address: string, zone: 'mesos' | 'example.org') => {
    const c: NsdConfig = {
      dir: join(dir, name),
      address,
      port: port,
      zone,
      zoneFile: join(dir, name, `${zone}.zone`),
      ednsSize: zone === 'mesos' ? 512 : 1232,
    };
    assertLoopback(c.address);
    mkdirSync(c.dir, { recursive: true });
    writeFileSync(c.zoneFile, zone === 'mesos' ? mesosZone(ADDRESSES.masters[0]) : upstreamZone(CACHE_TTL_S));
    const confFile = join(c.dir, 'nsd.conf');
    writeFileSync(confFile, nsdConf(c));
    commands.push([nsd, '-d', '-c', confFile]);
    return startServer(
      `nsd ${name}`,
      nsd,
      ['-d', '-c', confFile],
      `${address}:${port}`,
      { name: zone, type: 'SOA' },
      ` (see ${c.dir}/nsd.log)`,
    );
  };
  const masters = await Promise.all(ADDRESSES.masters.map((a, i) => start(`master-${i + 1}`, a, 'mesos')));
  const upstreams = await Promise.all(ADDRESSES.upstreams.map((a, i) => start(`upstream-${i + 1}`, a, 'example.org')));
  return serverSet('nsd', port, masters, upstreams, commands);
}

/** What a fast master answers for every A question, and a fast upstream. */
export const FAST_ANSWER = { mesos: '10.0.0.1', upstream: '192.0.2.80' };

const FAST_SERVER_SOURCE = join(REPO_ROOT, 'test/bench/fast-server.c');

/** Compiles fast-server.c into `dir`; returns the program's path. */
export function buildFastServer(cc: string, dir: string): string {
  const program = join(dir, 'fast-server');
  const r = spawnSync(cc, ['-O2', '-o', program, FAST_SERVER_SOURCE], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cc} could not build ${FAST_SERVER_SOURCE}:\n${r.stderr}`);
  return program;
}

/** The fast servers (fast-server.c, built by buildFastServer), on `port`: masters with Mesos-DNS's TTL, upstreams with the caches' 2 s. */
export async function startFastServers(program: string, port: number): Promise<Servers> {
  const commands: string[][] = [];
  const start = (name: string, address: string, probe: string, answer: string, ttl: number) => {
    assertLoopback(address);
    const args = [address, String(port), answer, String(ttl)];
    commands.push([program, ...args]);
    return startServer(`fast-server ${name}`, program, args, `${address}:${port}`, { name: probe, type: 'A' }, '');
  };
  const masters = await Promise.all(
    ADDRESSES.masters.map((a, i) => start(`master-${i + 1}`, a, 'leader.mesos', FAST_ANSWER.mesos, MESOS_TTL)),
  );
  const upstreams = await Promise.all(
    ADDRESSES.upstreams.map((a, i) => start(`upstream-${i + 1}`, a, 'example.org', FAST_ANSWER.upstream, CACHE_TTL_S)),
  );
  return serverSet('fast', port, masters, upstreams, commands);
}
