// A burst of identical questions, as when hundreds of containers start at once on a node and all
// look up the same name: each from its own socket, all sent in one turn of the event loop. What
// counts is how many queries reach the masters (target 16.3: at most 2 for 500 clients).
import dgram from 'node:dgram';
import { parseEndpoint } from '../../common/config/endpoint.js';
import { RD, Type, buildQuery, encodeQuestion } from '../../common/dns/wire.js';

export interface BurstResult {
  clients: number;
  answered: number;
  /** Clients with no reply within waitMs: their query or its reply was dropped (a socket buffer overflowed). */
  lost: number;
}

/** `clients` sockets each ask `name` A once, at the same moment; bounded by waitMs. */
export async function burst(endpoint: string, name: string, clients: number, waitMs = 3000): Promise<BurstResult> {
  const to = parseEndpoint(endpoint);
  if (!to) throw new Error(`bad endpoint ${endpoint}`);
  const question = encodeQuestion(name, Type.A);
  const family = to.host.includes(':') ? 'udp6' : 'udp4';
  const socks: dgram.Socket[] = [];
  let answered = 0;
  let allAnswered = () => {};
  try {
    // Every socket bound first, so that the sends go out back to back.
    for (let i = 0; i < clients; i++) {
      const s = dgram.createSocket(family);
      s.once('message', () => {
        if (++answered === clients) allAnswered();
      });
      await new Promise<void>((resolve) => s.bind(0, family === 'udp6' ? '::1' : '127.0.0.1', resolve));
      socks.push(s);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      allAnswered = () => {
        clearTimeout(timer);
        resolve();
      };
      for (const [i, s] of socks.entries()) s.send(buildQuery(i, { wire: question, flags: RD, dnssecOk: false }), to.port, to.host);
    });
  } finally {
    for (const s of socks) s.close();
  }
  return { clients, answered, lost: clients - answered };
}
