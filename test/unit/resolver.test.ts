// The resolver and its answer layer on the simulated clock, with masters that answer, hang or
// refuse as the test says: what a client gets (rcode, records, the Extended DNS Error), when in
// simulated time, and where explain would say it came from. No sockets and no waiting: minutes
// of timers run in milliseconds, so the client-response timer and timeouts are exact here.
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { parseConfig } from '../../common/config/schema.js';
import { RD, Type, buildQuery, encodeQuestion, scanMessage } from '../../common/dns/wire.js';
import { createMetrics } from '../../agent/metrics.js';
import { Resolver } from '../../agent/resolver.js';
import type { SendRequest } from '../../agent/servers/server-group.js';
import { StateBuilder } from '../../agent/state-builder.js';
import { ExchangeError, type Reply } from '../../agent/transport/exchange.js';
import { decodedRcode } from '../helpers/dns-reply.js';
import { SimClock } from '../simulate/sim-clock.js';

const MASTERS = ['10.0.0.1', '10.0.0.2'].map((host) => ({ host, port: 53, family: 4 as const }));
const NGINX = ['10.0.1.5', '10.0.1.6'];

type Behaviour = 'answers' | 'hangs' | 'refuses';

/** A resolver over two simulated masters that serve nginx.marathon.mesos, with `extra` config. */
function node(extra: Record<string, unknown> = {}) {
  const clock = new SimClock(1_000_000);
  const metrics = createMetrics();
  const log = pino({ level: 'silent' });
  let behaviour: Behaviour = 'answers';
  const asked: string[] = [];
  const send: SendRequest = (server, q, deadline) =>
    new Promise<Reply>((resolve, reject) => {
      const question = dnsPacket.decode(buildQuery(0, q)).questions![0];
      asked.push(`${server.address} ${question.name}`);
      if (behaviour === 'hangs')
        return void clock.setTimeout(() => reject(new ExchangeError('timeout', 'udp', 'no reply')), deadline - clock.now());
      if (behaviour === 'refuses')
        return void clock.setTimeout(() => reject(new ExchangeError('refused', 'udp', 'recvmsg ECONNREFUSED')), 0.2);
      const known = question.name === 'nginx.marathon.mesos' && question.type === 'A';
      const msg = dnsPacket.encode({
        type: 'response',
        id: 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | RD,
        rcode: known ? 'NOERROR' : 'NXDOMAIN',
        questions: [question],
        answers: known ? NGINX.map((data) => ({ name: question.name, type: 'A' as const, ttl: 60, data })) : [],
      } as dnsPacket.Packet);
      clock.setTimeout(() => resolve({ msg, scan: scanMessage(msg), transport: 'udp' }), 1);
    });
  // No answer cache unless a test turns it on: the stale store's answers are what most tests look at.
  const config = parseConfig({ mesos: { masters: MASTERS.map((m) => `${m.host}:53`) }, cache: { enabled: false }, ...extra });
  const builder = new StateBuilder({ log, metrics, send, clock });
  const resolver = new Resolver(builder.build(config, config.mesos.masters, []), metrics, log, clock);

  /** Asks `name`; resolves with what the client got and the simulated ms it took. */
  async function ask(name: string, type: number = Type.A) {
    const started = clock.now();
    const query = buildQuery(7, { wire: encodeQuestion(name, type), flags: RD, dnssecOk: false });
    const pending = resolver.resolveWithSource(query, 'udp');
    let settled = false;
    void pending.then(() => (settled = true));
    // Time moves only while nothing is settled: each step fires the timers due in it, and a turn
    // of the event loop lets every continuation run before the next.
    const turn = () => new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10_000; i++) {
      await turn();
      if (settled) break;
      await clock.runUntil(clock.now() + 1);
    }
    const { reply, source } = await pending;
    const p = dnsPacket.decode(reply!) as dnsPacket.DecodedPacket & { rcode: string };
    const opt = (p.additionals ?? []).find((a) => a.type === 'OPT') as { options?: Array<{ code: number; data: Buffer }> } | undefined;
    const ede = opt?.options?.find((o) => o.code === 15);
    return {
      rcode: p.rcode,
      id: p.id,
      records: (p.answers ?? []).map((a) => (a as { data: string }).data).sort(),
      ede: ede ? `${ede.data.readUInt16BE(0)} ${ede.data.subarray(2).toString()}` : undefined,
      source,
      ms: clock.now() - started,
    };
  }
  return { clock, metrics, resolver, asked, ask, setBehaviour: (b: Behaviour) => (behaviour = b) };
}

