// A set of interchangeable servers (the Mesos-DNS masters, the upstreams, or one forward zone's
// servers) with their health. The list can be replaced at run time (discovery) without
// disturbing queries in flight: a replacement is one assignment, and servers that stay keep
// their health history.
import type { Logger } from 'pino';
import { type Endpoint, formatEndpoint } from '../../common/config/endpoint.js';
import type { HealthConfig } from '../../common/config/schema.js';
import { type Question, Rcode, type Transport, Type, encodeQuestion } from '../../common/dns/wire.js';
import type { Metrics } from '../metrics.js';
import {
  ExchangeError,
  type MismatchHook,
  type TcpRetry,
  type Reply,
  type ServerPools,
  asExchangeError,
  exchange,
  isUsable,
  rcodeFailure,
} from '../transport/exchange.js';
import { type Clock, type Timer, systemClock } from '../clock.js';
import { HedgeBudget } from './hedge-budget.js';
import { ServerHealth, type Transition } from './health.js';
import { type Fanout, chooseServers } from './policy.js';

export class Server {
  readonly address: string;
  readonly health: ServerHealth;
  /** The background probe while it runs: one probe at a time, until the server answers one. */
  probe: { timer: Timer | undefined } | undefined;
  /** Metric labels by transport and the mismatch hook, made once rather than per query. */
  readonly labels: { [T in Transport]: { transport: T; upstream_address: string } };
  readonly addressLabel: { upstream_address: string };
  /** Counts the replies from it that were dropped as not ours. */
  readonly onMismatch: MismatchHook;

  constructor(
    readonly endpoint: Endpoint,
    cfg: HealthConfig,
    metrics: Pick<Metrics, 'mismatchedReplies'>,
    private readonly clock: Clock = systemClock,
  ) {
    this.address = formatEndpoint(endpoint);
    this.onMismatch = (reason) => metrics.mismatchedReplies.inc({ upstream_address: this.address, reason });
    this.health = new ServerHealth(cfg);
    this.labels = { udp: { transport: 'udp', upstream_address: this.address }, tcp: { transport: 'tcp', upstream_address: this.address } };
    this.addressLabel = { upstream_address: this.address };
  }

  get down(): boolean {
    return this.health.down;
  }
  /** A query waits on it past its hedge delay. */
  get late(): boolean {
    return this.health.late;
  }
  get score(): number {
    return this.health.failureScore(this.clock.now());
  }
}

export interface GroupOptions {
  /** "mesos", "upstream" or the forward zone's name: a label for logs and metrics. */
  name: string;
  /** What a background probe asks a failing server: the group's zone apex (SOA) or the root (NS). */
  probeName: string;
  probeType: 'SOA' | 'NS';
  health: HealthConfig;
  timeoutMs: number;
  log: Logger;
  metrics: Metrics;
  /** How one request reaches a server: the agent's sockets (sendThrough), or the load simulation's model. */
  send: SendRequest;
  /** Time and timers; a simulated clock in the load simulation. */
  clock?: Clock;
  /** Breaks ties between equally good servers. */
  random?: () => number;
}

/** One request to one server: its reply, whatever its rcode, or an ExchangeError. */
export type SendRequest = (server: Server, q: Question, deadline: number, retry: TcpRetry | undefined) => Promise<Reply>;

/** Requests through the agent's UDP sockets and TCP connections, shared by every group. */
export function sendThrough(pools: ServerPools): SendRequest {
  return (server, q, deadline, retry) => exchange(server.endpoint, q, deadline, server.onMismatch, pools, retry);
}

export class ServerGroup {
  private list: Server[] = [];
  private closed = false;
  private readonly probeQuestion: Question;
  /** The group's metric labels (its name as `zone`), one object for every query. */
  readonly labels: { zone: string };
  readonly clock: Clock;
  /**
   * When the group last learned something that an exchange in flight could not know: a server
   * answering again, or new servers. Questions asked after it do not join older exchanges.
   */
  changedAt = 0;
  private readonly hedgeBudget = new HedgeBudget();
  private readonly random: () => number;
  private readonly send: SendRequest;

  constructor(
    private readonly opts: GroupOptions,
    endpoints: readonly Endpoint[],
  ) {
    this.probeQuestion = { wire: encodeQuestion(opts.probeName, Type[opts.probeType]), flags: 0, dnssecOk: false };
    this.labels = { zone: opts.name };
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.send = opts.send;
    this.setEndpoints(endpoints);
  }

  get name(): string {
    return this.opts.name;
  }
  get servers(): readonly Server[] {
    return this.list;
  }

