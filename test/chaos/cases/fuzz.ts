// Case 1, fuzz: 100,000 broken and random packets over UDP and TCP. The agent must answer what
// can be answered with a well-formed reply, stay silent where answering is wrong, and afterwards
// (the same process) still answer correctly, within its memory bound.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { rcodeName } from '../../../common/dns/wire.js';
import { throwIfAborted } from '../../harness/cleanup.js';
import { rcodeOf } from '../../helpers/dns-reply.js';
import { sleep } from '../../helpers/time.js';
import type { Servers } from '../../harness/servers.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import {
  ALWAYS_ANSWERED,
  BASE_QUERIES,
  type Mutation,
  MUTATION_WEIGHTS,
  NEVER_ANSWERED,
  mutationPicker,
  mutator,
  seededRandom,
} from '../mutate.js';
import { NGINX, READY, spotCheck } from '../spot-check.js';
import { type CaseResult, check, fmtInt, mib } from '../report.js';
import {
  FUZZ_RSS_LIMIT_MIB,
  FUZZ_TCP_CLOSE_WAIT_MS,
  FUZZ_TCP_CONCURRENCY,
  FUZZ_TCP_FRAMES_PER_CONN,
  FUZZ_TCP_GARBAGE_CONNS,
  FUZZ_TCP_HALF_CONNS,
  FUZZ_TCP_LYING_CONNS,
  FUZZ_TCP_PIPELINE_CONNS,
  FUZZ_TCP_PIPELINE_FRAMES,
  FUZZ_UDP_MAX_RATE,
  FUZZ_UDP_PACKETS,
  FUZZ_UDP_WINDOW,
  SEED,
} from '../settings.js';

const fuzzConfig = (servers: Servers) => ({
  upstreams: servers.upstreams.map((s) => s.endpoint),
  mesos: { masters: servers.masters.map((s) => s.endpoint) },
  timeoutMs: 1000,
});

interface Replies {
  count: number;
  wrong: number;
  rcodes: Record<string, number>;
  wrongSamples: string[];
}

const rcodeLabel = (msg: Buffer) => (msg.length >= 4 ? rcodeName(rcodeOf(msg)) : 'short');

/** A reply is wrong when it is not a well-formed response to an ID we sent, or when nothing should have been answered. */
function judge(r: Replies, msg: Buffer, sentIds: Set<number>, neverAnswered: boolean, what: string): void {
  r.count++;
  const rcode = rcodeLabel(msg);
  r.rcodes[rcode] = (r.rcodes[rcode] ?? 0) + 1;
  let why: string | undefined;
  if (neverAnswered) why = 'answered although nothing should be';
  else if (msg.length < 12 || !(msg[2] & 0x80)) why = 'not a response';
  else if (!sentIds.has(msg.readUInt16BE(0))) why = 'an ID that was never sent';
  else {
    try {
      dnsPacket.decode(msg);
    } catch (err) {
      why = `undecodable (${(err as Error).message})`;
    }
  }
  if (why) {
    r.wrong++;
    if (r.wrongSamples.length < 5) r.wrongSamples.push(`${what}: ${why}: ${msg.subarray(0, 32).toString('hex')}`);
  }
}

const newReplies = (): Replies => ({ count: 0, wrong: 0, rcodes: {}, wrongSamples: [] });

/** The kernel's count of UDP datagrams dropped for a full receive buffer (this network namespace). */
function udpRcvbufErrors(): number | null {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return null;
  const i = lines[0].split(/\s+/).indexOf('RcvbufErrors');
  return i < 0 ? null : Number(lines[1].split(/\s+/)[i]);
}

