// Self-test of the test helpers: the fake server must be a correct DNS server
// as seen by the real dig, or every integration test built on it is suspect.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { FakeDnsServer } from '../../sim/fake-dns.js';
import { dig, digMany, DigError } from '../helpers/dig.js';
import { freePort } from '../../sim/ports.js';
import { sleep, waitFor } from '../helpers/time.js';

const records: Answer[] = [
  { name: 'leader.mesos', type: 'A', data: '10.0.0.1' },
  { name: 'web.marathon.mesos', type: 'A', data: '10.0.0.2' },
  { name: '_web._tcp.marathon.mesos', type: 'SRV', data: { target: 'web.marathon.mesos', port: 31000, priority: 0, weight: 0 } },
  ...Array.from({ length: 40 }, (_, i): Answer => ({ name: 'big.mesos', type: 'A', data: `10.1.0.${i}` })),
];

let server: FakeDnsServer;

beforeEach(async () => {
  server = await FakeDnsServer.start({ zone: 'mesos', records });
});

afterEach(async () => {
  await server.stop();
});

const q = (name: string, type = 'A', extra: string[] = [], timeoutSec = 2) =>
  dig(server.address, server.port, name, type, extra, { timeoutSec });

test('A answer is authoritative, without RA, question case preserved', async () => {
  const r = await q('Leader.MESOS');
  expect(r.status).toBe('NOERROR');
  expect(r.flags).toEqual(expect.arrayContaining(['qr', 'aa', 'rd']));
  expect(r.flags).not.toContain('ra');
  expect(r.answers).toEqual([{ name: 'leader.mesos.', ttl: 60, class: 'IN', type: 'A', data: '10.0.0.1' }]);
  expect(r.raw).toContain(';Leader.MESOS.');
});

test('SRV answer carries the target A record as additional', async () => {
  const r = await q('_web._tcp.marathon.mesos', 'SRV');
  expect(r.answers.map((a) => a.data)).toEqual(['0 0 31000 web.marathon.mesos.']);
  expect(r.additional).toEqual([expect.objectContaining({ name: 'web.marathon.mesos.', type: 'A', data: '10.0.0.2' })]);
});

test('NXDOMAIN and NODATA carry the zone SOA', async () => {
  const nx = await q('nope.mesos');
  expect(nx.status).toBe('NXDOMAIN');
  expect(nx.flags).toContain('aa');
  expect(nx.authority).toEqual([
    { name: 'mesos.', ttl: 60, class: 'IN', type: 'SOA', data: 'ns1.mesos. root.ns1.mesos. 1 60 600 86400 60' },
  ]);

  const nodata = await q('leader.mesos', 'AAAA');
  expect(nodata.status).toBe('NOERROR');
  expect(nodata.answers).toEqual([]);
  expect(nodata.authority.map((a) => a.type)).toEqual(['SOA']);

  const soa = await q('mesos', 'SOA');
  expect(soa.answers.map((a) => a.type)).toEqual(['SOA']);
});

test('names outside the zone are REFUSED', async () => {
  const r = await q('example.org');
  expect(r.status).toBe('REFUSED');
  expect(r.answers).toEqual([]);
});

test('large answer: truncated with TC over UDP, complete over TCP', async () => {
  const udp = await q('big.mesos', 'A', ['+ignore']);
  expect(udp.truncated).toBe(true);
  expect(udp.answers.length).toBeGreaterThan(0);
  expect(udp.answers.length).toBeLessThan(40);
  expect(udp.msgSize).toBeLessThanOrEqual(512);

  const tcp = await q('big.mesos', 'A', ['+tcp']);
  expect(tcp.truncated).toBe(false);
  expect(tcp.answers).toHaveLength(40);
  expect(new Set(tcp.answers.map((a) => a.data)).size).toBe(40);
});

test("udpLimit 'edns' honours the client's buffer size", async () => {
  const edns = await FakeDnsServer.start({ zone: 'mesos', records, udpLimit: 'edns' });
  try {
    const big = await dig(edns.address, edns.port, 'big.mesos', 'A', ['+ignore', '+bufsize=4096'], { timeoutSec: 2 });
    expect(big.truncated).toBe(false);
    expect(big.answers).toHaveLength(40);
    const small = await dig(edns.address, edns.port, 'big.mesos', 'A', ['+ignore', '+noedns'], { timeoutSec: 2 });
    expect(small.truncated).toBe(true);
  } finally {
    await edns.stop();
  }
});

test("'rcode' behaviour answers SERVFAIL with the question echoed", async () => {
  server.setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
  const r = await q('leader.mesos');
  expect(r.status).toBe('SERVFAIL');
  expect(r.answers).toEqual([]);
  expect(r.raw).toContain(';leader.mesos.');
});

test("'silent' behaviour makes dig time out", async () => {
  server.setBehaviour({ kind: 'silent' });
  await expect(q('leader.mesos', 'A', [], 1)).rejects.toMatchObject({ timedOut: true });
  await expect(q('leader.mesos', 'A', [], 1)).rejects.toThrow(/timed out/);
  expect(server.queryCount('udp')).toBe(2);
});

test("'wrong-id' and 'other-port' replies are rejected by dig", async () => {
  server.setBehaviour({ kind: 'wrong-id' });
  const err = await q('leader.mesos', 'A', [], 1).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DigError);
  expect((err as DigError).warnings.join('\n')).toMatch(/ID mismatch/);

  server.setBehaviour({ kind: 'other-port' });
  await expect(q('leader.mesos', 'A', [], 1)).rejects.toMatchObject({ timedOut: true });
  // TCP has no source port to get wrong, so it answers normally.
  expect((await q('leader.mesos', 'A', ['+tcp'])).status).toBe('NOERROR');
});

