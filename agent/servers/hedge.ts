// Hedged dispatch, the default: the best server first, the next one only when no usable answer
// came within the first one's hedge delay (learned from its own answers), or at once when it
// failed. A healthy group answers nearly every query with one request, while a server that hangs
// costs a query no more than its hedge delay. Requests already sent are never cancelled: each
// runs to its answer or deadline, so every server's health is still measured.
import type { Question } from '../../common/dns/wire.js';
import type { Clock, Timer } from '../clock.js';
import type { TcpRetry, Reply } from '../transport/exchange.js';
import type { Server, ServerGroup } from './server-group.js';

export interface HedgeLimits {
  minMs: number;
  maxMs: number;
}

/** What hedging needs of a server group. */
export type HedgeGroup = Pick<ServerGroup, 'choose' | 'ask' | 'mayHedge' | 'clock'>;
/** What hedging needs of a server: its health (the hedge delay, the late count). */
type HedgeServer = Pick<Server, 'health'>;

/** The first usable answer of `group`'s servers asked in turn, or undefined when none gave one. */
export function hedge(group: HedgeGroup, q: Question, timeoutMs: number, limits: HedgeLimits): Promise<Reply | undefined> {
  const servers = group.choose('all');
  if (servers.length === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => new Hedge(group, servers, q, group.clock.now() + timeoutMs, limits, resolve).next());
}

/** One query's requests: one object rather than a closure per request. */
class Hedge {
  private asked = 0;
  private pending = 0;
  private done = false;
  private timer: Timer | undefined;
  /** The server whose hedge delay the timer counts down, while its request is pending. */
  private waitingOn: HedgeServer | undefined;
  private readonly shared: TcpRetry = {};

  constructor(
    private readonly group: HedgeGroup,
    private readonly servers: Server[],
    private readonly q: Question,
    private readonly deadline: number,
    private readonly limits: HedgeLimits,
    private readonly resolve: (reply: Reply | undefined) => void,
  ) {}

  /** Asks the next server, and arms the hedge for it when another is left to ask. */
  next(): void {
    if (this.done) return;
    const clock: Clock = this.group.clock;
    clock.clearTimeout(this.timer);
    this.waitingOn = undefined;
    if (this.asked === this.servers.length || clock.now() >= this.deadline) {
      if (this.pending === 0) this.finish(undefined);
      return;
    }
    const server = this.servers[this.asked++];
    this.pending++;
    let late = false;
    const settled = () => {
      this.pending--;
      if (late) server.health.lateEnded();
    };
    this.group.ask(server, this.q, this.deadline, this.shared).then(
      (reply) => {
        settled();
        this.finish(reply);
      },
      () => {
        settled();
        // The server the hedge timer counts for failed (SERVFAIL, REFUSED, refused): no reason
        // to wait for the hedge. With no timer counting (every server asked, or the deadline
        // passed) any failure may be the last one pending, and next() then ends the query.
        if (this.waitingOn === server || this.waitingOn === undefined) this.next();
      },
    );
    if (this.asked === this.servers.length) return;
    this.waitingOn = server;
    const hedgeNow = () => {
      if (this.done || this.waitingOn !== server) return;
      // Late: queries in the meantime start with the punctual servers.
      late = true;
      server.health.lateBegan();
      // Over the budget the query keeps waiting on this server (and moves on if it fails).
      if (this.group.mayHedge()) this.next();
    };
    this.timer = clock.setTimeout(
      // Once more round the event loop first: after a pause of the agent's own (a collection),
      // timers run before the replies that came meanwhile are read, and would hedge for nothing.
      () => (this.timer = clock.setTimeout(hedgeNow, 0)),
      server.health.hedgeDelayMs(this.limits.minMs, this.limits.maxMs),
    );
  }

  private finish(reply: Reply | undefined): void {
    if (this.done) return;
    this.done = true;
    this.group.clock.clearTimeout(this.timer);
    this.resolve(reply);
  }
}
