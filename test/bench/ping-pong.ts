// The ping-pong latency client: one UDP query at a time, the next sent when the answer to the last
// has come, so every figure is a round trip with nothing queued anywhere. dnsperf at a fixed rate
// measures latency under load (its p99 shows queueing and collection pauses); this measures what
// one lookup costs. Asked of a master directly and then through a peer, the difference is what the
// peer adds to a lookup (docs/benchmark.md, "added p50").
//
// The client's own cost (Node waking up for each answer) is in every figure alike, so it cancels
// out of a difference. Every run is bounded in queries and in time; loopback only.
//
//   node dist-test/test/bench/ping-pong.js 127.0.0.1:5353 [--names FILE] [--seconds 5] [--count 10000]
//
// FILE holds one "name type" per line (dnsperf's format), cycled through; the default asks
// ready.spartan. Run it on a CPU of its own (`taskset -c 1 node …`) when the server is pinned.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import dnsPacket from 'dns-packet';
import { splitEndpoint } from '../harness/dig.js';

export interface PingPongRun {
  endpoint: string;
  /** "name type" lines (dnsperf's format), asked in order and cycled through. */
  questions: string[];
  /** Stops after this long, or after `maxQueries`, whichever comes first. */
  seconds: number;
  maxQueries: number;
  /** An unanswered query counts as lost after this long. */
  timeoutMs?: number;
}

export interface PingPongResult {
  sent: number;
  answered: number;
  lost: number;
  /** Round trips of the answered queries, ms, sorted. */
  latenciesMs: number[];
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}

/** Each question encoded once, with room for a fresh ID per query. */
function encodeQuestions(lines: string[]): Buffer[] {
  return lines.map((line) => {
    const [name, type = 'A'] = line.trim().split(/\s+/);
    return dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type: type as dnsPacket.RecordType }],
    });
  });
}

const at = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;

export async function pingPong(run: PingPongRun): Promise<PingPongResult> {
  const { host, port } = splitEndpoint(run.endpoint);
  const queries = encodeQuestions(run.questions.filter((l) => l.trim()));
  if (queries.length === 0) throw new Error('ping-pong: no questions');
  const timeoutMs = run.timeoutMs ?? 1000;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  // The one query outstanding: its ID, when it was sent and how to finish it.
  let waiting: { id: number; sentAt: bigint; done: (rttMs: number | null) => void } | undefined;
  sock.on('message', (msg) => {
    const now = process.hrtime.bigint();
    if (!waiting || msg.length < 12 || msg.readUInt16BE(0) !== waiting.id) return; // a late answer to a lost query
    const w = waiting;
    waiting = undefined;
    w.done(Number(now - w.sentAt) / 1e6);
  });
  sock.on('error', () => {}); // ICMP port unreachable and the like: the query times out as lost

  const latencies: number[] = [];
  let sent = 0;
  let lost = 0;
  const deadline = performance.now() + run.seconds * 1000;
  try {
    for (let id = 1; sent < run.maxQueries && performance.now() < deadline; id = (id % 0xffff) + 1) {
      const query = queries[sent % queries.length];
      query.writeUInt16BE(id, 0);
      const rtt = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          resolve(null);
        }, timeoutMs);
        waiting = {
          id,
          sentAt: process.hrtime.bigint(),
          done: (ms) => {
            clearTimeout(timer);
            resolve(ms);
          },
        };
        sock.send(query);
      });
      sent++;
      if (rtt === null) lost++;
      else latencies.push(rtt);
    }
  } finally {
    sock.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    sent,
    answered: latencies.length,
    lost,
    latenciesMs: latencies,
    p50Ms: at(latencies, 50),
    p90Ms: at(latencies, 90),
    p99Ms: at(latencies, 99),
  };
}

async function main(argv: string[]): Promise<void> {
  const usage = 'usage: ping-pong HOST:PORT [--names FILE] [--seconds N] [--count N]';
  const endpoint = argv[0];
  if (!endpoint || endpoint.startsWith('-')) throw new Error(usage);
  const opt = (flag: string) => {
    const i = argv.indexOf(flag);
    return i > 0 ? argv[i + 1] : undefined;
  };
  const names = opt('--names');
  const questions = names ? readFileSync(names, 'utf8').split('\n') : ['ready.spartan A'];
  const seconds = Number(opt('--seconds') ?? 5);
  const count = Number(opt('--count') ?? 10_000);
  if (!(seconds > 0 && seconds <= 600 && count >= 1 && count <= 10_000_000))
    throw new Error(`${usage}\n(--seconds 1-600, --count 1-10000000)`);
  const r = await pingPong({ endpoint, questions, seconds, maxQueries: count });
  const ms = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  const mean = r.latenciesMs.length ? r.latenciesMs.reduce((a, b) => a + b, 0) / r.latenciesMs.length : null;
  console.log(
    `${endpoint}: ${r.sent} queries one at a time, ${r.lost} lost; round trip p50 ${ms(r.p50Ms)} ms, p90 ${ms(r.p90Ms)} ms, p99 ${ms(r.p99Ms)} ms, mean ${ms(mean)} ms`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(2);
  });
}
