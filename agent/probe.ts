// The ready.spartan probe: is the agent on this address alive *and* answering? One UDP query for
// ready.spartan A, which the agent answers from its own local zone, so a reply depends on nothing
// but the agent itself. Shared by the watchdog, the resolv.conf generator and the HTTP API's
// health check, so all three agree on what "answering" means.
//
// The exchange is the forwarder's own (agent/forwarding/exchange.ts): fresh random ID, fresh
// socket, and a reply counts only from the address asked, with that ID, QR set and the same
// question; anything else is ignored while waiting. A hung agent (socket open, process stopped)
// simply never answers, which is exactly what must be caught.
import type { Endpoint } from './config/endpoint.js';
import { ExchangeError, type Question, udpExchange } from './forwarding/exchange.js';
import { nameCodec, recordCodec } from './dns/packet.js';
import { RD, Rcode, rcodeName } from './dns/wire.js';

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
  const name = nameCodec.encode(READY_NAME);
  const typeClass = Buffer.alloc(4);
  typeClass.writeUInt16BE(TYPE_A, 0);
  typeClass.writeUInt16BE(CLASS_IN, 2);
  return { question: Buffer.concat([name, typeClass]), flags: RD, dnssecOk: false };
})();

/**
 * A wildcard listen address is reached through loopback; replies come from 127.0.0.1 (or ::1),
 * and the exchange accepts replies only from the address it asked.
 */
function target(e: Endpoint): Endpoint {
  if (e.host === '0.0.0.0') return { ...e, host: '127.0.0.1' };
  if (e.host === '::') return { ...e, host: '::1' };
  return e;
}

/** Asks `endpoint` for ready.spartan A once; never rejects. */
export async function probeReady(endpoint: Endpoint, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  const ignored: Record<string, number> = {};
  const result = (reason?: string): ProbeResult => ({
    endpoint,
    ok: reason === undefined,
    ...(reason === undefined ? { rttMs: Date.now() - started } : { reason }),
  });
  try {
    const reply = await udpExchange(target(endpoint), READY_QUESTION, started + timeoutMs, (why) => {
      ignored[why] = (ignored[why] ?? 0) + 1;
    });
    const { header, records } = reply.scan;
    if (header.rcode !== Rcode.NOERROR) return result(`answered ${rcodeName(header.rcode)} instead of the A record`);
    const answers = records.filter((r) => r.section === 'answer' && r.type === TYPE_A).map((r) => recordCodec.decode(reply.msg, r.start));
    if (answers.some((a) => a.type === 'A' && a.data === READY_ADDRESS)) return result();
    const got = answers.map((a) => (a.type === 'A' ? a.data : a.type)).join(', ') || 'no A record';
    return result(`answered without ${READY_NAME} A ${READY_ADDRESS} (got ${got}); is something other than the agent listening there?`);
  } catch (err) {
    const detail = err instanceof ExchangeError && err.reason === 'timeout' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    const dropped = Object.entries(ignored).map(([why, n]) => `${n} with the wrong ${why}`);
    return result(dropped.length ? `${detail} (ignored replies: ${dropped.join(', ')})` : detail);
  }
}

/** Probes every address at once, so a round costs one timeout, not one per address. In input order. */
export function probeAll(endpoints: Endpoint[], timeoutMs: number): Promise<ProbeResult[]> {
  return Promise.all(endpoints.map((e) => probeReady(e, timeoutMs)));
}
