// Lookups at a steady rate, as a node's clients make them: one UDP query every `everyMs` to the
// agent, each waited for up to `replyTimeoutMs`, tallied by rcode. Bounded: it stops when told or
// after `maxCount` queries, whichever comes first. One socket and no processes, so 20 a second
// cost the test machine next to nothing (dig is for what an operator would type).
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { rcodeName } from '../../common/dns/wire.js';
import { assertLoopback } from '../../sim/ports.js';

export interface LookupTally {
  sent: number;
  /** Replies by rcode (NOERROR, NXDOMAIN, SERVFAIL, …). */
  rcodes: Record<string, number>;
  /** Queries with no reply within replyTimeoutMs. */
  unanswered: number;
}

export interface SteadyLookups {
  /** The tally so far, live. */
  readonly tally: LookupTally;
  /** Stops sending, waits for the replies still due, and returns the tally. */
  stop(): Promise<LookupTally>;
}

export function steadyLookups(opts: {
  host: string;
  port: number;
  /** The name of query number i. */
  name: (i: number) => string;
  everyMs: number;
  maxCount: number;
  replyTimeoutMs: number;
}): SteadyLookups {
  assertLoopback(opts.host);
  const sock = dgram.createSocket('udp4');
  const waiting = new Map<number, NodeJS.Timeout>();
  const tally: LookupTally = { sent: 0, rcodes: {}, unanswered: 0 };
  let settleAll: (() => void) | undefined;
  const settled = () => waiting.size === 0 && settleAll?.();
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const timer = waiting.get(id);
    if (!timer) return;
    clearTimeout(timer);
    waiting.delete(id);
    const rcode = rcodeName(msg.readUInt8(3) & 0x0f);
    tally.rcodes[rcode] = (tally.rcodes[rcode] ?? 0) + 1;
    settled();
  });
  const send = () => {
    if (tally.sent >= opts.maxCount) return clearInterval(ticker);
    const id = tally.sent++ & 0xffff;
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: opts.name(tally.sent) }],
    });
    waiting.set(
      id,
      setTimeout(() => {
        waiting.delete(id);
        tally.unanswered++;
        settled();
      }, opts.replyTimeoutMs),
    );
    sock.send(query, opts.port, opts.host);
  };
  const ticker = setInterval(send, opts.everyMs);
  let stopped: Promise<LookupTally> | undefined;
  return {
    tally,
    stop: () => (stopped ??= finish()),
  };
  async function finish(): Promise<LookupTally> {
    clearInterval(ticker);
    if (waiting.size > 0) await new Promise<void>((r) => (settleAll = r));
    sock.close();
    return tally;
  }
}
