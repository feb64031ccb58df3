// dnsperf runs and what they say. dnsperf 2.10 prints no percentiles, but with -v it prints every
// query's latency ("> NOERROR name type 0.000123"); at the fixed rate that is a few thousand
// lines a second, cheap to read, and gives exact p50/p99. Unthrottled runs skip -v (printing would
// slow dnsperf down) and give throughput only.
import { spawn } from 'node:child_process';
import { trackTransient, throwIfAborted } from './cleanup.js';
import { splitEndpoint } from './dig.js';
import { DNSPERF_CLIENTS, DNSPERF_TIMEOUT_S } from './settings.js';

export interface DnsperfRun {
  endpoint: string;
  file: string;
  seconds: number;
  /** Fixed rate (q/s); undefined runs unthrottled. */
  qps?: number;
  tcp?: boolean;
  /** Offer EDNS (dnsperf's buffer size is 4096). */
  edns?: boolean;
  /** Queries outstanding at most (dnsperf -q, default 100); a flood raises it so the rate holds whatever the target does. */
  maxOutstanding?: number;
  /** Print every query's latency; default: for fixed-rate runs. */
  verbose?: boolean;
}

export interface Perf {
  sent: number;
  completed: number;
  lost: number;
  rcodes: Record<string, number>;
  runTimeS: number;
  qps: number;
  avgMs: number | null;
  /** Fixed-rate runs only; a lost query counts as slower than any answer. */
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Average response size, bytes: shows whether the big answer came whole or truncated. */
  responseBytes: number | null;
  /** dnsperf warnings (stderr lines), e.g. late replies to queries it had given up on. */
  warnings: number;
  /** Per-query latencies of a fixed-rate run, ms, sorted; not written to the results. */
  latenciesMs?: number[];
}

/** Nearest-rank percentile of sorted values, with `lost` extra values above all of them (Infinity). */
export function percentile(sorted: number[], lost: number, p: number): number | null {
  const n = sorted.length + lost;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return rank <= sorted.length ? sorted[rank - 1] : Infinity;
}

export function parseDnsperf(out: string, verbose: boolean): Omit<Perf, 'warnings'> {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const sent = num(/Queries sent:\s+(\d+)/);
  if (sent === null) throw new Error(`cannot read dnsperf's output:\n${out.slice(-2000)}`);
  const rcodes: Record<string, number> = {};
  for (const m of (/Response codes:\s+(.*)/.exec(out)?.[1] ?? '').matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]] = Number(m[2]);
  const lost = num(/Queries lost:\s+(\d+)/) ?? 0;
  const latencies: number[] = [];
  if (verbose) {
    for (const m of out.matchAll(/^> [A-Z]+ \S+ \S+ ([\d.]+)$/gm)) latencies.push(Number(m[1]) * 1000);
    latencies.sort((a, b) => a - b);
  }
  const pct = (p: number) => (verbose ? percentile(latencies, lost, p) : null);
  const avg = num(/Average Latency \(s\):\s+([\d.]+)/);
  return {
    sent,
    completed: num(/Queries completed:\s+(\d+)/) ?? 0,
    lost,
    rcodes,
    runTimeS: num(/Run time \(s\):\s+([\d.]+)/) ?? 0,
    qps: num(/Queries per second:\s+([\d.]+)/) ?? 0,
    avgMs: avg === null ? null : avg * 1000,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: verbose ? (latencies.length ? latencies[latencies.length - 1] : null) : null,
    responseBytes: num(/Average packet size:\s+request \d+, response (\d+)/),
    latenciesMs: verbose ? latencies : undefined,
  };
}

export function dnsperf(tool: string, run: DnsperfRun): Promise<Perf> {
  throwIfAborted();
  const { host, port } = splitEndpoint(run.endpoint);
  const verbose = run.verbose ?? run.qps !== undefined;
  const args = [
    '-s',
    host,
    '-p',
    String(port),
    '-d',
    run.file,
    '-l',
    String(run.seconds),
    '-c',
    String(DNSPERF_CLIENTS),
    '-t',
    String(DNSPERF_TIMEOUT_S),
  ];
  if (run.qps !== undefined) args.push('-Q', String(run.qps));
  // dnsmasq closes a client TCP connection after 100 queries (its TCP_MAX_QUERIES), and the
  // queries dnsperf had pipelined past that would count as lost; so dnsperf reconnects first.
  if (run.tcp) args.push('-m', 'tcp', '-O', 'num-queries-per-conn=100');
  if (run.edns) args.push('-e');
  if (run.maxOutstanding !== undefined) args.push('-q', String(run.maxOutstanding));
  if (verbose) args.push('-v');
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackTransient(child);
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-100_000)));
    const backstop = setTimeout(() => child.kill('SIGKILL'), (run.seconds + DNSPERF_TIMEOUT_S + 10) * 1000);
    child.on('error', reject);
    // 'close', not 'exit': the output may still be in the pipe when the process has exited.
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      const out = Buffer.concat(chunks).toString('utf8');
      if (code !== 0) return reject(new Error(`dnsperf ${args.join(' ')} exited ${code ?? signal}:\n${out.slice(-2000)}\n${err}`));
      try {
        resolve({ ...parseDnsperf(out, verbose), warnings: err.split('\n').filter((l) => l.trim()).length });
      } catch (e) {
        reject(e);
      }
    });
  });
}
