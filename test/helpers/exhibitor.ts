// An in-process stand-in for Exhibitor's GET /exhibitor/v1/cluster/status: a JSON array like
// [{"code":3,"description":"serving","hostname":"10.0.4.160","isLeader":false}, ...], switchable
// at run time into the ways a real one fails (error status, malformed body, slow, hung).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { assertLoopback } from '../../sim/ports.js';

export const EXHIBITOR_STATUS_PATH = '/exhibitor/v1/cluster/status';

export interface ExhibitorServer {
  hostname: string;
  /** Exhibitor's server state code: 3 = serving (the default), 0 = latent, 1 = down, 2 = not serving. */
  code?: number;
  description?: string;
  isLeader?: boolean;
}

export interface ExhibitorRequest {
  method: string;
  url: string;
  at: number;
}

export interface ExhibitorFixtureOptions {
  /** Loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port); e.g. 8181 on a spare 127.0.0.x to play Exhibitor's default port. */
  port?: number;
  servers?: Array<string | ExhibitorServer>;
  /** Hostname or index of the leader among `servers`. */
  leader?: string | number;
}

const DESCRIPTIONS: Record<number, string> = { 0: 'latent', 1: 'down', 2: 'not serving', 3: 'serving' };

export class ExhibitorFixture {
  /** Every request received (any path), in order. */
  readonly requests: ExhibitorRequest[] = [];
  private servers: Array<Required<ExhibitorServer>> = [];
  private status = 200;
  private body: string | undefined;
  private hang = false;
  private delayMs = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(opts: ExhibitorFixtureOptions = {}): Promise<ExhibitorFixture> {
    const host = opts.host ?? '127.0.0.1';
    assertLoopback(host);
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: opts.port ?? 0, exclusive: true }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    const fx = new ExhibitorFixture(server, host, (server.address() as AddressInfo).port);
    server.on('connection', (sock: Socket) => {
      fx.sockets.add(sock);
      sock.on('close', () => fx.sockets.delete(sock));
    });
    server.on('request', (req, res) => fx.handle(req, res));
    fx.setServers(opts.servers ?? [], opts.leader);
    return fx;
  }

  /** The full status URL, e.g. http://127.0.0.1:41234/exhibitor/v1/cluster/status. */
  get url(): string {
    return `${this.baseUrl}${EXHIBITOR_STATUS_PATH}`;
  }

  /** http://host:port (what a config naming the Exhibitor host would point at). */
  get baseUrl(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Number of requests received so far (any path). */
  get requestCount(): number {
    return this.requests.length;
  }

  /** Status requests only. */
  get statusRequestCount(): number {
    return this.requests.filter((r) => r.url.split('?')[0] === EXHIBITOR_STATUS_PATH).length;
  }

  /**
   * Serve this cluster (every entry "serving" unless given otherwise). Also clears setStatus and
   * setBody overrides, so it is the way back to a healthy Exhibitor; delay and hang stay as set.
   */
  setServers(servers: Array<string | ExhibitorServer>, leader?: string | number): void {
    this.servers = servers.map((s, i) => {
      const e = typeof s === 'string' ? { hostname: s } : s;
      const code = e.code ?? 3;
      const isLeader = leader === undefined ? (e.isLeader ?? false) : leader === i || leader === e.hostname;
      return { hostname: e.hostname, code, description: e.description ?? DESCRIPTIONS[code] ?? 'unknown', isLeader };
    });
    this.status = 200;
    this.body = undefined;
  }

  /** Answer with this HTTP status (body: a short text, or setBody's text). 200 = back to normal. */
  setStatus(status: number): void {
    this.status = status;
  }

  /** Answer with this raw text (e.g. malformed JSON) instead of the server list; undefined = off. */
  setBody(raw: string | undefined): void {
    this.body = raw;
  }

  /** Accept requests and never answer them (until setHang(false) for new ones, or stop()). */
  setHang(hang: boolean): void {
    this.hang = hang;
  }

  /** Answer every request only after ms milliseconds. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** The JSON the fixture currently serves when healthy. */
  statusJson(): Array<Required<ExhibitorServer>> {
    return this.servers.map((s) => ({ ...s }));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now() });
    req.resume();
    if (this.hang) return; // the socket stays open; stop() destroys it
    const respond = () => {
      if (res.destroyed) return;
      const path = (req.url ?? '').split('?')[0];
      if (path !== EXHIBITOR_STATUS_PATH) return send(res, 404, 'text/plain', 'not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
      if (this.body !== undefined) return send(res, this.status, 'application/json', this.body);
      if (this.status !== 200) return send(res, this.status, 'text/plain', `exhibitor fixture: status ${this.status}\n`);
      send(res, 200, 'application/json', JSON.stringify(this.servers));
    };
    if (this.delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        respond();
      }, this.delayMs);
      this.timers.add(t);
    } else {
      respond();
    }
  }

  /** Closes the listener and every connection, hanging or idle; idempotent. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.server.closeAllConnections();
    });
    return this.stopped;
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
