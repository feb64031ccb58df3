// `npm run bench`: a small load test of the agent core with dnsperf, on loopback only.
//
// Three processes: this driver, the fake cluster (servers.ts: 3 fake Mesos-DNS masters, 2 fake
// upstreams) and the built agent. With taskset and two CPUs the agent gets one CPU to itself;
// dnsperf, the fakes and this driver share the other.
//
// Every case runs twice: at a fixed rate (BENCH_QPS, default 2000 q/s), well below saturation,
// for latency; and unthrottled, for throughput. Latency at saturation is mostly queueing in
// dnsperf's window of outstanding queries, so latencies are only compared at the fixed rate.
//
// Env: BENCH_SECONDS (per run, default 5), BENCH_QPS (fixed rate, default 2000).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { assertLoopback, freePort } from '../helpers/ports.js';

const SECONDS = envInt('BENCH_SECONDS', 5, 1, 60);
const FIXED_QPS = envInt('BENCH_QPS', 2000, 1, 1_000_000);
const CLIENTS = 4;
const DNSPERF_TIMEOUT_S = 2; // a query unanswered this long counts as lost
const AGENT_TIMEOUT_MS = 1000;
// This file runs as dist/test/bench/run.js. It starts the agent itself (startAgent below) rather
// than through test/helpers/agent-process.ts, so that it can pin it to one CPU with taskset.
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const AGENT_MAIN = join(REPO_ROOT, 'dist/agent/main.js');
const RESULTS = join(REPO_ROOT, 'test-results/bench.json');

const QUERIES = {
  local: ['ready.spartan A', 'zk-1.zk A'],
  mesos: ['nginx.marathon.mesos A', 'leader.mesos A'],
};

interface Case {
  id: string;
  title: string;
  target: 'agent' | 'master0';
  queries: keyof typeof QUERIES;
  hungMaster?: boolean;
}

const CASES: Case[] = [
  { id: 'local', title: 'local answers (agent)', target: 'agent', queries: 'local' },
  { id: 'mesos', title: 'mesos names via agent race', target: 'agent', queries: 'mesos' },
  { id: 'direct', title: 'mesos names direct to 1 fake master', target: 'master0', queries: 'mesos' },
  { id: 'hung', title: 'mesos via agent, 1 of 3 masters hung', target: 'agent', queries: 'mesos', hungMaster: true },
];

interface Perf {
  sent: number;
  completed: number;
  lost: number;
  rcodes: Record<string, number>;
  runTimeS: number;
  qps: number;
  avgMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  stddevMs: number | null;
  warnings: number; // dnsperf's stderr lines (e.g. one per timed-out query)
}

interface Run extends Perf {
  case: string;
  title: string;
  load: 'fixed' | 'max';
  targetQps: number | null;
  /** Queries the fake masters received during the run, per query dnsperf completed. */
  masterQueriesPerQuery: number | null;
  masterQueries: number[];
  /** CPU time used during the run, as % of one CPU: above ~95 that process was the bottleneck. */
  agentCpuPct: number | null;
  fakesCpuPct: number | null;
  agentVmHWMkB: number | null;
}

function envInt(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${v}: expected an integer from ${min} to ${max}`);
  return n;
}

// ---- cleanup: everything started is registered here and undone in reverse, also on Ctrl-C ----

const undo: Array<() => unknown> = [];
let cleaning: Promise<void> | undefined;
let aborted = false;
let currentPerf: ChildProcess | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    currentPerf?.kill('SIGKILL');
    for (const fn of undo.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`bench: cleanup step failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(sig, () => {
    aborted = true;
    console.error(`\nbench: ${sig}, stopping everything it started`);
    const hard = setTimeout(() => process.exit(code), 15_000);
    hard.unref();
    void cleanup().finally(() => process.exit(code));
  });
}

