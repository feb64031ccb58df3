// A server group's health on the simulated clock: three masters, one of which hangs, refuses or
// answers again, under steady lookups (20 a second) dispatched hedged or raced. What an operator
// sees is whether a server is down (phalanx_dns_server_up, status) and when; the clients' answers
// must not wait for the finding out.
import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { HealthConfig } from '../../common/config/schema.js';
import { type Question, encodeQuestion } from '../../common/dns/wire.js';
import { ExchangeError, type Reply } from '../../agent/transport/exchange.js';
import { hedge } from '../../agent/servers/hedge.js';
import { race } from '../../agent/servers/race.js';
import { type SendRequest, ServerGroup } from '../../agent/servers/server-group.js';
import { createMetrics } from '../../agent/metrics.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { SimClock } from '../simulate/sim-clock.js';

const health: HealthConfig = { halfLifeMs: 30_000, downAfterFailures: 3, probeIntervalMs: 2000 };
const TIMEOUT_MS = 2000;
const LOOKUP_EVERY_MS = 50;
const MASTERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const q: Question = { wire: encodeQuestion('app.marathon.mesos', 1), flags: 0, dnssecOk: false };
const probeQuestion = encodeQuestion('mesos', 6);

type Behaviour = 'answers' | 'hangs' | 'refuses' | 'servfails';

const reply = (rcode: number): Reply =>
  ({ msg: Buffer.alloc(12), scan: { header: { rcode, flags: 0 } }, transport: 'udp' }) as unknown as Reply;

function cluster(dispatch: 'hedged' | 'race') {
  const clock = new SimClock(1_000_000);
  const metrics = createMetrics();
  const behaviour = new Map<string, Behaviour>(MASTERS.map((m) => [`${m}:53`, 'answers']));
  const probes: string[] = [];
  const send: SendRequest = (server, question, deadline) =>
    new Promise((resolve, reject) => {
      if (question.wire.equals(probeQuestion)) probes.push(server.address);
      const b = behaviour.get(server.address);
      if (b === 'hangs') clock.setTimeout(() => reject(new ExchangeError('timeout', 'udp', 'no reply')), deadline - clock.now());
      else if (b === 'refuses') clock.setTimeout(() => reject(new ExchangeError('refused', 'udp', 'recvmsg ECONNREFUSED')), 0.1);
      else clock.setTimeout(() => resolve(reply(b === 'servfails' ? 2 : 0)), 1);
    });
  const group = new ServerGroup(
    {
      name: 'mesos',
      probeName: 'mesos',
      probeType: 'SOA',
      health,
      timeoutMs: TIMEOUT_MS,
      log: pino({ level: 'silent' }),
      metrics,
      clock,
      random: seededRandom(7),
      send,
    },
    MASTERS.map((host) => ({ host, port: 53, family: 4 as const })),
  );
  const server = (i: number) => group.servers[i];
  let answered = 0;
  let unanswered = 0;
  /** Lookups every 50 ms until `untilMs` (from the start); returns when `done` holds (the simulated ms it took) or at the end. */
  async function lookUpUntil(untilMs: number, done: () => boolean): Promise<number | undefined> {
    const start = clock.now();
    for (let t = 0; t < untilMs; t += LOOKUP_EVERY_MS) {
      const lookup = dispatch === 'hedged' ? hedge(group, q, TIMEOUT_MS, { minMs: 5, maxMs: 250 }) : race(group, q, 2, TIMEOUT_MS);
      void lookup.then((r) => (r ? answered++ : unanswered++));
      await clock.runUntil(clock.now() + LOOKUP_EVERY_MS);
      if (done()) return clock.now() - start;
    }
    return undefined;
  }
  return { clock, metrics, behaviour, probes, group, server, lookUpUntil, tally: () => ({ answered, unanswered }) };
}

const probeCount = async (metrics: ReturnType<typeof createMetrics>, result: string) =>
  (await metrics.serverProbes.get()).values.filter((v) => v.labels.result === result).reduce((n, v) => n + v.value, 0);

describe.each(['hedged', 'race'] as const)('%s dispatch, 20 lookups a second', (dispatch) => {
  test('a master that hangs is marked down within 10 s, and up again within 10 s of answering; every lookup is answered', async () => {
    const c = cluster(dispatch);
    await c.lookUpUntil(5000, () => false); // every master answering: learned round-trip times
    expect(c.probes).toEqual([]);
    c.behaviour.set(c.server(0).address, 'hangs');
    const toDown = await c.lookUpUntil(30_000, () => c.server(0).down);
    expect(toDown).toBeLessThanOrEqual(10_000);
    expect(await c.metrics.serverUp.get()).toMatchObject({ values: expect.arrayContaining([expect.objectContaining({ value: 0 })]) });
    expect(c.probes).toContain(c.server(0).address);
    c.behaviour.set(c.server(0).address, 'answers');
    const toUp = await c.lookUpUntil(30_000, () => !c.server(0).down);
    expect(toUp).toBeLessThanOrEqual(10_000);
    expect(await probeCount(c.metrics, 'answered')).toBe(1);
    // Answered by the probe: it stops, and the other masters were never in doubt.
    const probesThen = c.probes.length;
    await c.lookUpUntil(10_000, () => false);
    expect(c.probes.length).toBe(probesThen);
    expect([1, 2].map((i) => c.server(i).health.failures)).toEqual([0, 0]);
    await c.clock.runUntil(c.clock.now() + TIMEOUT_MS);
    expect(c.tally().unanswered).toBe(0);
    c.group.close();
  });

  test('a master that refuses is down by its second probe, and no lookup waits for it', async () => {
    const c = cluster(dispatch);
    await c.lookUpUntil(1000, () => false);
    c.behaviour.set(c.server(1).address, 'refuses');
    // From its first failure, which comes when a lookup happens to ask it first.
    await c.lookUpUntil(30_000, () => c.server(1).health.failing);
    const toDown = await c.lookUpUntil(30_000, () => c.server(1).down);
    expect(toDown).toBeLessThanOrEqual(health.probeIntervalMs + LOOKUP_EVERY_MS);
    expect(c.server(1).health.lastFailure).toBe('refused');
    await c.clock.runUntil(c.clock.now() + TIMEOUT_MS);
    expect(c.tally().unanswered).toBe(0);
    c.group.close();
  });

  test('the first failure starts the probe at once, and it stops once the server answers again, without a down', async () => {
    const c = cluster(dispatch);
    await c.lookUpUntil(1000, () => false);
    c.behaviour.set(c.server(2).address, 'servfails');
    await c.lookUpUntil(5000, () => c.server(2).health.failing);
    expect(c.probes).toEqual([c.server(2).address]);
    c.behaviour.set(c.server(2).address, 'answers');
    await c.lookUpUntil(5000, () => false);
    expect(c.server(2).health.failing).toBe(false);
    expect(c.server(2).down).toBe(false);
    const probesThen = c.probes.length;
    await c.lookUpUntil(10_000, () => false);
    expect(c.probes.length).toBe(probesThen);
    c.group.close();
  });

  test('a closed group probes no more', async () => {
    const c = cluster(dispatch);
    c.behaviour.set(c.server(0).address, 'hangs');
    await c.lookUpUntil(3000, () => c.probes.length > 0);
    c.group.close();
    const probesThen = c.probes.length;
    await c.clock.runUntil(c.clock.now() + 20_000);
    expect(c.probes.length).toBe(probesThen);
    expect(c.clock.pending).toBe(0);
  });
});
