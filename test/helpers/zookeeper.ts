// A real ZooKeeper for tests: one standalone server or a 3-node ensemble, each member a JVM
// (QuorumPeerMain from Debian's `zookeeper` package) on its own 127.0.0.x address, with a temp
// data dir, started directly (never the system service). Also helpers that register Mesos masters
// the way Mesos does (EPHEMERAL_SEQUENTIAL `json.info_` znodes holding MasterInfo JSON).
//
// Findings this file relies on (ZooKeeper 3.8.0, Debian 12):
// - /zookeeper/config is empty ("") on a standalone server. In an ensemble it holds the static
//   config's server lines plus "version=0"; the client address only appears when the server line
//   carries it ("server.1=127.0.0.1:P:E;127.0.0.1:C" -> "server.1=127.0.0.1:P:E:participant;
//   127.0.0.1:C"), so ensembles here always write it that way.
// - Four-letter words answer on the client port: `ruok` -> `imok` as soon as the JVM is up (also
//   while an ensemble member is still electing); `srvr` says "Mode: leader|follower|standalone"
//   only once the member serves, "This ZooKeeper instance is not currently serving requests"
//   before that.
// - Processes must not outlive the test run, but jest hands test code a copy of `process` whose
//   'exit' listeners never run. So every JVM is started under `setpriv --pdeathsig KILL` (the
//   kernel kills it when the node process that spawned it dies, however that happens); the
//   process 'exit' handler below is the fallback outside jest or without setpriv.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zookeeper, { type Client, type Exception, type Stat } from 'node-zookeeper-client';
import { assertLoopback, freePort } from '../../sim/ports.js';
import { settlesWithin, sleep, waitFor } from './time.js';

export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const CLASSPATH = ['/etc/zookeeper/conf_example', ZOOKEEPER_JAR, '/usr/share/java/slf4j-simple.jar'].join(':');
const SETPRIV = '/usr/bin/setpriv';

/** JVM flags: small heap, fast start (C1 only, serial GC), bounded election back-off. */
const JVM_ARGS = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  // FastLeaderElection doubles its notification timeout up to 60 s by default; a member that
  // came up late or lost its leader then waits far longer than a test should.
  '-Dzookeeper.fastleader.maxNotificationInterval=800',
  // Timestamps in the log (slf4j-simple prints none by default).
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
  '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
];

export const DEFAULT_HOSTS: Record<number, string[]> = {
  1: ['127.0.0.1'],
  3: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
};

export interface ZooKeeperMember {
  /** myid (1-based). */
  readonly id: number;
  readonly host: string;
  readonly clientPort: number;
  /** Quorum (follower -> leader) port; 0 for a standalone server. */
  readonly peerPort: number;
  /** Leader-election port; 0 for a standalone server. */
  readonly electionPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  running: boolean;
  /** pid of the running JVM, undefined when stopped. */
  pid: number | undefined;
}

export interface ZooKeeperStartOptions {
  size?: 1 | 3;
  /** One loopback address per member; default 127.0.0.1 (size 1) or 127.0.0.1–3 (size 3). */
  hosts?: string[];
  /** ms; default 500 (min/max negotiated session timeout: 2x / 20x tickTime = 1 s / 10 s). */
  tickTime?: number;
  /** Extra zoo.cfg lines (key=value), e.g. { maxSessionTimeout: 4000 }. */
  extraConfig?: Record<string, string | number | boolean>;
  /** Deadline for the whole start (every member answering and, for an ensemble, a leader). */
  timeoutMs?: number;
  /**
   * Run a single server in quorum mode (standaloneEnabled=false, myid, a server.1 line): it then
   * reports "Mode: leader" and, unlike a standalone server, lists itself in /zookeeper/config.
   * Always true for 3 members.
   */
  quorum?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: everything we spawned and have not seen exit.

const live = new Set<ChildProcess>();
/** Data dirs of ensembles not yet stopped; the exit hook removes them too. */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!process.env.PHALANX_KEEP_ZK_DIRS) for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Four-letter words.