// ---- machine setup ----

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureDnsperf(): void {
  if (have('dnsperf')) return;
  console.log('bench: dnsperf is missing; installing the Debian package (apt-get install dnsperf)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps: string[][] = [
    ['apt-get', 'update', '-qq'],
    ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'dnsperf'],
  ];
  for (const step of steps) {
    const r = spawnSync(step[0], step.slice(1), { stdio: 'inherit', env, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`"${step.join(' ')}" failed; install dnsperf yourself (it needs root)`);
  }
}

function dnsperfVersion(): string {
  const out = spawnSync('dnsperf', ['-H'], { encoding: 'utf8' });
  return /Version (\S+)/.exec(out.stdout + out.stderr)?.[1] ?? 'unknown';
}

/** The CPUs this process may run on, from taskset's "0,1" / "0-3" list; undefined without taskset. */
function allowedCpus(): number[] | undefined {
  if (!have('taskset')) return undefined;
  const out = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' }).stdout ?? '';
  const list = /list:\s*([\d,-]+)/.exec(out)?.[1];
  if (!list) return undefined;
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** Pins every thread of `pid` to `cpu`. */
function pin(pid: number, cpu: number): void {
  const r = spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -cp ${cpu} ${pid} failed: ${r.stderr}`);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** User + system CPU seconds of `pid` so far (all its threads), from /proc/PID/stat. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3, "state"
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU used by the whole machine over `ms` (as % of one CPU), from /proc/stat; null if unreadable. */
async function machineBusyPct(ms: number): Promise<number | null> {
  const sample = () => {
    try {
      const [, ...t] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
      const idle = t[3] + (t[4] ?? 0); // idle + iowait
      return { busy: t.slice(0, 8).reduce((a, b) => a + b, 0) - idle, all: t.slice(0, 8).reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  if (!a || !b || b.all === a.all) return null;
  return ((b.busy - a.busy) / (b.all - a.all)) * os.cpus().length * 100;
}

function vmHWMkB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---- the fake cluster process ----

interface Servers {
  pid: number;
  masters: string[];
  upstreams: string[];
  command(line: string): Promise<Record<string, unknown>>;
}

async function startServers(): Promise<Servers> {
  const entry = join(HERE, 'servers.js');
  const child = spawn(process.execPath, [entry], { stdio: ['pipe', 'pipe', 'inherit'] });
  undo.push(() => stopChild(child, 5000));
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(line));
  const next = (what: string, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake servers: no reply to ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  const hello = (await next('startup', 10_000)) as { masters: string[]; upstreams: string[] };
  for (const e of [...hello.masters, ...hello.upstreams]) assertLoopback(e.split(':')[0]);
  return {
    ...hello,
    pid: child.pid!,
    command: async (line) => {
      const reply = next(line, 5000);
      child.stdin!.write(line + '\n');
      const r = await reply;
      if (!r.ok) throw new Error(`fake servers: ${line}: ${String(r.error)}`);
      return r;
    },
  };
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---- the agent ----

interface Agent {
  child: ChildProcess;
  logs: Array<{ level: string; msg: string }>;
}

/** Starts the built agent on `config` and resolves once it answers ready.spartan. */
async function startAgent(config: { listen: string[] }, dir: string): Promise<Agent> {
  const configPath = join(dir, 'agent.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [AGENT_MAIN, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  undo.push(() => stopChild(child, 8000));
  const agent: Agent = { child, logs: [] };
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-10_000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      agent.logs.push(JSON.parse(line));
    } catch {
      agent.logs.push({ level: 'raw', msg: line });
    }
  });
  const [host, port] = config.listen[0].split(':');
  assertLoopback(host);
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await askReady(host, Number(port), 200)) return agent;
  }
  const logs = agent.logs.map((l) => JSON.stringify(l)).join('\n');
  throw new Error(`the agent did not answer ready.spartan on ${config.listen[0]} (exit ${child.exitCode ?? child.signalCode}):\n${logs}\n${stderr}`);
}

const READY_QUERY = dnsPacket.encode({ type: 'query', id: 4242, questions: [{ type: 'A', name: 'ready.spartan' }] });

function askReady(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => {}); // e.g. ECONNREFUSED before the agent binds: the timer settles it
    sock.on('message', (msg) => msg.length >= 2 && msg.readUInt16BE(0) === 4242 && done(true));
    sock.send(READY_QUERY, port, host);
  });
}

// ---- dnsperf ----

function parseDnsperf(out: string): Omit<Perf, 'warnings'> {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const sent = num(/Queries sent:\s+(\d+)/);
  if (sent === null) throw new Error(`cannot read dnsperf's output:\n${out}`);
  const rcodes: Record<string, number> = {};
  const codes = /Response codes:\s+(.*)/.exec(out)?.[1] ?? '';
  for (const m of codes.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]] = Number(m[2]);
  const lat = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(out);
  const ms = (s: string | number | null | undefined) => (s === null || s === undefined ? null : Number(s) * 1000);
  return {
    sent,
    completed: num(/Queries completed:\s+(\d+)/) ?? 0,
    lost: num(/Queries lost:\s+(\d+)/) ?? 0,
    rcodes,
    runTimeS: num(/Run time \(s\):\s+([\d.]+)/) ?? 0,
    qps: num(/Queries per second:\s+([\d.]+)/) ?? 0,
    avgMs: ms(lat?.[1]),
    minMs: ms(lat?.[2]),
    maxMs: ms(lat?.[3]),
    stddevMs: ms(num(/Latency StdDev \(s\):\s+([\d.]+)/)),
  };
}

