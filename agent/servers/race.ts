// The race: the query goes to `fanout` servers of a group at once and the first usable answer
// wins. A fast SERVFAIL or REFUSED does not win (it rejects inside ServerGroup.ask). The losers
// run on to their deadline so their health is still measured, so nothing is cancelled: a plain
// Promise.any.
import type { TcpRetry, Reply } from '../transport/exchange.js';
import type { Question } from '../../common/dns/wire.js';
import type { Fanout } from './policy.js';
import type { ServerGroup } from './server-group.js';

export async function race(
  group: Pick<ServerGroup, 'choose' | 'ask' | 'clock'>,
  q: Question,
  fanout: Fanout,
  timeoutMs: number,
): Promise<Reply | undefined> {
  const servers = group.choose(fanout);
  if (servers.length === 0) return undefined;
  const deadline = group.clock.now() + timeoutMs;
  const shared: TcpRetry = {};
  try {
    return await Promise.any(servers.map((s) => group.ask(s, q, deadline, shared)));
  } catch {
    return undefined; // every server failed; the caller answers SERVFAIL
  }
}
