// Hedged dispatch against a stand-in group whose servers answer when the test says: the best
// server alone while it answers in time; the next one after its hedge delay or at once after a
// failure; a hedged server is late until its request settles; the first usable answer wins;
// nothing is cancelled. Jest's fake timers stand in for the clock (this checks the order of
// events, not speed).
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { HealthConfig } from '../../common/config/schema.js';
import type { Question } from '../../common/dns/wire.js';
import type { Reply } from '../../agent/transport/exchange.js';
import { systemClock } from '../../agent/clock.js';
import { ServerHealth } from '../../agent/servers/health.js';
import { type HedgeGroup, hedge } from '../../agent/servers/hedge.js';
import type { Server } from '../../agent/servers/server-group.js';

const cfg: HealthConfig = { halfLifeMs: 1000, downAfterFailures: 3, probeIntervalMs: 100 };
const limits = { minMs: 5, maxMs: 250 };
const q: Question = { wire: Buffer.alloc(0), flags: 0, dnssecOk: false };

interface Request {
  server: string;
  answer: (name: string) => void;
  fail: () => void;
}

/** Servers a, b, c in that order, each with `rttMs` learned (so its hedge delay is known). */
function group(rttMs = 10, opts: { budget?: number } = {}) {
  const servers = ['a', 'b', 'c'].map((address) => {
    const health = new ServerHealth(cfg);
    health.recordSuccess(rttMs); // delay SRTT + 4 × RTTVAR = 3 × rttMs
    return { address, health } as unknown as Server;
  });
  const requests: Request[] = [];
  let hedges = 0;
  let budget = opts.budget ?? Infinity;
  const g: HedgeGroup = {
    clock: systemClock, // faked by jest
    choose: () => servers,
    mayHedge: () => {
      if (budget <= 0) return false;
      budget--;
      hedges++;
      return true;
    },
    ask: (server: Server) =>
      new Promise<Reply>((resolve, reject) => {
        requests.push({
          server: server.address,
          answer: (name) => resolve({ msg: Buffer.from(name), scan: undefined as never, transport: 'udp' }),
          fail: () => reject(new Error('SERVFAIL')),
        });
      }),
  };
  return { g, servers, requests, hedges: () => hedges };
}

const asked = (requests: Request[]) => requests.map((r) => r.server);
const flush = () => jest.advanceTimersByTimeAsync(0);
/** The hedge fires one turn of the event loop after its delay (a 1 ms timer): replies first. */
const TURN = 1;

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('hedged dispatch', () => {
  test('a server that answers within its hedge delay is the only one asked', async () => {
    const { g, requests, hedges } = group();
    const reply = hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(29);
    expect(asked(requests)).toEqual(['a']);
    requests[0].answer('from a');
    expect((await reply)?.msg.toString()).toBe('from a');
    await jest.advanceTimersByTimeAsync(1000);
    expect(asked(requests)).toEqual(['a']);
    expect(hedges()).toBe(0);
  });

  test('past the delay the next server is asked too, the first answer wins, and the slow one is late until it settles', async () => {
    const { g, servers, requests, hedges } = group();
    const reply = hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(30 + TURN);
    expect(asked(requests)).toEqual(['a', 'b']);
    expect(hedges()).toBe(1);
    expect(servers[0].health.late).toBe(true);
    requests[1].answer('from b');
    expect((await reply)?.msg.toString()).toBe('from b');
    expect(servers[0].health.late).toBe(true); // still waiting on a: not cancelled
    requests[0].answer('from a, too late');
    await flush();
    expect(servers[0].health.late).toBe(false);
    expect(asked(requests)).toEqual(['a', 'b']);
  });

  test('a failure asks the next server at once, without waiting for the delay', async () => {
    const { g, requests, hedges } = group();
    const reply = hedge(g, q, 2000, limits);
    await flush();
    requests[0].fail();
    await flush();
    expect(asked(requests)).toEqual(['a', 'b']);
    expect(hedges()).toBe(0);
    requests[1].answer('from b');
    expect((await reply)?.msg.toString()).toBe('from b');
  });

  test('at the deadline, the hedged request failing before the first one still ends the query when the first fails', async () => {
    const { g, requests } = group(10, { budget: 1 }); // one hedge: b, and no c
    const reply = hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(30 + TURN);
    expect(asked(requests)).toEqual(['a', 'b']);
    await jest.advanceTimersByTimeAsync(2000); // past the deadline
    requests[1].fail(); // both time out together; b's timer happens to fire first
    await flush();
    requests[0].fail();
    await flush();
    expect(asked(requests)).toEqual(['a', 'b']);
    let settled = false;
    void reply.then(() => (settled = true));
    await flush();
    expect(settled).toBe(true);
    expect(await reply).toBeUndefined();
  });

  test('every server failing gives undefined (the client gets SERVFAIL or a stale answer)', async () => {
    const { g, requests } = group();
    const reply = hedge(g, q, 2000, limits);
    for (let i = 0; i < 3; i++) {
      await flush();
      requests[i].fail();
    }
    expect(await reply).toBeUndefined();
    expect(asked(requests)).toEqual(['a', 'b', 'c']);
  });

  test('silent servers: each is asked one hedge delay after the last, and no more after the last', async () => {
    const { g, requests, hedges } = group();
    void hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(30 + TURN);
    expect(asked(requests)).toEqual(['a', 'b']);
    await jest.advanceTimersByTimeAsync(30 + TURN);
    expect(asked(requests)).toEqual(['a', 'b', 'c']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(asked(requests)).toEqual(['a', 'b', 'c']);
    expect(hedges()).toBe(2);
  });

  test('a server that never answered gets the maximum delay', async () => {
    const { g, servers, requests } = group();
    servers[0] = { address: 'new', health: new ServerHealth(cfg) } as unknown as Server;
    void hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(249);
    expect(asked(requests)).toEqual(['new']);
    await jest.advanceTimersByTimeAsync(1 + TURN);
    expect(asked(requests)).toEqual(['new', 'b']);
  });

  test('a reply read in the same turn as the delay runs out wins without a hedge (the agent was paused)', async () => {
    const { g, requests, hedges } = group();
    const reply = hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(30); // the delay has run out
    requests[0].answer('from a');
    await jest.advanceTimersByTimeAsync(TURN);
    expect((await reply)?.msg.toString()).toBe('from a');
    expect(asked(requests)).toEqual(['a']);
    expect(hedges()).toBe(0);
  });

  test('over the hedge budget the query keeps waiting on the first server, and moves on only when it fails', async () => {
    const { g, servers, requests, hedges } = group(10, { budget: 0 });
    const reply = hedge(g, q, 2000, limits);
    await jest.advanceTimersByTimeAsync(100);
    expect(asked(requests)).toEqual(['a']);
    expect(hedges()).toBe(0);
    expect(servers[0].health.late).toBe(true); // still late: the next queries start elsewhere
    requests[0].fail();
    await flush();
    expect(asked(requests)).toEqual(['a', 'b']);
    requests[1].answer('from b');
    expect((await reply)?.msg.toString()).toBe('from b');
  });
});
