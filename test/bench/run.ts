// `npm run bench`: the agent against dnsmasq and Unbound on the same work, each alone on one core,
// all on loopback, judged by the targets in targets.ts.
//
// With two CPUs, the peer being measured runs alone on the first; dnsperf (-c 4 -q 500), the
// simulated masters and upstreams, this driver and the peers not being measured share the second.
// Each load case (cases.ts) runs every peer REPEATS times at a fixed rate (latency, CPU per query)
// and as many times unthrottled (queries per second on one core), the peers taking turns, so that
// a slow spell of the machine falls on all of them. The run goes:
//
// 1. with the fast masters (fast-server.c answering any name; servers.ts): local answers (1),
//    Mesos names uncached (2) and cached (2c), other names (3), the ping-pong client (added
//    latency), a flood of distinct names through every peer (the caches and stale stores fill),
//    one master hung (4), every master hung (5);
// 2. with the zone masters (NSD, in their place on the same addresses): big answers (6, 6t, 6c),
//    a flood of distinct big names, and the soak, the cached agent's RSS over BENCH_SOAK_SECONDS.
//
// It prints the tables and the targets, and writes test-results/bench.json, bench-latency.svg and
// bench.md (the printed tables under a line naming the date, the machine and the versions).
//
// Env: BENCH_SECONDS (per run, default 5), BENCH_REPEATS (default 3), BENCH_QPS (fixed rate,
// default 2000), BENCH_SOAK_SECONDS (default 60, 0 skips it), BENCH_CASES (only these cases or
// steps, e.g. "2" or "mesos,ping-pong"; prints, writes nothing), BENCH_AGENT_FLAGS (extra node
// flags for the agents), BENCH_AGENT_CONFIG (JSON laid over both agents' config),
// BENCH_AGENT_MAIN (another build's dist/agent/main.js). docs/benchmark.md says more.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../common/config/schema.js';
import { VERSION } from '../../common/version.js';
import { ALL_HUNG_NAMES, ALL_HUNG_ROUNDS, CASES, type CaseDef, STEPS } from './cases.js';
import { burst } from './burst.js';
import { aborted, cleanup, installSignalHandlers, onCleanup, throwIfAborted } from '../harness/cleanup.js';
import { type DigResult, dig } from '../harness/dig.js';
import { type Measurement, type MeasureContext, type Target, fellBehind, measure, pooledRun } from './measure.js';
import { type Peer, type PeerOptions, startAgent, startDnsmasq, startUnbound } from './peers.js';
import { pingPong } from './ping-pong.js';
import { type ProfileSession, startProfiles } from './profiles.js';
import * as report from './report.js';
import { type Servers, buildFastServer, commonFreePort, startFastServers, startServers } from '../harness/servers.js';
import {
  ADDRESSES,
  AGENT_MAIN,
  AGENT_NODE_FLAGS,
  AGENT_TIMEOUT_MS,
  BURST_CLIENTS,
  CACHE_TTL_S,
  DIG_TIMEOUT_S,
  DNSPERF_CLIENTS,
  DNSPERF_MAX_OUTSTANDING,
  DNSPERF_TIMEOUT_S,
  FIXED_QPS,
  FLOOD_SECONDS,
  ONLY_CASES,
  PING_PONG_QUERIES,
  PROFILE_DIR,
  REPEATS,
  RESULTS_JSON,
  RESULTS_MD,
  RESULTS_SVG,
  SECONDS,
  SOAK_SECONDS,
} from './settings.js';
import { COLORS, type ChartBar, type ChartGroup, renderLatencySvg } from './svg.js';
import {
  allowedCpus,
  cpuSeconds,
  ensureTools,
  machineBusyPct,
  machineInfo,
  memory,
  otherProcessesCpuSeconds,
  pin,
  processTicks,
  rssFloorsKb,
  rssGrowthKb,
  toolVersions,
} from '../harness/system.js';
import { targetsSummary, targetsText, evaluateTargets } from './targets.js';
import { BIG_TASKS, type QueryFile, queryLines } from '../harness/zones.js';
import { waitFor } from '../helpers/time.js';

installSignalHandlers();

const SOAK_WARMUP_S = 5;
/** How long the peers get to answer Mesos names again once the zone masters have replaced the fast ones. */
const SWAP_WAIT_S = 20;

interface Peers {
  agent: Peer;
  dnsmasq: Peer;
  agentCached: Peer;
  dnsmasqCached: Peer;
  unbound: Peer;
}

