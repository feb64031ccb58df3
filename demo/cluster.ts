// The simulated cluster: Mesos-DNS-compatible "masters" serving the records a Mesos state yields
// (sim/mesos-state), and upstream resolvers serving a small example zone, each of which can be
// stopped, hung and revived while the agent runs. Everything binds 127.0.0.0/8 only: the fake
// servers refuse any other address, so the demo never sends a packet off the machine.
import { readFileSync } from 'node:fs';
import type { Answer } from 'dns-packet';
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { mesosRecords } from '../sim/mesos-state/records.js';
import { type MesosState, parseMesosState } from '../sim/mesos-state/state.js';
import { FakeDnsServer } from '../sim/fake-dns.js';

export type Role = 'master' | 'upstream';
/** up: answers; hung: sockets open, never answers (the worst case for clients); stopped: closed. */
export type ServerState = 'up' | 'hung' | 'stopped';
export type ServerAction = 'stop' | 'hang' | 'revive';

export const UPSTREAM_ZONE = 'example.org';

/** The upstreams' zone. whoami says which upstream answered, so failover is visible. */
export function upstreamRecords(index: number, endpoint: string): Answer[] {
  return [
    { name: 'example.org', type: 'A', ttl: 300, data: '192.0.2.1' },
    { name: 'www.example.org', type: 'A', ttl: 300, data: '192.0.2.80' },
    { name: 'www.example.org', type: 'AAAA', ttl: 300, data: '2001:db8::80' },
    { name: 'whoami.example.org', type: 'TXT', ttl: 0, data: `upstream ${index} ${endpoint}` },
  ];
}

export interface MesosZoneOptions {
  stateFile: string;
  domain: string;
  enforceRFC952: boolean;
}

/** Reads and checks a Mesos state file and builds one master's records (its own address as ns1). */
export function loadMesosZone(opts: MesosZoneOptions): (nameserverIP: string) => Answer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(opts.stateFile, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'file not found' : e.message;
    throw new Error(`Mesos state ${opts.stateFile}: ${why}`, { cause: err });
  }
  let state: MesosState;
  try {
    state = parseMesosState(raw);
    // Mesos-DNS bumps the serial to the time of every refresh.
    const serial = Math.floor(Date.now() / 1000);
    mesosRecords(state, { domain: opts.domain, enforceRFC952: opts.enforceRFC952, serial }); // fails early if unusable
    return (ip) => mesosRecords(state, { domain: opts.domain, enforceRFC952: opts.enforceRFC952, serial, nameserverIPs: [ip] });
  } catch (err) {
    throw new Error(`Mesos state ${opts.stateFile}: ${(err as Error).message}`, { cause: err });
  }
}

export interface ServerStatus {
  role: Role;
  index: number;
  address: string;
  state: ServerState;
  queries: number;
}

type RecordsFor = (endpoint: Endpoint) => Answer[];

/** One simulated server that survives being stopped: reviving binds the same address again. */
export class SimulatedServer {
  private server: FakeDnsServer | undefined;
  private queriesBefore = 0;
  state: ServerState = 'stopped';

  constructor(
    readonly role: Role,
    readonly index: number,
    /** Changes only when a privileged port could not be bound (see SimulatedCluster.start). */
    public endpoint: Endpoint,
    private readonly zone: string,
    private recordsFor: RecordsFor,
    private readonly kind: { authoritative: boolean; udpLimit: number | 'edns' },
  ) {}

  get address(): string {
    return formatEndpoint(this.endpoint);
  }

  get label(): string {
    return `${this.role} ${this.index} (${this.address})`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = await FakeDnsServer.start({
      address: this.endpoint.host,
      port: this.endpoint.port,
      zone: this.zone,
      records: this.recordsFor(this.endpoint),
      authoritative: this.kind.authoritative,
      udpLimit: this.kind.udpLimit,
    });
    this.state = 'up';
  }

  setRecords(recordsFor: RecordsFor): void {
    this.recordsFor = recordsFor;
    this.server?.setRecords(recordsFor(this.endpoint));
  }

