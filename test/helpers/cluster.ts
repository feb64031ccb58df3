// A small simulated cluster on loopback: fake Mesos-DNS masters serving a marathon app, fake
// upstream resolvers serving example.org, and the agent config that points at them.
import type { Answer } from 'dns-packet';
import { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';

export const NGINX_IPS = ['10.0.1.5', '10.0.1.6'];

/** What the fake masters serve: two nginx tasks with an SRV, the leader, and `extraTasks` more under big.marathon.mesos. */
export function fakeMasterRecords(extraTasks = 0): Answer[] {
  const records: Answer[] = [
    ...NGINX_IPS.map((ip): Answer => ({ name: 'nginx.marathon.mesos', type: 'A', ttl: 60, data: ip })),
    {
      name: '_nginx._tcp.marathon.mesos',
      type: 'SRV',
      ttl: 60,
      data: { priority: 0, weight: 0, port: 31001, target: 'nginx-a1b2c.marathon.mesos' },
    },
    { name: 'nginx-a1b2c.marathon.mesos', type: 'A', ttl: 60, data: '10.0.1.5' },
    { name: 'leader.mesos', type: 'A', ttl: 60, data: '127.0.0.11' },
  ];
  // A big app: enough tasks that the answer needs TCP (Mesos-DNS cuts UDP at 512 bytes).
  for (let i = 0; i < extraTasks; i++) {
    records.push({ name: 'big.marathon.mesos', type: 'A', ttl: 60, data: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}` });
  }
  return records;
}

export const UPSTREAM_RECORDS: Answer[] = [
  { name: 'www.example.org', type: 'A', ttl: 300, data: '192.0.2.80' },
  { name: 'example.org', type: 'A', ttl: 300, data: '192.0.2.1' },
];

export interface Cluster {
  masters: FakeDnsServer[];
  upstreams: FakeDnsServer[];
  listenPort: number;
  httpPort: number;
  /** The agent config for this cluster; `extra` overrides top-level keys. */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Every server back to answering, query records cleared: between tests. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startCluster(opts: { masters?: number; upstreams?: number; bigTasks?: number } = {}): Promise<Cluster> {
  const masters: FakeDnsServer[] = [];
  const upstreams: FakeDnsServer[] = [];
  for (let i = 0; i < (opts.masters ?? 3); i++) {
    masters.push(
      await FakeDnsServer.start({ address: `127.0.0.${11 + i}`, zone: 'mesos', records: fakeMasterRecords(opts.bigTasks ?? 120) }),
    );
  }
  for (let i = 0; i < (opts.upstreams ?? 2); i++) {
    upstreams.push(
      await FakeDnsServer.start({ address: `127.0.0.${21 + i}`, zone: 'example.org', records: UPSTREAM_RECORDS, udpLimit: 'edns' }),
    );
  }
  const listenPort = await freePort('127.0.0.1');
  // Never the default 62080: a developer's own agent or demo may hold it.
  const httpPort = await freePort('127.0.0.1');
  return {
    masters,
    upstreams,
    listenPort,
    httpPort,
    config: (extra = {}) => ({
      listen: [`127.0.0.1:${listenPort}`],
      upstreams: upstreams.map((u) => u.endpoint),
      mesos: { masters: masters.map((m) => m.endpoint) },
      timeoutMs: 800,
      health: { probeIntervalMs: 200 },
      log: { level: 'debug' },
      http: { listen: `127.0.0.1:${httpPort}` },
      // Forwarding tests count what reaches the servers and expect SERVFAIL when every server
      // fails: no answer cache and no serve-stale unless a test asks.
      cache: { enabled: false },
      serveStale: { enabled: false },
      ...extra,
    }),
    reset: () => {
      for (const s of [...masters, ...upstreams]) {
        s.setBehaviour({ kind: 'answer' });
        s.resetQueries();
      }
    },
    stop: async () => {
      await Promise.all([...masters, ...upstreams].map((s) => s.stop()));
    },
  };
}

/**
 * Fake masters on several loopback addresses sharing one port, as real Mesos-DNS instances share
 * mesos.port: discovery reports IPs only and the agent adds the port.
 */
export async function startMastersOnOnePort(
  addresses: string[],
  records = fakeMasterRecords(0),
): Promise<{ port: number; masters: FakeDnsServer[] }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(addresses[0]);
    const masters: FakeDnsServer[] = [];
    try {
      for (const address of addresses) masters.push(await FakeDnsServer.start({ address, port, zone: 'mesos', records }));
      return { port, masters };
    } catch {
      await Promise.all(masters.map((m) => m.stop()));
    }
  }
  throw new Error(`no port free on all of ${addresses.join(', ')}`);
}

/**
 * The addresses of `masters` that `ask` reached, sorted: it asks at least `min` times, and on until
 * every one of `expected` has been asked, at most `max` times or for `deadlineMs`. Hedged dispatch
 * sends each query to one master, picked at random among equals, so a fixed count can miss one.
 */
export async function mastersAsked(
  masters: FakeDnsServer[],
  expected: string[],
  ask: () => Promise<void>,
  { min = 10, max = 60, deadlineMs = 10_000 } = {},
): Promise<string[]> {
  for (const m of masters) m.resetQueries();
  const asked = () =>
    masters
      .filter((m) => m.queryCount() > 0)
      .map((m) => m.address)
      .sort();
  const deadline = Date.now() + deadlineMs;
  for (let i = 0; i < max && Date.now() < deadline; i++) {
    if (i >= min && expected.every((a) => asked().includes(a))) break;
    await ask();
  }
  return asked();
}