  /** Replaces the server list; returns the addresses that came and went. */
  setEndpoints(endpoints: readonly Endpoint[]): { added: string[]; removed: string[] } {
    const old = new Map(this.list.map((s) => [s.address, s]));
    const next = endpoints.map((e) => old.get(formatEndpoint(e)) ?? new Server(e, this.opts.health, this.opts.metrics, this.clock));
    const keep = new Set(next.map((s) => s.address));
    const removed = this.list.filter((s) => !keep.has(s.address));
    for (const s of removed) {
      this.stopProbe(s);
      this.opts.metrics.serverUp.remove(this.opts.name, s.address);
    }
    const added = next.filter((s) => !old.has(s.address));
    if (added.length > 0) this.changedAt = this.clock.now();
    for (const s of added) this.opts.metrics.serverUp.set({ group: this.opts.name, upstream_address: s.address }, 1);
    this.list = next;
    return { added: added.map((s) => s.address), removed: removed.map((s) => s.address) };
  }

  choose(fanout: Fanout): Server[] {
    return chooseServers(this.list, fanout, this.random);
  }

  /** Whether a query that waited its hedge delay may go on to the next server now (the hedge budget). */
  mayHedge(): boolean {
    if (!this.hedgeBudget.spend()) {
      this.opts.metrics.hedgesOverBudget.inc(this.labels);
      return false;
    }
    this.opts.metrics.hedges.inc(this.labels);
    return true;
  }

  /**
   * Asks one server and settles only with a usable answer (NOERROR or NXDOMAIN); every other
   * outcome rejects, so in a race another server can still win.
   */
  async ask(server: Server, q: Question, deadline: number, retry?: TcpRetry): Promise<Reply> {
    const started = this.clock.monotonic();
    const { metrics } = this.opts;
    metrics.serverRequests.inc(server.addressLabel);
    this.hedgeBudget.earn();
    let reply: Reply;
    try {
      reply = await this.send(server, q, deadline, retry);
    } catch (err) {
      const e = asExchangeError(err);
      this.failed(server, e);
      throw e;
    }
    if (!isUsable(reply)) {
      const e = rcodeFailure(reply);
      this.failed(server, e);
      throw e;
    }
    const seconds = (this.clock.monotonic() - started) / 1000;
    metrics.serverRequestDuration.observe(server.labels[reply.transport], seconds);
    this.transition(server, server.health.recordSuccess(seconds * 1000));
    if (server.probe) this.stopProbe(server); // an answer says more than a probe would
    return reply;
  }

  private failed(server: Server, e: ExchangeError): void {
    if (this.closed) return;
    this.opts.metrics.serverRequestFailures.inc({ transport: e.transport, upstream_address: server.address, reason: e.reason });
    this.transition(server, server.health.recordFailure(e.reason, this.clock.now()), e);
    this.startProbe(server);
  }

  private transition(server: Server, t: Transition, cause?: ExchangeError): void {
    if (!t || this.closed) return;
    const { log, metrics, name } = this.opts;
    metrics.serverUp.set({ group: name, upstream_address: server.address }, t === 'up' ? 1 : 0);
    if (t === 'up') {
      this.changedAt = this.clock.now();
      log.warn({ group: name, server: server.address }, 'server answering again');
    } else {
      // Queries go to the others while the probe goes on.
      log.warn(
        { group: name, server: server.address, reason: cause?.reason, detail: cause?.message, failures: server.health.consecutiveFailures },
        'server marked down',
      );
    }
  }

  /**
   * Probes a server from its first failure until it answers, one probe at a time, each
   * probeIntervalMs after the last began (or at once when that one took longer). Clients'
   * queries go to the punctual servers first, so without this a hung server would be asked, and
   * found out, only seldom.
   */
  private startProbe(server: Server): void {
    if (server.probe || this.closed) return;
    const probe: NonNullable<Server['probe']> = { timer: undefined };
    server.probe = probe;
    const { metrics } = this.opts;
    const once = () => {
      probe.timer = undefined;
      const started = this.clock.now();
      const outcome = (e: ExchangeError | undefined) => {
        if (server.probe !== probe || this.closed || !this.list.includes(server)) return;
        metrics.serverProbes.inc({ group: this.opts.name, upstream_address: server.address, result: e?.reason ?? 'answered' });
        this.transition(server, e ? server.health.recordFailure(e.reason, this.clock.now()) : server.health.recordProbeSuccess(), e);
        if (!server.health.failing) {
          server.probe = undefined;
          return;
        }
        probe.timer = this.clock.setTimeout(once, Math.max(0, started + this.opts.health.probeIntervalMs - this.clock.now()), true);
      };
      this.send(server, this.probeQuestion, started + this.opts.timeoutMs, undefined).then(
        (reply) => outcome(this.probeAnswered(reply) ? undefined : rcodeFailure(reply)),
        (err) => outcome(asExchangeError(err)),
      );
    };
    once();
  }

  /**
   * A server must answer its own zone's SOA as it would any name in it; for the root's NS any
   * answer but SERVFAIL proves an upstream alive (some refuse the root and resolve the rest).
   */
  private probeAnswered(reply: Reply): boolean {
    return this.opts.probeType === 'SOA' ? isUsable(reply) : reply.scan.header.rcode !== Rcode.SERVFAIL;
  }

  private stopProbe(server: Server): void {
    this.clock.clearTimeout(server.probe?.timer);
    server.probe = undefined;
  }

  close(): void {
    this.closed = true;
    for (const s of this.list) this.stopProbe(s);
  }
}
