// What the bench's masters and upstreams serve, and the query files dnsperf sends (pure).
//
// The Mesos zone (NSD, servers.ts) is what Mesos-DNS would serve for a marathon app (nginx, two
// tasks), its leader, a thousand one-task apps, 200 big apps whose A answer (~2 KB) does not fit in
// 512 bytes, and a wildcard app as big, so that a flood can ask as many distinct big names as it
// likes. The fast masters (dnsmasq, servers.ts) answer any name in the domain with one address.
// Distinct names matter: dnsmasq merges identical queries that are in flight at the same moment
// into one upstream query, so a query file of two names would let it forward a third of the
// queries the agent forwards. Cycled through dnsperf's 500 outstanding queries, no two in flight
// are the same, and every peer does the same work.

export const MESOS_TTL = 60; // Mesos-DNS's default ttl
export const BIG_TASKS = 120;
/** Apps as big as `big`, so that the big-answer case also asks distinct names (see above). */
export const BIG_APPS = 200;
export const TASK_APPS = 1000;
export const UPSTREAM_HOSTS = 1000;
/** Names of the cached case: each is asked hundreds of times within the caches' 2 s. */
export const CACHED_NAMES = 1000;
/** Names of the uncached cases: more than a cache could keep between two askings at any rate measured. */
export const UNCACHED_NAMES = 10_000;
/** The floods ask this many distinct names: past the agent's cache and stale store (10,000 entries each). */
export const FLOOD_NAMES = 50_000;
/** Distinct big names of the big flood: past the stale store's 16 MiB at about 2 KB each. */
export const BIG_FLOOD_NAMES = 20_000;

const pad = (i: number) => String(i).padStart(4, '0');
/** 10.x.y.z for the i-th record of a block, never a .0 or .255. */
const ip = (block: number, i: number) => `10.${block}.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export function mesosZone(leader: string): string {
  const lines = [
    '$ORIGIN mesos.',
    `$TTL ${MESOS_TTL}`,
    '@ SOA ns1.mesos. mesos-dns.mesos. 1 60 180 86400 60',
    '@ NS ns1.mesos.',
    `ns1 A ${leader}`,
    `leader A ${leader}`,
    'nginx.marathon A 10.0.1.5',
    'nginx.marathon A 10.0.1.6',
    '_nginx._tcp.marathon SRV 0 1 31001 nginx-a1b2c.marathon.slave.mesos.',
    'nginx-a1b2c.marathon.slave A 10.0.1.5',
  ];
  for (const app of bigApps()) {
    for (let i = 0; i < BIG_TASKS; i++) lines.push(`${app}.marathon A ${ip(1, i)}`);
  }
  for (let i = 0; i < TASK_APPS; i++) lines.push(`app-${pad(i)}.marathon A ${ip(2, i)}`);
  // Any name under wide.marathon gets a big answer (RFC 4592 wildcard).
  for (let i = 0; i < BIG_TASKS; i++) lines.push(`*.wide.marathon A ${ip(4, i)}`);
  return lines.join('\n') + '\n';
}

/**
 * The upstreams' zone. Its TTL is the same short time the agent's cache keeps Mesos answers, so
 * in the cached variant both peers keep every answer equally long (dnsmasq has one cap for all
 * names, the agent one per zone).
 */
export function upstreamZone(ttl: number): string {
  const lines = [
    '$ORIGIN example.org.',
    `$TTL ${ttl}`,
    '@ SOA ns1.example.org. hostmaster.example.org. 1 60 180 86400 60',
    '@ NS ns1.example.org.',
    'ns1 A 192.0.2.53',
    '@ A 192.0.2.1',
    'www A 192.0.2.80',
  ];
  for (let i = 0; i < UPSTREAM_HOSTS; i++) lines.push(`host-${pad(i)} A ${ip(3, i)}`);
  return lines.join('\n') + '\n';
}

/** The names the agent answers itself; dnsmasq gets the same records (see peers.ts). */
export const LOCAL_RECORDS = (masters: string[]): Array<[string, string]> => [
  ['ready.spartan', '127.0.0.1'],
  ['ns.spartan', '198.51.100.1'],
  // The agent's zk zone without zk.servers: the masters' addresses in order, repeated to five.
  ...Array.from({ length: 5 }, (_, i): [string, string] => [`zk-${i + 1}.zk`, masters[i % masters.length]]),
];

/** big, big-001 … big-199: each with BIG_TASKS tasks. */
function bigApps(): string[] {
  return ['big', ...Array.from({ length: BIG_APPS - 1 }, (_, i) => `big-${String(i + 1).padStart(3, '0')}`)];
}

export type QueryFile =
  'local' | 'mesos' | 'upstream' | 'big' | 'mix' | 'cached' | 'uncached' | 'upstream-uncached' | 'flood' | 'big-flood';

const numbered = (n: number, name: (i: string) => string) =>
  Array.from({ length: n }, (_, i) => `${name(String(i).padStart(String(n - 1).length, '0'))} A`);

/** dnsperf input: one "name type" per line, cycled through in order. */
export function queryLines(file: QueryFile): string[] {
  switch (file) {
    case 'local':
      return ['ready.spartan A', ...Array.from({ length: 5 }, (_, i) => `zk-${i + 1}.zk A`)];
    case 'mesos':
      return [
        'nginx.marathon.mesos A',
        'leader.mesos A',
        '_nginx._tcp.marathon.mesos SRV',
        ...Array.from({ length: TASK_APPS }, (_, i) => `app-${pad(i)}.marathon.mesos A`),
      ];
    case 'upstream':
      return ['example.org A', 'www.example.org A', ...Array.from({ length: UPSTREAM_HOSTS }, (_, i) => `host-${pad(i)}.example.org A`)];
    case 'big':
      return bigApps().map((app) => `${app}.marathon.mesos A`);
    case 'cached':
      return Array.from({ length: CACHED_NAMES }, (_, i) => `app-${pad(i)}.marathon.mesos A`);
    // The next three are for the fast masters, which answer any name (the NSD zone has none of them).
    case 'uncached':
      return numbered(UNCACHED_NAMES, (i) => `task-${i}.marathon.mesos`);
    case 'upstream-uncached':
      return numbered(UNCACHED_NAMES, (i) => `host-${i}.example.org`);
    case 'flood':
      return numbered(FLOOD_NAMES, (i) => `flood-${i}.marathon.mesos`);
    // Big answers from the NSD zone's wildcard, a distinct name each.
    case 'big-flood':
      return numbered(BIG_FLOOD_NAMES, (i) => `app-${i}.wide.marathon.mesos`);
    case 'mix': {
      // What a node asks over a long run: mostly Mesos names, some outside names, a few local.
      const local = queryLines('local');
      const mesos = queryLines('mesos');
      const upstream = queryLines('upstream');
      const out: string[] = [];
      for (let i = 0; i < mesos.length; i++) {
        out.push(mesos[i], upstream[i % upstream.length]);
        if (i % 4 === 0) out.push(local[(i / 4) % local.length]);
      }
      return out;
    }
  }
}