describe('a forwarded name', () => {
  test('asked once goes to one master (hedged), is cached, and is answered from the cache at once after', async () => {
    const n = node({ cache: { enabled: true } });
    const first = await n.ask('nginx.marathon.mesos');
    expect(first).toMatchObject({ rcode: 'NOERROR', id: 7, records: NGINX, source: 'servers', ede: undefined });
    expect(n.asked).toHaveLength(1);
    const again = await n.ask('nginx.marathon.mesos');
    expect(again).toMatchObject({ rcode: 'NOERROR', records: NGINX, source: 'answer cache', ms: 0 });
    expect(n.asked).toHaveLength(1);
  });

  test('identical questions in flight share one request to the masters', async () => {
    const n = node();
    const query = buildQuery(1, { wire: encodeQuestion('nginx.marathon.mesos', Type.A), flags: RD, dnssecOk: false });
    const replies = [1, 2, 3].map(() => n.resolver.resolve(query, 'udp'));
    expect(replies.every((r) => r instanceof Promise)).toBe(true);
    await n.clock.runUntil(n.clock.now() + 10);
    const answered = await Promise.all(replies as Array<Promise<Buffer>>);
    expect(answered.map(decodedRcode)).toEqual(['NOERROR', 'NOERROR', 'NOERROR']);
    expect(n.asked).toHaveLength(1);
  });

  test('masters silent, answer kept: the stale answer at the client-response timer (400 ms), saying no answer yet', async () => {
    const n = node({ serveStale: { enabled: true } });
    await n.ask('nginx.marathon.mesos');
    n.setBehaviour('hangs');
    const stale = await n.ask('nginx.marathon.mesos');
    expect(stale).toMatchObject({ rcode: 'NOERROR', records: NGINX, source: 'stale store' });
    expect(stale.ede).toMatch(/^3 no answer yet from mesos 10\.0\.0\.1:53, 10\.0\.0\.2:53; within its TTL$/);
    expect(stale.ms).toBe(400);
  });

  test('masters silent, nothing kept: SERVFAIL with No Reachable Authority at the timeout (2,000 ms)', async () => {
    const n = node();
    n.setBehaviour('hangs');
    const r = await n.ask('never-asked.marathon.mesos');
    expect(r).toMatchObject({ rcode: 'SERVFAIL', source: 'agent' });
    expect(r.ede).toMatch(/^22 no usable answer from mesos /);
    expect(r.ms).toBe(2000);
  });

  test('masters refusing: the stale answer and SERVFAIL at once, without waiting for a timer', async () => {
    const n = node({ serveStale: { enabled: true } });
    await n.ask('nginx.marathon.mesos');
    n.setBehaviour('refuses');
    const stale = await n.ask('nginx.marathon.mesos');
    expect(stale).toMatchObject({ rcode: 'NOERROR', records: NGINX, source: 'stale store' });
    expect(stale.ede).toMatch(/^3 no usable answer from mesos /);
    expect(stale.ms).toBeLessThanOrEqual(1);
    const fresh = await n.ask('never-asked.marathon.mesos');
    expect(fresh).toMatchObject({ rcode: 'SERVFAIL', source: 'agent' });
    expect(fresh.ede).toMatch(/^22 no usable answer from mesos /);
    expect(fresh.ms).toBeLessThanOrEqual(1);
  });

  test('past maxInflight: the stale answer or SERVFAIL at once, saying overloaded', async () => {
    const n = node({ serveStale: { enabled: true }, maxInflight: 1 });
    await n.ask('nginx.marathon.mesos');
    n.setBehaviour('hangs');
    const waiting = n.resolver.resolve(
      buildQuery(2, { wire: encodeQuestion('other.marathon.mesos', Type.A), flags: RD, dnssecOk: false }),
      'udp',
    );
    expect(waiting).toBeInstanceOf(Promise);
    const stale = await n.ask('nginx.marathon.mesos');
    expect(stale).toMatchObject({ rcode: 'NOERROR', source: 'stale store', ms: 0 });
    expect(stale.ede).toMatch(/^3 overloaded, not asked: mesos /);
    const none = await n.ask('third.marathon.mesos');
    expect(none).toMatchObject({ rcode: 'SERVFAIL', source: 'agent', ms: 0, ede: '0 overloaded: 1 queries waiting for servers' });
    await n.clock.runUntil(n.clock.now() + 3000);
    await waiting;
  });

  test('no master known: SERVFAIL with Not Ready, at once', async () => {
    const n = node({ mesos: { masters: [] } });
    expect(await n.ask('nginx.marathon.mesos')).toMatchObject({
      rcode: 'SERVFAIL',
      ms: 0,
      ede: '14 no Mesos master known yet (see /v1/enumerate discovery)',
    });
    expect(n.asked).toEqual([]);
  });
});

describe('answered by the agent itself', () => {
  test('ready.spartan and a zone transfer: no master asked, no promise', async () => {
    const n = node();
    const ready = n.resolver.resolve(buildQuery(3, { wire: encodeQuestion('ready.spartan', Type.A), flags: RD, dnssecOk: false }), 'udp');
    expect(Buffer.isBuffer(ready)).toBe(true);
    expect(dnsPacket.decode(ready as Buffer).answers?.map((a) => (a as { data: string }).data)).toEqual(['127.0.0.1']);
    expect(await n.ask('ready.spartan')).toMatchObject({ rcode: 'NOERROR', source: 'local zone', ms: 0 });
    const axfr = n.resolver.resolve(buildQuery(4, { wire: encodeQuestion('mesos', Type.AXFR), flags: 0, dnssecOk: false }), 'tcp');
    expect(decodedRcode(axfr as Buffer)).toBe('REFUSED');
    expect(n.asked).toEqual([]);
  });
});
