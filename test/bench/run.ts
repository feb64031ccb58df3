// `npm run bench`: the agent and dnsmasq side by side on the same work, all on loopback (issue 7).
//
// One run starts five NSD servers (three Mesos-DNS masters, two upstreams; servers.ts), the agent
// and dnsmasq, each without and with a cache (peers.ts), and measures every case of cases.ts with
// dnsperf: at a fixed rate for latency, unthrottled for throughput. Case 5 (every master hung) is
// timed with dig. Then the cached agent (the default config) runs BENCH_SOAK_SECONDS at the fixed
// rate while its RSS is watched. It prints the tables and the targets, and writes
// test-results/bench.json, test-results/bench-latency.svg and test-results/bench.md (the printed
// tables under a line naming the date, the machine and the versions, for docs/benchmark.md).
//
// With two CPUs the peers get CPU 0 (one is measured at a time, the others idle) and the driver,
// dnsperf and the servers share CPU 1.
//
// Env: BENCH_SECONDS (per run, default 5), BENCH_QPS (fixed rate, default 2000),
// BENCH_SOAK_SECONDS (default 60, 0 skips the soak), BENCH_CASES (only these cases, e.g. "2,3";
// prints their tables and writes nothing), BENCH_AGENT_FLAGS (extra node flags for the agents,
// e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_AGENT_CONFIG (JSON laid over both agents' config).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { VERSION } from '../../common/version.js';
import { ALL_HUNG_NAMES, ALL_HUNG_ROUNDS, CASES, type CaseDef } from './cases.js';
import { aborted, cleanup, installSignalHandlers, onCleanup } from './cleanup.js';
import { type DigResult, dig } from './dig.js';
import { type Measurement, type MeasureContext, type Target, fellBehind, measure, pooledRun } from './measure.js';
import { type Peer, startAgent, startDnsmasq } from './peers.js';
import * as report from './report.js';
import { type Servers, startServers } from './servers.js';
import {
  ADDRESSES,
  AGENT_FANOUT,
  AGENT_TIMEOUT_MS,
  CACHE_TTL_S,
  DIG_TIMEOUT_S,
  DNSPERF_CLIENTS,
  DNSPERF_TIMEOUT_S,
  FIXED_QPS,
  ONLY_CASES,
  RESULTS_JSON,
  RESULTS_SVG,
  REPEATS,
  SECONDS,
  SOAK_SECONDS,
} from './settings.js';
import { COLORS, type ChartGroup, renderLatencySvg } from './svg.js';
import {
  allowedCpus,
  cpuSeconds,
  ensureTools,
  groupsCpuSeconds,
  machineBusyPct,
  machineInfo,
  memory,
  pin,
  toolVersions,
} from './system.js';
import { BIG_TASKS, type QueryFile, queryLines } from './zones.js';

installSignalHandlers();

const SOAK_WARMUP_S = 5;
/** The printed tables in a markdown file beside bench.json, ready to paste into docs/benchmark.md. */
const RESULTS_MD = join(dirname(RESULTS_JSON), 'bench.md');

interface Peers {
  agent: Peer;
  dnsmasq: Peer;
  agentCached: Peer;
  dnsmasqCached: Peer;
}

const peerTarget = (p: Peer, tcpClients = false): Target => ({
  label: p.label,
  endpoint: p.endpoint,
  cpuSeconds: () => cpuSeconds(p.pid),
  // dnsmasq forwards a TCP client's queries from a forked child, whose counts die with it.
  serverQueries: tcpClients && p.kind === 'dnsmasq' ? undefined : () => p.serverQueries(),
});

const ms = (v: number | null) => report.fmtMs(v);

