// The group's policy for one forwarded question, as configured: hedged (the default) or a race.
import type { Config } from '../../common/config/schema.js';
import type { Question } from '../../common/dns/wire.js';
import type { Reply } from '../transport/exchange.js';
import { type HedgeGroup, hedge } from '../servers/hedge.js';
import { race } from '../servers/race.js';

export type DispatchConfig = Pick<Config, 'dispatch' | 'fanout' | 'timeoutMs' | 'hedge'>;

/** The first usable answer from `group`'s servers, or undefined when none gave one in time. */
export function dispatch(group: HedgeGroup, q: Question, c: DispatchConfig): Promise<Reply | undefined> {
  return c.dispatch === 'race' ? race(group, q, c.fanout, c.timeoutMs) : hedge(group, q, c.timeoutMs, c.hedge);
}
