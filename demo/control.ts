// The demo's control endpoint (default 127.0.0.1:62081) and its client, used by the CLI
// subcommands: stop, hang or revive a master or an upstream while the agent keeps serving.
//
//   GET  /                               status: the agent, every simulated server and its state
//   POST /masters/{n|all}/{stop|hang|revive}
//   POST /upstreams/{n|all}/{stop|hang|revive}
//   POST /reload                         re-read the Mesos state file
import http from 'node:http';
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import type { Role, ServerAction, ServerStatus } from './cluster.js';

export const DEFAULT_CONTROL = '127.0.0.1:62081';
export const ACTIONS: readonly ServerAction[] = ['stop', 'hang', 'revive'];

export interface ActionResult {
  changed: ServerStatus[];
  unchanged: ServerStatus[];
}

export interface ControlHandlers {
  status(): unknown;
  /** undefined when `which` names no server. */
  act(role: Role, which: string, action: ServerAction): Promise<ActionResult | undefined>;
  reload(): { records: number } | { error: string };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const ROLE: Record<string, Role> = { masters: 'master', master: 'master', upstreams: 'upstream', upstream: 'upstream' };

async function route(req: http.IncomingMessage, res: http.ServerResponse, h: ControlHandlers): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://demo').pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (path === '/' || path === '/status') {
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: 'use GET', status: 405 }, { allow: 'GET, HEAD' });
    return send(res, 200, h.status());
  }
  if (path === '/reload') {
    if (method !== 'POST') return send(res, 405, { error: 'use POST', status: 405 }, { allow: 'POST' });
    const r = h.reload();
    return 'error' in r ? send(res, 422, { error: r.error, status: 422 }) : send(res, 200, r);
  }
  const m = /^\/([a-z]+)\/([^/]+)\/([a-z]+)$/.exec(path);
  const role = m && ROLE[m[1]];
  if (!m || !role || !(ACTIONS as readonly string[]).includes(m[3])) {
    return send(res, 404, { error: `no such route ${path}; try GET / or POST /masters/1/hang`, status: 404 });
  }
  if (method !== 'POST') return send(res, 405, { error: 'use POST', status: 405 }, { allow: 'POST' });
  const result = await h.act(role, m[2], m[3] as ServerAction);
  if (!result) return send(res, 404, { error: `no ${role} "${m[2]}"; use a number from 1 or "all"`, status: 404 });
  return send(res, 200, result);
}

export function startControlServer(endpoint: Endpoint, handlers: ControlHandlers): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    route(req, res, handlers).catch((err) => send(res, 500, { error: (err as Error).message, status: 500 }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: endpoint.host, port: endpoint.port, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

export function closeControlServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface ControlReply {
  status: number;
  body: unknown;
}

/** One request to a running demo's control endpoint; rejects when none answers within 5 s. */
export function controlRequest(endpoint: Endpoint, method: 'GET' | 'POST', path: string): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: endpoint.host, port: endpoint.port, method, path, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`${formatEndpoint(endpoint)} answered something that is not the demo's JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${formatEndpoint(endpoint)} within 5 s`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ECONNREFUSED'
          ? new Error(`no demo is running with controls at ${formatEndpoint(endpoint)} (start one with: npm start)`)
          : err,
      ),
    );
    req.end();
  });
}
