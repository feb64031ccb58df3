// The two resolvers measured side by side, configured for the same work: the agent (the built
// dist/agent/main.js) and dnsmasq (Debian's). Each comes in two variants, without a cache (the
// like-for-like comparison of the forwarding path) and with one.
//
// Both answer ready.spartan and zk-1..5.zk themselves, send names under `mesos` to the three
// masters and everything else to the two upstreams. The agent races `fanout` (2) of them;
// dnsmasq with --all-servers sends every query to all of them (3 masters, 2 upstreams) and relays
// the first answer. Both give up on a server after about a second.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ALLOW_ROOT_ARGS } from '../helpers/agent-process.js';
import { assertLoopback, freePort } from '../../sim/ports.js';
import { onCleanup, stopChild, trackGroup } from './cleanup.js';
import { splitEndpoint, waitUntilAnswering } from './dig.js';
import {
  AGENT_ENV,
  AGENT_FANOUT,
  AGENT_MAIN,
  AGENT_MAX_INFLIGHT,
  AGENT_NODE_FLAGS,
  AGENT_TIMEOUT_MS,
  CACHE_ENTRIES,
  CACHE_TTL_S,
  EXTRA_AGENT_CONFIG,
} from './settings.js';
import type { Servers } from './servers.js';
import { LOCAL_RECORDS } from './zones.js';

export type PeerKind = 'agent' | 'dnsmasq';

/** Queries a peer has sent to the masters and upstreams so far (cumulative). */
export interface ServerQueries {
  total: number;
  /** Of which over TCP; null when the peer does not tell. */
  tcp: number | null;
}

export interface Peer {
  kind: PeerKind;
  cached: boolean;
  label: string;
  endpoint: string;
  pid: number;
  /** The agent's config file or dnsmasq's command line, for the results. */
  setup: unknown;
  serverQueries(): Promise<ServerQueries>;
  /** Warnings and errors it logged, counted by message. */
  logCounts(): Record<string, number>;
}

export interface PeerOptions {
  address: string;
  cached: boolean;
  servers: Servers;
  dir: string;
  /** taskset and the CPU to run on; undefined runs it unpinned. */
  pinning?: { taskset: string; cpu: number };
}

function launch(cmd: string, args: string[], pinning: PeerOptions['pinning'], env: Record<string, string> = {}): ChildProcess {
  const [file, argv] = pinning ? [pinning.taskset, ['-c', String(pinning.cpu), cmd, ...args]] : [cmd, args];
  // taskset execs the command, so the pid is the peer's; its own group lets cleanup kill it whole.
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  trackGroup(child.pid!);
  return child;
}

async function waitReady(child: ChildProcess, endpoint: string, label: string, stderr: () => string): Promise<void> {
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (!(await waitUntilAnswering(endpoint, 'ready.spartan', 'A', alive))) {
    throw new Error(`${label} did not answer ready.spartan on ${endpoint} (exit ${child.exitCode ?? child.signalCode}):\n${stderr()}`);
  }
}

// ---- the agent ----

export function agentConfig(o: PeerOptions, port: number, httpPort: number) {
  return {
    listen: [`${o.address}:${port}`],
    upstreams: o.servers.upstreams.map((s) => s.endpoint),
    mesos: { masters: o.servers.masters.map((s) => s.endpoint) },
    fanout: AGENT_FANOUT,
    timeoutMs: AGENT_TIMEOUT_MS,
    maxInflight: AGENT_MAX_INFLIGHT,
    // The cached variant is the agent's default cache; CACHE_TTL_S is its default mesosMaxTtlSec.
    cache: o.cached ? { enabled: true, maxEntries: CACHE_ENTRIES, mesosMaxTtlSec: CACHE_TTL_S } : { enabled: false },
    log: { level: 'warn' },
    // The HTTP API stays on, as in production (the bench reads its metrics), never on the default
    // port 62080, which a developer's own agent may hold.
    http: { listen: `127.0.0.1:${httpPort}` },
    ...EXTRA_AGENT_CONFIG,
  };
}

