// Mesos state → Mesos-DNS record set (the fixture: deploy/demo/mesos-state.json). Expectations are
// written out from the naming rules (Mesos-DNS's docs/naming.md and its generator tests), never
// computed by the code under test: task hashes are the z-base-32 SHA-1 prefixes Mesos-DNS itself
// produces for these IDs.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { type MesosRecord, mesosRecords, slaveIdTail, taskHash } from '../../sim/mesos-state/records.js';
import { type MesosState, type MesosTask, MesosStateError, parseMesosState, portsOf } from '../../sim/mesos-state/state.js';

const FIXTURE = parseMesosState(JSON.parse(readFileSync(new URL('../../deploy/demo/mesos-state.json', import.meta.url), 'utf8')));

/** The values at `name` of `type`, sorted: A/AAAA as IPs, SRV as "target:port". */
function values(records: MesosRecord[], name: string, type: string): string[] {
  return records
    .filter((r) => r.name === name && r.type === type)
    .map((r) => {
      if (r.type === 'SRV') return `${r.data.target}:${r.data.port}`;
      return String(r.data);
    })
    .sort();
}

const names = (records: MesosRecord[]) => new Set(records.map((r) => r.name));

describe('the fixture: two nginx tasks on marathon', () => {
  const rs = mesosRecords(FIXTURE);
  // sha1 → z-base-32, first 5 characters, as Mesos-DNS's hashString computes them.
  const C1 = 'nginx-r15z7-s1.marathon'; // nginx.7e9c1a2b-…, agent …-S1
  const C2 = 'nginx-nomjn-s2.marathon'; // nginx.8f0d2b3c-…, agent …-S2

  test("task.framework.domain: the tasks' own IPs (from their TASK_RUNNING network_infos)", () => {
    expect(values(rs, 'nginx.marathon.mesos', 'A')).toEqual(['10.0.1.11', '10.0.1.12']);
  });

  test('task.framework.slave.domain: the IPs of the agents running them', () => {
    expect(values(rs, 'nginx.marathon.slave.mesos', 'A')).toEqual(['10.0.1.11', '10.0.1.12']);
  });

  test('canonical per-task names: task-hash-agent.framework(.slave).domain', () => {
    expect(values(rs, `${C1}.mesos`, 'A')).toEqual(['10.0.1.11']);
    expect(values(rs, `${C2}.mesos`, 'A')).toEqual(['10.0.1.12']);
    expect(values(rs, `${C1}.slave.mesos`, 'A')).toEqual(['10.0.1.11']);
    expect(values(rs, `${C2}.slave.mesos`, 'A')).toEqual(['10.0.1.12']);
  });

  test('SRV under .slave: every host port, tcp and udp, pointing at the task on its agent', () => {
    const want = [`${C1}.slave.mesos:31001`, `${C2}.slave.mesos:31002`].sort();
    expect(values(rs, '_nginx._tcp.marathon.slave.mesos', 'SRV')).toEqual(want);
    expect(values(rs, '_nginx._udp.marathon.slave.mesos', 'SRV')).toEqual(want);
  });

  test('SRV under the framework: the DiscoveryInfo ports, with their protocol and name', () => {
    const want = [`${C1}.mesos:31001`, `${C2}.mesos:31002`].sort();
    expect(values(rs, '_nginx._tcp.marathon.mesos', 'SRV')).toEqual(want);
    expect(values(rs, '_http._nginx._tcp.marathon.mesos', 'SRV')).toEqual(want);
    // The DiscoveryInfo ports are tcp only, so there is no udp service under the framework.
    expect(values(rs, '_nginx._udp.marathon.mesos', 'SRV')).toEqual([]);
  });

  test('every SRV target has an A record (clients and the additional section need it)', () => {
    for (const srv of rs.filter((r) => r.type === 'SRV')) {
      const target = (srv.data as { target: string }).target;
      expect(rs.some((r) => r.type === 'A' && r.name === target)).toBe(true);
    }
  });

  test('SRV records: priority 0, weight 1 (Mesos-DNS defaults)', () => {
    const srv = rs.find((r) => r.type === 'SRV' && r.name === '_nginx._tcp.marathon.mesos');
    expect(srv?.data).toMatchObject({ priority: 0, weight: 1 });
  });

  test('leader.domain, master.domain, master0.domain and _leader SRV from "leader"', () => {
    expect(values(rs, 'leader.mesos', 'A')).toEqual(['127.0.0.1']);
    expect(values(rs, 'master.mesos', 'A')).toEqual(['127.0.0.1']);
    expect(values(rs, 'master0.mesos', 'A')).toEqual(['127.0.0.1']);
    expect(values(rs, '_leader._tcp.mesos', 'SRV')).toEqual(['leader.mesos:15050']);
    expect(values(rs, '_leader._udp.mesos', 'SRV')).toEqual(['leader.mesos:15050']);
  });

  test('slave.domain and _slave._tcp.domain: every agent', () => {
    expect(values(rs, 'slave.mesos', 'A')).toEqual(['10.0.1.11', '10.0.1.12']);
    expect(values(rs, '_slave._tcp.mesos', 'SRV')).toEqual(['slave.mesos:5051']);
  });

  test('framework.domain and _framework._tcp: the scheduler', () => {
    expect(values(rs, 'marathon.mesos', 'A')).toEqual(['10.0.0.5']);
    expect(values(rs, '_framework._tcp.marathon.mesos', 'SRV')).toEqual(['marathon.mesos:15101']);
  });

  test('SOA and NS at the apex, with Mesos-DNS default values', () => {
    const soa = rs.filter((r) => r.type === 'SOA');
    expect(soa).toEqual([
      {
        name: 'mesos',
        type: 'SOA',
        class: 'IN',
        ttl: 60,
        data: { mname: 'ns1.mesos', rname: 'root.ns1.mesos', serial: 1, refresh: 60, retry: 600, expire: 86400, minimum: 60 },
      },
    ]);
    expect(values(rs, 'mesos', 'NS')).toEqual(['ns1.mesos']);
  });

  test('names are lower case without a trailing dot; TTL 60, class IN; no duplicates', () => {
    for (const r of rs) {
      expect(r.name).toBe(r.name.toLowerCase());
      expect(r.name.endsWith('.')).toBe(false);
      expect(r.ttl).toBe(60);
      expect(r.class).toBe('IN');
    }
    const keys = rs.map((r) => `${r.type} ${r.name} ${JSON.stringify(r.data)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('the whole set encodes as DNS wire data', () => {
    const buf = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'mesos', type: 'SOA' }], answers: rs });
    expect(dnsPacket.decode(buf).answers).toHaveLength(rs.length);
  });

  test("the Mesos-DNS servers' own addresses become A records for the SOA mname", () => {
    const withNs = mesosRecords(FIXTURE, { nameserverIPs: ['127.0.0.11', 'fd00::11'] });
    expect(values(withNs, 'ns1.mesos', 'A')).toEqual(['127.0.0.11']);
    expect(values(withNs, 'ns1.mesos', 'AAAA')).toEqual(['fd00::11']);
    expect(values(rs, 'ns1.mesos', 'A')).toEqual([]);
  });
});

// ---- hand-built states ----------------------------------------------------------------------------

const SLAVE_A = { id: '20140803-125133-3041283216-5050-2410-0', pid: 'slave(1)@1.2.3.11:5051', hostname: 'agent-a.example' };
const SLAVE_B = { id: '20140827-000744-3041283216-5050-2116-1', pid: 'slave(1)@1.2.3.12:5051', hostname: 'agent-b.example' };

function running(ts = 1, extra: Record<string, unknown> = {}) {
  return { state: 'TASK_RUNNING', timestamp: ts, ...extra };
}

function task(over: Partial<MesosTask> & { id: string; name: string }): MesosTask {
  return { slave_id: SLAVE_A.id, state: 'TASK_RUNNING', statuses: [running()], ...over };
}

function state(tasks: MesosTask[], extra: Partial<MesosState> = {}, framework = 'marathon'): MesosState {
  return {
    leader: 'master@144.76.157.37:5050',
    slaves: [SLAVE_A, SLAVE_B],
    frameworks: [{ name: framework, pid: 'scheduler(1)@1.2.3.11:25501', tasks }],
    ...extra,
  };
}

describe('tasks without DiscoveryInfo', () => {
  // car-store.43758382-… hashes to "zinaz"; agent …-0 → "0" (Mesos-DNS's own test data).
  const rs = mesosRecords(
    state([task({ id: 'car-store.43758382-562f-11e4-a088-c20493233aa5', name: 'car.store', resources: { ports: '[31364-31365]' } })]),
  );

  test('a dotted task name becomes one label: car.store → car-store', () => {
    expect(names(rs)).toContain('car-store.marathon.mesos');
    expect(names(rs)).not.toContain('car.store.marathon.mesos');
  });

  test('with no container IP, task.framework.domain falls back to the agent IP (source "host")', () => {
    expect(values(rs, 'car-store.marathon.mesos', 'A')).toEqual(['1.2.3.11']);
    expect(values(rs, 'car-store.marathon.slave.mesos', 'A')).toEqual(['1.2.3.11']);
  });

  test('SRV for every port of a range, tcp and udp, under the framework and under .slave, target on .slave', () => {
    const want = ['car-store-zinaz-0.marathon.slave.mesos:31364', 'car-store-zinaz-0.marathon.slave.mesos:31365'];
    for (const name of [
      '_car-store._tcp.marathon.mesos',
      '_car-store._udp.marathon.mesos',
      '_car-store._tcp.marathon.slave.mesos',
      '_car-store._udp.marathon.slave.mesos',
    ]) {
      expect(values(rs, name, 'SRV')).toEqual(want);
    }
  });
});

describe('tasks with DiscoveryInfo', () => {
  const di = {
    name: 'liquor.store',
    ports: {
      ports: [
        { number: 80, protocol: 'tcp', name: 'http' },
        { number: 443, protocol: 'tcp', name: 'https' },
        { number: 53, protocol: '', name: '' },
      ],
    },
  };
  // liquor-store.b8db9f73-… hashes to "4dfjd" (Mesos-DNS's generator test expects liquor-store-4dfjd-0).
  const rs = mesosRecords(
    state([
      task({
        id: 'liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5',
        name: 'ignored name',
        discovery: di,
        resources: { ports: '[31354-31354]' },
      }),
    ]),
  );

  test('the DiscoveryInfo name, mangled, replaces the task name', () => {
    expect(names(rs)).toContain('liquor-store.marathon.mesos');
    expect([...names(rs)].some((n) => n.includes('ignored'))).toBe(false);
  });

  test('DiscoveryInfo ports: target is the task name under the framework, port name gives a second service', () => {
    expect(values(rs, '_liquor-store._tcp.marathon.mesos', 'SRV')).toEqual([
      'liquor-store-4dfjd-0.marathon.mesos:443',
      'liquor-store-4dfjd-0.marathon.mesos:53',
      'liquor-store-4dfjd-0.marathon.mesos:80',
    ]);
    expect(values(rs, '_http._liquor-store._tcp.marathon.mesos', 'SRV')).toEqual(['liquor-store-4dfjd-0.marathon.mesos:80']);
    expect(values(rs, '_https._liquor-store._tcp.marathon.mesos', 'SRV')).toEqual(['liquor-store-4dfjd-0.marathon.mesos:443']);
    // A port without a protocol is published for both.
    expect(values(rs, '_liquor-store._udp.marathon.mesos', 'SRV')).toEqual(['liquor-store-4dfjd-0.marathon.mesos:53']);
  });

  test('host ports still go under .slave only', () => {
    expect(values(rs, '_liquor-store._tcp.marathon.slave.mesos', 'SRV')).toEqual(['liquor-store-4dfjd-0.marathon.slave.mesos:31354']);
    expect(values(rs, '_liquor-store._tcp.marathon.mesos', 'SRV')).not.toContain('liquor-store-4dfjd-0.marathon.slave.mesos:31354');
  });
});

describe('task IP sources (first populated source wins)', () => {
  const netinfo = (...ips: string[]) => ({
    container_status: { network_infos: [{ ip_addresses: ips.map((ip_address) => ({ ip_address })) }] },
  });
  const label = (key: string, value: string) => ({ labels: [{ key, value }] });
  const MESOS = 'MesosContainerizer.NetworkSettings.IPAddress';
  const DOCKER = 'Docker.NetworkSettings.IPAddress';
  const ips = (t: MesosTask, ipSources?: Array<'netinfo' | 'mesos' | 'docker' | 'host'>) => {
    const rs = mesosRecords(state([t]), ipSources ? { ipSources } : {});
    return [...values(rs, 'web.marathon.mesos', 'A'), ...values(rs, 'web.marathon.mesos', 'AAAA')];
  };

  test('netinfo first, then the Mesos containerizer label, then the agent (the default order)', () => {
    expect(
      ips(task({ id: 'web.1', name: 'web', statuses: [running(1, { ...netinfo('10.3.0.9'), ...label(MESOS, '10.3.0.3') })] })),
    ).toEqual(['10.3.0.9']);
    expect(ips(task({ id: 'web.1', name: 'web', statuses: [running(1, label(MESOS, '10.3.0.3'))] }))).toEqual(['10.3.0.3']);
    expect(ips(task({ id: 'web.1', name: 'web', statuses: [running(1)] }))).toEqual(['1.2.3.11']);
  });

  test('the Docker label only counts when "docker" is a configured source', () => {
    const t = task({ id: 'web.1', name: 'web', statuses: [running(1, label(DOCKER, '10.3.0.1'))] });
    expect(ips(t)).toEqual(['1.2.3.11']);
    expect(ips(t, ['docker', 'host'])).toEqual(['10.3.0.1']);
    expect(ips(t, ['netinfo'])).toEqual([]);
  });

  test('only the latest TASK_RUNNING status counts, by timestamp, whatever the list order', () => {
    const t = task({
      id: 'web.1',
      name: 'web',
      statuses: [
        running(5, netinfo('10.0.0.5')),
        running(9, netinfo('10.0.0.9')),
        { state: 'TASK_STARTING', timestamp: 10, ...netinfo('10.0.0.10') },
        running(2, netinfo('10.0.0.2')),
      ],
    });
    expect(ips(t)).toEqual(['10.0.0.9']);
  });

  test('several addresses, IPv6 as AAAA; Mesos 0.25 single ip_address form; junk ignored', () => {
    const t = task({
      id: 'web.1',
      name: 'web',
      statuses: [
        running(1, {
          container_status: {
            network_infos: [
              { ip_addresses: [{ ip_address: '12.0.1.2' }, { ip_address: 'fd01:b:0::1:8000:2' }, { ip_address: 'nope' }] },
              { ip_address: '12.0.1.3' },
            ],
          },
        }),
      ],
    });
    expect(ips(t)).toEqual(['12.0.1.2', '12.0.1.3', 'fd01:b::1:8000:2']);
  });
});

describe('which tasks and agents get records', () => {
  test('only TASK_RUNNING tasks', () => {
    const rs = mesosRecords(
      state([task({ id: 'web.1', name: 'web', state: 'TASK_KILLED' }), task({ id: 'db.1', name: 'db', state: 'TASK_STAGING' })]),
    );
    expect([...names(rs)].filter((n) => n.includes('web') || n.includes('db'))).toEqual([]);
  });

  test('tasks on an agent missing from the state get nothing', () => {
    const rs = mesosRecords(state([task({ id: 'web.1', name: 'web', slave_id: 'gone-S9' })]));
    expect(names(rs)).not.toContain('web.marathon.mesos');
  });

  test('the same IP from two tasks is one record; two tasks of one app are two', () => {
    const rs = mesosRecords(state([task({ id: 'db.1', name: 'db' }), task({ id: 'db.2', name: 'db', slave_id: SLAVE_B.id })]));
    expect(values(rs, 'db.marathon.mesos', 'A')).toEqual(['1.2.3.11', '1.2.3.12']);
    expect(values(rs, 'db.marathon.slave.mesos', 'A')).toEqual(['1.2.3.11', '1.2.3.12']);
    // db.1 → "f3ink", db.2 → "rre5n"; agent tails "0" and "1".
    expect(values(rs, 'db-f3ink-0.marathon.mesos', 'A')).toEqual(['1.2.3.11']);
    expect(values(rs, 'db-rre5n-1.marathon.mesos', 'A')).toEqual(['1.2.3.12']);
  });

  test('agent addresses come from the agent PID; hostnames are never looked up', () => {
    const noIp = { id: 'x-S7', hostname: 'agent-c.example' };
    const rs = mesosRecords(
      state(
        [
          task({
            id: 'web.1',
            name: 'web',
            slave_id: 'x-S7',
            statuses: [running(1, { container_status: { network_infos: [{ ip_address: '10.9.9.9' }] } })],
          }),
        ],
        { slaves: [noIp] },
      ),
    );
    expect(values(rs, 'slave.mesos', 'A')).toEqual([]);
    expect(values(rs, 'web.marathon.mesos', 'A')).toEqual(['10.9.9.9']); // its own IP still
    expect(values(rs, 'web.marathon.slave.mesos', 'A')).toEqual([]);
    expect([...names(rs)].some((n) => n.includes('agent-c'))).toBe(false);
  });

  test('an agent without PID falls back to an IP-literal hostname and its port', () => {
    const rs = mesosRecords(state([], { slaves: [{ id: 'x-S1', hostname: '10.0.1.99', port: 5051 }] }));
    expect(values(rs, 'slave.mesos', 'A')).toEqual(['10.0.1.99']);
    expect(values(rs, '_slave._tcp.mesos', 'SRV')).toEqual(['slave.mesos:5051']);
  });

  test('IPv6 agents give AAAA records', () => {
    const rs = mesosRecords(
      state([task({ id: 'web.1', name: 'web', slave_id: 'v6-S3' })], { slaves: [{ id: 'v6-S3', pid: 'slave(1)@[2001:db8::1]:5051' }] }),
    );
    expect(values(rs, 'slave.mesos', 'AAAA')).toEqual(['2001:db8::1']);
    expect(values(rs, 'web.marathon.slave.mesos', 'AAAA')).toEqual(['2001:db8::1']);
    expect(values(rs, 'web.marathon.mesos', 'AAAA')).toEqual(['2001:db8::1']);
  });
});

describe('name mangling in context', () => {
  test("the seed's example: task apiserver.myservice on framework marathon.prod", () => {
    const rs = mesosRecords(
      state([task({ id: 'a.1', name: 'apiserver.myservice', resources: { ports: '[8080-8080]' } })], {}, 'marathon.prod'),
    );
    expect(names(rs)).toContain('apiserver-myservice.marathon.prod.mesos');
    expect(names(rs)).toContain('_apiserver-myservice._tcp.marathon.prod.mesos');
  });

  test('RFC 1123 by default; RFC 952 when enforced (24 characters, no all-digit framework parts)', () => {
    const t = task({ id: 'a.1', name: 'A_Very.Long.Task.Name-With-Many-Parts' });
    const s = state([t], {}, 'marathon-0.6.0-dev');
    expect(names(mesosRecords(s))).toContain('a-very-long-task-name-with-many-parts.marathon-0.6.0-dev.mesos');
    expect(names(mesosRecords(s, { enforceRFC952: true }))).toContain('a-very-long-task-name-wi.marathon-0.dev.mesos');
  });

  test('a task name that mangles to nothing gets no records', () => {
    const rs = mesosRecords(state([task({ id: 'x.1', name: '$$$' })]));
    expect([...names(rs)].filter((n) => n.endsWith('marathon.mesos') && n !== 'marathon.mesos' && !n.startsWith('_framework'))).toEqual([]);
  });
});

describe('options', () => {
  test('another domain and TTL', () => {
    const rs = mesosRecords(FIXTURE, { domain: 'Mesos.SFO.Widgets.com.', ttl: 5 });
    expect(values(rs, 'nginx.marathon.mesos.sfo.widgets.com', 'A')).toEqual(['10.0.1.11', '10.0.1.12']);
    expect(values(rs, 'leader.mesos.sfo.widgets.com', 'A')).toEqual(['127.0.0.1']);
    expect(rs.every((r) => r.ttl === 5)).toBe(true);
    expect(rs.find((r) => r.type === 'SOA')?.name).toBe('mesos.sfo.widgets.com');
  });

  test('masters: master.domain holds them all, masterN in list order', () => {
    const rs = mesosRecords(state([]), { masters: ['10.0.0.1:5050', '144.76.157.37:5050', '10.0.0.3:5050', '10.0.0.1:5050'] });
    expect(values(rs, 'master.mesos', 'A')).toEqual(['10.0.0.1', '10.0.0.3', '144.76.157.37']);
    expect(values(rs, 'master0.mesos', 'A')).toEqual(['10.0.0.1']);
    expect(values(rs, 'master1.mesos', 'A')).toEqual(['144.76.157.37']);
    expect(values(rs, 'master2.mesos', 'A')).toEqual(['10.0.0.3']);
    expect(names(rs)).not.toContain('master3.mesos'); // the duplicate is not numbered
  });

  test('a leader missing from the masters list is numbered last', () => {
    const rs = mesosRecords(state([]), { masters: ['10.0.0.1:5050', '10.0.0.2:5050'] });
    expect(values(rs, 'master2.mesos', 'A')).toEqual(['144.76.157.37']);
    expect(values(rs, 'master.mesos', 'A')).toEqual(['10.0.0.1', '10.0.0.2', '144.76.157.37']);
  });

  test('SOA names and serial', () => {
    const rs = mesosRecords(FIXTURE, { soaMname: 'mesosdns1.sfo.widgets.com.', serial: 1600000000 });
    expect(rs.find((r) => r.type === 'SOA')?.data).toMatchObject({
      mname: 'mesosdns1.sfo.widgets.com',
      rname: 'root.mesosdns1.sfo.widgets.com',
      serial: 1600000000,
    });
    expect(values(rs, 'mesos', 'NS')).toEqual(['mesosdns1.sfo.widgets.com']);
  });
});

describe('the leader', () => {
  test('from leader_info when "leader" is absent', () => {
    const { leader: _, ...rest } = FIXTURE;
    const rs = mesosRecords(rest);
    expect(values(rs, 'leader.mesos', 'A')).toEqual(['127.0.0.1']);
    expect(values(rs, '_leader._tcp.mesos', 'SRV')).toEqual(['leader.mesos:15050']);
  });

  test('no leader at all: refused, as Mesos-DNS refuses such a state', () => {
    expect(() => mesosRecords({ slaves: [], frameworks: [] })).toThrow(MesosStateError);
  });
});

describe('reading the state', () => {
  test('bad shapes are refused naming the field', () => {
    expect(() => parseMesosState([])).toThrow(/top level/);
    expect(() => parseMesosState({ leader: 'm@1.2.3.4:5050', slaves: {} })).toThrow(/^slaves: expected a list/);
    expect(() => parseMesosState({ frameworks: [{ name: 'm', tasks: [{ id: 'a', name: 'a', state: 'TASK_RUNNING' }] }] })).toThrow(
      /frameworks\[0\]\.tasks\[0\]\.slave_id: expected a string/,
    );
  });

  test('port ranges expand; bad parts are skipped', () => {
    expect(portsOf('[31000-31002, 31005-31005]')).toEqual([31000, 31001, 31002, 31005]);
    expect(portsOf('[]')).toEqual([]);
    expect(portsOf(undefined)).toEqual([]);
    expect(portsOf('[80, x-y, 65535-70000]')).toEqual([80, 65535]);
  });

  test('task hash and agent tail as Mesos-DNS computes them', () => {
    expect(taskHash('test')).toBe('iffe9'); // Mesos-DNS's TestHashString
    expect(slaveIdTail('b1c2d3e4-0000-4000-8000-000000000001-S1')).toBe('s1');
  });
});
