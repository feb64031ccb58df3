// Client traffic for tests that watch the agent's metrics over time: one UDP query every
// intervalMs until stopped, so that its counters move and its servers' health is exercised,
// without checking the answers (test/chaos/load.ts is the load generator that checks them).
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { assertLoopback } from '../../sim/ports.js';

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface SteadyQueries {
  /** Replies by rcode so far. */
  readonly rcodes: Record<string, number>;
  stop(): void;
}

export function steadyQueries(host: string, port: number, name: string, intervalMs: number): SteadyQueries {
  assertLoopback(host);
  const sock = dgram.createSocket('udp4');
  const rcodes: Record<string, number> = {};
  let id = 0;
  let stopped = false;
  sock.on('error', () => {});
  sock.on('message', (msg) => {
    // The header's low four bits of its second word (RFC 1035 §4.1.1).
    const code = msg.length >= 4 ? msg.readUInt16BE(2) & 0xf : -1;
    const rcode = RCODES[code] ?? `RCODE${code}`;
    rcodes[rcode] = (rcodes[rcode] ?? 0) + 1;
  });
  const timer = setInterval(() => {
    id = (id + 1) & 0xffff;
    const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
    sock.send(query, port, host, () => {});
  }, intervalMs);
  return {
    rcodes,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      sock.close();
    },
  };
}