export async function startAgent(o: PeerOptions): Promise<Peer> {
  assertLoopback(o.address);
  const config = agentConfig(o, await freePort(o.address), await freePort('127.0.0.1'));
  const name = o.cached ? 'agent-cache' : 'agent';
  const configPath = join(o.dir, `${name}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = launch(
    process.execPath,
    [...AGENT_NODE_FLAGS, AGENT_MAIN, '--config', configPath, ...ALLOW_ROOT_ARGS],
    o.pinning,
    AGENT_ENV,
  );
  // The agent drains in-flight queries on SIGTERM, bounded by timeoutMs.
  onCleanup(() => stopChild(child, 8000, true));
  const logs: Record<string, number> = {};
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-10_000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let key = line;
    try {
      const l = JSON.parse(line) as { level?: unknown; msg?: unknown };
      key = `${String(l.level)}: ${String(l.msg)}`;
    } catch {
      // not JSON: count the raw line
    }
    logs[key] = (logs[key] ?? 0) + 1;
  });
  const endpoint = config.listen[0];
  await waitReady(child, endpoint, 'the agent', () => `${JSON.stringify(logs)}\n${stderr}`);
  return {
    kind: 'agent',
    cached: o.cached,
    label: o.cached ? 'agent, cache' : 'agent',
    endpoint,
    pid: child.pid!,
    setup: config,
    serverQueries: () => agentServerQueries(config.http.listen),
    logCounts: () => ({ ...logs }),
  };
}

/**
 * Requests to servers, from the agent's metrics: every request ends either as a usable answer
 * (phalanx_dns_server_request_duration_seconds_count) or as a failure
 * (phalanx_dns_server_request_failures_total). Not their dcos-dns aliases, which repeat the same counts.
 */
async function agentServerQueries(httpListen: string): Promise<ServerQueries> {
  const res = await fetch(`http://${httpListen}/v1/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let total = 0;
  let tcp = 0;
  for (const m of text.matchAll(
    /^(phalanx_dns_server_request_duration_seconds_count|phalanx_dns_server_request_failures_total)\{([^}]*)\} (\S+)$/gm,
  )) {
    const n = Number(m[3]);
    total += n;
    if (/transport="tcp"/.test(m[2])) tcp += n;
  }
  return { total, tcp };
}

// ---- dnsmasq ----

export function dnsmasqArgs(o: PeerOptions, port: number, logFile: string, pidFile: string): string[] {
  const server = (s: { endpoint: string }) => s.endpoint.replace(':', '#');
  return [
    '--keep-in-foreground',
    // Nothing from the machine: no config file, no /etc/hosts, no /etc/resolv.conf.
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--no-poll',
    `--listen-address=${o.address}`,
    '--bind-interfaces',
    `--port=${port}`,
    `--pid-file=${pidFile}`,
    // Its statistics (SIGUSR1) go here; no per-query logging.
    `--log-facility=${logFile}`,
    // The agent's local zones: the same records, the same TTL, and no forwarding of the rest.
    ...LOCAL_RECORDS(o.servers.masters.map((s) => splitEndpoint(s.endpoint).host)).map(([name, ip]) => `--host-record=${name},${ip}`),
    '--local=/spartan/',
    '--local=/zk/',
    '--local-ttl=5',
    ...o.servers.masters.map((s) => `--server=/mesos/${server(s)}`),
    ...o.servers.upstreams.map((s) => `--server=${server(s)}`),
    '--all-servers',
    // The agent's maxInflight and its EDNS offer to servers.
    `--dns-forward-max=${AGENT_MAX_INFLIGHT}`,
    '--edns-packet-max=1232',
    ...(o.cached ? [`--cache-size=${CACHE_ENTRIES}`, `--max-cache-ttl=${CACHE_TTL_S}`] : ['--cache-size=0']),
  ];
}

export async function startDnsmasq(dnsmasq: string, o: PeerOptions): Promise<Peer> {
  assertLoopback(o.address);
  const name = o.cached ? 'dnsmasq-cache' : 'dnsmasq';
  const logFile = join(o.dir, `${name}.log`);
  writeFileSync(logFile, '');
  const args = dnsmasqArgs(o, await freePort(o.address), logFile, join(o.dir, `${name}.pid`));
  const child = launch(dnsmasq, args, o.pinning);
  onCleanup(() => stopChild(child, 3000, true));
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-10_000)));
  child.stdout!.resume();
  const endpoint = `${o.address}:${args.find((a) => a.startsWith('--port='))!.slice(7)}`;
  await waitReady(child, endpoint, 'dnsmasq', () => stderr);
  const servers = o.servers.all.map((s) => s.endpoint.replace(':', '#'));
  return {
    kind: 'dnsmasq',
    cached: o.cached,
    label: o.cached ? 'dnsmasq, cache' : 'dnsmasq',
    endpoint,
    pid: child.pid!,
    setup: ['dnsmasq', ...args],
    serverQueries: () => dnsmasqServerQueries(child.pid!, logFile, servers),
    logCounts: () => ({}),
  };
}

/**
 * dnsmasq writes its statistics to its log on SIGUSR1, one line per server:
 * "server 127.0.0.11#53053: queries sent 805, retried 0, failed 0, ...". The counts are cumulative.
 */
async function dnsmasqServerQueries(pid: number, logFile: string, servers: string[]): Promise<ServerQueries> {
  const offset = statSync(logFile).size;
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const text = readFrom(logFile, offset);
    const sent = new Map<string, number>();
    for (const m of text.matchAll(/server (\S+): queries sent (\d+)/g)) sent.set(m[1], Number(m[2]));
    if (servers.every((s) => sent.has(s))) return { total: [...sent.values()].reduce((a, b) => a + b, 0), tcp: null };
  }
  throw new Error(`dnsmasq (pid ${pid}) wrote no statistics to ${logFile} after SIGUSR1`);
}

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
