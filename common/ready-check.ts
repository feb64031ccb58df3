// The ready check: is the agent on this address alive *and* answering? One UDP query for
// ready.spartan A, which the agent answers from its own local zone, so a reply depends on nothing
// but the agent itself. The watchdog, the resolv.conf generator and the HTTP API's health check
// share it, so all three agree on what "answering" means.
//
// It uses its own connected socket rather than the forwarder's pool: a health check should meet
// the agent the way a client does, and say why it failed. On a connected socket the kernel
// delivers only datagrams from the address asked and reports "port unreachable" as ECONNREFUSED,
// so a dead agent (refused at once) is told apart from a hung one (silent until the timeout).
// A reply counts only with our random ID, QR and our question (RFC 5452 §9.1), and the A record
// 127.0.0.1.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import pAny, { AggregateError } from 'p-any';
import { type Endpoint, isWildcard } from './config/endpoint.js';
import { recordCodec } from './dns/packet.js';
import {
  type Question,
  RD,
  Rcode,
  type ReplyMismatch,
  type Scan,
  Type,
  buildQuery,
  encodeQuestion,
  matchReply,
  rcodeName,
} from './dns/wire.js';

export const READY_NAME = 'ready.spartan';
/** What the agent's spartan zone holds for ready.spartan (dcos-dns's value). */
export const READY_ADDRESS = '127.0.0.1';

export interface ReadyCheckResult {
  /** The address asked, as configured. */
  endpoint: Endpoint;
  ok: boolean;
  /** Round-trip time of the answer, when ok. */
  rttMs?: number;
  /** Why the address does not count as answering, in words fit for a log line. */
  reason?: string;
}

const READY_QUESTION: Question = { wire: encodeQuestion(READY_NAME, Type.A), flags: RD, dnssecOk: false };

/** Where a listen address is reached from this node: a wildcard through loopback. */
export function reachableEndpoint(e: Endpoint): Endpoint {
  if (!isWildcard(e)) return e;
  return { ...e, host: e.family === 6 ? '::1' : '127.0.0.1' };
}

/** Why the reply to our query does not show a working agent; undefined when it does. */
function failureOf(msg: Buffer, scan: Scan): string | undefined {
  const { rcode } = scan.header;
  if (rcode !== Rcode.NOERROR) return `answered ${rcodeName(rcode)} instead of the A record`;
  const answers = scan.records
    .list()
    .filter((r) => r.section === 'answer' && r.type === Type.A)
    .map((r) => recordCodec.decode(msg, r.start));
  if (answers.some((a) => a.type === 'A' && a.data === READY_ADDRESS)) return undefined;
  const got = answers.map((a) => (a.type === 'A' ? a.data : a.type)).join(', ') || 'no A record';
  return `answered without ${READY_NAME} A ${READY_ADDRESS} (got ${got}); is something other than the agent listening there?`;
}

function socketError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'refused: nothing listens there (the agent is not running)';
  return `cannot ask: ${err.message}`;
}

/** Asks `endpoint` for ready.spartan A once; never rejects, never takes longer than timeoutMs. */
export function checkReady(endpoint: Endpoint, timeoutMs: number): Promise<ReadyCheckResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const id = randomInt(0, 65536);
    const to = reachableEndpoint(endpoint);
    const sock = dgram.createSocket(to.family === 6 ? 'udp6' : 'udp4');
    const ignored: Record<ReplyMismatch, number> = { id: 0, question: 0 };
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
      let match;
      try {
        match = matchReply(msg, id, READY_QUESTION.wire);
      } catch (err) {
        return finish((err as Error).message);
      }
      if (typeof match === 'string') ignored[match]++;
      else finish(failureOf(msg, match));
    });
    // A connect that fails at once (no route: an IPv6 address on a node without IPv6) comes to
    // this callback as its argument, not as an 'error' event.
    sock.connect(to.port, to.host, (err?: Error) => {
      if (err) return finish(socketError(err));
      sock.send(buildQuery(id, READY_QUESTION), (err) => {
        if (err) finish(socketError(err));
      });
    });
  });
}

/**
 * Checks every address at once, so a round costs one timeout, not one per address; each address's
 * verdict, in input order (genresolv lists only the addresses that answer).
 */
export function checkReadyAll(endpoints: Endpoint[], timeoutMs: number): Promise<ReadyCheckResult[]> {
  return Promise.all(endpoints.map((e) => checkReady(e, timeoutMs)));
}

/** The agent answers on one of the addresses (`answered`), or on none (every address's failure, in input order). */
export type AnyReadyResult = { ok: true; answered: ReadyCheckResult } | { ok: false; failures: ReadyCheckResult[] };

class NotAnswering extends Error {
  constructor(readonly result: ReadyCheckResult) {
    super(result.reason);
  }
}

/**
 * Whether the agent answers on any of `endpoints`, all asked at once: the first answer settles
 * it (a node's resolver falls through to the next nameserver), so a healthy round does not wait
 * out a hung address; only when every address fails does it take the timeout.
 */
export async function checkAnyReady(endpoints: Endpoint[], timeoutMs: number): Promise<AnyReadyResult> {
  if (endpoints.length === 0) return { ok: false, failures: [] };
  const checks = endpoints.map((e) =>
    checkReady(e, timeoutMs).then((r) => {
      if (!r.ok) throw new NotAnswering(r);
      return r;
    }),
  );
  try {
    return { ok: true, answered: await pAny(checks) };
  } catch (err) {
    if (!(err instanceof AggregateError)) throw err;
    // AggregateError lists them in the order they failed.
    const failures = [...err.errors].map((e) => (e as NotAnswering).result);
    return { ok: false, failures: failures.sort((a, b) => endpoints.indexOf(a.endpoint) - endpoints.indexOf(b.endpoint)) };
  }
}
