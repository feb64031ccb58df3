// The zones the agent answers itself (spartan, zk, localhost), with the values dcos-dns users rely
// on, the zk wrap-around rule, NXDOMAIN/NODATA and round-robin rotation.
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { LOCAL_TTL, type Zone, answerFromZone, localhostZone, spartanZone, zkZone } from '../../agent/zones/local-zones.js';
import { ZK_NAMES, zkHostsByName } from '../../agent/zones/zk-ensemble.js';

const TYPE: Record<string, number> = { A: 1, NS: 2, SOA: 6, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 };

function ask(z: Zone, name: string, type: string, rotation = 0) {
  return answerFromZone(z, name, TYPE[type], type, rotation);
}

const data = (rs: Answer[]) => rs.map((r) => (r as { data: unknown }).data);

const EXPECTED_SOA = {
  mname: 'ns.spartan',
  rname: 'support.mesosphere.com',
  serial: 1,
  refresh: 60,
  retry: 180,
  expire: 86400,
  minimum: 1,
};

/** Encodes records the way the resolver will and reads them back as a client would. */
function roundTrip(answers: Answer[], authorities: Answer[] = []) {
  const buf = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'q', type: 'A' }], answers, authorities });
  return dnsPacket.decode(buf);
}

describe('spartan zone', () => {
  const z = spartanZone();

  test('ready.spartan is A 127.0.0.1 with TTL 5', () => {
    const a = ask(z, 'ready.spartan', 'A');
    expect(a.rcode).toBe('NOERROR');
    expect(a.authorities).toEqual([]);
    expect(a.answers).toHaveLength(1);
    expect(a.answers[0]).toMatchObject({ name: 'ready.spartan', type: 'A', class: 'IN', ttl: 5, data: '127.0.0.1' });
    expect(LOCAL_TTL).toBe(5);
  });

  test('ns.spartan is A 198.51.100.1 with TTL 5', () => {
    expect(ask(z, 'ns.spartan', 'A').answers).toEqual([
      expect.objectContaining({ name: 'ns.spartan', type: 'A', ttl: 5, data: '198.51.100.1' }),
    ]);
  });

  test('SOA at the apex: ns.spartan. support.mesosphere.com. 1 60 180 86400 1, TTL 5', () => {
    const a = ask(z, 'spartan', 'SOA');
    expect(a.rcode).toBe('NOERROR');
    expect(a.answers).toHaveLength(1);
    expect(a.answers[0]).toMatchObject({ name: 'spartan', type: 'SOA', class: 'IN', ttl: 5, data: EXPECTED_SOA });
    // On the wire, as dig would show it.
    const d = roundTrip(a.answers);
    expect(d.answers?.[0]).toMatchObject({ name: 'spartan', type: 'SOA', ttl: 5, data: EXPECTED_SOA });
  });

  test('NS at the apex: ns.spartan, TTL 3600', () => {
    const a = ask(z, 'spartan', 'NS');
    expect(a.answers).toEqual([expect.objectContaining({ name: 'spartan', type: 'NS', class: 'IN', ttl: 3600, data: 'ns.spartan' })]);
    expect(roundTrip(a.answers).answers?.[0]).toMatchObject({ type: 'NS', ttl: 3600, data: 'ns.spartan' });
  });

  test('a missing name is NXDOMAIN with the SOA in authority', () => {
    const a = ask(z, 'nope.spartan', 'A');
    expect(a.rcode).toBe('NXDOMAIN');
    expect(a.answers).toEqual([]);
    expect(a.authorities).toHaveLength(1);
    expect(a.authorities[0]).toMatchObject({ name: 'spartan', type: 'SOA', ttl: 5, data: EXPECTED_SOA });
  });

  test('a name below an existing one that does not exist is NXDOMAIN', () => {
    expect(ask(z, 'x.ready.spartan', 'A').rcode).toBe('NXDOMAIN');
  });

  test('NODATA: an existing name asked for another type is NOERROR, empty answer, SOA in authority', () => {
    for (const type of ['AAAA', 'TXT', 'SRV']) {
      const a = ask(z, 'ready.spartan', type);
      expect(a.rcode).toBe('NOERROR');
      expect(a.answers).toEqual([]);
      expect(a.authorities).toEqual([expect.objectContaining({ name: 'spartan', type: 'SOA', ttl: 5 })]);
    }
  });

  test('NODATA at the apex for A', () => {
    const a = ask(z, 'spartan', 'A');
    expect(a.rcode).toBe('NOERROR');
    expect(a.answers).toEqual([]);
    expect(a.authorities.map((r) => r.type)).toEqual(['SOA']);
  });

  test('ANY at ready.spartan gives its one A record', () => {
    expect(data(ask(z, 'ready.spartan', 'ANY').answers)).toEqual(['127.0.0.1']);
  });
});