async function runCase(
  ctx: MeasureContext,
  c: CaseDef,
  peers: Peers,
  servers: Servers,
  files: Record<QueryFile, string>,
): Promise<report.CaseResult> {
  const pair = c.cached ? [peers.agentCached, peers.dnsmasqCached] : [peers.agent, peers.dnsmasq];
  const hung = servers.masters[2];
  if (c.hungMaster) hung.hang();
  try {
    const run = (target: Target) => ({ endpoint: target.endpoint, file: files[c.file], seconds: SECONDS, tcp: c.tcp, edns: c.edns });
    // The fixed-rate runs first: in case 4 the agent's first one catches the onset, before it has
    // marked the hung master down; the unthrottled runs then see the steady state. REPEATS runs
    // per target, taking turns, pooled into one set of percentiles.
    // REPEATS runs of each target, taking turns, so that a slow spell of the machine falls on all.
    const takingTurns = async <T>(targets: Target[], one: (t: Target) => Promise<T>): Promise<T[][]> => {
      const runs: T[][] = targets.map(() => []);
      for (let r = 0; r < REPEATS; r++) {
        for (const [i, t] of targets.entries()) runs[i].push(await one(t));
      }
      return runs;
    };
    // The fixed-rate runs first: in case 4 the agent's first one catches the onset, before it has
    // marked the hung master down; the unthrottled runs then see the steady state. A target's
    // fixed-rate runs are pooled into one set of percentiles.
    const fixed = async (targets: Target[]): Promise<Measurement[]> => {
      const runs = await takingTurns(targets, (t) => measure(ctx, t, { ...run(t), qps: FIXED_QPS }));
      return targets.map((t, i) => {
        const m = pooledRun(runs[i]);
        console.log(
          `  ${c.n.padEnd(3)} ${c.id.padEnd(15)} ${t.label.padEnd(22)}p50 ${ms(m.p50Ms).padStart(6)} p99 ${ms(m.p99Ms).padStart(6)} ms at ${report.fmtInt(m.qps)} q/s (${REPEATS} runs pooled), lost ${m.lost}`,
        );
        return m;
      });
    };
    // Unthrottled: each target keeps its median run (peerCase).
    const unthrottled = async (targets: Target[]): Promise<Measurement[][]> => {
      const runs = await takingTurns(targets, async (t) => (await measure(ctx, t, run(t))).m);
      for (const [i, t] of targets.entries()) {
        console.log(
          `  ${c.n.padEnd(3)} ${c.id.padEnd(15)} ${t.label.padEnd(22)}unthrottled ${runs[i].map((m) => report.fmtInt(m.qps)).join(', ')} q/s, lost ${runs[i].map((m) => m.lost).join(', ')}`,
        );
      }
      return runs;
    };
    const peerCase = (fixedRun: Measurement, maxRuns: Measurement[]): report.PeerCase => ({
      fixed: fixedRun,
      max: report.medianRun(maxRuns),
      maxRunsQps: maxRuns.map((m) => m.qps),
    });
    const targets = [peerTarget(pair[0], c.tcp), peerTarget(pair[1], c.tcp)];
    const fixedRuns = await fixed(targets);
    const maxRuns = await unthrottled(targets);
    const agent = peerCase(fixedRuns[0], maxRuns[0]);
    const dnsmasq = peerCase(fixedRuns[1], maxRuns[1]);
    let direct: report.PeerCase | undefined;
    if (c.baseline) {
      const m = servers.masters[0];
      const t: Target = { label: `${m.name} directly`, endpoint: m.endpoint, cpuSeconds: () => groupsCpuSeconds([m.pgid]) };
      direct = peerCase((await fixed([t]))[0], (await unthrottled([t]))[0]);
    }
    return { ...c, agent, dnsmasq, direct, ratios: report.caseRatios(agent, dnsmasq) };
  } finally {
    if (c.hungMaster) hung.resume();
  }
}

/** Case 5: every master hung; how long until each peer answers (SERVFAIL), if at all. */
async function runAllHung(digPath: string, peers: Peers, servers: Servers): Promise<report.AllHung> {
  const result: report.AllHung = { agent: [], dnsmasq: [] };
  for (const m of servers.masters) m.hang();
  try {
    for (let round = 0; round < ALL_HUNG_ROUNDS; round++) {
      const ask = (p: Peer) => Promise.all(ALL_HUNG_NAMES.map((name) => dig(digPath, p.endpoint, name, 'A', { timeoutS: DIG_TIMEOUT_S })));
      const [a, d] = await Promise.all([ask(peers.agent), ask(peers.dnsmasq)]);
      result.agent.push(a);
      result.dnsmasq.push(d);
    }
  } finally {
    for (const m of servers.masters) m.resume();
  }
  return result;
}