/** Sends a four-letter word to host:port and resolves with the whole reply (the server closes). */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 1000): Promise<string> {
  assertLoopback(host);
  return new Promise((resolve, reject) => {
    let reply = '';
    let settled = false;
    const sock = net.connect({ host, port });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    const timer = setTimeout(() => finish(new Error(`${word} to ${host}:${port}: no reply within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(word));
    sock.on('data', (chunk: string) => (reply += chunk));
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (err) => finish(err));
  });
}

/** "leader" | "follower" | "standalone" | "observer", or undefined when not serving / not answering. */
export async function zkMode(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  try {
    const reply = await fourLetterWord(host, port, 'srvr', timeoutMs);
    return /^Mode: (\w+)/m.exec(reply)?.[1];
  } catch {
    return undefined;
  }
}

async function ruok(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  try {
    return (await fourLetterWord(host, port, 'ruok', timeoutMs)) === 'imok';
  } catch {
    return false;
  }
}

/** True when nothing accepts TCP connections on host:port. */
function portClosed(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(closed);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => done(false));
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/** Free ports on `host` that differ from each other (freePort alone may repeat a number). */
async function distinctPorts(host: string, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count && attempt < count * 10; attempt++) {
    const p = await freePort(host);
    if (!ports.includes(p)) ports.push(p);
  }
  if (ports.length < count) throw new Error(`could not find ${count} distinct free ports on ${host}`);
  return ports;
}

// ---------------------------------------------------------------------------------------------

export class ZooKeeperEnsemble {
  readonly members: ZooKeeperMember[];
  /** True for an ensemble (or a 1-member quorum), false for a standalone server. */
  readonly quorum: boolean;
  private readonly children = new Map<number, ChildProcess>();
  private readonly exits = new Map<number, Promise<void>>();
  private stopping: Promise<void> | undefined;

  private constructor(members: ZooKeeperMember[], quorum: boolean) {
    this.members = members;
    this.quorum = quorum;
  }

  /** Starts every member; resolves when all answer and (ensemble) a leader with followers serves. */
  static async start(opts: ZooKeeperStartOptions = {}): Promise<ZooKeeperEnsemble> {
    if (!existsSync(ZOOKEEPER_JAR)) {
      throw new Error(`${ZOOKEEPER_JAR} is missing: apt-get install --no-install-recommends zookeeper (test/run.sh does)`);
    }
    const size = opts.size ?? ((opts.hosts?.length ?? 1) as 1 | 3);
    const hosts = opts.hosts ?? DEFAULT_HOSTS[size];
    if (!hosts || hosts.length !== size)
      throw new Error(`ZooKeeperEnsemble: size ${size} needs ${size} hosts, got ${JSON.stringify(opts.hosts)}`);
    hosts.forEach(assertLoopback);
    const tickTime = opts.tickTime ?? 500;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const quorum = size > 1 || opts.quorum === true;

    // Ports first, for every member, so each config can name every other member.
    const ports: number[][] = [];
    for (let i = 0; i < size; i++) ports.push(await distinctPorts(hosts[i], quorum ? 3 : 1));
    installExitHook();
    const members: ZooKeeperMember[] = [];
    for (let i = 0; i < size; i++) {
      const [clientPort, peerPort = 0, electionPort = 0] = ports[i];
      const dataDir = mkdtempSync(join(tmpdir(), `phalanx-zk${i + 1}-`));
      liveDirs.add(dataDir);
      members.push({
        id: i + 1,
        host: hosts[i],
        clientPort,
        peerPort,
        electionPort,
        dataDir,
        logFile: join(dataDir, 'zookeeper.log'),
        running: false,
        pid: undefined,
      });
    }
    for (const m of members) {
      const lines = [
        `tickTime=${tickTime}`,
        'initLimit=20',
        'syncLimit=5',
        `dataDir=${m.dataDir}`,
        `clientPort=${m.clientPort}`,
        `clientPortAddress=${m.host}`,
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,srvr,stat,mntr',
        // Static config only (the 3.5+ default): no zoo.cfg.dynamic.* files, /zookeeper/config
        // carries version=0, and a restarted member reads the very same zoo.cfg.
        'reconfigEnabled=false',
      ];
      if (quorum) {
        // The quorum and election ports bind to the member's own address (quorumListenOnAllIPs
        // is false); ";host:clientPort" makes /zookeeper/config carry the client address too.
        for (const o of members) lines.push(`server.${o.id}=${o.host}:${o.peerPort}:${o.electionPort};${o.host}:${o.clientPort}`);
        writeFileSync(join(m.dataDir, 'myid'), `${m.id}\n`);
        if (size === 1) lines.push('standaloneEnabled=false');
      }
      // Last, so they override the lines above (java.util.Properties: the last key wins).
      for (const [k, v] of Object.entries(opts.extraConfig ?? {})) lines.push(`${k}=${v}`);
      writeFileSync(join(m.dataDir, 'zoo.cfg'), lines.join('\n') + '\n');
    }

    const zk = new ZooKeeperEnsemble(members, quorum);
    try {
      const deadline = Date.now() + timeoutMs;
      for (let i = 0; i < size; i++) zk.spawnMember(i);
      await Promise.all(members.map((_, i) => zk.waitForRuok(i, deadline)));
      await zk.waitForQuorum(Math.max(1000, deadline - Date.now()));
    } catch (err) {
      await zk.stopAll();
      throw err;
    }
    return zk;
  }

  get size(): number {
    return this.members.length;
  }

  /** "127.0.0.1:P1,127.0.0.2:P2,127.0.0.3:P3" (every member, running or not). */
  get connectString(): string {
    return this.members.map((m) => `${m.host}:${m.clientPort}`).join(',');
  }

  /** The last `lines` lines of member i's ZooKeeper log. */
  logTail(i: number, lines = 30): string {
    try {
      return readFileSync(this.members[i].logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private logTails(lines = 15): string {
    return this.members.map((m, i) => `--- zk member ${m.id} (${m.host}:${m.clientPort}) log tail:\n${this.logTail(i, lines)}`).join('\n');
  }

  private spawnMember(i: number): void {
    const m = this.members[i];
    installExitHook();
    const java = ['java', ...JVM_ARGS, '-cp', CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(m.dataDir, 'zoo.cfg')];
    const [cmd, ...args] = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...java] : java;
    const log = openSync(m.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { cwd: m.dataDir, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    // Do not hold the test's event loop open: stop()/stopAll() and pdeathsig end the JVM.
    child.unref();
    live.add(child);
    this.children.set(i, child);
    m.running = true;
    m.pid = child.pid;
    this.exits.set(
      i,
      new Promise<void>((resolve) => {
        const gone = () => {
          live.delete(child);
          if (this.children.get(i) === child) {
            this.children.delete(i);
            m.running = false;
            m.pid = undefined;
          }
          resolve();
        };
        child.once('exit', gone);
        child.once('error', (err) => {
          writeFileSync(m.logFile, `spawn ${cmd} failed: ${err.message}\n`, { flag: 'a' });
          gone();
        });
      }),
    );
  }

  /** ruok -> imok from member i (or an error with its log tail when it exits or the deadline passes). */
  private async waitForRuok(i: number, deadline: number): Promise<void> {
    const m = this.members[i];
    const answered = await waitFor(
      async () => {
        if (!m.running) throw new Error(`zk member ${m.id} exited during start-up:\n${this.logTail(i)}`);
        return ruok(m.host, m.clientPort);
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 50 },
    );
    if (answered) return;
    throw new Error(`zk member ${m.id} (${m.host}:${m.clientPort}) did not answer ruok in time:\n${this.logTail(i)}`);
  }

  /** Kills member i (SIGKILL by default: a crash) and waits until its client port is closed. */
  async stop(i: number, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const m = this.members[i];
    const child = this.children.get(i);
    if (!m || !child) return;
    const exited = this.exits.get(i)!;
    child.kill(signal);
    if (!(await settlesWithin(exited, timeoutMs))) {
      child.kill('SIGKILL');
      await settlesWithin(exited, 5000);
    }
    if (await waitFor(() => portClosed(m.host, m.clientPort), { timeoutMs: 5000, everyMs: 50 })) return;
    throw new Error(`zk member ${m.id}: client port ${m.host}:${m.clientPort} still open after stop`);
  }

  /**
   * Starts member i again (same zoo.cfg and data dir); resolves when it answers ruok and, in an
   * ensemble (quorum mode), when it serves (srvr reports a mode, i.e. it has joined a quorum).
   */
  async startMember(i: number, timeoutMs = 20_000): Promise<void> {
    const m = this.members[i];
    if (!m) throw new Error(`no zk member ${i}`);
    if (this.stopping) throw new Error('ensemble already stopped');
    if (m.running) return;
    const deadline = Date.now() + timeoutMs;
    this.spawnMember(i);
    await this.waitForRuok(i, deadline);
    if (!this.quorum) return;
    const serving = await waitFor(
      async () => {
        if (!m.running) throw new Error(`zk member ${m.id} exited after restart:\n${this.logTail(i)}`);
        return (await zkMode(m.host, m.clientPort)) !== undefined;
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 50 },
    );
    if (serving) return;
    throw new Error(`zk member ${m.id} restarted but did not join a quorum within ${timeoutMs} ms:\n${this.logTails()}`);
  }

  /** Index of the member whose `srvr` says "Mode: leader"; undefined when none (or standalone). */
  async leaderIndex(): Promise<number | undefined> {
    const modes = await this.modes();
    const i = modes.indexOf('leader');
    return i >= 0 ? i : undefined;
  }

  /** Mode of every member (undefined for stopped or not-serving members). */
  async modes(): Promise<Array<string | undefined>> {
    return Promise.all(this.members.map((m) => (m.running ? zkMode(m.host, m.clientPort) : Promise.resolve(undefined))));
  }

  /**
   * Every running member serves: standalone, or one leader and the rest followers. (Requiring a
   * leader among the running members means a just-killed leader's former followers, which may
   * still say "follower" for a moment, do not count as a quorum.)
   */
  async waitForQuorum(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const running = () => this.members.filter((m) => m.running).length;
    if (this.size > 1 && running() <= this.size / 2) {
      throw new Error(`only ${running()} of ${this.size} zk members running: no quorum possible`);
    }
    let last: Array<string | undefined> = [];
    const ok = await waitFor(
      async () => {
        last = await this.modes();
        const up = this.members.map((m, i) => ({ m, mode: last[i] })).filter((x) => x.m.running);
        if (up.length === 0) throw new Error('no zk member running');
        return !this.quorum
          ? up[0].mode === 'standalone'
          : up.filter((x) => x.mode === 'leader').length === 1 && up.every((x) => x.mode === 'leader' || x.mode === 'follower');
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 100 },
    );
    if (ok) return;
    throw new Error(`no zk quorum within ${timeoutMs} ms (modes ${JSON.stringify(last)}):\n${this.logTails()}`);
  }

  /** Closes helper-owned clients of this ensemble, kills every member, removes the temp dirs. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      await closeClientsOf(this.connectString);
      for (const child of this.children.values()) child.kill('SIGKILL');
      await settlesWithin(Promise.all(this.exits.values()), 10_000);
      if (!process.env.PHALANX_KEEP_ZK_DIRS) {
        for (const m of this.members) rmSync(m.dataDir, { recursive: true, force: true });
      }
      for (const m of this.members) liveDirs.delete(m.dataDir);
    })();
    return this.stopping;
  }
}

// ---------------------------------------------------------------------------------------------
// Clients (node-zookeeper-client, promise-wrapped).

/** Clients opened by connectZk, with the connect string they use; stopAll closes its ensemble's. */
const owned = new Map<Client, string>();
/** The client that registered each master path (last registration of a path wins). */
const masterClients = new Map<string, Client>();

type Cb<T> = (err: Error | Exception | null, value: T) => void;

/** Runs one callback-style client call as a promise, with a deadline. */
export function zkCall<T>(what: string, op: (cb: Cb<T>) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    op((err, value) => {
      clearTimeout(timer);
      if (err) reject(err instanceof Error ? err : new Error(`${what}: ${String(err)}`));
      else resolve(value);
    });
  });
}

/** A connected client (rejects after timeoutMs). Close it with closeZk. */
export async function connectZk(connectString: string, opts: { sessionTimeout?: number; timeoutMs?: number } = {}): Promise<Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: opts.sessionTimeout ?? 5000, spinDelay: 100, retries: 0 });
  owned.set(client, connectString);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not connect to ZooKeeper ${connectString} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
  } catch (err) {
    await closeZk(client);
    throw err;
  }
  return client;
}

// node-zookeeper-client internals, used only to make close() reliable (see closeZk).
interface ConnectionManagerInternals {
  state: number;
  socket?: net.Socket;
  setState(state: number): void;
}
const CM_CLOSING = -1;
const CM_CLOSED = -2;

/**
 * Closes a client and waits until its connection is gone: ends its session (so its ephemeral
 * znodes vanish at once) when a server is reachable, and stops its reconnect loop otherwise.
 */
export async function closeZk(client: Client, timeoutMs = 3000): Promise<void> {
  owned.delete(client);
  for (const [path, c] of masterClients) if (c === client) masterClients.delete(path);
  // close() throws when it runs in the same tick as connect() or a state change.
  await new Promise((r) => setImmediate(r));
  try {
    client.close();
  } catch {
    /* never connected */
  }
  const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
  if (!cm) return;
  const deadline = Date.now() + timeoutMs;
  await waitFor(() => cm.state === CM_CLOSED, { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 15 });
  // Still reconnecting (its server is dead) or stuck after expiry: the client would retry
  // forever. Force CLOSING and drop the socket; a pending reconnect timer (spinDelay, 100 ms for
  // our clients) may fire once more and reopen, hence the rounds.
  for (let n = 0; n < 20 && cm.state !== CM_CLOSED; n++) {
    cm.setState(CM_CLOSING);
    cm.socket?.destroy();
    await sleep(150);
    if (cm.state === CM_CLOSING && (!cm.socket || cm.socket.destroyed)) return;
  }
}

async function closeClientsOf(connectString: string): Promise<void> {
  await Promise.all([...owned].filter(([, cs]) => cs === connectString).map(([c]) => closeZk(c)));
}

export const zkGetData = (client: Client, path: string): Promise<Buffer> =>
  zkCall<Buffer>(`getData ${path}`, (cb) => client.getData(path, cb));
export const zkGetChildren = (client: Client, path: string): Promise<string[]> =>
  zkCall<string[]>(`getChildren ${path}`, (cb) => client.getChildren(path, cb));
export const zkExists = async (client: Client, path: string): Promise<boolean> =>
  (await zkCall<Stat | null>(`exists ${path}`, (cb) => client.exists(path, cb as Cb<Stat>))) != null;
export const zkCreate = (
  client: Client,
  path: string,
  data: string | Buffer = '',
  mode = zookeeper.CreateMode.PERSISTENT,
): Promise<string> => zkCall<string>(`create ${path}`, (cb) => client.create(path, Buffer.from(data), mode, cb));
export const zkRemove = (client: Client, path: string): Promise<void> =>
  zkCall<void>(`remove ${path}`, (cb) => client.remove(path, (err) => cb(err, undefined)));

// ---------------------------------------------------------------------------------------------
// Mesos masters.

export interface MasterRegistration {
  ip: string;
  port?: number;
  hostname?: string;
  /** The Mesos znode; default /mesos. */
  znode?: string;
  id?: string;
  version?: string;
  /** Raw znode content instead of the MasterInfo JSON (for malformed-data tests). */
  data?: string | Buffer;
}

/** Mesos's legacy `ip` field: the IPv4 address in network byte order read as a little-endian uint32. */
function legacyIp(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return (parts[0] | (parts[1] << 8) | (parts[2] << 16) | (parts[3] << 24)) >>> 0;
}

/** The MasterInfo JSON Mesos 1.x writes into its json.info_ znodes. */
export function masterInfo(reg: MasterRegistration): Record<string, unknown> {
  const port = reg.port ?? 5050;
  const hostname = reg.hostname ?? reg.ip;
  return {
    address: { hostname, ip: reg.ip, port },
    hostname,
    id: reg.id ?? randomUUID(),
    ip: legacyIp(reg.ip),
    pid: `master@${reg.ip}:${port}`,
    port,
    version: reg.version ?? '1.10.1',
  };
}

/**
 * Registers a Mesos master: creates the znode (default /mesos) if missing and an
 * EPHEMERAL_SEQUENTIAL child `json.info_<seq>` holding its MasterInfo JSON; resolves with the
 * created path. The znode lives as long as the registering client's session:
 * - given a Client, that is the caller's client (closeZk(client) = the master dies);
 * - given a connect string, a new client is opened for it: masterClient(path) returns it and
 *   closeMaster(path) closes it (the ensemble's stopAll closes it too).
 */
export async function registerMaster(target: Client | string, reg: MasterRegistration): Promise<string> {
  assertLoopback(reg.ip);
  const client = typeof target === 'string' ? await connectZk(target) : target;
  try {
    const znode = (reg.znode ?? '/mesos').replace(/\/+$/, '') || '/';
    await zkCall<string>(`mkdirp ${znode}`, (cb) => client.mkdirp(znode, cb));
    const data = reg.data ?? JSON.stringify(masterInfo(reg));
    const path = await zkCall<string>(`create ${znode}/json.info_`, (cb) =>
      client.create(`${znode === '/' ? '' : znode}/json.info_`, Buffer.from(data), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb),
    );
    masterClients.set(path, client);
    return path;
  } catch (err) {
    if (typeof target === 'string') await closeZk(client);
    throw err;
  }
}

/** The client whose session holds the master znode `path` (as registered by registerMaster). */
export function masterClient(path: string): Client | undefined {
  return masterClients.get(path);
}

/** The master "dies": closes the session that holds `path` (its znode disappears at once). */
export async function closeMaster(path: string): Promise<void> {
  const client = masterClients.get(path);
  if (client) await closeZk(client);
}

/**
 * Deletes the master znode `path` with `client` or the one that created it. That session stays
 * open (closeMaster(path) still closes it).
 */
export async function deleteMaster(path: string, client?: Client): Promise<void> {
  const c = client ?? masterClients.get(path);
  if (!c) throw new Error(`deleteMaster: no client known for ${path}; pass one`);
  await zkRemove(c, path);
}
