// The one config schema for the whole product (agent, watchdog, genresolv share the file): each key
// declared once with its kind, default, range and meaning. Reading, checking, the Config types,
// describeConfig and docs/configuration.md (npm run docs:config) all come from this table.
import { masterSource } from './master-source.js';
import {
  absolutePath,
  argv,
  domain,
  endpoint,
  endpoints,
  flag,
  hosts,
  integer,
  integerOr,
  isDomainName,
  networks,
  oneOf,
  words,
  zoneServers,
} from './kinds.js';
import { type ValueOf, readTable, section, showTable } from './table.js';

export { ConfigError } from './error.js';

/** The node's IPv6 address on the spartan interface (dcos-net's), beside the three IPv4 ones. */
export const DEFAULT_IPV6_LISTEN = '[fd01:d::c633:6401]:53';
export const DEFAULT_LISTEN = ['198.51.100.1:53', '198.51.100.2:53', '198.51.100.3:53', DEFAULT_IPV6_LISTEN];
export const DEFAULT_RESTART_COMMAND = ['systemctl', 'kill', '--signal', 'SIGKILL', '--kill-who', 'main', 'phalanx-dns.service'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const NOT_THE_AGENT = 'a resolver other than the agent itself (it is one of "listen"; the agent would query itself in a loop)';

const TOP_LEVEL = 'Where the agent listens, whom it serves and where it sends the names it does not answer itself.';

export const CONFIG_TABLE = section(TOP_LEVEL, {
  listen: endpoints({
    port: 53,
    default: DEFAULT_LISTEN,
    nonEmpty: 'at least one address to listen on',
    meaning:
      'Addresses to serve, UDP and TCP on each; IPv6 as `"[addr]:port"`. Every one must bind or the agent does not start, ' +
      'except the default IPv6 address on a node without IPv6: it is skipped with a warning that says why. ' +
      'A wildcard (`0.0.0.0`, `[::]`) is accepted with a warning: the `acl` is then what keeps other networks out. Changes need a restart.',
  }),
  upstreams: endpoints({
    port: 53,
    notTheAgent: NOT_THE_AGENT,
    meaning:
      'Resolvers for names outside the Mesos domain and the forward zones. ' +
      'One of the `listen` addresses is refused (the agent would query itself in a loop). With none, such names get SERVFAIL.',
  }),
  forwardZones: zoneServers({
    meaning:
      'Names in a zone (longest match) go to its servers instead of `upstreams`. ' +
      'Zone names are compared in lower case; the root is refused.',
  }),
  mesos: section('Mesos-DNS on the masters, and where the list of masters comes from (at most one source).', {
    domain: domain({ default: 'mesos', meaning: 'The Mesos-DNS domain: names in it go to the masters.' }),
    port: integer({ default: 61053, min: 1, max: 65535, meaning: 'The Mesos-DNS port, used for masters listed without one.' }),
    masters: endpoints({
      port: 'mesos.port',
      hidden: true,
      meaning: 'A static list of masters (Mesos-DNS servers); reloaded on SIGHUP.',
    }),
    source: masterSource({
      zookeeper:
        'Learn the masters from ZooKeeper, as Mesos registers them: the `json.info_<seq>` children of the znode, the lowest sequence the ' +
        "leader. The `zk` zone comes from ZooKeeper's `/zookeeper/config` (3.5+), else from the URL's hosts.",
      exhibitorUrl:
        'Learn the masters and ZooKeepers from Exhibitor: polls `…/exhibitor/v1/cluster/status` (added to a bare base URL); ' +
        'they are the `hostname`s.',
      masterListFile:
        'Learn the masters from a file holding a JSON array of their IP addresses (DC/OS: `/opt/mesosphere/etc/master_list`), ' +
        're-read each refresh.',
    }),
    refreshMs: integer({
      default: 120_000,
      min: 100,
      max: 3_600_000,
      meaning: "How often a dynamic source is re-read while healthy (ZooKeeper's watches report changes sooner).",
    }),
    retryMs: integer({
      default: 5000,
      min: 50,
      max: 'mesos.refreshMs',
      meaning: 'The first retry after a source fails; it doubles up to `mesos.refreshMs`.',
    }),
    requestTimeoutMs: integer({ default: 10_000, min: 50, max: 120_000, meaning: 'Deadline of one Exhibitor request or ZooKeeper read.' }),
    zkSessionTimeoutMs: integer({ default: 10_000, min: 1000, max: 120_000, meaning: 'The ZooKeeper session timeout.' }),
  }),
  zk: section('The `zk` zone (`zk-1.zk` … `zk-5.zk`): the ZooKeeper ensemble by name.', {
    servers: hosts({
      port: 2181,
      defaultText: "the source's ensemble, else the masters' addresses",
      meaning: 'ZooKeeper hosts for the `zk` zone (a port may be written; only the address is kept).',
    }),
  }),
  dispatch: oneOf(['hedged', 'race'] as const, {
    default: 'hedged',
    meaning:
      "How a forwarded query goes to a group's servers. `hedged`: the best server first, the next only when no usable answer came " +
      "within the first one's hedge delay (see `hedge`), or at once when it failed, so a healthy group gets about one request per query. " +
      '`race`: `fanout` servers at once, the first good answer wins.',
  }),
  hedge: section('Hedged dispatch: how long a query waits for one server before asking the next.', {
    maxMs: integer({
      default: 250,
      min: 1,
      max: 60_000,
      meaning: 'The longest hedge delay, and the delay for a server that has not answered yet.',
    }),
    minMs: integer({
      default: 5,
      min: 1,
      max: 'hedge.maxMs',
      meaning: "The shortest hedge delay. A server's own delay is its SRTT + 4 × RTTVAR (TCP's RTO, RFC 6298), within these bounds.",
    }),
  }),
  fanout: integerOr('all', {
    default: 2,
    min: 1,
    max: 16,
    meaning: 'With `dispatch` `race`: servers raced per query; the first good answer wins.',
  }),
  timeoutMs: integer({
    default: 2000,
    min: 50,
    max: 30_000,
    meaning: 'Deadline for one server to answer (UDP and, after truncation, TCP together).',
  }),
  maxInflight: integer({
    default: 1024,
    min: 1,
    max: 1_000_000,
    meaning: 'Forwarded queries in flight; past it new ones get an immediate answer: their stale answer when one is kept, else SERVFAIL.',
  }),
  tcp: section('Client connections over TCP (RFC 7766), capped so that idle or trickling sockets cannot exhaust the agent.', {
    maxConnections: integer({
      default: 256,
      min: 1,
      max: 100_000,
      meaning:
        'Client TCP connections in all; past it the longest-idle one is closed for a new one, which is closed at once only when none is idle.',
    }),
    idleTimeoutMs: integer({
      default: 10_000,
      min: 100,
      max: 600_000,
      meaning: 'An idle client TCP connection (one that never sends anything, too) is closed after this.',
    }),
    maxConnectionsPerClient: integer({
      default: 32,
      min: 1,
      max: 100_000,
      meaning:
        "Client TCP connections one source address may hold; past it that client's longest-idle one is closed for a new one, " +
        'which is closed at once only when none of them is idle. The `rateLimit.exempt` addresses are not capped.',
    }),
    queryTimeoutMs: integer({
      default: 5000,
      min: 100,
      max: 600_000,
      meaning:
        'Once the first byte of a message has arrived, the rest must arrive within this, or the connection is closed (slow senders).',
    }),
  }),
  acl: networks({
    defaultText: "loopback and the node's own networks",
    meaning:
      'Client networks served (a bare address is one host); any other source gets REFUSED. Left out, it follows the node on every reload.',
  }),
  rateLimit: section('A token bucket per client address.', {
    perClientQps: integer({
      default: 1000,
      min: 0,
      max: 1_000_000,
      meaning: 'Queries a second per client address; `0` turns the limit off. Over it: TC over UDP, REFUSED over TCP.',
    }),
    burst: integer({ default: 2000, min: 1, max: 10_000_000, meaning: 'Queries a client that has been quiet may send at once.' }),
    exempt: networks({
      defaultText: "loopback and the node's own addresses",
      meaning: 'Never rate-limited nor capped in TCP connections, in the `acl` form.',
    }),
  }),
  health: section('How servers are judged: failures weigh less as they age, and a failing server is probed until it answers.', {
    halfLifeMs: integer({
      default: 30_000,
      min: 100,
      max: 3_600_000,
      meaning: "A server's failure score halves over this time, so an old failure is forgiven.",
    }),
    downAfterFailures: integer({ default: 3, min: 1, max: 100, meaning: 'Consecutive failures that mark a server down.' }),
    probeIntervalMs: integer({
      default: 2000,
      min: 50,
      max: 600_000,
      meaning: 'How often a failing or down server is probed in the background (one probe at a time).',
    }),
  }),
  log: section('Logs: JSON lines on stdout, filed by syslog priority under systemd (`journalctl -p`).', {
    level: oneOf(LOG_LEVELS, { default: 'info', meaning: 'The least severe level written.' }),
  }),
  cache: section('The answer cache: answers from servers kept for their TTL (RFC 2308 for negative answers).', {
    enabled: flag({ default: true, meaning: 'Keep forwarded answers for their TTL.' }),
    maxEntries: integer({ default: 10_000, min: 1, max: 10_000_000, meaning: 'Answers kept; the least recently used goes first.' }),
    maxTtlSec: integer({ default: 300, min: 0, max: 86_400, meaning: 'Longest an answer is kept, its own TTL permitting.' }),
    mesosMaxTtlSec: integer({
      default: 2,
      min: 0,
      max: 86_400,
      meaning:
        'The same for the Mesos domain, short so that new and moved tasks show up quickly ' +
        '(Mesos-DNS itself refreshes every 60 s by default). `0` turns caching off there.',
    }),
  }),
  serveStale: section('Serve-stale (RFC 8767): the last good answer when every server for a name fails, instead of SERVFAIL.', {
    enabled: flag({ default: true, meaning: 'When every server for a name fails, answer with the last good answer.' }),
    maxEntries: integer({ default: 10_000, min: 1, max: 10_000_000, meaning: 'Answers kept; the least recently used goes first.' }),
    // At least one largest DNS message (64 KiB).
    maxBytes: integer({
      default: 16 * 1024 * 1024,
      min: 65_536,
      max: 1024 * 1024 * 1024,
      meaning: "Memory cap (16 MiB by default, 1 GiB at most): the answers' bytes plus an estimated overhead of each.",
    }),
    // RFC 8767 §5 suggests 1 to 3 days; a week is its cap for any TTL.
    maxStaleSec: integer({
      default: 86_400,
      min: 1,
      max: 604_800,
      meaning: 'An answer more than this past its TTL is never served (a day by default; RFC 8767 suggests 1–3 days).',
    }),
    // Under glibc's one second (`options timeout:1`, which genresolv writes), so the stale answer
    // reaches the client before it gives up on the agent.
    clientTimeoutMs: integer({
      default: 400,
      min: 1,
      max: 60_000,
      meaning:
        "When the servers have not answered within this and a stale answer is kept, the client gets it at once (RFC 8767's client-response timer); the servers are still waited for, and their answer refreshes the store.",
    }),
    // 0 would tell clients not to keep it at all.
    ttlSec: integer({
      default: 30,
      min: 1,
      max: 3600,
      meaning: 'The TTL of every record in a stale answer, so clients ask again soon (RFC 8767 recommends 30).',
    }),
  }),
  http: section('The HTTP API and metrics.', {
    enabled: flag({ default: true, meaning: 'Serve the HTTP API.' }),
    listen: endpoint({ default: '127.0.0.1:62080', port: 62080, meaning: "The API's one address. Changes need a restart." }),
  }),
  watchdog: section('`phalanx-watchdog`: restarts an agent that stops answering ready.spartan.', {
    enabled: flag({ default: true, meaning: '`false`: log what it would do, restart nothing.' }),
    addresses: endpoints({ port: 53, default: 'listen', meaning: 'Addresses asked for ready.spartan; any answer means healthy.' }),
    timeoutMs: integer({ default: 5000, min: 50, max: 60_000, meaning: 'Deadline for each address in a round.' }),
    retryDelayMs: integer({ default: 60_000, min: 0, max: 600_000, meaning: 'Wait between the first failed round and the second.' }),
    restartCommand: argv({
      default: DEFAULT_RESTART_COMMAND,
      meaning: 'Program and arguments run after two failed rounds; a program that cannot be found is a config error.',
    }),
  }),
  genresolv: section(
    "`phalanx-genresolv`: writes resolv.conf with the agent's addresses that answer ready.spartan (while none does, the upstreams).",
    {
      path: absolutePath({
        default: '/etc/resolv.conf',
        meaning: 'The file written (`--output PATH` overrides it); its directory must be writable.',
      }),
      search: words({
        default: [],
        valid: isDomainName,
        what: 'domain names such as "marathon.mesos"',
        meaning: '`search` domains, e.g. `["marathon.mesos"]`.',
      }),
      options: words({
        default: ['timeout:1', 'attempts:3'],
        valid: (v) => /^[a-z0-9-]+(:\d+)?$/.test(v),
        what: 'resolv.conf options such as "timeout:1"',
        meaning: '`options`; with `timeout:1`, a hung nameserver costs a lookup 1 s instead of 5 s.',
      }),
      timeoutMs: integer({ default: 5000, min: 50, max: 60_000, meaning: 'Deadline for each agent address to answer ready.spartan.' }),
    },
  ),
});

export type Config = ValueOf<typeof CONFIG_TABLE>;
export type LogLevel = Config['log']['level'];
export type HealthConfig = Config['health'];
export type TcpConfig = Config['tcp'];
export type RateLimitConfig = Config['rateLimit'];
export type ServeStaleConfig = Config['serveStale'];

/** Builds the typed config from parsed JSON. Throws ConfigError on the first problem. */
export function parseConfig(raw: unknown): Config {
  return readTable(CONFIG_TABLE, raw);
}

/** A config in the JSON shape it was written in, for logs and the HTTP API. */
export function describeConfig(c: Config): Record<string, unknown> {
  return showTable(CONFIG_TABLE, c);
}