async function runSoak(ctx: MeasureContext, peer: Peer, file: string): Promise<report.Soak> {
  const run = { endpoint: peer.endpoint, file, qps: FIXED_QPS };
  // A few seconds of the same load first, so that "before" is taken with the heap at its working
  // size, in the same state as "after": right when a run ends. Otherwise the young generation
  // growing back after an idle pause would read as growth.
  await measure(ctx, peerTarget(peer), { ...run, seconds: SOAK_WARMUP_S });
  const before = memory(peer.pid);
  const samples: report.Soak['samples'] = [];
  const t0 = performance.now();
  // Bounded by the dnsperf run it watches.
  const sampler = setInterval(() => {
    const m = memory(peer.pid);
    if (m) samples.push({ s: Math.round((performance.now() - t0) / 1000), rssKb: m.rssKb });
  }, 1000);
  let soakRun: Measurement;
  try {
    soakRun = (await measure(ctx, peerTarget(peer), { ...run, seconds: SOAK_SECONDS })).m;
  } finally {
    clearInterval(sampler);
  }
  const after = memory(peer.pid);
  return {
    target: peer.label,
    seconds: SOAK_SECONDS,
    qps: FIXED_QPS,
    before,
    after,
    growthKb: report.rssGrowthKb(samples),
    samples,
    run: soakRun,
  };
}

/** dnsmasq relayed the masters' truncated answers: far smaller than the agent's whole ones. */
const truncatedOnly = (c: report.CaseResult) => (c.dnsmasq.max.responseBytes ?? 0) * 4 < (c.agent.max.responseBytes ?? 0);

function chartGroups(cases: report.CaseResult[], allHung: report.AllHung): ChartGroup[] {
  const groups: ChartGroup[] = [];
  const servfail = (rounds: DigResult[][]) => {
    const t = report.timeToServfailMs(rounds);
    return t === null ? { p50Ms: DIG_TIMEOUT_S * 1000 * 10, note: `no answer in ${DIG_TIMEOUT_S} s` } : { p50Ms: t };
  };
  for (const c of cases) {
    if (c.n === '6') {
      groups.push({
        title: '5 every master hung: time to an answer (stale or SERVFAIL)',
        bars: [
          { label: 'agent', color: COLORS.agent, ...servfail(allHung.agent) },
          { label: 'dnsmasq', color: COLORS.dnsmasq, ...servfail(allHung.dnsmasq) },
        ],
      });
    }
    const behind = (m: Measurement) => (fellBehind(m) ? ` (at ${report.fmtInt(m.qps)} q/s)` : '');
    const bars = [
      { label: `agent${behind(c.agent.fixed)}`, color: COLORS.agent, p50Ms: c.agent.fixed.p50Ms, p99Ms: c.agent.fixed.p99Ms },
      {
        label: `dnsmasq${truncatedOnly(c) ? ' (TC, no records)' : ''}${behind(c.dnsmasq.fixed)}`,
        color: COLORS.dnsmasq,
        p50Ms: c.dnsmasq.fixed.p50Ms,
        p99Ms: c.dnsmasq.fixed.p99Ms,
      },
    ];
    if (c.direct) bars.push({ label: 'master', color: COLORS.direct, p50Ms: c.direct.fixed.p50Ms, p99Ms: c.direct.fixed.p99Ms });
    groups.push({ title: `${c.n} ${c.title}`, bars });
  }
  return groups;
}

