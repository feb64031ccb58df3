// What a bench run found, as the printed tables and the targets of issue 7 with pass/fail (pure).
import type { CaseDef } from './cases.js';
import type { DigResult } from './dig.js';
import { type Measurement, NOISY_PCT, fellBehind } from './measure.js';
import { DNSPERF_TIMEOUT_S } from './settings.js';
import type { Memory } from './system.js';

export interface PeerCase {
  fixed: Measurement;
  /** The median of the unthrottled runs (by q/s): its q/s, CPU and limit are what is reported. */
  max: Measurement;
  /** q/s of every unthrottled run, in the order run. */
  maxRunsQps: number[];
}

export interface CaseResult extends CaseDef {
  agent: PeerCase;
  dnsmasq: PeerCase;
  /** Straight to master 1, for the cases that have a baseline. */
  direct?: PeerCase;
  ratios: {
    qps: number | null;
    p50: number | null;
    p99: number | null;
    cpuPer10k: number | null;
    /** Queries per CPU-second, agent / dnsmasq: throughput whatever else limited the run. */
    perCpu: number | null;
  };
}

export interface AllHung {
  /** One array per round, one result per name asked. */
  agent: DigResult[][];
  dnsmasq: DigResult[][];
}

export interface Soak {
  target: string;
  seconds: number;
  qps: number;
  before: Memory | null;
  after: Memory | null;
  /** See rssGrowthKb(). */
  growthKb: number | null;
  /** RSS every second during the run. */
  samples: Array<{ s: number; rssKb: number }>;
  run: Measurement;
}

export interface Target {
  name: string;
  limit: string;
  value: string;
  /** null: not measured in this run. */
  pass: boolean | null;
}

/** RSS may wobble by this much with garbage collection without being growth. */
export const RSS_GROWTH_TOLERANCE_KB = 5 * 1024;
/** 100 MB, in the kB (KiB) that /proc reports. */
export const PEAK_RSS_LIMIT_KB = 100e6 / 1024;

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;