function dnsperf(endpoint: string, file: string, seconds: number, qps: number | null): Promise<Perf> {
  if (aborted) return Promise.reject(new Error('aborted'));
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon);
  assertLoopback(host);
  const args = ['-s', host, '-p', endpoint.slice(colon + 1), '-d', file, '-l', String(seconds), '-c', String(CLIENTS), '-t', String(DNSPERF_TIMEOUT_S)];
  if (qps !== null) args.push('-Q', String(qps));
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    currentPerf = child;
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-100_000)));
    const backstop = setTimeout(() => child.kill('SIGKILL'), (seconds + DNSPERF_TIMEOUT_S + 10) * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(backstop);
      currentPerf = undefined;
      if (code !== 0) return reject(new Error(`dnsperf ${args.join(' ')} exited ${code ?? signal}:\n${out}\n${err}`));
      try {
        resolve({ ...parseDnsperf(out), warnings: err.split('\n').filter((l) => l.trim()).length });
      } catch (e) {
        reject(e);
      }
    });
  });
}

// ---- report ----

const mib = (kB: number | null) => (kB === null ? '-' : `${(kB / 1024).toFixed(1)} MiB`);
const f = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits));

function table(runs: Run[]): string {
  const head = ['case', 'load', 'sent', 'qps', 'lost', 'not NOERROR', 'avg ms', 'stddev ms', 'min ms', 'max ms', 'master q/query', 'agent cpu%', 'fakes cpu%'];
  const rows = runs.map((r) => [
    r.title,
    r.load === 'fixed' ? `-Q ${r.targetQps}` : 'max',
    String(r.sent),
    r.qps.toFixed(0),
    String(r.lost),
    String(Object.entries(r.rcodes).reduce((n, [code, k]) => (code === 'NOERROR' ? n : n + k), 0)),
    f(r.avgMs),
    f(r.stddevMs),
    f(r.minMs),
    f(r.maxMs),
    f(r.masterQueriesPerQuery, 2),
    f(r.agentCpuPct, 0),
    f(r.fakesCpuPct, 0),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ---- main ----

async function main(): Promise<void> {
  ensureDnsperf();
  const nproc = os.availableParallelism(); // before pinning ourselves, which would make it 1
  // Other work on the machine skews every figure; measure it while nothing of ours runs yet.
  const busyBefore = await machineBusyPct(1000);
  const cpus = allowedCpus();
  const pinned = cpus !== undefined && cpus.length >= 2;
  const [agentCpu, loadCpu] = pinned ? [cpus[0], cpus[1]] : [undefined, undefined];
  // Children inherit this: the fake servers and dnsperf run on loadCpu; the agent is moved below.
  if (pinned) pin(process.pid, loadCpu!);

  const dir = mkdtempSync(join(os.tmpdir(), 'phalanx-bench-'));
  undo.push(() => rmSync(dir, { recursive: true, force: true }));
  const files = Object.fromEntries(
    Object.entries(QUERIES).map(([k, lines]) => {
      const file = join(dir, `${k}.txt`);
      writeFileSync(file, lines.join('\n') + '\n');
      return [k, file];
    }),
  ) as Record<keyof typeof QUERIES, string>;

  const servers = await startServers();
  const listen = `127.0.0.1:${await freePort('127.0.0.1')}`;
  const config = {
    listen: [listen],
    upstreams: servers.upstreams,
    mesos: { masters: servers.masters },
    timeoutMs: AGENT_TIMEOUT_MS,
    fanout: 2,
    maxInflight: 10_000,
    log: { level: 'warn' },
    // The HTTP API stays on, as in production, but never on its default port 62080, which a
    // developer's own agent may hold.
    http: { listen: `127.0.0.1:${await freePort('127.0.0.1')}` },
  };
  const agent = await startAgent(config, dir);
  const agentPid = agent.child.pid!;
  if (pinned) pin(agentPid, agentCpu!);
  const startHWMkB = vmHWMkB(agentPid); // after startup and one ready.spartan query

  const now = new Date();
  const machine = {
    date: now.toISOString(),
    nproc,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    dnsperf: dnsperfVersion(),
    otherCpuPctBeforeStart: busyBefore === null ? null : Math.round(busyBefore),
    pinning: pinned ? `agent on CPU ${agentCpu}; dnsperf, fake servers and driver on CPU ${loadCpu} (taskset)` : 'none (needs taskset and 2 CPUs)',
  };
  console.log(`phalanx-dns bench: ${SECONDS} s per run, ${CLIENTS} dnsperf clients, fixed rate ${FIXED_QPS} q/s, dnsperf timeout ${DNSPERF_TIMEOUT_S} s`);
  console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, node ${machine.node}, dnsperf ${machine.dnsperf}, ${machine.date}`);
  console.log(`pinning: ${machine.pinning}`);
  console.log(`machine load before start: ${f(busyBefore, 0)}% of one CPU used by other processes`);
  if (busyBefore !== null && busyBefore > 10) {
    console.log('WARNING: the machine is busy with other work; these figures will be noisy. Rerun on a quiet machine.');
  }
  console.log(`agent ${listen}: fanout 2, timeoutMs ${AGENT_TIMEOUT_MS}, maxInflight 10000, log warn; masters ${servers.masters.join(' ')}`);
  console.log('note: the masters are in-process JavaScript fakes (test/helpers/fake-dns.ts, dns-packet), likely slower');
  console.log('      than the agent; issue 7 will replace them with faster servers (nsd/dnsmasq).\n');

  // Warm-up (JIT, sockets, health state), not reported.
  for (const q of ['local', 'mesos'] as const) await dnsperf(listen, files[q], 1, null);
  await servers.command('stats');

  const runs: Run[] = [];
  for (const c of CASES) {
    if (c.hungMaster) await servers.command('silent 0');
    // The fixed-rate run first: in the hung case it catches the onset, before the agent has
    // seen enough timeouts to mark the master down; the unthrottled run then sees the steady state.
    for (const load of ['fixed', 'max'] as const) {
      const target = c.target === 'agent' ? listen : servers.masters[0];
      const targetQps = load === 'fixed' ? FIXED_QPS : null;
      process.stdout.write(`running: ${c.title}, ${load === 'fixed' ? `${FIXED_QPS} q/s` : 'unthrottled'} ...`);
      const cpu0 = [cpuSeconds(agentPid), cpuSeconds(servers.pid), performance.now()] as const;
      const perf = await dnsperf(target, files[c.queries], SECONDS, targetQps);
      const wallS = (performance.now() - cpu0[2]) / 1000;
      const pct = (pid: number, before: number | null) => {
        const after = cpuSeconds(pid);
        return after === null || before === null ? null : ((after - before) / wallS) * 100;
      };
      const agentCpuPct = pct(agentPid, cpu0[0]);
      const fakesCpuPct = pct(servers.pid, cpu0[1]);
      const stats = (await servers.command('stats')) as { masters: number[] };
      const masterTotal = stats.masters.reduce((a, b) => a + b, 0);
      runs.push({
        case: c.id,
        title: c.title,
        load,
        targetQps,
        ...perf,
        masterQueries: stats.masters,
        masterQueriesPerQuery: c.queries === 'mesos' && perf.completed > 0 ? masterTotal / perf.completed : null,
        agentCpuPct,
        fakesCpuPct,
        agentVmHWMkB: vmHWMkB(agentPid),
      });
      console.log(` ${perf.qps.toFixed(0)} q/s`);
    }
    if (c.hungMaster) await servers.command('answer 0');
  }

  const run = (id: string, load: 'fixed' | 'max') => runs.find((r) => r.case === id && r.load === load)!;
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const ratios = {
    forwardedQpsOverDirectQps: ratio(run('mesos', 'max').qps, run('direct', 'max').qps),
    addedAvgLatencyMs: diff(run('mesos', 'fixed').avgMs, run('direct', 'fixed').avgMs),
    hungOverHealthyAvgLatency: ratio(run('hung', 'fixed').avgMs, run('mesos', 'fixed').avgMs),
    hungOverHealthyQps: ratio(run('hung', 'max').qps, run('mesos', 'max').qps),
  };
  const peakRsskB = vmHWMkB(agentPid);
  const logCounts: Record<string, number> = {};
  for (const l of agent.logs) logCounts[`${l.level}: ${l.msg}`] = (logCounts[`${l.level}: ${l.msg}`] ?? 0) + 1;

  console.log('\n' + table(runs));
  console.log(`
agent forwarded qps / direct qps (unthrottled):        ${f(ratios.forwardedQpsOverDirectQps, 2)}
agent added avg latency vs direct (at ${FIXED_QPS} q/s):     ${f(ratios.addedAvgLatencyMs)} ms
hung-master avg latency / healthy (at ${FIXED_QPS} q/s):     ${f(ratios.hungOverHealthyAvgLatency, 2)}
hung-master qps / healthy qps (unthrottled):           ${f(ratios.hungOverHealthyQps, 2)}
agent peak RSS (VmHWM):                                ${mib(peakRsskB)} (${mib(startHWMkB)} right after startup)
agent log lines at warn and above:${Object.keys(logCounts).length === 0 ? ' none' : ''}`);
  for (const [msg, n] of Object.entries(logCounts)) console.log(`  ${n} x ${msg}`);
  console.log(`
notes: dnsperf ${machine.dnsperf} prints no latency percentiles, so the table has avg/stddev/min/max.
       "master q/query" = queries the fake masters received per query dnsperf completed (fanout 2 -> ~2).
       "cpu%" = CPU time of the agent / the fake-servers process during the run, % of one CPU.
       Latencies under "max" are queueing in dnsperf's window of outstanding queries, not service time.
       Anchors (toolchain notes, one core each): dnsmasq local record ~108k q/s; a Node dgram server
       with dns-packet decode+encode 37-43k q/s.`);

  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    JSON.stringify(
      {
        machine,
        settings: { seconds: SECONDS, fixedQps: FIXED_QPS, clients: CLIENTS, dnsperfTimeoutS: DNSPERF_TIMEOUT_S, agentConfig: config },
        fakes: 'in-process JavaScript fakes (test/helpers/fake-dns.ts) in their own process; issue 7 replaces them with nsd/dnsmasq',
        runs,
        ratios,
        agentPeakRsskB: peakRsskB,
        agentStartRsskB: startHWMkB,
        agentLogCounts: logCounts,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nresults: ${RESULTS}`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  if (!aborted) {
    console.error(`\nbench failed: ${(err as Error).stack ?? err}`);
    exitCode = 1;
  }
} finally {
  await cleanup();
}
if (!aborted) process.exit(exitCode);