describe('every local zone has SOA and NS', () => {
  test.each([
    ['spartan', spartanZone()],
    ['zk', zkZone(['10.0.0.1'])],
    ['zk (empty)', zkZone([])],
    ['localhost', localhostZone()],
  ])('%s', (_n, z) => {
    const soa = ask(z, z.apex, 'SOA').answers;
    expect(soa).toEqual([expect.objectContaining({ name: z.apex, type: 'SOA', ttl: 5, data: EXPECTED_SOA })]);
    const ns = ask(z, z.apex, 'NS').answers;
    expect(ns).toEqual([expect.objectContaining({ name: z.apex, type: 'NS', ttl: 3600, data: 'ns.spartan' })]);
    expect(ask(z, `missing.${z.apex}`, 'A')).toEqual({
      rcode: 'NXDOMAIN',
      answers: [],
      authorities: [expect.objectContaining({ name: z.apex, type: 'SOA', ttl: 5, data: EXPECTED_SOA })],
      turn: 0,
    });
  });
});

describe('zk zone wrap-around', () => {
  const A = '10.0.0.1';
  const B = '10.0.0.2';
  const C = '10.0.0.3';

  /** The A record data of zk-1.zk … zk-5.zk, as a client would get them. */
  function zkAddresses(z: Zone): string[] {
    return [1, 2, 3, 4, 5].map((i) => {
      const a = ask(z, `zk-${i}.zk`, 'A');
      expect(a.rcode).toBe('NOERROR');
      expect(a.answers).toHaveLength(1);
      expect(a.answers[0]).toMatchObject({ name: `zk-${i}.zk`, type: 'A', ttl: 5 });
      return (a.answers[0] as { data: string }).data;
    });
  }

  test('[A] → A,A,A,A,A', () => {
    expect(zkAddresses(zkZone([A]))).toEqual([A, A, A, A, A]);
  });

  test('[A,B] → A,B,A,B,A', () => {
    expect(zkAddresses(zkZone([A, B]))).toEqual([A, B, A, B, A]);
  });

  test('[A,B,C] → A,B,C,A,B', () => {
    expect(zkAddresses(zkZone([A, B, C]))).toEqual([A, B, C, A, B]);
  });

  test('[A,B,C,D,E] → A,B,C,D,E', () => {
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
    expect(zkAddresses(zkZone(hosts))).toEqual(hosts);
  });

  test('7 hosts → the first five, and no zk-6', () => {
    const hosts = Array.from({ length: 7 }, (_, i) => `10.0.1.${i + 1}`);
    const z = zkZone(hosts);
    expect(zkAddresses(z)).toEqual(hosts.slice(0, 5));
    expect(ask(z, 'zk-6.zk', 'A').rcode).toBe('NXDOMAIN');
    expect(ask(z, 'zk-7.zk', 'A').rcode).toBe('NXDOMAIN');
  });

  test('always exactly five names, never a zk-0 or zk-6', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 9]) {
      const z = zkZone(Array.from({ length: n }, (_, i) => `10.0.2.${i + 1}`));
      expect(ask(z, 'zk-0.zk', 'A').rcode).toBe('NXDOMAIN');
      expect(ask(z, 'zk-5.zk', 'A').rcode).toBe('NOERROR');
      expect(ask(z, 'zk-6.zk', 'A').rcode).toBe('NXDOMAIN');
    }
  });

  test('[] → only SOA/NS: zk-1.zk is NXDOMAIN with the SOA', () => {
    const z = zkZone([]);
    expect([...z.names.keys()]).toEqual(['zk']);
    const a = ask(z, 'zk-1.zk', 'A');
    expect(a.rcode).toBe('NXDOMAIN');
    expect(a.answers).toEqual([]);
    expect(a.authorities).toEqual([expect.objectContaining({ type: 'SOA', name: 'zk' })]);
    expect(
      ask(z, 'zk', 'ANY')
        .answers.map((r) => r.type)
        .sort(),
    ).toEqual(['NS', 'SOA']);
  });

  test('IPv6 ZooKeepers get AAAA records (and NODATA for A)', () => {
    const z = zkZone(['fd00::1', '10.0.0.1']);
    expect(ask(z, 'zk-1.zk', 'AAAA').answers).toEqual([expect.objectContaining({ type: 'AAAA', data: 'fd00::1', ttl: 5 })]);
    const a = ask(z, 'zk-1.zk', 'A');
    expect(a.rcode).toBe('NOERROR');
    expect(a.answers).toEqual([]);
    expect(data(ask(z, 'zk-2.zk', 'A').answers)).toEqual(['10.0.0.1']);
    expect(data(ask(z, 'zk-3.zk', 'AAAA').answers)).toEqual(['fd00::1']);
  });

  test('entries that are not IP addresses are left out, not published', () => {
    expect(zkAddresses(zkZone(['zk.example.com', A, '', B]))).toEqual([A, B, A, B, A]);
    expect(zkZone(['master.example']).names.size).toBe(1);
  });

  test('duplicated hosts: each name still has exactly one record', () => {
    const z = zkZone([A, A, B]);
    expect(zkAddresses(z)).toEqual([A, A, B, A, A]);
    for (let rotation = 0; rotation < 4; rotation++) {
      expect(ask(z, 'zk-1.zk', 'ANY', rotation).answers).toHaveLength(1);
    }
  });
});