async function main(): Promise<void> {
  const tools = ensureTools();
  const machine = machineInfo(toolVersions(tools)); // before pinning ourselves, which makes nproc 1
  // Other work on the machine skews every figure; measure it while nothing of ours runs yet.
  const busyBefore = await machineBusyPct(1000);
  const cpus = allowedCpus(tools.taskset);
  const pinned = cpus.length >= 2;
  const [peerCpu, loadCpu] = pinned ? [cpus[0], cpus[1]] : [undefined, undefined];
  // Children inherit this: the servers and dnsperf run on loadCpu; the peers are started on peerCpu.
  if (pinned) pin(tools.taskset, process.pid, loadCpu!);
  const pinning = pinned ? { taskset: tools.taskset, cpu: peerCpu! } : undefined;

  const dir = mkdtempSync(join(os.tmpdir(), 'phalanx-bench-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const files = {} as Record<QueryFile, string>;
  for (const f of ['local', 'mesos', 'upstream', 'big', 'mix'] as const) {
    files[f] = join(dir, `${f}.txt`);
    writeFileSync(files[f], queryLines(f).join('\n') + '\n');
  }

  const servers = await startServers(tools.nsd, dir);
  const peerOpts = (address: string, cached: boolean) => ({ address, cached, servers, dir, pinning });
  const peers: Peers = {
    agent: await startAgent(peerOpts(ADDRESSES.agent, false)),
    dnsmasq: await startDnsmasq(tools.dnsmasq, peerOpts(ADDRESSES.dnsmasq, false)),
    agentCached: await startAgent(peerOpts(ADDRESSES.agentCached, true)),
    dnsmasqCached: await startDnsmasq(tools.dnsmasq, peerOpts(ADDRESSES.dnsmasqCached, true)),
  };
  const agents = [peers.agent, peers.agentCached];
  const startRss = Object.fromEntries(agents.map((a) => [a.label, memory(a.pid)]));

  const settingsLine = `phalanx-dns bench: ${SECONDS} s per run, ${REPEATS} runs per peer, case and load (fixed rate pooled, unthrottled median), ${DNSPERF_CLIENTS} dnsperf clients, fixed rate ${FIXED_QPS} q/s, dnsperf timeout ${DNSPERF_TIMEOUT_S} s, soak ${SOAK_SECONDS} s`;
  const machineLine = `machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, node ${machine.node}, dnsperf ${machine.dnsperf}, dnsmasq ${machine.dnsmasq}, nsd ${machine.nsd}, ${machine.date}`;
  const pinningLine = `pinning: ${pinned ? `agent and dnsmasq on CPU ${peerCpu}; dnsperf, nsd and this driver on CPU ${loadCpu}` : 'none (needs taskset and 2 CPUs)'}`;
  console.log(settingsLine);
  console.log(machineLine);
  console.log(pinningLine);
  console.log(`machine load before start: ${report.fmtPct(busyBefore)} of one CPU used by other processes`);
  if (busyBefore !== null && busyBefore > 10)
    console.log('WARNING: the machine is busy with other work; these figures will be noisy. Rerun on a quiet machine.');
  console.log(
    `masters (nsd, UDP cut at 512 B) ${servers.masters.map((s) => s.endpoint).join(' ')}; upstreams (nsd) ${servers.upstreams.map((s) => s.endpoint).join(' ')}`,
  );
  console.log(
    `agent: fanout ${AGENT_FANOUT}, timeoutMs ${AGENT_TIMEOUT_MS}; dnsmasq: --all-servers; "cache" variants: agent cache on, dnsmasq --cache-size, both keep answers ${CACHE_TTL_S} s\n`,
  );

  // The big answer: whole from the agent (its TCP retry), truncated from the masters and dnsmasq.
  const big = (endpoint: string) => dig(tools.dig, endpoint, 'big.marathon.mesos', 'A', { timeoutS: 3, bufsize: 4096 });
  const truncation = {
    master: await big(servers.masters[0].endpoint),
    agent: await big(peers.agent.endpoint),
    dnsmasq: await big(peers.dnsmasq.endpoint),
  };

  // Warm-up (JIT, sockets, health state), not reported.
  const ctx: MeasureContext = { dnsperf: tools.dnsperf, peerCpu, loadCpu, serverGroups: servers.all.map((s) => s.pgid) };
  for (const p of Object.values(peers)) await measure(ctx, peerTarget(p), { endpoint: p.endpoint, file: files.mix, seconds: 1 });

  console.log('running (fixed rate, then unthrottled):');
  // Hung masters last, so nothing else runs right after one comes back.
  const chosen = ONLY_CASES.length ? CASES.filter((c) => ONLY_CASES.includes(c.n) || ONLY_CASES.includes(c.id)) : CASES;
  const order = [...chosen.filter((c) => !c.hungMaster), ...chosen.filter((c) => c.hungMaster)];
  const results: report.CaseResult[] = [];
  for (const c of order) results.push(await runCase(ctx, c, peers, servers, files));
  if (ONLY_CASES.length) {
    // A partial run (BENCH_CASES), for working on one path: its tables, nothing written.
    console.log(`\n${report.mainTable(results, FIXED_QPS)}\n\n${report.costTable(results)}`);
    for (const a of agents)
      console.log(`${a.label}: RSS after start ${report.mib(startRss[a.label]?.rssKb)}, peak (VmHWM) ${report.mib(memory(a.pid)?.hwmKb)}`);
    return;
  }
  const cases = CASES.map((c) => results.find((r) => r.id === c.id)!);

  process.stdout.write(`  5   every master hung: ${ALL_HUNG_ROUNDS} rounds of ${ALL_HUNG_NAMES.length} digs per peer ...`);
  const allHung = await runAllHung(tools.dig, peers, servers);
  console.log(' done');

  let soak: report.Soak | null = null;
  if (SOAK_SECONDS > 0) {
    process.stdout.write(`  soak: ${peers.agentCached.label}, mixed names, ${FIXED_QPS} q/s for ${SOAK_SECONDS} s ...`);
    soak = await runSoak(ctx, peers.agentCached, files.mix);
    console.log(` lost ${soak.run.lost}`);
  }
  const peakRss = Object.fromEntries(agents.map((a) => [a.label, memory(a.pid)]));
  const peakRssKb = Math.max(...Object.values(peakRss).map((m) => m?.hwmKb ?? 0)) || null;
  const targets = report.evaluateTargets({ cases, peakRssKb, soak });
  const mesos = cases.find((c) => c.id === 'mesos')!;

  // The tables as printed, kept for test-results/bench.md.
  const tables: string[] = [];
  const table = (text: string) => {
    console.log(text);
    tables.push(text);
  };
  table(`\n${report.mainTable(cases, FIXED_QPS)}`);
  if (cases.some((c) => fellBehind(c.agent.fixed) || fellBehind(c.dnsmasq.fixed))) table(report.MAIN_TABLE_FOOTNOTE);
  if (mesos.direct) {
    const d = mesos.direct;
    table(
      `baseline: case 2 names asked straight of master 1: ${report.fmtInt(d.max.qps)} q/s unthrottled; p50 ${ms(d.fixed.p50Ms)} ms, p99 ${ms(d.fixed.p99Ms)} ms at ${FIXED_QPS} q/s`,
    );
  }
  const noisy = report.noisyRunsText(cases);
  if (noisy) table(`\n${noisy}`);
  table(`\n${report.costTable(cases)}`);
  table(`\ncase 5, every master hung, dig +tries=1 +timeout=${DIG_TIMEOUT_S}:\n${report.allHungText(allHung, DIG_TIMEOUT_S)}`);
  const bigLine = (label: string, d: DigResult) =>
    `  ${label.padEnd(8)} ${d.rcode ?? 'no answer'}, ${d.answers} answers, ${d.bytes ?? '-'} bytes${d.truncated ? ', TC' : ''}`;
  console.log(
    `\nbig.marathon.mesos (${BIG_TASKS} A) over UDP with EDNS 4096:\n${bigLine('master', truncation.master)}\n${bigLine('agent', truncation.agent)}\n${bigLine('dnsmasq', truncation.dnsmasq)}`,
  );
  const bigCase = cases.find((c) => c.id === 'big')!;
  console.log(
    `  agent TCP queries to masters per client query in case 6: ${report.fmtRatio(bigCase.agent.max.tcpServerQueriesPerQuery)} (the TCP retry at work)`,
  );

  console.log('\nagent memory:');
  for (const a of agents)
    console.log(
      `  ${a.label.padEnd(14)} RSS after start ${report.mib(startRss[a.label]?.rssKb)}, peak (VmHWM) ${report.mib(peakRss[a.label]?.hwmKb)}`,
    );
  if (soak) {
    console.log(
      `  soak (${soak.target}): RSS ${report.mib(soak.before?.rssKb)} before, ${report.mib(soak.after?.rssKb)} after ${soak.seconds} s; lowest in the first and last third ${report.mib(report.rssFloorsKb(soak.samples)?.[0])} and ${report.mib(report.rssFloorsKb(soak.samples)?.[1])}`,
    );
    console.log(
      `  soak CPU: ${report.fmtInt(soak.run.cpuMsPer10k)} ms per 10k queries, ${report.fmtPct(soak.run.cpuPct)} of a CPU at ${report.fmtInt(soak.run.qps)} q/s (${FIXED_QPS} asked); lost ${soak.run.lost}`,
    );
  }
  const logCounts = Object.fromEntries(agents.map((a) => [a.label, a.logCounts()]));
  for (const [label, counts] of Object.entries(logCounts)) {
    const lines = Object.entries(counts);
    console.log(`${label} log lines at warn and above:${lines.length === 0 ? ' none' : ''}`);
    for (const [msg, n] of lines) console.log(`  ${n} x ${msg}`);
  }

  table(`\ntargets (issue 7; like for like, without caches):\n${report.targetsText(targets)}`);
  console.log(`
notes: a/d = agent / dnsmasq. Latency is measured at ${FIXED_QPS} q/s (dnsperf -v, every query), throughput
       unthrottled; a lost query counts as slower than any answer, so ">${DNSPERF_TIMEOUT_S * 1000}" means over 1% lost.
       "limited by": target = the peer used a whole CPU; machine = both CPUs were full (other work);
       load = the CPU of dnsperf and the servers was full; shared = the peer's CPU was full, partly with
       other processes. Unless both peers are "target", their q/s ratio says little, and the targets
       compare queries per CPU-second instead.
       The agent races ${AGENT_FANOUT} servers per query, dnsmasq --all-servers asks all (3 masters, 2 upstreams):
       see "server q per query" (dnsmasq does not count what it forwards for TCP clients).
       dnsmasq merges identical queries in flight; the query files cycle through 1000 names (200 big
       ones) so that it cannot, and both peers forward every query.
       dnsmasq relays a truncated answer as it is (TC, no records) and leaves the TCP retry to the client,
       so its case 6 is one cheap UDP exchange that answers nothing; 6t is the client's TCP retry.`);

  const results_ = {
    machine: {
      ...machine,
      otherCpuPctBeforeStart: busyBefore === null ? null : Math.round(busyBefore),
      pinning: pinned ? { peers: peerCpu, load: loadCpu } : null,
    },
    settings: {
      seconds: SECONDS,
      fixedQps: FIXED_QPS,
      soakSeconds: SOAK_SECONDS,
      clients: DNSPERF_CLIENTS,
      dnsperfTimeoutS: DNSPERF_TIMEOUT_S,
      digTimeoutS: DIG_TIMEOUT_S,
    },
    servers: {
      software: `nsd ${machine.nsd}`,
      port: servers.port,
      masters: servers.masters.map((s) => s.endpoint),
      upstreams: servers.upstreams.map((s) => s.endpoint),
      masterUdpLimitBytes: 512,
    },
    peers: Object.fromEntries(Object.values(peers).map((p) => [p.label, p.setup])),
    cases,
    allHung: { ...allHung, medianMs: { agent: report.timeToServfailMs(allHung.agent), dnsmasq: report.timeToServfailMs(allHung.dnsmasq) } },
    bigAnswer: truncation,
    memory: { startKb: startRss, endKb: peakRss, peakRssKb, soak },
    targets,
    agentLogCounts: logCounts,
  };
  mkdirSync(dirname(RESULTS_JSON), { recursive: true });
  writeFileSync(RESULTS_JSON, JSON.stringify(results_, null, 2) + '\n');
  writeFileSync(
    RESULTS_SVG,
    renderLatencySvg({
      title: `phalanx-dns agent vs dnsmasq ${machine.dnsmasq}: latency at ${FIXED_QPS} q/s`,
      subtitle: `${machine.date.slice(0, 16).replace('T', ' ')} UTC, ${machine.nproc} × ${machine.cpu}, node ${machine.node}, dnsperf ${machine.dnsperf}; masters and upstreams: nsd ${machine.nsd}`,
      groups: chartGroups(cases, allHung),
      capMs: DIG_TIMEOUT_S * 1000,
    }),
  );
  writeFileSync(
    RESULTS_MD,
    `Bench of ${machine.date.slice(0, 16).replace('T', ' ')} UTC, phalanx-dns ${VERSION}; ${machineLine}\n\n` +
      `${settingsLine}; ${pinningLine}\n\n\`\`\`text\n${tables.join('\n').trim()}\n\`\`\`\n`,
  );
  console.log(`\nresults: ${RESULTS_JSON}\nchart:   ${RESULTS_SVG}\ntables:  ${RESULTS_MD}`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  if (!aborted()) {
    console.error(`\nbench failed: ${(err as Error).stack ?? err}`);
    exitCode = 1;
  }
} finally {
  await cleanup();
}
if (!aborted()) process.exit(exitCode);
