// The ready.spartan probe: is the agent on this address alive *and* answering? One UDP query for
// ready.spartan A, which the agent answers from its own local zone, so a reply depends on nothing
// but the agent itself. Shared by the watchdog, the resolv.conf generator and the HTTP API's
// health check, so all three agree on what "answering" means.
//
// It uses its own connected socket rather than the forwarder's pool: a health check should meet
// the agent the way a client does, and say why it failed. On a connected socket the kernel
// delivers only datagrams from the address asked and reports "port unreachable" as ECONNREFUSED,
// so a dead agent (refused at once) is told apart from a hung one (silent until the timeout).
// Replies must carry our fresh random ID, QR, the same question, and the A record 127.0.0.1.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { Endpoint } from './config/endpoint.js';
import { nameCodec, recordCodec } from './dns/packet.js';
import { HEADER_LEN, QR, type Question, RD, Rcode, buildQuery, rcodeName, readHeader, sameQuestion, scanMessage } from './dns/wire.js';

export const READY_NAME = 'ready.spartan';
/** What the agent's spartan zone holds for ready.spartan (dcos-dns's value). */
export const READY_ADDRESS = '127.0.0.1';

const TYPE_A = 1;
const CLASS_IN = 1;

export interface ProbeResult {
  /** The address asked, as configured. */
  endpoint: Endpoint;
  ok: boolean;
  /** Round-trip time of the answer, when ok. */
  rttMs?: number;
  /** Why the address does not count as answering, in words fit for a log line. */
  reason?: string;
}

const READY_QUESTION: Question = (() => {
  const typeClass = Buffer.alloc(4);
  typeClass.writeUInt16BE(TYPE_A, 0);
  typeClass.writeUInt16BE(CLASS_IN, 2);
  return { question: Buffer.concat([nameCodec.encode(READY_NAME), typeClass]), flags: RD, dnssecOk: false };
})();

/** A wildcard listen address is reached through loopback. */
function target(e: Endpoint): Endpoint {
  if (e.host === '0.0.0.0') return { ...e, host: '127.0.0.1' };
  if (e.host === '::') return { ...e, host: '::1' };
  return e;
}

/** What one datagram means: not ours (keep waiting), or the verdict (undefined reason = ok). */
type Verdict = { ignore: 'id' | 'question' } | { reason: string | undefined };

function judge(msg: Buffer, id: number): Verdict {
  const h = readHeader(msg);
  if (!h || h.id !== id || !(h.flags & QR)) return { ignore: 'id' };
  let scan;
  try {
    scan = scanMessage(msg);
  } catch (err) {
    return { reason: `malformed reply: ${(err as Error).message}` };
  }
  if (h.qdcount !== 1 || !sameQuestion(msg.subarray(HEADER_LEN, scan.questionEnd), READY_QUESTION.question)) return { ignore: 'question' };
  if (h.rcode !== Rcode.NOERROR) return { reason: `answered ${rcodeName(h.rcode)} instead of the A record` };
  const answers = scan.records.list().filter((r) => r.section === 'answer' && r.type === TYPE_A).map((r) => recordCodec.decode(msg, r.start));
  if (answers.some((a) => a.type === 'A' && a.data === READY_ADDRESS)) return { reason: undefined };
  const got = answers.map((a) => (a.type === 'A' ? a.data : a.type)).join(', ') || 'no A record';
  return { reason: `answered without ${READY_NAME} A ${READY_ADDRESS} (got ${got}); is something other than the agent listening there?` };
}

function socketError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'refused: nothing listens there (the agent is not running)';
  return `cannot ask: ${err.message}`;
}

/** Asks `endpoint` for ready.spartan A once; never rejects, never takes longer than timeoutMs. */
export function probeReady(endpoint: Endpoint, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const id = randomInt(0, 65536);
    const to = target(endpoint);
    const sock = dgram.createSocket(to.family === 6 ? 'udp6' : 'udp4');
    const ignored = { id: 0, question: 0 };
    let done = false;
    const finish = (reason: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(reason === undefined ? { endpoint, ok: true, rttMs: Date.now() - started } : { endpoint, ok: false, reason });
    };
    const timer = setTimeout(() => {
      const strays = Object.entries(ignored)
        .filter(([, n]) => n > 0)
        .map(([why, n]) => `${n} with the wrong ${why}`);
      finish(`no answer within ${timeoutMs} ms${strays.length ? ` (ignored replies: ${strays.join(', ')})` : ''}`);
    }, timeoutMs);
    sock.on('error', (err) => finish(socketError(err)));
    sock.on('message', (msg) => {
      const v = judge(msg, id);
      if ('ignore' in v) ignored[v.ignore]++;
      else finish(v.reason);
    });
    sock.connect(to.port, to.host, () => {
      sock.send(buildQuery(id, READY_QUESTION), (err) => {
        if (err) finish(socketError(err));
      });
    });
  });
}

/** Probes every address at once, so a round costs one timeout, not one per address. In input order. */
export function probeAll(endpoints: Endpoint[], timeoutMs: number): Promise<ProbeResult[]> {
  return Promise.all(endpoints.map((e) => probeReady(e, timeoutMs)));
}
