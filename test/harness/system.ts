// The machine side of the bench: Debian packages, CPU pinning, and what /proc says about a
// process (CPU time, RSS) or a CPU (how busy it was).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { debianBinary } from './debian-binary.js';
import { REPO_ROOT } from './settings.js';

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The absolute path of `cmd`, also looking in the sbin folders a non-login PATH may lack. */
export function which(cmd: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/**
 * The tools and the Debian packages each comes in, installed with apt: none ships a service (dnsmasq-base is
 * dnsmasq without its service). cc builds the bench's fast masters (fast-server.c).
 */
const TOOLS = {
  dnsperf: ['dnsperf'],
  dnsmasq: ['dnsmasq-base'],
  dig: ['dnsutils'],
  taskset: ['util-linux'],
  cc: ['gcc', 'libc6-dev'],
} as const;

/** The tools taken out of their package without installing it, which would enable the package's service. */
const EXTRACTED = {
  nsd: ['nsd', './usr/sbin/nsd'],
  unbound: ['unbound', './usr/sbin/unbound'],
} as const;
export type Tool = keyof typeof TOOLS | keyof typeof EXTRACTED;
/** Where they go; `npm ci` empties it with node_modules, and the next run extracts them again. */
const EXTRACTED_DIR = join(REPO_ROOT, 'node_modules/.cache/debian-binaries');

/** What the chaos suite needs; the bench adds Unbound. */
const CORE_TOOLS: Tool[] = ['dnsperf', 'dnsmasq', 'nsd', 'dig', 'taskset'];

const isExtracted = (cmd: Tool): cmd is keyof typeof EXTRACTED => cmd in EXTRACTED;

/** The absolute path of each tool, installing the Debian packages of those missing. */
export function ensureTools(extra: Tool[] = []): Record<string, string> {
  const wanted = [...CORE_TOOLS, ...extra];
  // A compiler without the C library's headers cannot build anything.
  const present = (cmd: keyof typeof TOOLS) => which(cmd) && (cmd !== 'cc' || existsSync('/usr/include/stdio.h'));
  const missing = wanted.filter((cmd): cmd is keyof typeof TOOLS => !isExtracted(cmd) && !present(cmd));
  if (missing.length > 0) installDebianPackages(missing.flatMap((cmd) => TOOLS[cmd]));
  return Object.fromEntries(
    wanted.map((cmd) => {
      if (isExtracted(cmd)) return [cmd, debianBinary(EXTRACTED[cmd][0], EXTRACTED[cmd][1], EXTRACTED_DIR)];
      const path = which(cmd);
      if (!path) throw new Error(`${cmd} is still missing after installing ${TOOLS[cmd].join(' ')}`);
      return [cmd, path];
    }),
  );
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

function installDebianPackages(packages: string[]): void {
  console.log(`test: installing Debian packages: ${packages.join(' ')}`);
  // Should a dependency ever bring a service, policy-rc.d exit 101 ("action forbidden") is Debian's
  // own switch against starting it; ours is removed again once apt-get is done, and one already there is left alone.
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy)
    writeFileSync(POLICY_RC_D, '#!/bin/sh\n# phalanx-dns tests: start no service while installing\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const step of [
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
    ]) {
      const r = spawnSync(step[0], step.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: 300_000 });
      if (r.status !== 0) throw new Error(`"${step.join(' ')}" failed; install ${packages.join(' ')} yourself (it needs root)`);
    }
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
}

export interface ToolVersions {
  dnsperf: string;
  dnsmasq: string;
  nsd: string;
  /** When the run uses Unbound. */
  unbound?: string;
}

export function toolVersions(tools: Record<string, string>): ToolVersions {
  const out = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  };
  return {
    dnsperf: /Version (\S+)/.exec(out(tools.dnsperf, ['-H']))?.[1] ?? 'unknown',
    dnsmasq: /Dnsmasq version (\S+)/.exec(out(tools.dnsmasq, ['--version']))?.[1] ?? 'unknown',
    nsd: /NSD version (\S+)/.exec(out(tools.nsd, ['-v']))?.[1] ?? 'unknown',
    ...(tools.unbound ? { unbound: /Version (\S+)/.exec(out(tools.unbound, ['-V']))?.[1] ?? 'unknown' } : {}),
  };
}

// ---- CPUs ----