const chosen = (...ids: string[]) => ONLY_CASES.length === 0 || ids.some((id) => ONLY_CASES.includes(id));
const ms = (v: number | null) => report.fmtMs(v);
const pad = (s: string, n: number) => s.padEnd(n);

/**
 * Moves the peer being measured alone onto the peers' CPU and every other peer onto the load
 * CPU, so that nothing an idle peer does (a collection after its run, a timer) lands on the core
 * being measured. Without two CPUs it does nothing.
 */
function placer(peers: Peer[], pinning: { taskset: string; peerCpu: number; loadCpu: number } | undefined) {
  let current: Peer | null | undefined;
  return (measured: Peer | null) => {
    if (!pinning || measured === current) return;
    for (const p of peers) pin(pinning.taskset, p.pid, p === measured ? pinning.peerCpu : pinning.loadCpu);
    current = measured;
  };
}

async function main(): Promise<void> {
  const runStarted = performance.now();
  const tools = ensureTools(['unbound', 'cc']);
  const machine = machineInfo(toolVersions(tools)); // before pinning ourselves, which makes nproc 1
  // Other work on the machine skews every figure; measure it while nothing of ours runs yet.
  const busyBefore = await machineBusyPct(1000);
  const cpus = allowedCpus(tools.taskset);
  const pinned = cpus.length >= 2;
  const [peerCpu, loadCpu] = pinned ? [cpus[0], cpus[1]] : [undefined, undefined];
  // Children inherit this: the servers, dnsperf and the peers start on loadCpu.
  if (pinned) pin(tools.taskset, process.pid, loadCpu!);

  const dir = mkdtempSync(join(os.tmpdir(), 'phalanx-bench-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const files = {} as Record<QueryFile, string>;
  for (const f of ['local', 'mesos', 'upstream', 'big', 'mix', 'cached', 'uncached', 'upstream-uncached', 'flood', 'big-flood'] as const) {
    files[f] = join(dir, `${f}.txt`);
    writeFileSync(files[f], queryLines(f).join('\n') + '\n');
  }

  const port = await commonFreePort();
  let servers: Servers = await startFastServers(buildFastServer(tools.cc, dir), port);
  const serverCommands: Record<string, string[][]> = { fast: servers.commands };
  const peerOpts = (address: string, cached: boolean): PeerOptions => ({
    address,
    cached,
    masters: ADDRESSES.masters.map((a) => `${a}:${port}`),
    upstreams: ADDRESSES.upstreams.map((a) => `${a}:${port}`),
    dir,
  });
  const peers: Peers = {
    agent: await startAgent(peerOpts(ADDRESSES.agent, false)),
    dnsmasq: await startDnsmasq(tools.dnsmasq, peerOpts(ADDRESSES.dnsmasq, false)),
    agentCached: await startAgent(peerOpts(ADDRESSES.agentCached, true)),
    dnsmasqCached: await startDnsmasq(tools.dnsmasq, peerOpts(ADDRESSES.dnsmasqCached, true)),
    unbound: await startUnbound(tools.unbound, peerOpts(ADDRESSES.unbound, true)),
  };
  const allPeers = Object.values(peers);
  const agents = [peers.agent, peers.agentCached];
  const place = placer(allPeers, pinned ? { taskset: tools.taskset, peerCpu: peerCpu!, loadCpu: loadCpu! } : undefined);
  const ctx: MeasureContext = { dnsperf: tools.dnsperf, peerCpu, loadCpu, serverGroups: servers.all.map((s) => s.pgid) };

  const settingsLine = `phalanx-dns bench: ${SECONDS} s per run, ${REPEATS} runs per peer, case and load, peers taking turns (fixed rate pooled, unthrottled median), dnsperf -c ${DNSPERF_CLIENTS} -q ${DNSPERF_MAX_OUTSTANDING}, fixed rate ${FIXED_QPS} q/s, dnsperf timeout ${DNSPERF_TIMEOUT_S} s, floods ${FLOOD_SECONDS} s, soak ${SOAK_SECONDS} s`;
  const machineLine = `machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, node ${machine.node}, dnsperf ${machine.dnsperf}, dnsmasq ${machine.dnsmasq}, Unbound ${machine.unbound}, nsd ${machine.nsd}, ${machine.date}`;
  const pinningLine = `pinning: ${pinned ? `the peer measured alone on CPU ${peerCpu}; dnsperf, the masters and upstreams, this driver and the idle peers on CPU ${loadCpu}` : 'none (needs taskset and 2 CPUs)'}`;
  console.log(settingsLine);
  console.log(machineLine);
  console.log(pinningLine);
  console.log(`agent: ${AGENT_MAIN}, node flags ${AGENT_NODE_FLAGS.join(' ')}`);
  console.log(`machine load before start: ${report.fmtPct(busyBefore)} of one CPU used by other processes`);
  if (busyBefore !== null && busyBefore > 10)
    console.log('WARNING: the machine is busy with other work; these figures will be noisy. Rerun on a quiet machine.');
  console.log(
    `masters ${servers.masters.map((s) => s.endpoint).join(' ')}, upstreams ${servers.upstreams.map((s) => s.endpoint).join(' ')}: first fast-server.c answering any name, then nsd serving the zones`,
  );
  console.log(
    `agent: its default dispatch (${parseConfig({}).dispatch}), timeoutMs ${AGENT_TIMEOUT_MS}; dnsmasq: --all-servers; "cache" variants and Unbound keep answers ${CACHE_TTL_S} s\n`,
  );

  const peerTarget = (p: Peer, tcpClients = false): Target => ({
    label: p.label,
    endpoint: p.endpoint,
    cpuSeconds: () => cpuSeconds(p.pid),
    // dnsmasq forwards a TCP client's queries from a forked child, whose counts die with it.
    serverQueries: tcpClients && p.kind === 'dnsmasq' ? undefined : p.serverQueries,
  });
  const pairOf = (c: CaseDef) =>
    c.peers === 'cached'
      ? [peers.agentCached, peers.dnsmasqCached, ...(c.masters === 'fast' ? [peers.unbound] : [])]
      : [peers.agent, peers.dnsmasq];
  const warmUp = async (list: Array<[Peer, QueryFile, boolean?]>) => {
    for (const [p, file, edns] of list) {
      place(p);
      await measure(ctx, peerTarget(p), {
        endpoint: p.endpoint,
        file: files[file],
        seconds: 1,
        edns,
        maxOutstanding: DNSPERF_MAX_OUTSTANDING,
      });
    }
  };

  // REPEATS runs of each peer, taking turns, so that a slow spell of the machine falls on all.
  const takingTurns = async <T>(list: Peer[], one: (p: Peer) => Promise<T>): Promise<T[][]> => {
    const runs: T[][] = list.map(() => []);
    for (let r = 0; r < REPEATS; r++) {
      for (const [i, p] of list.entries()) {
        place(p);
        runs[i].push(await one(p));
      }
    }
    return runs;
  };

  async function runCase(c: CaseDef): Promise<report.CaseResult> {
    const list = pairOf(c);
    const hung = servers.masters[2];
    if (c.hungMaster) hung.hang();
    try {
      const run = (p: Peer, qps?: number) =>
        measure(ctx, peerTarget(p, c.tcp), {
          endpoint: p.endpoint,
          file: files[c.file],
          seconds: SECONDS,
          qps,
          tcp: c.tcp,
          edns: c.edns,
          maxOutstanding: DNSPERF_MAX_OUTSTANDING,
        });
      // The fixed-rate runs first: in case 4 the agent's first one catches the onset, before it has
      // marked the hung master down; the unthrottled runs then see the steady state.
      const fixedRuns = await takingTurns(list, (p) => run(p, FIXED_QPS));
      const fixed = fixedRuns.map((runs) => pooledRun(runs));
      for (const [i, p] of list.entries()) {
        const m = fixed[i];
        console.log(
          `  ${pad(c.n, 3)} ${pad(c.id, 11)} ${pad(p.label, 15)}p50 ${ms(m.p50Ms).padStart(6)} p99 ${ms(m.p99Ms).padStart(6)} ms, ${report.fmtUs(m.cpuMsPer10k).padStart(4)} µs CPU/query at ${report.fmtInt(m.qps)} q/s, lost ${m.lost}`,
        );
      }
      const profiles = await startCaseProfiles(c, list);
      const maxRuns = await takingTurns(list, async (p) => (await run(p)).m);
      await stopCaseProfiles(profiles, list, maxRuns);
      for (const [i, p] of list.entries()) {
        const each = maxRuns[i].map((m) => `${report.fmtInt(m.qps)} (${report.fmtPct(m.cpuPct)} CPU, ${m.limit})`).join(', ');
        console.log(
          `  ${pad(c.n, 3)} ${pad(c.id, 11)} ${pad(p.label, 15)}unthrottled ${each}; lost ${maxRuns[i].map((m) => m.lost).join(', ')}`,
        );
      }
      const peerCase = (i: number): report.PeerCase => ({
        label: list[i].label,
        kind: list[i].kind,
        fixed: fixed[i],
        fixedRuns: fixedRuns[i].map((r) => r.m),
        max: report.medianRun(maxRuns[i]),
        maxRuns: maxRuns[i],
      });
      const agent = peerCase(0);
      const dnsmasq = peerCase(1);
      return { ...c, agent, dnsmasq, unbound: list.length > 2 ? peerCase(2) : undefined, ratios: report.caseRatios(agent, dnsmasq) };
    } finally {
      if (c.hungMaster) hung.resume();
    }
  }

  /** With BENCH_PROFILE_DIR: both profiles of each agent of the case, over its unthrottled runs (profiles.ts). */
  async function startCaseProfiles(c: CaseDef, list: Peer[]): Promise<Map<Peer, ProfileSession>> {
    const sessions = new Map<Peer, ProfileSession>();
    if (!PROFILE_DIR) return sessions;
    mkdirSync(PROFILE_DIR, { recursive: true });
    for (const p of list.filter((x) => x.kind === 'agent')) {
      const url = p.inspectorUrl?.();
      if (!url) throw new Error(`${p.label}: no inspector address in its output (started without --inspect?)`);
      sessions.set(p, await startProfiles(url, PROFILE_DIR, `${c.n}-${c.id}.${p.cached ? 'agent-cache' : 'agent'}`));
    }
    return sessions;
  }

  async function stopCaseProfiles(sessions: Map<Peer, ProfileSession>, list: Peer[], maxRuns: Measurement[][]): Promise<void> {
    for (const [p, session] of sessions) {
      const files = await session.stop();
      const queries = maxRuns[list.indexOf(p)].reduce((a, m) => a + m.completed, 0);
      console.log(
        `      profiles of ${p.label}: ${files.cpuFile}, ${files.heapFile}; ${queries ? (files.allocatedBytes / queries / 1024).toFixed(1) : '-'} KiB allocated per query (sampled)`,
      );
    }
  }

  /** The ping-pong client (ping-pong.ts) straight to master 1, then through the uncached agent and dnsmasq, taking turns. */
  async function runPingPong(): Promise<report.PingPong> {
    const questions = queryLines('uncached');
    const master = servers.masters[0];
    const targets = [
      { label: `${master.endpoint} (master 1) directly`, endpoint: master.endpoint, peer: null as Peer | null },
      { label: peers.agent.label, endpoint: peers.agent.endpoint, peer: peers.agent },
      { label: peers.dnsmasq.label, endpoint: peers.dnsmasq.endpoint, peer: peers.dnsmasq },
    ] as const;
    const runs = targets.map(
      () => [] as Array<{ latenciesMs: number[]; p50Ms: number | null; sent: number; lost: number; others: number }>,
    );
    for (let r = 0; r < REPEATS; r++) {
      for (const [i, t] of targets.entries()) {
        throwIfAborted();
        place(t.peer);
        const procs0 = processTicks();
        const t0 = performance.now();
        const res = await pingPong({ endpoint: t.endpoint, questions, seconds: SECONDS, maxQueries: PING_PONG_QUERIES });
        const wallS = (performance.now() - t0) / 1000;
        const others = (otherProcessesCpuSeconds(procs0, processTicks()) / wallS) * 100;
        runs[i].push({ ...res, others });
      }
    }
    const summary = (i: number): report.PingPongSummary => {
      const all = runs[i].flatMap((x) => x.latenciesMs).sort((a, b) => a - b);
      const at = (p: number) => (all.length ? all[Math.min(all.length - 1, Math.ceil((p / 100) * all.length) - 1)] : null);
      return {
        label: targets[i].label,
        p50Ms: at(50),
        p99Ms: at(99),
        runP50Ms: runs[i].map((x) => x.p50Ms),
        sent: runs[i].reduce((a, x) => a + x.sent, 0),
        lost: runs[i].reduce((a, x) => a + x.lost, 0),
        otherWorkPct: Math.max(...runs[i].map((x) => x.others)),
      };
    };
    const result = { master: summary(0), agent: summary(1), dnsmasq: summary(2) };
    for (const s of Object.values(result))
      console.log(`  p50 ${ms(s.p50Ms).padStart(6)} p99 ${ms(s.p99Ms).padStart(6)} ms  one query at a time: ${s.label}`);
    return result;
  }

  /**
   * BURST_CLIENTS clients ask one new name at once through each peer, the cached (default) ones
   * first; the masters' queries are counted by the peer itself (the agent's metrics, dnsmasq's
   * statistics).
   */
  async function runBursts(): Promise<report.Burst[]> {
    const out: report.Burst[] = [];
    for (const [i, p] of [peers.agentCached, peers.dnsmasqCached, peers.agent, peers.dnsmasq].entries()) {
      throwIfAborted();
      place(p);
      const before = await p.serverQueries?.();
      const r = await burst(p.endpoint, `burst-${i}.marathon.mesos`, BURST_CLIENTS);
      // The agent counts a request when it ends; the fast masters answer in well under this.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await p.serverQueries?.();
      const masterQueries = before && after ? after.total - before.total : null;
      out.push({ label: p.label, kind: p.kind, ...r, masterQueries });
      console.log(
        `  burst           ${pad(p.label, 15)}${r.clients} clients, ${r.answered} answered; ${masterQueries ?? '-'} queries to the masters`,
      );
    }
    return out;
  }

  /** Unthrottled distinct names through each peer, for its memory: every cache and stale store fills. */
  async function runFloods(file: 'flood' | 'big-flood', list: Peer[]): Promise<report.Flood[]> {
    const out: report.Flood[] = [];
    for (const p of list) {
      place(p);
      const before = memory(p.pid);
      const { m } = await measure(ctx, peerTarget(p), {
        endpoint: p.endpoint,
        file: files[file],
        seconds: FLOOD_SECONDS,
        edns: file === 'big-flood',
        maxOutstanding: DNSPERF_MAX_OUTSTANDING,
      });
      const after = memory(p.pid);
      out.push({ label: p.label, file, qps: m.qps, lost: m.lost, before, after });
      console.log(
        `  ${pad(file, 15)} ${pad(p.label, 15)}${report.fmtInt(m.qps)} q/s for ${FLOOD_SECONDS} s, lost ${m.lost}; RSS ${report.mib(before?.rssKb)} → ${report.mib(after?.rssKb)}, VmHWM ${report.mib(after?.hwmKb)}`,
      );
    }
    return out;
  }

  /** Case 5: every master hung; how long until each peer answers (stale or SERVFAIL), if at all. */
  async function runAllHung(): Promise<report.AllHung> {
    const pair = [peers.agent, peers.dnsmasq];
    place(null);
    // Asked once while the masters answer, so the agent has a stale answer to give.
    for (const p of pair) for (const name of ALL_HUNG_NAMES) await dig(tools.dig, p.endpoint, name, 'A', { timeoutS: 2 });
    const result: report.AllHung = { agent: [], dnsmasq: [] };
    for (const m of servers.masters) m.hang();
    try {
      for (let round = 0; round < ALL_HUNG_ROUNDS; round++) {
        const ask = (p: Peer) =>
          Promise.all(ALL_HUNG_NAMES.map((name) => dig(tools.dig, p.endpoint, name, 'A', { timeoutS: DIG_TIMEOUT_S })));
        const [a, d] = await Promise.all(pair.map(ask));
        result.agent.push(a);
        result.dnsmasq.push(d);
      }
    } finally {
      for (const m of servers.masters) m.resume();
    }
    return result;
  }

  async function runSoak(peer: Peer): Promise<report.Soak> {
    place(peer);
    const run = { endpoint: peer.endpoint, file: files.mix, qps: FIXED_QPS, maxOutstanding: DNSPERF_MAX_OUTSTANDING };
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
      growthKb: rssGrowthKb(samples),
      samples,
      run: soakRun,
    };
  }

  /** Bounded wait until a peer answers `name` with records again (after the masters were swapped). */
  async function waitForAnswers(p: Peer, name: string): Promise<void> {
    const answering = async () => {
      const d = await dig(tools.dig, p.endpoint, name, 'A', { timeoutS: 2 });
      return d.rcode === 'NOERROR' && d.answers > 0;
    };
    if (await waitFor(answering, { timeoutMs: SWAP_WAIT_S * 1000, everyMs: 250 })) return;
    throw new Error(`${p.label} did not answer ${name} within ${SWAP_WAIT_S} s of the zone masters' start`);
  }

  // ---- 1: the fast masters ----
  const fastCases = CASES.filter((c) => c.masters === 'fast' && chosen(c.n, c.id));
  const zoneCases = CASES.filter((c) => c.masters === 'zone' && chosen(c.n, c.id));
  // Warm-up (JIT, sockets, health state), not reported.
  await warmUp([
    [peers.agent, 'uncached'],
    [peers.dnsmasq, 'uncached'],
    [peers.agentCached, 'cached'],
    [peers.dnsmasqCached, 'cached'],
    [peers.unbound, 'cached'],
  ]);
  console.log('running (fixed rate, then unthrottled):');
  const results: report.CaseResult[] = [];
  for (const c of fastCases.filter((k) => !k.hungMaster)) results.push(await runCase(c));
  let pingPongResult: report.PingPong | null = null;
  if (chosen(STEPS.pingPong)) pingPongResult = await runPingPong();
  const bursts: report.Burst[] = [];
  if (chosen(STEPS.burst)) bursts.push(...(await runBursts()));
  const floods: report.Flood[] = [];
  if (chosen(STEPS.flood)) floods.push(...(await runFloods('flood', allPeers)));
  // Hung masters last, so nothing else runs right after one comes back.
  for (const c of fastCases.filter((k) => k.hungMaster)) results.push(await runCase(c));
  let allHung: report.AllHung | null = null;
  if (chosen(STEPS.allHung, '5')) {
    process.stdout.write(`  5   every master hung: ${ALL_HUNG_ROUNDS} rounds of ${ALL_HUNG_NAMES.length} digs per peer ...`);
    allHung = await runAllHung();
    console.log(' done');
  }

  // ---- 2: the zone masters ----
  let truncation: Record<string, DigResult> | null = null;
  let soak: report.Soak | null = null;
  const zoneSteps = zoneCases.length > 0 || chosen(STEPS.bigFlood) || (chosen(STEPS.soak) && SOAK_SECONDS > 0);
  if (zoneSteps) {
    place(null);
    await servers.stop();
    servers = await startServers(tools.nsd, dir, port);
    serverCommands.zone = servers.commands;
    ctx.serverGroups = servers.all.map((s) => s.pgid);
    console.log(`masters and upstreams now nsd, on the same addresses`);
    for (const p of [peers.agent, peers.dnsmasq, peers.agentCached, peers.dnsmasqCached]) await waitForAnswers(p, 'nginx.marathon.mesos');
    // The big answer: whole from the agent (its TCP retry), truncated from the masters and dnsmasq.
    const big = (endpoint: string) => dig(tools.dig, endpoint, 'big.marathon.mesos', 'A', { timeoutS: 3, bufsize: 4096 });
    truncation = {
      master: await big(servers.masters[0].endpoint),
      agent: await big(peers.agent.endpoint),
      dnsmasq: await big(peers.dnsmasq.endpoint),
    };
    await warmUp([
      [peers.agent, 'big', true],
      [peers.dnsmasq, 'big', true],
      [peers.agentCached, 'big', true],
      [peers.dnsmasqCached, 'big', true],
    ]);
    for (const c of zoneCases) results.push(await runCase(c));
    if (chosen(STEPS.bigFlood)) floods.push(...(await runFloods('big-flood', [peers.agent, peers.agentCached])));
    if (chosen(STEPS.soak) && SOAK_SECONDS > 0) {
      process.stdout.write(`  soak: ${peers.agentCached.label}, mixed names, ${FIXED_QPS} q/s for ${SOAK_SECONDS} s ...`);
      soak = await runSoak(peers.agentCached);
      console.log(` lost ${soak.run.lost}`);
    }
  }
  place(null);

  const peerMemory: report.PeerMemory[] = allPeers.map((p) => ({ label: p.label, kind: p.kind, start: p.startMemory, end: memory(p.pid) }));
  const agentMemory = peerMemory.filter((m) => m.kind === 'agent');
  const worst = (f: (m: report.PeerMemory) => number | undefined) => Math.max(...agentMemory.map((m) => f(m) ?? 0)) || null;
  const cases = CASES.map((c) => results.find((r) => r.id === c.id)).filter((c): c is report.CaseResult => !!c);
  const complete = ONLY_CASES.length === 0;
  const targets = evaluateTargets({
    cases,
    pingPong: pingPongResult,
    agentsStartRssKb: worst((m) => m.start?.rssKb),
    agentsPeakRssKb: worst((m) => m.end?.hwmKb),
    complete,
    bursts,
    hedgeMaxMs: parseConfig({}).hedge.maxMs,
  });

  // The tables as printed, kept for test-results/bench.md.
  const tables: string[] = [];
  const table = (text: string) => {
    console.log(text);
    tables.push(text);
  };
  if (cases.length) {
    table(`\n${report.mainTable(cases, FIXED_QPS)}`);
    if (cases.some((c) => report.peersOf(c).some((p) => fellBehind(p.fixed)))) table(report.MAIN_TABLE_FOOTNOTE);
    table(`\n${report.runsTable(cases)}`);
    table(`\n${report.costTable(cases, FIXED_QPS)}`);
  }
  const noisy = report.noisyRunsText(cases, pingPongResult);
  if (noisy) table(`\n${noisy}`);
  if (pingPongResult) table(`\n${report.pingPongTable(pingPongResult)}`);
  if (bursts.length) table(`\n${report.burstTable(bursts)}`);
  table(`\n${report.memoryTable(peerMemory, floods)}`);
  if (soak) {
    const floors = rssFloorsKb(soak.samples);
    table(
      `soak (${soak.target}, mixed names, ${soak.qps} q/s for ${soak.seconds} s): RSS floor ${report.mib(floors?.[0])} in the first third, ${report.mib(floors?.[1])} in the last (growth ${report.mib(soak.growthKb)}); ${report.fmtUs(soak.run.cpuMsPer10k)} µs CPU per query; lost ${soak.run.lost}`,
    );
  }
  if (allHung) table(`\ncase 5, every master hung, dig +tries=1 +timeout=${DIG_TIMEOUT_S}:\n${report.allHungText(allHung, DIG_TIMEOUT_S)}`);
  if (truncation) {
    const bigLine = (label: string, d: DigResult) =>
      `  ${label.padEnd(8)} ${d.rcode ?? 'no answer'}, ${d.answers} answers, ${d.bytes ?? '-'} bytes${d.truncated ? ', TC' : ''}`;
    console.log(
      `\nbig.marathon.mesos (${BIG_TASKS} A) over UDP with EDNS 4096:\n${Object.entries(truncation)
        .map(([k, d]) => bigLine(k, d))
        .join('\n')}`,
    );
  }
  const logCounts = Object.fromEntries(agents.map((a) => [a.label, a.logCounts()]));
  for (const [label, counts] of Object.entries(logCounts)) {
    const lines = Object.entries(counts);
    console.log(`${label} log lines at warn and above:${lines.length === 0 ? ' none' : ''}`);
    for (const [msg, n] of lines) console.log(`  ${n} x ${msg}`);
  }
  for (const a of agents) if (a.rawOutput?.()) console.log(`${a.label}: lines other than log lines in ${a.rawOutput()}`);

  table(`\ntargets (docs/benchmark.md; each peer alone on one core):\n${targetsText(targets)}\n${targetsSummary(targets)}`);
  const minutes = ((performance.now() - runStarted) / 60_000).toFixed(1);
  console.log(`
notes: a/d = agent / dnsmasq. Throughput is unthrottled (the median of ${REPEATS} runs), latency and CPU per
       query at ${FIXED_QPS} q/s (${REPEATS} runs pooled); a lost query counts as slower than any answer, so
       ">${DNSPERF_TIMEOUT_S * 1000}" means over 1% lost. "limited by": target = the peer used its whole CPU; load = the CPU
       of dnsperf and the masters was full first; machine = both were full but the peer did not use its
       whole CPU (other work); shared = the peer's CPU was full, partly with other processes.
       The agent asks one server per query, the next after a hedge delay; dnsmasq --all-servers asks all (3 masters, 2 upstreams),
       Unbound one: see "server q per query" (dnsmasq does not count what it forwards for TCP clients).
       dnsmasq relays a truncated answer as it is (TC, no records) and leaves the TCP retry to the client,
       so its case 6 is one cheap UDP exchange that answers nothing; 6t is the client's TCP retry.
       The bench took ${minutes} minutes.`);
  if (!complete) return; // A partial run, for working on one path: its tables, nothing written.

  const results_ = {
    machine: {
      ...machine,
      otherCpuPctBeforeStart: busyBefore === null ? null : Math.round(busyBefore),
      pinning: pinned ? { peer: peerCpu, load: loadCpu } : null,
      minutes: Number(minutes),
    },
    settings: {
      seconds: SECONDS,
      repeats: REPEATS,
      fixedQps: FIXED_QPS,
      soakSeconds: SOAK_SECONDS,
      floodSeconds: FLOOD_SECONDS,
      clients: DNSPERF_CLIENTS,
      maxOutstanding: DNSPERF_MAX_OUTSTANDING,
      dnsperfTimeoutS: DNSPERF_TIMEOUT_S,
      digTimeoutS: DIG_TIMEOUT_S,
      agentMain: AGENT_MAIN,
      agentNodeFlags: AGENT_NODE_FLAGS,
    },
    servers: { port, commands: serverCommands, masterUdpLimitBytes: { nsd: 512 } },
    peers: Object.fromEntries(allPeers.map((p) => [p.label, p.setup])),
    cases,
    pingPong: pingPongResult,
    bursts,
    floods,
    allHung: allHung && {
      ...allHung,
      medianMs: { agent: report.timeToAnswerMs(allHung.agent), dnsmasq: report.timeToAnswerMs(allHung.dnsmasq) },
    },
    bigAnswer: truncation,
    memory: { peers: peerMemory, soak },
    targets,
    agentLogCounts: logCounts,
  };
  mkdirSync(dirname(RESULTS_JSON), { recursive: true });
  writeFileSync(RESULTS_JSON, JSON.stringify(results_, null, 2) + '\n');
  writeFileSync(
    RESULTS_SVG,
    renderLatencySvg({
      title: `phalanx-dns agent vs dnsmasq ${machine.dnsmasq} and Unbound ${machine.unbound}: latency at ${FIXED_QPS} q/s`,
      subtitle: `${machine.date.slice(0, 16).replace('T', ' ')} UTC, ${machine.nproc} × ${machine.cpu}, node ${machine.node}, dnsperf ${machine.dnsperf}; each peer alone on one core`,
      groups: chartGroups(cases, pingPongResult, allHung),
      capMs: DIG_TIMEOUT_S * 1000,
    }),
  );
  writeFileSync(
    RESULTS_MD,
    `Bench of ${machine.date.slice(0, 16).replace('T', ' ')} UTC, phalanx-dns ${VERSION}; ${machineLine}\n\n` +
      `${settingsLine}; ${pinningLine}; ${minutes} minutes\n\n\`\`\`text\n${tables.join('\n').trim()}\n\`\`\`\n`,
  );
  console.log(`\nresults: ${RESULTS_JSON}\nchart:   ${RESULTS_SVG}\ntables:  ${RESULTS_MD}`);
}

function chartGroups(cases: report.CaseResult[], pp: report.PingPong | null, allHung: report.AllHung | null): ChartGroup[] {
  const groups: ChartGroup[] = [];
  const color = { agent: COLORS.agent, dnsmasq: COLORS.dnsmasq, unbound: COLORS.unbound };
  const behind = (m: Measurement) => (fellBehind(m) ? ` (at ${report.fmtInt(m.qps)} q/s)` : '');
  for (const c of cases) {
    const bars: ChartBar[] = report.peersOf(c).map((p) => ({
      label: `${p.label}${p.kind === 'dnsmasq' && !c.sameAnswers ? ' (TC, no records)' : ''}${behind(p.fixed)}`,
      color: color[p.kind],
      p50Ms: p.fixed.p50Ms,
      p99Ms: p.fixed.p99Ms,
    }));
    groups.push({ title: `${c.n} ${c.title}`, bars });
  }
  if (pp) {
    groups.push({
      title: 'one query at a time (ping-pong), case 2 names',
      bars: [
        { label: 'master directly', color: COLORS.direct, p50Ms: pp.master.p50Ms, p99Ms: pp.master.p99Ms },
        { label: 'agent', color: COLORS.agent, p50Ms: pp.agent.p50Ms, p99Ms: pp.agent.p99Ms },
        { label: 'dnsmasq', color: COLORS.dnsmasq, p50Ms: pp.dnsmasq.p50Ms, p99Ms: pp.dnsmasq.p99Ms },
      ],
    });
  }
  if (allHung) {
    const answered = (rounds: DigResult[][]) => {
      const t = report.timeToAnswerMs(rounds);
      return t === null ? { p50Ms: DIG_TIMEOUT_S * 1000 * 10, note: `no answer in ${DIG_TIMEOUT_S} s` } : { p50Ms: t };
    };
    groups.push({
      title: '5 every master hung: time to an answer (stale or SERVFAIL)',
      bars: [
        { label: 'agent', color: COLORS.agent, ...answered(allHung.agent) },
        { label: 'dnsmasq', color: COLORS.dnsmasq, ...answered(allHung.dnsmasq) },
      ],
    });
  }
  return groups;
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
