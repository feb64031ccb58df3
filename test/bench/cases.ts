// The cases of issue 7, as data. Each dnsperf case runs on both peers, twice each: at the fixed
// rate (latency percentiles, lost queries) and unthrottled (queries per second, CPU per query).
// Case 5 (every master hung) is timed with dig instead, see run.ts.
import type { QueryFile } from './zones.js';

export interface CaseDef {
  /** The case number; "c" marks the cached variant. */
  n: string;
  id: string;
  title: string;
  file: QueryFile;
  /** The client asks over TCP (dnsperf -m tcp). */
  tcp?: boolean;
  /**
   * The client offers EDNS, 4096 bytes (dnsperf -e), so a whole big answer fits. Without it, like
   * glibc, 512 bytes.
   */
  edns?: boolean;
  /** One of the three masters (the third) hung, SIGSTOP, for the whole case. */
  hungMaster?: boolean;
  /** Both peers with their answer cache. */
  cached?: boolean;
  /** Asked straight of master 1 too: the baseline for the latency the forwarders add. */
  baseline?: boolean;
}

export const CASES: CaseDef[] = [
  { n: '1', id: 'local', title: 'local answers (ready.spartan, zk-N.zk)', file: 'local' },
  { n: '2', id: 'mesos', title: 'Mesos names through the race', file: 'mesos', baseline: true },
  { n: '3', id: 'upstream', title: 'other names through the upstreams', file: 'upstream' },
  { n: '4', id: 'mesos-hung', title: 'case 2, one of three masters hung', file: 'mesos', hungMaster: true },
  { n: '6', id: 'big', title: 'big Mesos answers (TCP retry), UDP client', file: 'big', edns: true },
  { n: '6t', id: 'big-tcp', title: 'big Mesos answers, client over TCP', file: 'big', tcp: true },
  { n: '2c', id: 'mesos-cache', title: 'case 2 with caches', file: 'mesos', cached: true },
  { n: '3c', id: 'upstream-cache', title: 'case 3 with caches', file: 'upstream', cached: true },
  { n: '6c', id: 'big-cache', title: 'case 6 with caches', file: 'big', edns: true, cached: true },
];

/** Names asked at once in case 5, each from both peers; distinct so dnsmasq cannot merge them. */
export const ALL_HUNG_NAMES = ['nginx.marathon.mesos', 'leader.mesos', 'app-0001.marathon.mesos'];
/** Case 5 runs this many rounds: the first at the onset, the next once the masters are marked down. */
export const ALL_HUNG_ROUNDS = 2;