  /** Applies an action; returns false when the server already was in that state. */
  async apply(action: ServerAction): Promise<boolean> {
    const target: ServerState = action === 'stop' ? 'stopped' : action === 'hang' ? 'hung' : 'up';
    if (this.state === target) return false;
    if (target === 'stopped') {
      await this.stop();
      return true;
    }
    await this.start();
    this.server!.setBehaviour(target === 'hung' ? { kind: 'silent' } : { kind: 'answer' });
    this.state = target;
    return true;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.state = 'stopped';
    if (s) {
      this.queriesBefore += s.queryCount();
      await s.stop();
    }
  }

  status(): ServerStatus {
    return {
      role: this.role,
      index: this.index,
      address: this.address,
      state: this.state,
      queries: this.queriesBefore + (this.server?.queryCount() ?? 0),
    };
  }
}

export class SimulatedCluster {
  constructor(
    readonly masters: SimulatedServer[],
    readonly upstreams: SimulatedServer[],
  ) {}

  static create(masters: Endpoint[], upstreams: Endpoint[], mesosDomain: string, mesosZone: (ip: string) => Answer[]): SimulatedCluster {
    return new SimulatedCluster(
      // Mesos-DNS: authoritative, every UDP reply cut at 512 bytes whatever EDNS size was offered.
      masters.map(
        (e, i) => new SimulatedServer('master', i + 1, e, mesosDomain, (at) => mesosZone(at.host), { authoritative: true, udpLimit: 512 }),
      ),
      // A recursive resolver: not authoritative for what it relays, honours EDNS.
      upstreams.map(
        (e, i) =>
          new SimulatedServer('upstream', i + 1, e, UPSTREAM_ZONE, (at) => upstreamRecords(i + 1, formatEndpoint(at)), {
            authoritative: false,
            udpLimit: 'edns',
          }),
      ),
    );
  }

  /**
   * Binds every server. A port below 1024 that needs root (EACCES) is moved up by 10000
   * (53 → 10053) rather than failing the demo; the moves are returned so the agent's config can
   * follow and the user can be told. Any other failure stops what was started and throws.
   */
  async start(): Promise<Array<{ server: SimulatedServer; from: string }>> {
    const moved: Array<{ server: SimulatedServer; from: string }> = [];
    try {
      for (const s of this.all) {
        try {
          await s.start();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EACCES' || s.endpoint.port >= 1024)
            throw new ServerStartError(s, err as NodeJS.ErrnoException);
          const from = s.address;
          s.endpoint = { ...s.endpoint, port: s.endpoint.port + 10000 };
          try {
            await s.start();
          } catch (again) {
            throw new ServerStartError(s, again as NodeJS.ErrnoException);
          }
          moved.push({ server: s, from });
        }
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    return moved;
  }

  get all(): SimulatedServer[] {
    return [...this.masters, ...this.upstreams];
  }

  /** The servers `which` names: "1"…"N" or "all", among the masters or the upstreams. */
  select(role: Role, which: string): SimulatedServer[] | undefined {
    const list = role === 'master' ? this.masters : this.upstreams;
    if (which === 'all') return list;
    const n = Number(which);
    return Number.isInteger(n) && n >= 1 && n <= list.length ? [list[n - 1]] : undefined;
  }

  setMesosZone(mesosZone: (ip: string) => Answer[]): void {
    for (const m of this.masters) m.setRecords((at) => mesosZone(at.host));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((s) => s.stop()));
  }
}

export class ServerStartError extends Error {
  constructor(
    readonly server: SimulatedServer,
    readonly error: NodeJS.ErrnoException,
  ) {
    const hint =
      error.code === 'EADDRINUSE'
        ? 'something already listens there; is another demo running? (npm run demo -- status)'
        : error.code === 'EACCES'
          ? 'permission denied'
          : error.message;
    super(`cannot start ${server.label}: ${hint}`);
    this.name = 'ServerStartError';
  }
}
