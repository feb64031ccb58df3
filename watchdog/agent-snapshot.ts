// What the watchdog saw of the agent before restarting it, for whoever reads the journal after
// the incident: which process holds the agent's addresses, and its state, CPU and memory. A
// stopped or spinning process (hung) and no process at all (dead) need different follow-ups.
//
// The process is found by the TCP socket it listens on (the agent binds UDP and TCP on every
// address), not by its command line: that names the process that actually failed to answer,
// however it was started. Every holder is found through /proc, because a socket-activated
// agent shares its sockets with systemd and ss or netstat would name only one of the two.
import { readdirSync, readlinkSync } from 'node:fs';
import si from 'systeminformation';
import type { Systeminformation } from 'systeminformation';
import { type Endpoint, formatEndpoint, isWildcard } from '../common/config/endpoint.js';
import { type KernelSocket, readSocketTable, socketInode } from '../common/kernel-sockets.js';

export interface AgentProcessInfo {
  pid: number;
  name: string;
  command: string;
  /** running, sleeping, stopped (SIGSTOP), blocked, zombie, … as ps reports it. */
  state: string;
  cpuPercent: number;
  memPercent: number;
  memRssKiB: number;
  started: string;
  user: string;
}

export interface AgentSnapshot {
  /** The addresses looked for, "ip:port". */
  addresses: string[];
  processes: AgentProcessInfo[];
  /** Set when nothing was found or the snapshot failed, saying which. */
  note?: string;
}

/** Inodes of the listening TCP sockets on one of `endpoints` (or on the wildcard of its port). */
export function listeningInodes(table: Map<number, KernelSocket>, endpoints: Endpoint[]): Set<number> {
  const inodes = new Set<number>();
  for (const [inode, { transport, endpoint }] of table) {
    if (transport !== 'tcp') continue;
    const wildcard = isWildcard(endpoint);
    if (endpoints.some((e) => e.port === endpoint.port && (e.host === endpoint.host || wildcard))) inodes.add(inode);
  }
  return inodes;
}

/** Pids with an open fd on one of `inodes`; processes that vanish while being read are skipped. */
function socketHolders(inodes: Set<number>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        const inode = socketInode(readlinkSync(`/proc/${entry}/fd/${fd}`));
        return inode !== undefined && inodes.has(inode);
      } catch {
        return false;
      }
    });
    if (holds) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

export function describeProcess(p: Systeminformation.ProcessesProcessData): AgentProcessInfo {
  return {
    pid: p.pid,
    name: p.name,
    command: [p.command, p.params].filter(Boolean).join(' '),
    state: p.state,
    cpuPercent: Number(p.cpu.toFixed(1)),
    memPercent: Number(p.mem.toFixed(1)),
    memRssKiB: p.memRss,
    started: p.started,
    user: p.user,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Never throws and never takes longer than `timeoutMs`: the restart must not wait on a slow `ps`.
 * systeminformation reads the processes' state with ps (procps).
 */
export async function snapshotAgent(endpoints: Endpoint[], timeoutMs = 10_000): Promise<AgentSnapshot> {
  const addresses = endpoints.map(formatEndpoint);
  try {
    const pids = socketHolders(listeningInodes(readSocketTable(), endpoints));
    const { list } = pids.length === 0 ? { list: [] } : await withTimeout(si.processes(), timeoutMs, 'listing processes');
    // systemd holds the sockets of a socket-activated agent too; it is not the process that failed.
    const held = list.filter((p) => pids.includes(p.pid) && p.name !== 'systemd');
    const processes = held.map(describeProcess);
    const missing = pids.filter((pid) => !list.some((p) => p.pid === pid));
    if (processes.length === 0 && missing.length === 0) {
      return { addresses, processes: [], note: 'no process listens on these addresses (TCP): the agent is not running' };
    }
    return missing.length
      ? { addresses, processes, note: `pid ${missing.join(', ')} listens there but ps did not report it (exited meanwhile?)` }
      : { addresses, processes };
  } catch (err) {
    return { addresses, processes: [], note: `could not read process information: ${(err as Error).message}` };
  }
}
