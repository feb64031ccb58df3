// What the watchdog saw of the agent before restarting it, for whoever reads the journal after
// the incident: which process holds the agent's addresses, and its state, CPU and memory. A
// stopped or spinning process (hung) and no process at all (dead) need different follow-ups.
//
// The process is found by the TCP socket it listens on (the agent binds UDP and TCP on every
// address), not by its command line: that names the process that actually failed to answer,
// however it was started.
import si from 'systeminformation';
import type { Systeminformation } from 'systeminformation';
import { type Endpoint, formatEndpoint } from '../agent/config/endpoint.js';

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

const WILDCARDS = new Set(['0.0.0.0', '::', '*']);

function bareAddress(a: string): string {
  return a.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
}

/** Pids with a listening TCP socket on one of `addresses` (or on the wildcard of its port). */
export function pidsListeningOn(connections: Systeminformation.NetworkConnectionsData[], addresses: Endpoint[]): number[] {
  const pids = new Set<number>();
  for (const c of connections) {
    if (!c.protocol.startsWith('tcp') || c.state !== 'LISTEN' || !c.pid) continue;
    const host = bareAddress(c.localAddress);
    const port = Number(c.localPort);
    if (addresses.some((a) => a.port === port && (a.host === host || WILDCARDS.has(host)))) pids.add(c.pid);
  }
  return [...pids].sort((a, b) => a - b);
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
 * systeminformation reads sockets with netstat or ss and processes with ps (procps).
 */
export async function snapshotAgent(addresses: Endpoint[], timeoutMs = 10_000): Promise<AgentSnapshot> {
  const shown = addresses.map(formatEndpoint);
  try {
    const connections = await withTimeout(si.networkConnections(), timeoutMs, 'listing sockets');
    const pids = pidsListeningOn(connections, addresses);
    if (pids.length === 0) {
      return { addresses: shown, processes: [], note: 'no process listens on these addresses (TCP): the agent is not running' };
    }
    const { list } = await withTimeout(si.processes(), timeoutMs, 'listing processes');
    const processes = list.filter((p) => pids.includes(p.pid)).map(describeProcess);
    const missing = pids.filter((pid) => !processes.some((p) => p.pid === pid));
    return missing.length
      ? { addresses: shown, processes, note: `pid ${missing.join(', ')} listens there but ps did not report it (exited meanwhile?)` }
      : { addresses: shown, processes };
  } catch (err) {
    return { addresses: shown, processes: [], note: `could not read process information: ${(err as Error).message}` };
  }
}