describe('zkHostsByName', () => {
  test('the wrap-around rule itself', () => {
    expect(ZK_NAMES).toBe(5);
    expect(zkHostsByName([])).toEqual([]);
    expect(zkHostsByName(['a'])).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect(zkHostsByName(['a', 'b'])).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(zkHostsByName(['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(zkHostsByName(['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(zkHostsByName(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('localhost zone', () => {
  const z = localhostZone();

  test('A 127.0.0.1 and AAAA ::1, TTL 5', () => {
    expect(ask(z, 'localhost', 'A').answers).toEqual([
      expect.objectContaining({ name: 'localhost', type: 'A', ttl: 5, data: '127.0.0.1' }),
    ]);
    expect(ask(z, 'localhost', 'AAAA').answers).toEqual([
      expect.objectContaining({ name: 'localhost', type: 'AAAA', ttl: 5, data: '::1' }),
    ]);
  });

  test('a name below localhost is NXDOMAIN', () => {
    expect(ask(z, 'foo.localhost', 'A').rcode).toBe('NXDOMAIN');
  });
});

describe('rotation (round robin)', () => {
  const key = (r: Answer) => `${r.type} ${JSON.stringify((r as { data: unknown }).data)}`;

  test('ANY at localhost: every rotation is a cyclic shift, and the order changes', () => {
    const z = localhostZone();
    const orders = [0, 1, 2, 3].map((rot) => ask(z, 'localhost', 'ANY', rot).answers.map(key));
    const first = orders[0];
    expect(first).toHaveLength(4); // SOA, NS, A, AAAA
    expect([...first].sort()).toEqual(
      [
        key(ask(z, 'localhost', 'A').answers[0]),
        key(ask(z, 'localhost', 'AAAA').answers[0]),
        'NS "ns.spartan"',
        `SOA ${JSON.stringify(EXPECTED_SOA)}`,
      ].sort(),
    );
    // Four different first records across four rotations.
    expect(new Set(orders.map((o) => o[0])).size).toBe(4);
    for (let rot = 0; rot < 4; rot++) {
      expect(orders[rot]).toEqual([...first.slice(rot), ...first.slice(0, rot)]);
    }
    // The counter wraps around.
    expect(ask(z, 'localhost', 'ANY', 4).answers.map(key)).toEqual(first);
    expect(ask(z, 'localhost', 'ANY', 1001).answers.map(key)).toEqual(orders[1]);
  });

  test('ANY at the zk apex rotates SOA and NS', () => {
    const z = zkZone(['10.0.0.1', '10.0.0.1', '10.0.0.2']);
    const r0 = ask(z, 'zk', 'ANY', 0).answers.map((r) => r.type);
    const r1 = ask(z, 'zk', 'ANY', 1).answers.map((r) => r.type);
    expect([...r0].sort()).toEqual(['NS', 'SOA']);
    expect(r1).toEqual([...r0].reverse());
  });

  test('a single-record answer is the same for every rotation', () => {
    const z = spartanZone();
    for (let rot = 0; rot < 5; rot++) {
      expect(data(ask(z, 'ready.spartan', 'A', rot).answers)).toEqual(['127.0.0.1']);
    }
  });

  test('rotation does not change the zone itself', () => {
    const z = localhostZone();
    const before = z.names.get('localhost')!.map(key);
    ask(z, 'localhost', 'ANY', 3);
    expect(z.names.get('localhost')!.map(key)).toEqual(before);
    expect(ask(z, 'localhost', 'ANY', 0).answers.map(key)).toEqual(before);
  });
});
