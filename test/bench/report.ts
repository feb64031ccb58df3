// What a bench run found, as the printed tables (pure). The targets are targets.ts's.
import type { CaseDef } from './cases.js';
import type { DigResult } from '../harness/dig.js';
import { type Measurement, NOISY_PCT, fellBehind } from './measure.js';
import type { PeerKind } from './peers.js';
import { DNSPERF_MAX_OUTSTANDING, DNSPERF_TIMEOUT_S } from './settings.js';
import type { Memory } from '../harness/system.js';

/** One peer in one case. */
export interface PeerCase {
  label: string;
  kind: PeerKind;
  /** The fixed-rate runs pooled: percentiles over every query, CPU per query over every query. */
  fixed: Measurement;
  fixedRuns: Measurement[];
  /** The median of the unthrottled runs (by q/s): its q/s, CPU and limit are what is reported. */
  max: Measurement;
  /** Every unthrottled run, in the order run. */
  maxRuns: Measurement[];
}

export interface CaseResult extends CaseDef {
  agent: PeerCase;
  dnsmasq: PeerCase;
  /** In the cached cases. */
  unbound?: PeerCase;
  ratios: {
    qps: number | null;
    p50: number | null;
    p99: number | null;
    /** CPU per query at the fixed rate, agent / dnsmasq. */
    cpuFixed: number | null;
    /** CPU per query unthrottled, agent / dnsmasq. */
    cpuMax: number | null;
  };
}

export const peersOf = (c: CaseResult): PeerCase[] => [c.agent, c.dnsmasq, ...(c.unbound ? [c.unbound] : [])];

export interface PingPongSummary {
  label: string;
  /** Over every query of the runs. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Each run's p50, in the order run. */
  runP50Ms: Array<number | null>;
  sent: number;
  lost: number;
  /** CPU used by processes the bench did not start, % of a CPU, the most of any run. */
  otherWorkPct: number | null;
}

export interface PingPong {
  master: PingPongSummary;
  agent: PingPongSummary;
  dnsmasq: PingPongSummary;
}

/** What a flood of distinct names did to one peer's memory. */
export interface Flood {
  label: string;
  file: string;
  qps: number;
  lost: number;
  before: Memory | null;
  after: Memory | null;
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

export interface PeerMemory {
  label: string;
  kind: PeerKind;
  start: Memory | null;
  end: Memory | null;
}

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
    cpuFixed: ratio(agent.fixed.cpuMsPer10k, dnsmasq.fixed.cpuMsPer10k),
    cpuMax: ratio(agent.max.cpuMsPer10k, dnsmasq.max.cpuMsPer10k),
  };
}

/** The most CPU processes the bench did not start used in any run of this peer case, % of a CPU. */
export const otherWork = (p: PeerCase): number => Math.max(0, ...[...p.fixedRuns, ...p.maxRuns].map((m) => m.otherWorkPct ?? 0));

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
/** CPU per query in microseconds, from the measurements' ms per 10k queries. */
export const fmtUs = (msPer10k: number | null | undefined): string => (msPer10k == null ? '-' : `${(msPer10k / 10).toFixed(0)}`);

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

/** A fixed-rate latency, starred when the peer fell behind the rate (see MAIN_TABLE_FOOTNOTE). */
const lat = (p: PeerCase | undefined, v: (m: Measurement) => number | null) =>
  p ? fmtMs(v(p.fixed)) + (fellBehind(p.fixed) ? '*' : '') : '';

export const MAIN_TABLE_FOOTNOTE = `* the peer fell behind the fixed rate (dnsperf keeps at most ${DNSPERF_MAX_OUTSTANDING} queries outstanding): that latency includes queueing`;