/** The run with the median q/s (the lower middle one of an even count). */
export function medianRun(runs: Measurement[]): Measurement {
  if (runs.length === 0) throw new Error('no runs');
  const sorted = [...runs].sort((a, b) => a.qps - b.qps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function caseRatios(agent: PeerCase, dnsmasq: PeerCase): CaseResult['ratios'] {
  return {
    qps: ratio(agent.max.qps, dnsmasq.max.qps),
    p50: ratio(agent.fixed.p50Ms, dnsmasq.fixed.p50Ms),
    p99: ratio(agent.fixed.p99Ms, dnsmasq.fixed.p99Ms),
    cpuPer10k: ratio(agent.max.cpuMsPer10k, dnsmasq.max.cpuMsPer10k),
    perCpu: ratio(dnsmasq.max.cpuMsPer10k, agent.max.cpuMsPer10k),
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

// ---- formatting ----

export const fmtMs = (v: number | null | undefined): string => {
  if (v == null) return '-';
  if (!Number.isFinite(v)) return `>${DNSPERF_TIMEOUT_S * 1000}`; // a lost query: no latency at all
  return v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : v.toFixed(0);
};
export const fmtRatio = (v: number | null | undefined): string => (v == null ? '-' : v.toFixed(2));
export const fmtInt = (v: number | null | undefined): string => (v == null ? '-' : Math.round(v).toLocaleString('en-US'));
export const fmtPct = (v: number | null | undefined): string => (v == null ? '-' : `${v.toFixed(0)}%`);
export const mib = (kB: number | null | undefined): string => (kB == null ? '-' : `${(kB / 1024).toFixed(1)} MiB`);

/**
 * A text table with optional group headings over the column headings. The first column is
 * left-aligned, the others right-aligned unless `left` says otherwise.
 */
export function textTable(groups: Array<[string, number]> | undefined, head: string[], rows: string[][], left: number[] = [0]): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const sep = ' │ ';
  const gap = '  ';
  const starts = new Set<number>();
  const spans: Array<[string, number, number]> = []; // title, first column, span
  let col = 0;
  for (const [title, span] of groups ?? []) {
    starts.add(col);
    spans.push([title, col, span]);
    // A group title wider than its columns widens the last of them.
    const w = width.slice(col, col + span).reduce((a, b) => a + b, 0) + gap.length * (span - 1);
    if (title.length > w) width[col + span - 1] += title.length - w;
    col += span;
  }
  const cell = (c: string, i: number) => (left.includes(i) ? c.padEnd(width[i]) : c.padStart(width[i]));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? '' : starts.has(i) ? sep : gap) + cell(c, i))
      .join('')
      .trimEnd();
  const out: string[] = [];
  if (groups) {
    out.push(
      spans
        .map(
          ([title, first, span]) =>
            (first === 0 ? '' : sep) + title.padEnd(width.slice(first, first + span).reduce((a, b) => a + b, 0) + gap.length * (span - 1)),
        )
        .join('')
        .trimEnd(),
    );
  }
  out.push(line(head), line(width.map((w) => '─'.repeat(w))), ...rows.map(line));
  return out.join('\n');
}

/** A fixed-rate latency, starred when the peer fell behind the rate (see mainTableFootnote). */
const lat = (m: Measurement, v: number | null) => fmtMs(v) + (fellBehind(m) ? '*' : '');

export const MAIN_TABLE_FOOTNOTE =
  '* the peer fell behind the fixed rate (dnsperf keeps at most 100 queries outstanding): that latency includes queueing';

export function mainTable(cases: CaseResult[], fixedQps: number): string {
  const rows = cases.map((c) => [
    `${c.n.padEnd(3)} ${c.title}`,
    fmtInt(c.agent.max.qps),
    fmtInt(c.dnsmasq.max.qps),
    fmtRatio(c.ratios.qps),
    `${c.agent.fixed.lost}/${c.agent.max.lost}`,
    `${c.dnsmasq.fixed.lost}/${c.dnsmasq.max.lost}`,
    lat(c.agent.fixed, c.agent.fixed.p50Ms),
    lat(c.dnsmasq.fixed, c.dnsmasq.fixed.p50Ms),
    fmtRatio(c.ratios.p50),
    lat(c.agent.fixed, c.agent.fixed.p99Ms),
    lat(c.dnsmasq.fixed, c.dnsmasq.fixed.p99Ms),
    fmtRatio(c.ratios.p99),
  ]);
  return textTable(
    [
      ['', 1],
      ['queries/s, unthrottled', 3],
      ['lost fixed/max', 2],
      [`p50 ms at ${fixedQps} q/s`, 3],
      [`p99 ms at ${fixedQps} q/s`, 3],
    ],
    ['case', 'agent', 'dnsmasq', 'a/d', 'agent', 'dnsmasq', 'agent', 'dnsmasq', 'a/d', 'agent', 'dnsmasq', 'a/d'],
    rows,
  );
}

/** The runs where other processes took a noticeable share of the peers' CPU, or ''. */
export function noisyRunsText(cases: CaseResult[]): string {
  const noisy: string[] = [];
  for (const c of cases) {
    for (const peer of ['agent', 'dnsmasq'] as const) {
      for (const load of ['fixed', 'max'] as const) {
        const o = c[peer][load].othersOnPeerCpuPct;
        if (o !== null && o > NOISY_PCT) noisy.push(`${c.n} ${peer} ${load} (${o.toFixed(0)}%)`);
      }
    }
  }
  if (noisy.length === 0) return '';
  return `noisy runs, where other processes took over ${NOISY_PCT}% of the peers' CPU (rerun on a quiet machine before trusting them):\n  ${noisy.join(', ')}`;
}

export function costTable(cases: CaseResult[]): string {
  const rows = cases.map((c) => [
    `${c.n.padEnd(3)} ${c.id}`,
    fmtInt(c.agent.max.cpuMsPer10k),
    fmtInt(c.dnsmasq.max.cpuMsPer10k),
    fmtRatio(c.ratios.cpuPer10k),
    fmtPct(c.agent.max.cpuPct),
    fmtPct(c.dnsmasq.max.cpuPct),
    c.agent.max.limit,
    c.dnsmasq.max.limit,
    fmtRatio(c.agent.max.serverQueriesPerQuery),
    fmtRatio(c.agent.max.tcpServerQueriesPerQuery),
    fmtRatio(c.dnsmasq.max.serverQueriesPerQuery),
    fmtInt(c.agent.max.responseBytes),
    fmtInt(c.dnsmasq.max.responseBytes),
  ]);
  return textTable(
    [
      ['', 1],
      ['CPU ms per 10k queries', 3],
      ['peer CPU', 2],
      ['limited by', 2],
      ['server q per query', 3],
      ['answer bytes', 2],
    ],
    [
      'case, unthrottled runs',
      'agent',
      'dnsmasq',
      'a/d',
      'agent',
      'dnsmasq',
      'agent',
      'dnsmasq',
      'agent',
      'a tcp',
      'dnsmasq',
      'agent',
      'dnsmasq',
    ],
    rows,
  );
}

// ---- targets ----

export interface TargetInputs {
  cases: CaseResult[];
  peakRssKb: number | null;
  soak: Soak | null;
}

export function evaluateTargets({ cases, peakRssKb, soak }: TargetInputs): Target[] {
  const byId = (id: string) => cases.find((c) => c.id === id);
  const local = byId('local');
  const mesos = byId('mesos');
  const upstream = byId('upstream');
  const hung = byId('mesos-hung');
  const targets: Target[] = [];
  // Queries per second when both peers were what limited their unthrottled runs; otherwise
  // (dnsperf and the servers ran out of CPU first, or other work shared the peers' CPU) the
  // measured q/s say more about the load side, and queries per CPU-second compare the peers.
  const throughput = (name: string, c: CaseResult | undefined, min: number) => {
    const real = c?.agent.max.limit === 'target' && c.dnsmasq.max.limit === 'target';
    const v = real ? c?.ratios.qps : c?.ratios.perCpu;
    targets.push({
      name: `${name}, judged ${real ? 'by q/s' : 'per CPU-second'}`,
      limit: `>= ${min}`,
      value: `${fmtRatio(c?.ratios.qps)} q/s, ${fmtRatio(c?.ratios.perCpu)} per CPU-s`,
      pass: v == null ? null : v >= min,
    });
  };
  throughput('local answers, agent/dnsmasq (case 1)', local, 0.6);
  throughput('Mesos names, agent/dnsmasq --all-servers (case 2)', mesos, 0.5);
  throughput('other names, agent/dnsmasq --all-servers (case 3)', upstream, 0.5);

  const addedBy = (m: Measurement | undefined) =>
    m?.p50Ms != null && mesos?.direct?.fixed.p50Ms != null ? m.p50Ms - mesos.direct.fixed.p50Ms : null;
  const added = addedBy(mesos?.agent.fixed);
  const addedByDnsmasq = addedBy(mesos?.dnsmasq.fixed);
  targets.push({
    name: 'added latency at p50 over asking the master directly (case 2)',
    limit: '< 0.100 ms',
    value:
      added == null
        ? '-'
        : `${added.toFixed(3)} ms${mesos && fellBehind(mesos.agent.fixed) ? '*' : ''} (dnsmasq ${addedByDnsmasq?.toFixed(3) ?? '-'} ms)`,
    pass: added == null ? null : added < 0.1,
  });

  const hungRatio = ratio(hung?.agent.fixed.p99Ms, mesos?.agent.fixed.p99Ms);
  const hungLost = hung?.agent.fixed.p99Ms != null && !Number.isFinite(hung.agent.fixed.p99Ms);
  targets.push({
    name: 'one master hung: p99 / healthy p99 (case 4 / case 2)',
    limit: '<= 1.50',
    value: hungLost
      ? 'over 1% lost'
      : `${fmtRatio(hungRatio)}${(hung && fellBehind(hung.agent.fixed)) || (mesos && fellBehind(mesos.agent.fixed)) ? '*' : ''}`,
    pass: hungLost ? false : hungRatio == null ? null : hungRatio <= 1.5,
  });

  targets.push({
    name: 'agent peak RSS (VmHWM, largest of both agents)',
    limit: '< 100 MB',
    value: mib(peakRssKb),
    pass: peakRssKb == null ? null : peakRssKb < PEAK_RSS_LIMIT_KB,
  });
  targets.push({
    name: `agent RSS growth over the ${soak ? `${soak.seconds} s` : ''} sustained run (GC floor)`,
    limit: `none (< ${RSS_GROWTH_TOLERANCE_KB / 1024} MiB)`,
    value: !soak
      ? 'not run'
      : soak.growthKb == null
        ? 'run too short'
        : `${soak.growthKb >= 0 ? '+' : ''}${mib(soak.growthKb)} (RSS ${mib(soak.before?.rssKb)} before, ${mib(soak.after?.rssKb)} after)`,
    pass: soak?.growthKb == null ? null : soak.growthKb < RSS_GROWTH_TOLERANCE_KB,
  });
  return targets;
}

export function targetsText(targets: Target[]): string {
  return textTable(
    undefined,
    ['target', 'limit', 'measured', 'result'],
    targets.map((t) => [t.name, t.limit, t.value, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL']),
    [0, 1, 2, 3],
  );
}

export function allHungText(r: AllHung, digTimeoutS: number): string {
  const one = (d: DigResult) => (d.rcode === null ? `no answer in ${digTimeoutS} s` : `${d.rcode} ${d.timeMs} ms`);
  return (['agent', 'dnsmasq'] as const)
    .map((peer) => `  ${peer.padEnd(8)} ${r[peer].map((round, i) => `round ${i + 1}: ${round.map(one).join(', ')}`).join('; ')}`)
    .join('\n');
}

/** The median time to an answer, or null when any query got none. */
export function timeToServfailMs(rounds: DigResult[][]): number | null {
  const all = rounds.flat();
  if (all.length === 0 || all.some((d) => d.rcode === null)) return null;
  const t = all.map((d) => d.timeMs).sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}
