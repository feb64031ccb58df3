// The resolvers measured side by side, configured for the same work: the agent (its build, started
// as deployed), dnsmasq (Debian's, one thread) and Unbound (Debian's, one thread, with a cache).
// The agent and dnsmasq come without a cache (the like-for-like comparison of the forwarding path)
// and with one; Unbound always caches.
//
// Each answers ready.spartan and zk-1..5.zk itself, sends names under `mesos` to the three masters
// and everything else to the two upstreams. The agent uses its default dispatch (hedged: the best
// server first, the next after a hedge delay; BENCH_AGENT_CONFIG='{"dispatch":"race"}' races
// instead); dnsmasq with --all-servers sends every query to all of them (3 masters, 2 upstreams)
// and relays the first answer; Unbound picks one by its measured round-trip time.
//
// They start on the driver's CPU, the load side, and run.ts moves the one being measured alone to
// the peers' CPU (system.ts pin).
import { type ChildProcess, spawn } from 'node:child_process';
import { type WriteStream, closeSync, createWriteStream, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ALLOW_ROOT_ARGS } from '../helpers/agent-process.js';
import { assertLoopback, freePort } from '../../sim/ports.js';
import { onCleanup, stopChild, trackGroup } from '../harness/cleanup.js';
import { splitEndpoint, waitUntilAnswering } from '../harness/dig.js';
import {
  AGENT_ENV,
  AGENT_MAIN,
  AGENT_MAX_INFLIGHT,
  AGENT_NODE_FLAGS,
  AGENT_TIMEOUT_MS,
  CACHE_ENTRIES,
  CACHE_TTL_S,
  EXTRA_AGENT_CONFIG,
  RESULTS_JSON,
} from './settings.js';
import { type Memory, memory } from '../harness/system.js';
import { LOCAL_RECORDS } from '../harness/zones.js';
import { waitFor } from '../helpers/time.js';

export type PeerKind = 'agent' | 'dnsmasq' | 'unbound';

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
  /** The agent's config file, dnsmasq's command line, Unbound's config file: for the results. */
  setup: unknown;
  /** Memory when it first answered, before any load. */
  startMemory: Memory | null;
  /** Undefined when the peer does not tell (Unbound without its control channel). */
  serverQueries?(): Promise<ServerQueries>;
  /** Warnings and errors it logged, counted by message. */
  logCounts(): Record<string, number>;
  /** Where the agent's lines that are not log lines went (--trace-gc and the like), if it wrote any. */
  rawOutput?(): string | undefined;
  /** The agent's inspector, when it was started with --inspect (BENCH_PROFILE_DIR). */
  inspectorUrl?(): string | undefined;
}

export interface PeerOptions {
  address: string;
  cached: boolean;
  /** The masters' and upstreams' endpoints, "ip:port". */
  masters: string[];
  upstreams: string[];
  dir: string;
}

function launch(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  // Its own group lets cleanup kill it whole (dnsmasq forks for TCP clients).
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  trackGroup(child.pid!);
  return child;
}

async function waitReady(child: ChildProcess, endpoint: string, label: string, output: () => string): Promise<Memory | null> {
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (!(await waitUntilAnswering(endpoint, 'ready.spartan', 'A', alive))) {
    throw new Error(`${label} did not answer ready.spartan on ${endpoint} (exit ${child.exitCode ?? child.signalCode}):\n${output()}`);
  }
  return memory(child.pid!);
}

// ---- the agent ----

