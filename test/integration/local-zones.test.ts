// The zones the agent answers itself, as dig shows them.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../../sim/ports.js';

let agent: AgentProcess;
let port: number;
const HOST = '127.0.0.1';

beforeAll(async () => {
  port = await freePort(HOST);
  agent = await AgentProcess.start({
    listen: [`${HOST}:${port}`],
    // Nothing listens here; local answers must not depend on any server.
    upstreams: ['127.0.0.29:53'],
    zk: { servers: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
    log: { level: 'warn' },
    http: { enabled: false },
  });
});
afterAll(async () => {
  await agent.stop();
});

describe('local zones', () => {
  test('ready.spartan answers 127.0.0.1, authoritative, TTL 5', async () => {
    const r = await dig(HOST, port, 'ready.spartan');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(expect.arrayContaining(['qr', 'aa', 'rd', 'ra']));
    expect(r.answers).toEqual([{ name: 'ready.spartan.', ttl: 5, class: 'IN', type: 'A', data: '127.0.0.1' }]);
    expect(r.warnings).toEqual([]);
  });

  test('the same answer over TCP', async () => {
    const r = await dig(HOST, port, 'ready.spartan', 'A', ['+tcp']);
    expect(r.answers.map((a) => a.data)).toEqual(['127.0.0.1']);
  });

  test('zk-1 … zk-5 wrap around a three-node ensemble', async () => {
    const ips = [];
    for (let i = 1; i <= 5; i++) {
      const r = await dig(HOST, port, `zk-${i}.zk`);
      expect(r.flags).toContain('aa');
      ips.push(r.answers[0].data);
    }
    expect(ips).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2']);
  });

  test('a missing name is NXDOMAIN with the zone SOA', async () => {
    const r = await dig(HOST, port, 'zk-6.zk');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.flags).toContain('aa');
    expect(r.answers).toEqual([]);
    expect(r.authority).toEqual([
      { name: 'zk.', ttl: 5, class: 'IN', type: 'SOA', data: 'ns.spartan. support.mesosphere.com. 1 60 180 86400 1' },
    ]);
  });

  test('a name without the asked type is NODATA (NOERROR, empty answer, SOA)', async () => {
    const r = await dig(HOST, port, 'ready.spartan', 'AAAA');
    expect(r.status).toBe('NOERROR');
    expect(r.answers).toEqual([]);
    expect(r.authority.map((a) => a.type)).toEqual(['SOA']);
  });

  test('zone apex SOA and NS', async () => {
    const soa = await dig(HOST, port, 'spartan', 'SOA');
    expect(soa.answers[0].data).toBe('ns.spartan. support.mesosphere.com. 1 60 180 86400 1');
    const ns = await dig(HOST, port, 'spartan', 'NS');
    expect(ns.answers).toEqual([{ name: 'spartan.', ttl: 3600, class: 'IN', type: 'NS', data: 'ns.spartan.' }]);
    const nsA = await dig(HOST, port, 'ns.spartan');
    expect(nsA.answers[0].data).toBe('198.51.100.1');
  });

  test('localhost answers loopback for A and AAAA', async () => {
    expect((await dig(HOST, port, 'localhost')).answers[0].data).toBe('127.0.0.1');
    expect((await dig(HOST, port, 'localhost', 'AAAA')).answers[0].data).toBe('::1');
  });

  test('several records rotate between queries (round robin)', async () => {
    // The localhost apex holds A, AAAA, SOA and NS: every ANY answer has all four, each
    // record taking its turn at the front.
    const first = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await dig(HOST, port, 'localhost', 'ANY');
      expect(r.answers.map((a) => a.type).sort()).toEqual(['A', 'AAAA', 'NS', 'SOA']);
      first.add(r.answers[0].type);
    }
    expect([...first].sort()).toEqual(['A', 'AAAA', 'NS', 'SOA']);
  });

  test('mixed-case questions are answered and echoed as asked', async () => {
    const r = await dig(HOST, port, 'ReAdY.SpArTaN');
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0].data).toBe('127.0.0.1');
    expect(r.raw).toContain(';ReAdY.SpArTaN.');
  });

  test('without EDNS the reply carries no OPT; with EDNS it offers 1232', async () => {
    const plain = await dig(HOST, port, 'ready.spartan', 'A', ['+noedns']);
    expect(plain.raw).not.toContain('OPT PSEUDOSECTION');
    const edns = await dig(HOST, port, 'ready.spartan', 'A', ['+edns=0']);
    expect(edns.raw).toContain('udp: 1232');
  });

  test('an EDNS version other than 0 gets BADVERS', async () => {
    const r = await dig(HOST, port, 'ready.spartan', 'A', ['+edns=1', '+noednsnegotiation']);
    expect(r.status).toBe('BADVERS');
  });

  test('zone transfers are refused', async () => {
    const r = await dig(HOST, port, 'spartan', 'AXFR', ['+tcp']).catch((e) => e);
    expect(String(r.raw ?? r.message)).toMatch(/REFUSED|Transfer failed/);
  });
});

describe('IPv6 listen address', () => {
  test('"[::1]:port" serves over UDP and TCP', async () => {
    const v6port = await freePort('127.0.0.1');
    const v6 = await AgentProcess.start({ listen: [`[::1]:${v6port}`], http: { enabled: false }, log: { level: 'warn' } });
    try {
      expect((await dig('::1', v6port, 'ready.spartan')).answers[0].data).toBe('127.0.0.1');
      expect((await dig('::1', v6port, 'localhost', 'AAAA', ['+tcp'])).answers[0].data).toBe('::1');
    } finally {
      await v6.stop();
    }
  });
});