export function mainTable(cases: CaseResult[], fixedQps: number): string {
  const rows = cases.map((c) => [
    `${c.n.padEnd(3)} ${c.title}`,
    fmtInt(c.agent.max.qps),
    fmtInt(c.dnsmasq.max.qps),
    c.unbound ? fmtInt(c.unbound.max.qps) : '',
    fmtRatio(c.ratios.qps),
    lat(c.agent, (m) => m.p50Ms),
    lat(c.dnsmasq, (m) => m.p50Ms),
    lat(c.unbound, (m) => m.p50Ms),
    lat(c.agent, (m) => m.p99Ms),
    lat(c.dnsmasq, (m) => m.p99Ms),
    lat(c.unbound, (m) => m.p99Ms),
    fmtRatio(c.ratios.p99),
  ]);
  return textTable(
    [
      ['', 1],
      ['queries/s on one core', 4],
      [`p50 ms at ${fixedQps} q/s`, 3],
      [`p99 ms at ${fixedQps} q/s`, 4],
    ],
    ['case', 'agent', 'dnsmasq', 'Unbound', 'a/d', 'agent', 'dnsmasq', 'Unbound', 'agent', 'dnsmasq', 'Unbound', 'a/d'],
    rows,
  );
}

export function costTable(cases: CaseResult[], fixedQps: number): string {
  const rows = cases.map((c) => [
    `${c.n.padEnd(3)} ${c.id}`,
    fmtUs(c.agent.fixed.cpuMsPer10k),
    fmtUs(c.dnsmasq.fixed.cpuMsPer10k),
    c.unbound ? fmtUs(c.unbound.fixed.cpuMsPer10k) : '',
    fmtRatio(c.ratios.cpuFixed),
    fmtUs(c.agent.max.cpuMsPer10k),
    fmtUs(c.dnsmasq.max.cpuMsPer10k),
    c.unbound ? fmtUs(c.unbound.max.cpuMsPer10k) : '',
    fmtRatio(c.ratios.cpuMax),
    fmtRatio(c.agent.max.serverQueriesPerQuery),
    fmtRatio(c.agent.max.tcpServerQueriesPerQuery),
    fmtRatio(c.dnsmasq.max.serverQueriesPerQuery),
    `${c.agent.fixed.lost}/${c.agent.max.lost}`,
    `${c.dnsmasq.fixed.lost}/${c.dnsmasq.max.lost}`,
    fmtInt(c.agent.max.responseBytes),
    fmtInt(c.dnsmasq.max.responseBytes),
  ]);
  return textTable(
    [
      ['', 1],
      [`CPU µs per query at ${fixedQps} q/s`, 4],
      ['CPU µs per query, unthrottled', 4],
      ['server q per query', 3],
      ['lost fixed/max', 2],
      ['answer bytes', 2],
    ],
    [
      'case',
      'agent',
      'dnsmasq',
      'Unbound',
      'a/d',
      'agent',
      'dnsmasq',
      'Unbound',
      'a/d',
      'agent',
      'a tcp',
      'dnsmasq',
      'agent',
      'dnsmasq',
      'agent',
      'dnsmasq',
    ],
    rows,
  );
}

/**
 * Every unthrottled run: its q/s, how much of a CPU the peer used, how busy the load CPU (dnsperf
 * and the masters) was, and so what limited it. A throughput compares one core of each peer only
 * when each peer used its whole CPU ("target").
 */
export function runsTable(cases: CaseResult[]): string {
  const rows: string[][] = [];
  for (const c of cases) {
    for (const p of peersOf(c)) {
      const median = p.maxRuns.indexOf(p.max);
      const each = (f: (m: Measurement) => string) =>
        p.maxRuns.map((m, i) => f(m) + (i === median && p.maxRuns.length > 1 ? '◂' : '')).join(' ');
      rows.push([
        `${c.n.padEnd(3)} ${c.id}`,
        p.label,
        each((m) => fmtInt(m.qps)),
        each((m) => fmtPct(m.cpuPct)),
        each((m) => fmtPct(m.loadCpuBusyPct)),
        each((m) => fmtPct(m.serversCpuPct)),
        each((m) => m.limit),
      ]);
    }
  }
  return textTable(
    [
      ['', 2],
      ['each unthrottled run, in order (◂ the median)', 5],
    ],
    ['case', 'peer', 'q/s', 'peer CPU', 'load CPU', 'masters', 'limited by'],
    rows,
    [0, 1],
  );
}