test("'forge-first' races every UDP reply with three forgeries, then sends the real one", async () => {
  server.setBehaviour({ kind: 'forge-first', forgedAddress: '203.0.113.66' });
  const sock = dgram.createSocket('udp4');
  const got: Array<{ port: number; msg: dnsPacket.DecodedPacket }> = [];
  sock.on('message', (msg, rinfo) => got.push({ port: rinfo.port, msg: dnsPacket.decode(msg) }));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  sock.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'leader.mesos', type: 'A' }] }), server.port, server.address);
  // A window, not an event: exactly these four come, and nothing after them.
  await sleep(300);
  sock.close();
  const summary = got.map(({ port, msg }) => [
    port === server.port ? 'port' : 'other port',
    msg.id,
    msg.questions?.[0].name,
    (msg.answers?.[0] as { data?: string }).data,
  ]);
  expect(summary).toEqual(
    expect.arrayContaining([
      ['port', 8, 'leader.mesos', '203.0.113.66'],
      ['port', 7, 'forged.leader.mesos', '203.0.113.66'],
      ['other port', 7, 'leader.mesos', '203.0.113.66'],
      ['port', 7, 'leader.mesos', '10.0.0.1'],
    ]),
  );
  expect(summary).toHaveLength(4);
  // The real reply comes last from the server's port.
  expect(summary.filter(([p]) => p === 'port').at(-1)).toEqual(['port', 7, 'leader.mesos', '10.0.0.1']);
  expect(server.forgeriesSent).toBe(3);
  // dig, like the agent, skips the forgeries and takes the real reply.
  expect((await q('leader.mesos')).answers[0].data).toBe('10.0.0.1');
});

test("'slow' behaviour answers after the delay", async () => {
  server.setBehaviour({ kind: 'slow', delayMs: 300 });
  const r = await q('leader.mesos');
  expect(r.status).toBe('NOERROR');
  expect(r.elapsedMs).toBeGreaterThanOrEqual(300);
});

test('three queries on one TCP connection via dig +keepopen', async () => {
  const rs = await digMany(
    server.address,
    server.port,
    [{ name: 'leader.mesos' }, { name: 'nope.mesos' }, { name: '_web._tcp.marathon.mesos', type: 'SRV' }],
    ['+tcp', '+keepopen'],
    { timeoutSec: 2 },
  );
  expect(rs.map((r) => r.status)).toEqual(['NOERROR', 'NXDOMAIN', 'NOERROR']);
  expect(rs[2].answers[0].type).toBe('SRV');
  expect(server.queries.map((x) => [x.transport, x.name, x.type])).toEqual([
    ['tcp', 'leader.mesos', 'A'],
    ['tcp', 'nope.mesos', 'A'],
    ['tcp', '_web._tcp.marathon.mesos', 'SRV'],
  ]);
});

test('TCP: pipelined queries split across arbitrary reads are all answered', async () => {
  // dig waits for each reply, so true pipelining needs a raw socket.
  const wire = Buffer.concat(
    [1, 2, 3].map((id) =>
      dnsPacket.streamEncode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'leader.mesos' }] }),
    ),
  );
  const sock = net.connect(server.port, server.address);
  let received = Buffer.alloc(0);
  const ids: number[] = [];
  await new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const len = received.readUInt16BE(0);
        ids.push(dnsPacket.decode(received.subarray(2, 2 + len)).id ?? -1);
        received = received.subarray(2 + len);
      }
      if (ids.length === 3) resolve();
    });
    // Cut inside the first length prefix and inside the second message.
    sock.write(wire.subarray(0, 1));
    setTimeout(() => sock.write(wire.subarray(1, 40)), 20);
    setTimeout(() => sock.write(wire.subarray(40)), 40);
  });
  sock.destroy();
  expect(ids.sort()).toEqual([1, 2, 3]);
});

test('queries are recorded with transport, id, name, type and EDNS size', async () => {
  const r = await q('leader.mesos', 'A', ['+bufsize=1400']);
  await q('web.marathon.mesos', 'A', ['+noedns', '+tcp']);
  expect(server.queries).toEqual([
    { transport: 'udp', id: r.id, name: 'leader.mesos', type: 'A', ednsSize: 1400, at: expect.any(Number) },
    { transport: 'tcp', id: expect.any(Number), name: 'web.marathon.mesos', type: 'A', at: expect.any(Number) },
  ]);
  expect(server.queryCount('udp')).toBe(1);
  expect(server.queryCount()).toBe(2);
  server.resetQueries();
  expect(server.queryCount()).toBe(0);
});

test('stop() is idempotent, and a pending slow reply does not outlive it', async () => {
  server.setBehaviour({ kind: 'slow', delayMs: 10_000 });
  const pending = q('leader.mesos', 'A', [], 1).catch((e: unknown) => e);
  await waitFor(() => server.queryCount() === 1, { timeoutMs: 2000 }); // the reply is pending
  await Promise.all([server.stop(), server.stop()]);
  expect(await pending).toBeInstanceOf(DigError);
});

test('freePort gives a port both UDP and TCP can bind, and a fixed port can be used', async () => {
  const port = await freePort('127.0.0.2');
  const fixed = await FakeDnsServer.start({ address: '127.0.0.2', port, zone: 'example.org', records: [] });
  try {
    expect(fixed.endpoint).toBe(`127.0.0.2:${port}`);
    expect((await dig('127.0.0.2', port, 'example.org', 'NS', ['+tcp'], { timeoutSec: 2 })).answers[0].data).toBe('ns1.example.org.');
  } finally {
    await fixed.stop();
  }
});