export function agentConfig(o: PeerOptions, port: number, httpPort: number) {
  return {
    listen: [`${o.address}:${port}`],
    upstreams: o.upstreams,
    mesos: { masters: o.masters },
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
  // As the systemd unit runs it: the environment and node flags of its #! line.
  const child = launch(process.execPath, [...AGENT_NODE_FLAGS, AGENT_MAIN, '--config', configPath, ...ALLOW_ROOT_ARGS], AGENT_ENV);
  // The agent drains in-flight queries on SIGTERM, bounded by timeoutMs.
  onCleanup(() => stopChild(child, 8000, true));
  const logs: Record<string, number> = {};
  let stderr = '';
  let inspectorUrl: string | undefined;
  child.stderr!.on('data', (c) => {
    stderr = (stderr + c).slice(-10_000);
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  });
  // Lines that are not JSON log lines (--trace-gc, --trace-... flags) go to a file of their own.
  const rawPath = join(dirname(RESULTS_JSON), `bench-${name}.stdout.log`);
  let raw: WriteStream | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const l = JSON.parse(line) as { level?: unknown; msg?: unknown };
      const key = `${String(l.level)}: ${String(l.msg)}`;
      logs[key] = (logs[key] ?? 0) + 1;
    } catch {
      if (!raw) {
        mkdirSync(dirname(rawPath), { recursive: true });
        raw = createWriteStream(rawPath);
        onCleanup(() => new Promise((r) => raw!.end(r)));
      }
      raw.write(line + '\n');
    }
  });
  const endpoint = config.listen[0];
  const startMemory = await waitReady(child, endpoint, 'the agent', () => `${JSON.stringify(logs)}\n${stderr}`);
  return {
    kind: 'agent',
    cached: o.cached,
    label: o.cached ? 'agent, cache' : 'agent',
    endpoint,
    pid: child.pid!,
    setup: config,
    startMemory,
    serverQueries: () => agentServerQueries(config.http.listen),
    logCounts: () => ({ ...logs }),
    rawOutput: () => (raw ? rawPath : undefined),
    inspectorUrl: () => inspectorUrl,
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
  const server = (endpoint: string) => endpoint.replace(':', '#');
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
    ...LOCAL_RECORDS(o.masters.map((s) => splitEndpoint(s).host)).map(([name, ip]) => `--host-record=${name},${ip}`),
    '--local=/spartan/',
    '--local=/zk/',
    '--local-ttl=5',
    ...o.masters.map((s) => `--server=/mesos/${server(s)}`),
    ...o.upstreams.map((s) => `--server=${server(s)}`),
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
  const child = launch(dnsmasq, args);
  onCleanup(() => stopChild(child, 3000, true));
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-10_000)));
  child.stdout!.resume();
  const endpoint = `${o.address}:${args.find((a) => a.startsWith('--port='))!.slice(7)}`;
  const startMemory = await waitReady(child, endpoint, 'dnsmasq', () => stderr);
  const servers = [...o.masters, ...o.upstreams].map((s) => s.replace(':', '#'));
  return {
    kind: 'dnsmasq',
    cached: o.cached,
    label: o.cached ? 'dnsmasq, cache' : 'dnsmasq',
    endpoint,
    pid: child.pid!,
    setup: ['dnsmasq', ...args],
    startMemory,
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
  const sent = new Map<string, number>();
  const written = () => {
    for (const m of readFrom(logFile, offset).matchAll(/server (\S+): queries sent (\d+)/g)) sent.set(m[1], Number(m[2]));
    return servers.every((s) => sent.has(s));
  };
  if (await waitFor(written, { timeoutMs: 3000, everyMs: 25 })) return { total: [...sent.values()].reduce((a, b) => a + b, 0), tcp: null };
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

// ---- Unbound ----

/**
 * Unbound as a node's caching forwarder: one thread, its default caches (4 MB of messages, 4 MB of
 * records) with every answer kept at most CACHE_TTL_S like the other cached peers, the same local
 * records, a forward zone for the Mesos domain to the masters and one for the rest to the
 * upstreams. No DNSSEC validation (the iterator module alone), nothing from /etc/unbound, and never
 * the system service.
 */
export function unboundConf(o: PeerOptions, port: number, dir: string): string {
  const addr = (endpoint: string) => {
    const { host, port: p } = splitEndpoint(endpoint);
    return `${host}@${p}`;
  };
  const localData = LOCAL_RECORDS(o.masters.map((s) => splitEndpoint(s).host)).map(([name, ip]) => `  local-data: "${name}. 5 IN A ${ip}"`);
  return `# written by the phalanx-dns bench; everything in ${dir}
server:
  interface: ${o.address}@${port}
  port: ${port}
  do-ip6: no
  num-threads: 1
  so-reuseport: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 127.0.0.0/8 allow
  # The masters and upstreams are on loopback, which Unbound refuses to ask by default.
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: no
  cache-max-ttl: ${CACHE_TTL_S}
  cache-max-negative-ttl: ${CACHE_TTL_S}
  # As many queries in flight as the agent and dnsmasq may have.
  num-queries-per-thread: ${AGENT_MAX_INFLIGHT}
  local-zone: "spartan." static
  local-zone: "zk." static
${localData.join('\n')}
remote-control:
  control-enable: no
forward-zone:
  name: "mesos."
${o.masters.map((m) => `  forward-addr: ${addr(m)}`).join('\n')}
forward-zone:
  name: "."
${o.upstreams.map((u) => `  forward-addr: ${addr(u)}`).join('\n')}
`;
}

export async function startUnbound(unbound: string, o: PeerOptions): Promise<Peer> {
  assertLoopback(o.address);
  const dir = join(o.dir, 'unbound');
  mkdirSync(dir, { recursive: true });
  const port = await freePort(o.address);
  const confFile = join(dir, 'unbound.conf');
  const conf = unboundConf(o, port, dir);
  writeFileSync(confFile, conf);
  const child = launch(unbound, ['-d', '-c', confFile]);
  onCleanup(() => stopChild(child, 3000, true));
  let output = '';
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (c) => (output = (output + c).slice(-10_000)));
  const endpoint = `${o.address}:${port}`;
  const startMemory = await waitReady(child, endpoint, 'unbound', () => output);
  return {
    kind: 'unbound',
    cached: true,
    label: 'Unbound',
    endpoint,
    pid: child.pid!,
    setup: [unbound, '-d', '-c', confFile, conf],
    startMemory,
    logCounts: () => ({}),
  };
}