/** The runs during which processes the bench did not start used a noticeable share of a CPU, or ''. */
export function noisyRunsText(cases: CaseResult[], pingPong: PingPong | null): string {
  const noisy: string[] = [];
  for (const c of cases) {
    for (const p of peersOf(c)) {
      for (const [load, runs] of [
        ['fixed', p.fixedRuns],
        ['max', p.maxRuns],
      ] as const) {
        const o = Math.max(0, ...runs.map((m) => m.otherWorkPct ?? 0));
        if (o > NOISY_PCT) noisy.push(`${c.n} ${p.label} ${load} (${o.toFixed(0)}%)`);
      }
    }
  }
  for (const s of pingPong ? [pingPong.master, pingPong.agent, pingPong.dnsmasq] : []) {
    if ((s.otherWorkPct ?? 0) > NOISY_PCT) noisy.push(`ping-pong ${s.label} (${s.otherWorkPct!.toFixed(0)}%)`);
  }
  if (noisy.length === 0) return '';
  return `noisy runs, during which processes the bench did not start used over ${NOISY_PCT}% of a CPU (rerun on a quiet machine before trusting them):\n  ${noisy.join(', ')}`;
}

export function pingPongTable(p: PingPong): string {
  const added = (s: PingPongSummary) =>
    s === p.master || s.p50Ms === null || p.master.p50Ms === null ? '' : fmtMs(s.p50Ms - p.master.p50Ms);
  const rows = [p.master, p.agent, p.dnsmasq].map((s) => [
    s.label,
    fmtMs(s.p50Ms),
    added(s),
    fmtMs(s.p99Ms),
    s.runP50Ms.map(fmtMs).join(' '),
    fmtInt(s.sent),
    String(s.lost),
  ]);
  return textTable(
    undefined,
    ['one query at a time (ping-pong)', 'p50 ms', 'added p50', 'p99 ms', 'p50 of each run', 'queries', 'lost'],
    rows,
  );
}

/** The burst step: BURST_CLIENTS clients asking one new name at once through one peer. */
export interface Burst {
  label: string;
  kind: PeerKind;
  clients: number;
  answered: number;
  lost: number;
  /** Queries the peer sent to the masters for the burst; null when it cannot say. */
  masterQueries: number | null;
}

export function burstTable(bursts: Burst[]): string {
  const rows = bursts.map((b) => [
    b.label,
    fmtInt(b.clients),
    fmtInt(b.answered),
    String(b.lost),
    b.masterQueries === null ? '-' : fmtInt(b.masterQueries),
  ]);
  return textTable(undefined, ['burst of identical questions', 'clients', 'answered', 'lost', 'sent to the masters'], rows);
}

export function memoryTable(peers: PeerMemory[], floods: Flood[]): string {
  const rows = peers.map((p) => {
    const of = floods.filter((f) => f.label === p.label);
    return [
      p.label,
      mib(p.start?.rssKb),
      mib(p.start?.hwmKb),
      ...['flood', 'big-flood'].map((file) => {
        const f = of.find((x) => x.file === file);
        return f ? `${mib(f.after?.hwmKb)} (${fmtInt(f.qps)} q/s)` : '-';
      }),
      mib(p.end?.rssKb),
      mib(p.end?.hwmKb),
    ];
  });
  return textTable(
    [
      ['', 1],
      ['after start', 2],
      ['VmHWM after the flood of', 2],
      ['at the end', 2],
    ],
    ['peer', 'RSS', 'VmHWM', 'distinct names', 'distinct big names', 'RSS', 'VmHWM (peak)'],
    rows,
  );
}

export function allHungText(r: AllHung, digTimeoutS: number): string {
  const one = (d: DigResult) => (d.rcode === null ? `no answer in ${digTimeoutS} s` : `${d.rcode} ${d.timeMs} ms`);
  return (['agent', 'dnsmasq'] as const)
    .map((peer) => `  ${peer.padEnd(8)} ${r[peer].map((round, i) => `round ${i + 1}: ${round.map(one).join(', ')}`).join('; ')}`)
    .join('\n');
}

/** The median time to an answer, or null when any query got none. */
export function timeToAnswerMs(rounds: DigResult[][]): number | null {
  const all = rounds.flat();
  if (all.length === 0 || all.some((d) => d.rcode === null)) return null;
  const t = all.map((d) => d.timeMs).sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}