/** The CPUs this process may run on (its affinity list). */
export function allowedCpus(taskset: string): number[] {
  const out = spawnSync(taskset, ['-cp', String(process.pid)], { encoding: 'utf8' }).stdout ?? '';
  const list = /list:\s*([\d,-]+)/.exec(out)?.[1];
  if (!list) return [];
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** Pins every thread of `pid` to `cpu`; children started later inherit it. */
export function pin(taskset: string, pid: number, cpu: number): void {
  const r = spawnSync(taskset, ['-a', '-cp', String(cpu), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -cp ${cpu} ${pid} failed: ${r.stderr}`);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

interface ProcStat {
  ppid: number;
  pgrp: number;
  /** utime + stime + cutime + cstime: its own CPU and that of children it has reaped (dnsmasq's TCP workers). */
  cpuTicks: number;
  /** utime + stime: its own only. */
  ownTicks: number;
}

function procStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3, "state"
    const own = Number(f[11]) + Number(f[12]);
    return { ppid: Number(f[1]), pgrp: Number(f[2]), cpuTicks: own + Number(f[13]) + Number(f[14]), ownTicks: own };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by `pid` (all its threads, plus reaped children). */
export function cpuSeconds(pid: number): number | null {
  const s = procStat(pid);
  return s ? s.cpuTicks / CLK_TCK : null;
}

/** CPU seconds used so far by every live process in the given process groups (nsd forks workers). */
export function groupsCpuSeconds(pgids: number[]): number {
  const wanted = new Set(pgids);
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    if (s && wanted.has(s.pgrp)) ticks += s.cpuTicks;
  }
  return ticks / CLK_TCK;
}

/** Every process's CPU ticks so far, and which are this driver's own (itself and everything it started). */
export type ProcessTicks = Map<number, { ticks: number; ours: boolean }>;

export function processTicks(): ProcessTicks {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    // Kernel threads (children of kthreadd, pid 2) do the network's work for our packets too.
    if (s && s.ppid !== 2 && Number(entry) !== 2) stats.set(Number(entry), s);
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  return new Map([...stats].map(([pid, s]) => [pid, { ticks: s.ownTicks, ours: ours(pid) }]));
}

/**
 * CPU seconds that processes other than this driver's used between two snapshots, anywhere on
 * the machine: someone else's work, which skews every figure it overlaps. Each process's own time
 * only: a child's time lands on its parent when reaped, all at once, whenever it ran. So a process
 * that starts and ends between the snapshots goes unseen. (Per-CPU busy time from /proc/stat cannot
 * tell it either: at low load its tick sampling misses most of a server's short bursts.)
 */
export function otherProcessesCpuSeconds(before: ProcessTicks, after: ProcessTicks): number {
  let ticks = 0;
  for (const [pid, a] of after) {
    if (a.ours) continue;
    ticks += Math.max(0, a.ticks - (before.get(pid)?.ticks ?? 0));
  }
  return ticks / CLK_TCK;
}

/** Busy and total jiffies of each CPU, from /proc/stat. */
export function cpuTimes(): Map<number, { busy: number; all: number }> {
  const times = new Map<number, { busy: number; all: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const t = m[2].trim().split(/\s+/).map(Number).slice(0, 8); // user nice system idle iowait irq softirq steal
    const all = t.reduce((a, b) => a + b, 0);
    times.set(Number(m[1]), { busy: all - t[3] - t[4], all });
  }
  return times;
}

/** How busy `cpu` was between two cpuTimes() samples, in %. */
export function busyPct(before: ReturnType<typeof cpuTimes>, after: ReturnType<typeof cpuTimes>, cpu: number): number | null {
  const a = before.get(cpu);
  const b = after.get(cpu);
  if (!a || !b || b.all === a.all) return null;
  return ((b.busy - a.busy) / (b.all - a.all)) * 100;
}

/** The whole machine's busy CPU over `ms`, as % of one CPU: other people's work skews every figure. */
export async function machineBusyPct(ms: number): Promise<number | null> {
  const before = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const after = cpuTimes();
  let total = 0;
  for (const cpu of after.keys()) total += busyPct(before, after, cpu) ?? 0;
  return total;
}

// ---- memory ----

export interface Memory {
  rssKb: number;
  /** The peak RSS so far (VmHWM). */
  hwmKb: number;
}

export function memory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

export function machineInfo(versions: ToolVersions) {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    ...versions,
  };
}

/** The lowest RSS in the first and in the last third of a run, or null with too few samples. */
export function rssFloorsKb(samples: Array<{ rssKb: number }>): [number, number] | null {
  const third = Math.floor(samples.length / 3);
  if (third < 1) return null;
  const low = (part: Array<{ rssKb: number }>) => Math.min(...part.map((s) => s.rssKb));
  return [low(samples.slice(0, third)), low(samples.slice(-third))];
}

/**
 * RSS growth over a run: how far the floor of the garbage collector's sawtooth rose from the
 * first third of the run to the last. Two single readings (before, after) differ by +-15 MiB
 * depending on where in a GC cycle each falls; a leak raises the floor.
 */
export function rssGrowthKb(samples: Array<{ rssKb: number }>): number | null {
  const floors = rssFloorsKb(samples);
  return floors && floors[1] - floors[0];
}