async function fuzzUdp(
  agent: ChaosAgent,
  c: CaseResult,
): Promise<{
  sent: number;
  replies: Replies;
  byKind: Record<string, { sent: number; replies: number; rcodes: Record<string, number> }>;
  readyChecksLost: number;
}> {
  const rnd = seededRandom(SEED);
  const nextKind = mutationPicker(rnd);
  const make = mutator(rnd);
  const kinds = Object.keys(MUTATION_WEIGHTS) as Mutation[];
  const replies = newReplies();
  const byKind: Record<string, { sent: number; replies: number; rcodes: Record<string, number> }> = {};
  // One socket per kind, so that each reply is known to answer that kind of packet.
  const sockets = new Map<Mutation, { sock: dgram.Socket; ids: Set<number> }>();
  for (const kind of kinds) {
    const sock = dgram.createSocket('udp4');
    const ids = new Set<number>();
    const k = (byKind[kind] = { sent: 0, replies: 0, rcodes: {} as Record<string, number> });
    sock.on('error', () => {});
    sock.on('message', (msg) => {
      k.replies++;
      const rcode = rcodeLabel(msg);
      k.rcodes[rcode] = (k.rcodes[rcode] ?? 0) + 1;
      judge(replies, msg, ids, NEVER_ANSWERED.has(kind), kind);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    sockets.set(kind, { sock, ids });
  }
  // The ready check: ready.spartan after every window. The agent reads its socket in order, so its
  // answer means the window before it has been read: the sender never runs ahead of the agent
  // far enough for the kernel to drop packets (the receive buffer holds a few hundred).
  const readySock = dgram.createSocket('udp4');
  await new Promise<void>((r) => readySock.bind(0, '127.0.0.1', r));
  let readyId = 0;
  let waiting: ((ok: boolean) => void) | undefined;
  readySock.on('message', (msg) => msg.length >= 2 && msg.readUInt16BE(0) === readyId && waiting?.(true));
  const ready = dnsPacket.decode(BASE_QUERIES[0]);
  const askReady = () =>
    new Promise<boolean>((resolve) => {
      readyId = (readyId + 1) & 0xffff;
      const timer = setTimeout(() => resolve(false), 2000);
      waiting = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      readySock.send(dnsPacket.encode({ ...ready, id: readyId }), agent.port, agent.host);
    });

  let sent = 0;
  let readyChecksLost = 0;
  let lostInARow = 0;
  const drops0 = udpRcvbufErrors();
  const started = performance.now();
  while (sent < FUZZ_UDP_PACKETS && lostInARow < 3) {
    throwIfAborted();
    const windowStart = performance.now();
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < FUZZ_UDP_WINDOW && sent < FUZZ_UDP_PACKETS; i++, sent++) {
      const kind = nextKind();
      const msg = make(kind);
      const s = sockets.get(kind)!;
      if (msg.length >= 2) s.ids.add(msg.readUInt16BE(0));
      byKind[kind].sent++;
      sends.push(new Promise((r) => s.sock.send(msg, agent.port, agent.host, () => r())));
    }
    await Promise.all(sends);
    if (await askReady()) lostInARow = 0;
    else {
      readyChecksLost++;
      lostInARow++;
    }
    const minMs = (FUZZ_UDP_WINDOW / FUZZ_UDP_MAX_RATE) * 1000;
    const spent = performance.now() - windowStart;
    if (spent < minMs) await sleep(minMs - spent);
  }
  const seconds = (performance.now() - started) / 1000;
  // Forwarded queries (mutations that stayed valid) are answered within timeoutMs.
  await sleep(1500);
  const drops1 = udpRcvbufErrors();
  for (const { sock } of sockets.values()) sock.close();
  readySock.close();
  c.details.push(
    `UDP: ${fmtInt(sent)} packets in ${seconds.toFixed(1)} s (${fmtInt(sent / seconds)}/s, ${FUZZ_UDP_WINDOW} per ready check), seed ${SEED}; ${fmtInt(replies.count)} replies (${rcodesText(replies.rcodes)}); ` +
      `kernel receive-buffer drops during the run: ${drops0 === null || drops1 === null ? 'unknown' : fmtInt(drops1 - drops0)}`,
  );
  for (const [kind, k] of Object.entries(byKind))
    c.details.push(
      `  ${kind.padEnd(17)} sent ${fmtInt(k.sent).padStart(6)}, replies ${fmtInt(k.replies).padStart(6)} (${rcodesText(k.rcodes) || 'none'})`,
    );
  return { sent, replies, byKind, readyChecksLost };
}

const rcodesText = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmtInt(v)}`)
    .join(', ');

const frame = (msg: Buffer) => {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
};

interface TcpJob {
  kind: 'garbage' | 'pipelined' | 'lying-length' | 'half-frame';
  /** What is written, then: end (half-close, the agent must close) or destroy (we vanish). */
  data: Buffer;
  frames: number;
  ids: Set<number>;
  then: 'end' | 'destroy';
}

interface TcpOutcome {
  replies: Buffer[];
  /** The agent closed the connection in time after we ended ours. */
  closedByAgent: boolean;
}

/** Reply frames off a connection; a torn frame at the end is dropped. */
function runTcpJob(agent: ChaosAgent, job: TcpJob): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: agent.host, port: agent.port, localAddress: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const replies: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedByAgent: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ replies, closedByAgent });
    };
    sock.on('error', () => {}); // a reset counts as closed: 'close' follows
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
    sock.on('close', () => finish(true));
    sock.on('connect', () => {
      if (job.then === 'destroy') {
        sock.write(job.data, () => finish(true));
        return;
      }
      sock.end(job.data);
      timer = setTimeout(() => finish(false), FUZZ_TCP_CLOSE_WAIT_MS);
    });
  });
}

function tcpJobs(): TcpJob[] {
  const rnd = seededRandom(SEED + 1);
  const make = mutator(rnd);
  const nextKind = mutationPicker(rnd);
  const jobs: TcpJob[] = [];
  for (let i = 0; i < FUZZ_TCP_GARBAGE_CONNS; i++) {
    const ids = new Set<number>();
    const msgs = Array.from({ length: FUZZ_TCP_FRAMES_PER_CONN }, () => {
      const kind = nextKind();
      const m = make(kind);
      // A reply to a frame that must not be answered then has an ID not in the set: wrong.
      if (m.length >= 2 && !NEVER_ANSWERED.has(kind)) ids.add(m.readUInt16BE(0));
      return frame(m);
    });
    jobs.push({ kind: 'garbage', data: Buffer.concat(msgs), frames: msgs.length, ids, then: 'end' });
  }
  for (let i = 0; i < FUZZ_TCP_PIPELINE_CONNS; i++) {
    const ids = new Set<number>();
    const msgs = Array.from({ length: FUZZ_TCP_PIPELINE_FRAMES }, (_, j) => {
      const q = Buffer.from(BASE_QUERIES[j % BASE_QUERIES.length]);
      q.writeUInt16BE(j, 0);
      ids.add(j);
      return frame(q);
    });
    jobs.push({ kind: 'pipelined', data: Buffer.concat(msgs), frames: msgs.length, ids, then: 'end' });
  }
  for (let i = 0; i < FUZZ_TCP_LYING_CONNS; i++) {
    // A length prefix larger than what follows: up to 65535, or a zero-length frame first.
    const body = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(body.length + 1 + Math.floor(rnd() * (65535 - body.length - 1)));
    const data = rnd() < 0.2 ? Buffer.concat([Buffer.from([0, 0]), prefix, body]) : Buffer.concat([prefix, body]);
    jobs.push({ kind: 'lying-length', data, frames: 1, ids: new Set(), then: 'end' });
  }
  for (let i = 0; i < FUZZ_TCP_HALF_CONNS; i++) {
    const q = frame(BASE_QUERIES[i % BASE_QUERIES.length]);
    jobs.push({
      kind: 'half-frame',
      data: q.subarray(0, 1 + Math.floor(rnd() * (q.length - 1))),
      frames: 1,
      ids: new Set(),
      then: 'destroy',
    });
  }
  // Interleaved, so that every kind meets the others on the agent at once.
  return jobs.sort(() => rnd() - 0.5);
}

async function fuzzTcp(
  agent: ChaosAgent,
  c: CaseResult,
): Promise<{ frames: number; replies: Replies; notClosed: number; pipelinedMissing: number }> {
  const jobs = tcpJobs();
  const replies = newReplies();
  const byKind: Record<string, { conns: number; frames: number; replies: number; notClosed: number }> = {};
  let pipelinedMissing = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < jobs.length) {
      throwIfAborted();
      const job = jobs[next++];
      const out = await runTcpJob(agent, job);
      const k = (byKind[job.kind] ??= { conns: 0, frames: 0, replies: 0, notClosed: 0 });
      k.conns++;
      k.frames += job.frames;
      k.replies += out.replies.length;
      if (job.then === 'end' && !out.closedByAgent) k.notClosed++;
      for (const r of out.replies) judge(replies, r, job.ids, job.kind === 'lying-length' || job.kind === 'half-frame', `tcp ${job.kind}`);
      if (job.kind === 'pipelined') pipelinedMissing += job.frames - out.replies.length;
    }
  };
  await Promise.all(Array.from({ length: FUZZ_TCP_CONCURRENCY }, worker));
  const frames = Object.values(byKind).reduce((n, k) => n + k.frames, 0);
  const notClosed = Object.values(byKind).reduce((n, k) => n + k.notClosed, 0);
  c.details.push(
    `TCP: ${fmtInt(jobs.length)} connections, ${fmtInt(frames)} frames in ${((performance.now() - started) / 1000).toFixed(1)} s, ${FUZZ_TCP_CONCURRENCY} at a time; ${fmtInt(replies.count)} replies (${rcodesText(replies.rcodes)})`,
  );
  for (const [kind, k] of Object.entries(byKind)) {
    c.details.push(
      `  ${kind.padEnd(17)} ${fmtInt(k.conns).padStart(4)} connections, ${fmtInt(k.frames).padStart(6)} frames, replies ${fmtInt(k.replies).padStart(6)}${kind === 'half-frame' ? ', closed by the client' : `, not closed by the agent ${k.notClosed}`}`,
    );
  }
  return { frames, replies, notClosed, pipelinedMissing };
}

export const fuzzCase: ChaosCase = {
  n: '1',
  id: 'fuzz',
  title: 'fuzz: broken and random packets, UDP and TCP',
  async run(ctx, c) {
    const agent = await ChaosAgent.start(fuzzConfig(ctx.servers), ctx.pinning);
    try {
      await runFuzz(agent, c);
    } finally {
      await agent.stop();
    }
  },
};

async function runFuzz(agent: ChaosAgent, c: CaseResult): Promise<void> {
  const udp = await fuzzUdp(agent, c);
  const tcp = await fuzzTcp(agent, c);
  c.sent = udp.sent + tcp.frames;
  c.answered = udp.replies.count + tcp.replies.count;
  c.wrong = udp.replies.wrong + tcp.replies.wrong;
  const unanswered = Object.entries(udp.byKind)
    .filter(([kind]) => ALWAYS_ANSWERED.has(kind as Mutation))
    .reduce((n, [, k]) => n + Math.max(0, k.sent - k.replies), 0);
  c.lost = udp.readyChecksLost + tcp.pipelinedMissing + unanswered;
  for (const s of [...udp.replies.wrongSamples, ...tcp.replies.wrongSamples]) c.details.push(`wrong: ${s}`);

  const ready = await spotCheck(agent.host, agent.port, READY);
  const nginx = await spotCheck(agent.host, agent.port, NGINX);
  const mem = agent.memory();
  c.restarts = agent.restarts;
  c.peakRssKb = agent.peakRssKb();
  const errors = agent.proc.logs.filter((l) => l.level === 'error' || l.level === 'fatal');
  check(c, udp.sent + tcp.frames >= 100_000, 'sent 100,000 packets and frames or more', fmtInt(udp.sent + tcp.frames));
  check(
    c,
    c.wrong === 0,
    'every reply is a well-formed response to an ID sent, and nothing answers a response or a short header',
    `${c.wrong} wrong of ${fmtInt(c.answered)}`,
  );
  check(
    c,
    unanswered === 0,
    `every UDP packet with a query header gets a reply (${[...ALWAYS_ANSWERED].join(', ')})`,
    `${fmtInt(unanswered)} unanswered`,
  );
  check(
    c,
    udp.readyChecksLost === 0,
    'ready.spartan answered after every window of packets',
    `${udp.readyChecksLost} ready checks unanswered`,
  );
  check(
    c,
    tcp.pipelinedMissing === 0,
    `every one of ${FUZZ_TCP_PIPELINE_FRAMES} pipelined valid queries on a connection answered`,
    `${tcp.pipelinedMissing} missing`,
  );
  check(
    c,
    tcp.notClosed === 0,
    `the agent closes every connection within ${FUZZ_TCP_CLOSE_WAIT_MS} ms of the client's end`,
    `${tcp.notClosed} left open`,
  );
  check(
    c,
    c.restarts === 0,
    'the same agent process throughout',
    c.restarts ? `exited: ${agent.proc.exitCode ?? agent.proc.child.signalCode}` : `pid ${agent.pid}`,
  );
  check(c, ready.ok, 'ready.spartan answered correctly afterwards', ready.seen);
  check(c, nginx.ok, `${NGINX.name} answered correctly afterwards`, nginx.seen);
  check(
    c,
    (c.peakRssKb ?? Infinity) < FUZZ_RSS_LIMIT_MIB * 1024,
    `peak RSS (VmHWM) under ${FUZZ_RSS_LIMIT_MIB} MiB`,
    `${mib(c.peakRssKb)} (RSS now ${mib(mem?.rssKb)})`,
  );
  check(
    c,
    errors.length === 0,
    'no error logged (a query that failed unexpectedly logs one)',
    errors.length ? `${errors.length}: ${errors[0].msg}` : 'none',
  );
  c.data = {
    seed: SEED,
    udp: { sent: udp.sent, replies: udp.replies, byKind: udp.byKind, readyChecksLost: udp.readyChecksLost },
    tcp,
    memory: mem,
  };
}
