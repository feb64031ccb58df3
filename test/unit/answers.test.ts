// The answer layer on its own, on the simulated clock, against a stand-in group whose one
// exchange per question the test settles: where each answer comes from, how many exchanges the
// servers see (prefetch in a cached answer's last tenth, coalescing, a group that changed since),
// and the in-flight count the resolver reports.
import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '../../common/config/schema.js';
import { encodeQuestion, scanMessage } from '../../common/dns/wire.js';
import { type AnswerGroup, type AnswerStores, Answers, type ForwardedQuestion } from '../../agent/answers/answers.js';
import { AnswerCache } from '../../agent/cache/answer-cache.js';
import { createMetrics } from '../../agent/metrics.js';
import type { Reply } from '../../agent/transport/exchange.js';
import { SimClock } from '../simulate/sim-clock.js';

const fq: ForwardedQuestion = {
  key: 'app.mesos|1|1|0|0',
  question: { wire: encodeQuestion('app.mesos', 1), flags: 0, dnssecOk: false },
  maxTtlSec: 10,
};

/** A NOERROR reply with one A record of TTL `ttl`, scanned as the agent scans one. */
function reply(ttl: number): Reply {
  const msg = Buffer.from([
    ...[0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0],
    ...encodeQuestion('app.mesos', 1),
    ...[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, ttl, 0, 4, 10, 0, 0, 1],
  ]);
  return { msg, scan: scanMessage(msg), transport: 'udp' };
}

function setup(opts: { coalescing?: boolean; cache?: boolean } = {}) {
  const clock = new SimClock(1_000_000);
  const metrics = createMetrics();
  const answers = new Answers(metrics, clock, opts.coalescing ?? true);
  const exchanges: Array<(r: Reply | undefined) => void> = [];
  const server = {};
  const group: AnswerGroup = {
    name: 'mesos',
    labels: { zone: 'mesos' },
    changedAt: 0,
    servers: [server],
    clock,
    choose: () => [server] as never,
    mayHedge: () => false,
    ask: () => new Promise<Reply>((resolve, reject) => exchanges.push((r) => (r ? resolve(r) : reject(new Error('failed'))))),
  };
  const config = parseConfig({});
  const stores: AnswerStores = { config, cache: opts.cache ? new AnswerCache(100) : undefined, stale: undefined };
  const count = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
    (await m.get()).values.reduce((n, v) => n + v.value, 0);
  return { clock, metrics, answers, group, stores, exchanges, count };
}

describe('Answers', () => {
  test('a cache miss waits on one exchange; identical questions join it, and waiting counts each client', async () => {
    const s = setup();
    const a = s.answers.answer(fq, s.group, s.stores);
    const b = s.answers.answer(fq, s.group, s.stores);
    await s.clock.runUntil(s.clock.now() + 1);
    expect(s.exchanges).toHaveLength(1);
    expect(s.answers.waiting).toBe(2);
    s.exchanges[0](reply(60));
    expect([(await a).source, (await b).source]).toEqual(['servers', 'servers']);
    expect(await s.count(s.metrics.coalesced)).toBe(1);
    expect(s.answers.waiting).toBe(0);
  });

  test('without coalescing every question has an exchange of its own', async () => {
    const s = setup({ coalescing: false });
    void s.answers.answer(fq, s.group, s.stores);
    void s.answers.answer(fq, s.group, s.stores);
    await s.clock.runUntil(s.clock.now() + 1);
    expect(s.exchanges).toHaveLength(2);
  });

  test('a question asked after the group changed does not join an older exchange', async () => {
    const s = setup();
    void s.answers.answer(fq, s.group, s.stores);
    await s.clock.runUntil(s.clock.now() + 100);
    s.group.changedAt = s.clock.now(); // a server answering again
    void s.answers.answer(fq, s.group, s.stores);
    await s.clock.runUntil(s.clock.now() + 1);
    expect(s.exchanges).toHaveLength(2);
  });

  test('a cached answer comes at once; in its last tenth it is still served and refreshed in the background, once', async () => {
    const s = setup({ cache: true });
    const first = s.answers.answer(fq, s.group, s.stores);
    await s.clock.runUntil(s.clock.now() + 1);
    s.exchanges[0](reply(10));
    expect((await first).source).toBe('servers');
    await s.clock.runUntil(s.clock.now() + 5000);
    expect(s.answers.answer(fq, s.group, s.stores)).toMatchObject({ source: 'cache' });
    expect(s.exchanges).toHaveLength(1);
    await s.clock.runUntil(s.clock.now() + 4200); // 9.2 s of 10
    expect(s.answers.answer(fq, s.group, s.stores)).toMatchObject({ source: 'cache' });
    expect(s.answers.answer(fq, s.group, s.stores)).toMatchObject({ source: 'cache' });
    await s.clock.runUntil(s.clock.now() + 1);
    expect(s.exchanges).toHaveLength(2);
    expect(await s.count(s.metrics.prefetches)).toBe(1);
    s.exchanges[1](reply(10));
    await s.clock.runUntil(s.clock.now() + 1000); // past the first answer's 10 s: the refreshed one
    expect(s.answers.answer(fq, s.group, s.stores)).toMatchObject({ source: 'cache' });
    expect(s.exchanges).toHaveLength(2);
  });

  test('no servers: none, at once, counted as a failure', async () => {
    const s = setup();
    s.group.servers = [];
    expect(s.answers.answer(fq, s.group, s.stores)).toEqual({ source: 'none', why: 'no servers' });
    expect(await s.count(s.metrics.forwardedFailures)).toBe(1);
  });
});
