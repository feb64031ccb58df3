// The bench cases (docs/benchmark.md), as data, in the order they run. A load case runs on its peers, taking
// turns, at the fixed rate (latency percentiles, CPU per query) and unthrottled (queries per
// second on one core). The other steps (the ping-pong client, the floods, every master hung, the
// soak) are run.ts's. Each case names the masters it needs: the fast ones answer any name at a
// rate the load side can afford, the zone ones (NSD) serve the big answers that need the TCP retry.
import type { QueryFile } from '../harness/zones.js';

export interface CaseDef {
  n: string;
  id: string;
  title: string;
  file: QueryFile;
  /** Which variants answer: without caches the agent and dnsmasq; with them the agent, dnsmasq and Unbound. */
  peers: 'uncached' | 'cached';
  masters: 'fast' | 'zone';
  /** The client asks over TCP (dnsperf -m tcp). */
  tcp?: boolean;
  /** The client offers EDNS, 4096 bytes (dnsperf -e), so a whole big answer fits. Without it, like glibc, 512 bytes. */
  edns?: boolean;
  /** One of the three masters (the third) hung, SIGSTOP, for the whole case. */
  hungMaster?: boolean;
  /**
   * Every peer gives the client the same answer, so their latencies compare (the p99 target).
   * Not so for big answers over UDP: dnsmasq relays the masters' truncated answer (TC, no records).
   */
  sameAnswers: boolean;
}

export const CASES: CaseDef[] = [
  {
    n: '1',
    id: 'local',
    title: 'local answers (ready.spartan, zk-N.zk)',
    file: 'local',
    peers: 'uncached',
    masters: 'fast',
    sameAnswers: true,
  },
  {
    n: '2',
    id: 'mesos',
    title: 'Mesos names uncached, 10,000 names',
    file: 'uncached',
    peers: 'uncached',
    masters: 'fast',
    sameAnswers: true,
  },
  {
    n: '2c',
    id: 'mesos-cache',
    title: 'Mesos names, 1,000 names cached (2 s)',
    file: 'cached',
    peers: 'cached',
    masters: 'fast',
    sameAnswers: true,
  },
  {
    n: '3',
    id: 'upstream',
    title: 'other names uncached, 10,000 names',
    file: 'upstream-uncached',
    peers: 'uncached',
    masters: 'fast',
    sameAnswers: true,
  },
  {
    n: '4',
    id: 'mesos-hung',
    title: 'case 2, one of three masters hung',
    file: 'uncached',
    peers: 'uncached',
    masters: 'fast',
    hungMaster: true,
    sameAnswers: true,
  },
  {
    n: '6',
    id: 'big',
    title: 'big Mesos answers (TCP retry), UDP client',
    file: 'big',
    peers: 'uncached',
    masters: 'zone',
    edns: true,
    sameAnswers: false,
  },
  {
    n: '6t',
    id: 'big-tcp',
    title: 'big Mesos answers, client over TCP',
    file: 'big',
    peers: 'uncached',
    masters: 'zone',
    tcp: true,
    sameAnswers: true,
  },
  {
    n: '6c',
    id: 'big-cache',
    title: 'case 6 with caches',
    file: 'big',
    peers: 'cached',
    masters: 'zone',
    edns: true,
    sameAnswers: false,
  },
];

/** The steps that are not load cases, by id, for BENCH_CASES. */
export const STEPS = {
  pingPong: 'ping-pong',
  burst: 'burst',
  allHung: 'all-hung',
  flood: 'flood',
  bigFlood: 'big-flood',
  soak: 'soak',
} as const;

/** Names asked at once in case 5 (every master hung), each from both peers; distinct so dnsmasq cannot merge them. */
export const ALL_HUNG_NAMES = ['nginx.marathon.mesos', 'leader.mesos', 'app-0001.marathon.mesos'];
/** Case 5 runs this many rounds: the first at the onset, the next once the masters are marked down. */
export const ALL_HUNG_ROUNDS = 2;
