// The ready check shared by the watchdog, genresolv and /healthz, against in-process fake
// servers: it must pass only a real "ready.spartan A 127.0.0.1" answer to its own question, and
// say in words why anything else does not count.
import { afterEach, describe, expect, test } from '@jest/globals';
import type { Answer } from 'dns-packet';
import { parseEndpoint } from '../../common/config/endpoint.js';
import { checkAnyReady, checkReady, checkReadyAll } from '../../common/ready-check.js';
import { type Behaviour, FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';

const READY: Answer[] = [{ name: 'ready.spartan', type: 'A', data: '127.0.0.1' }];
const servers: FakeDnsServer[] = [];

async function fake(opts: { records?: Answer[]; behaviour?: Behaviour; address?: string } = {}): Promise<FakeDnsServer> {
  const s = await FakeDnsServer.start({
    zone: 'spartan',
    records: opts.records ?? READY,
    behaviour: opts.behaviour,
    address: opts.address,
  });
  servers.push(s);
  return s;
}

const endpointOf = (s: FakeDnsServer) => parseEndpoint(s.endpoint)!;

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('checkReady', () => {
  test('passes on ready.spartan A 127.0.0.1, with the round-trip time', async () => {
    const s = await fake();
    const r = await checkReady(endpointOf(s), 2000);
    expect(r).toMatchObject({ ok: true, endpoint: endpointOf(s) });
    expect(r.reason).toBeUndefined();
    expect(r.rttMs).toBeGreaterThanOrEqual(0);
    expect(s.queries).toMatchObject([{ name: 'ready.spartan', type: 'A', transport: 'udp' }]);
  });

  test('a fresh random ID per check', async () => {
    const s = await fake();
    for (let i = 0; i < 8; i++) await checkReady(endpointOf(s), 2000);
    expect(new Set(s.queries.map((q) => q.id)).size).toBeGreaterThan(1);
  });

  test('a server that never answers (a hung agent) fails after the timeout', async () => {
    const s = await fake({ behaviour: { kind: 'silent' } });
    const r = await checkReady(endpointOf(s), 300);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('no answer within 300 ms');
  });

  test('nothing listening (a dead agent) is refused at once, not after the timeout', async () => {
    const port = await freePort('127.0.0.1');
    const started = Date.now();
    const r = await checkReady(parseEndpoint(`127.0.0.1:${port}`)!, 3000);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('refused: nothing listens there (the agent is not running)');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('a reply with the wrong ID is ignored, and the reason says so', async () => {
    const s = await fake({ behaviour: { kind: 'wrong-id' } });
    const r = await checkReady(endpointOf(s), 500);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('no answer within 500 ms (ignored replies: 1 with the wrong id)');
  });

  test('a reply to another question is ignored', async () => {
    const s = await fake({ behaviour: { kind: 'wrong-question' } });
    const r = await checkReady(endpointOf(s), 500);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('no answer within 500 ms (ignored replies: 1 with the wrong question)');
  });

  test('a reply from another port never reaches the check (its socket is connected to the address asked)', async () => {
    const s = await fake({ behaviour: { kind: 'other-port' } });
    const r = await checkReady(endpointOf(s), 500);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('no answer within 500 ms');
    expect(s.queries).toHaveLength(1);
  });

  test('garbage does not pass', async () => {
    const s = await fake({ behaviour: { kind: 'garbage' } });
    const r = await checkReady(endpointOf(s), 300);
    expect(r.ok).toBe(false);
  });

  test('SERVFAIL does not pass', async () => {
    const s = await fake({ behaviour: { kind: 'rcode', rcode: 'SERVFAIL' } });
    const r = await checkReady(endpointOf(s), 2000);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('answered SERVFAIL instead of the A record');
  });

  test('NXDOMAIN (some other server holding a spartan zone) does not pass', async () => {
    const s = await fake({ records: [{ name: 'ns.spartan', type: 'A', data: '198.51.100.1' }] });
    const r = await checkReady(endpointOf(s), 2000);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('answered NXDOMAIN instead of the A record');
  });

  test('an A record other than 127.0.0.1 does not pass', async () => {
    const s = await fake({ records: [{ name: 'ready.spartan', type: 'A', data: '10.0.0.1' }] });
    const r = await checkReady(endpointOf(s), 2000);
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('answered without ready.spartan A 127.0.0.1 (got 10.0.0.1)');
  });

  test('a wildcard listen address is checked on loopback', async () => {
    const s = await fake({ address: '127.0.0.1' });
    const r = await checkReady(parseEndpoint(`0.0.0.0:${s.port}`)!, 2000);
    expect(r.ok).toBe(true);
    expect(r.endpoint.host).toBe('0.0.0.0'); // reported as configured
  });
});

describe('checkReadyAll', () => {
  test('asks every address at once and reports each, in order', async () => {
    const silent = [await fake({ behaviour: { kind: 'silent' } }), await fake({ behaviour: { kind: 'silent' } })];
    const good = await fake();
    const started = Date.now();
    const results = await checkReadyAll([...silent, good].map(endpointOf), 500);
    // Sequential checks would take 2 × 500 ms before the good one was even asked.
    expect(Date.now() - started).toBeLessThan(950);
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
    expect(results.map((r) => r.endpoint.port)).toEqual([silent[0].port, silent[1].port, good.port]);
  });

  test('an empty list gives no results', async () => {
    await expect(checkReadyAll([], 100)).resolves.toEqual([]);
  });
});

describe('checkAnyReady (p-any)', () => {
  test('the first address that answers ends it: a hung one is not waited for', async () => {
    const hung = await fake({ behaviour: { kind: 'silent' } });
    const good = await fake();
    const started = Date.now();
    const r = await checkAnyReady([hung, good].map(endpointOf), 3000);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.ok).toBe(true);
    expect(r.ok && r.answered.endpoint.port).toBe(good.port);
  });

  test('no address answers: every failure with its reason, in input order, after one timeout', async () => {
    const hung = await fake({ behaviour: { kind: 'silent' } });
    const wrong = await fake({ records: [{ name: 'ready.spartan', type: 'A', data: '10.9.9.9' }] });
    const r = await checkAnyReady([hung, wrong].map(endpointOf), 400);
    expect(r).toEqual({
      ok: false,
      failures: [
        expect.objectContaining({ ok: false, reason: 'no answer within 400 ms' }),
        expect.objectContaining({ ok: false, reason: expect.stringContaining('got 10.9.9.9') }),
      ],
    });
    expect(!r.ok && r.failures.map((f) => f.endpoint.port)).toEqual([hung.port, wrong.port]);
  });

  test('an empty list never passes', async () => {
    await expect(checkAnyReady([], 100)).resolves.toEqual({ ok: false, failures: [] });
  });
});
