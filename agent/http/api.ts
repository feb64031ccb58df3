// The read-only HTTP API: JSON for people with curl, Prometheus text for scrapers. Routing is a
// table; every handler returns a status and a body, and nothing a client sends can throw past it.
import http from 'node:http';
import type { Logger } from 'pino';
import { type Config, describeConfig } from '../../common/config/schema.js';
import { VERSION } from '../../common/version.js';
import type { AgentDescription } from './enumerate.js';
import { type Explanation, queryType } from './explain.js';
import { isValidQueryName, lookup } from './lookup.js';
import { hostEntries, recordEntries, serviceEntries } from './records.js';

export interface ApiResponse {
  status: number;
  body: unknown;
  /** Set for non-JSON bodies (metrics). */
  contentType?: string;
}

/** What the API may read of the running agent: narrow and read-only, built by the agent. */
export interface AgentView {
  /** The effective config. */
  config(): Config;
  describe(): AgentDescription;
  /** True once every listener is bound, false again from shutdown on. */
  listening(): boolean;
  /** A query through the agent's own pipeline, exactly as a DNS client's (never truncated). */
  resolve(query: Buffer): Promise<Buffer | undefined>;
  /** ready.spartan asked of the agent's first listen address; ok false with the reason otherwise. */
  ready(): Promise<{ ok: boolean; reason?: string }>;
  /** The Prometheus text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** What the agent does with one question and why, then its answer (explain.ts). */
  explain(name: string, qtype: number): Promise<Explanation>;
}

type Handler = (agent: AgentView, param: string) => Promise<ApiResponse>;

const json = (status: number, body: unknown): ApiResponse => ({ status, body });
const error = (status: number, message: string): ApiResponse => json(status, { error: message, status });

const ROUTES: Array<{ pattern: RegExp; handler: Handler }> = [
  { pattern: /^\/v1\/version$/, handler: async () => json(200, { Service: 'phalanx-dns', Version: VERSION }) },
  { pattern: /^\/v1\/config$/, handler: async (agent) => json(200, describeConfig(agent.config())) },
  { pattern: /^\/v1\/hosts\/([^/]*)$/, handler: hosts },
  { pattern: /^\/v1\/services\/([^/]*)$/, handler: services },
  { pattern: /^\/v1\/records$/, handler: async (agent) => json(200, recordEntries(agent.describe().localZones.flatMap((z) => z.records))) },
  { pattern: /^\/v1\/enumerate$/, handler: async (agent) => json(200, agent.describe()) },
  { pattern: /^\/v1\/metrics$/, handler: metrics },
  // The name, then optionally the type: /v1/explain/nginx.marathon.mesos/SRV.
  { pattern: /^\/v1\/explain\/([^/]*(?:\/[^/]*)?)$/, handler: explainQuestion },
  { pattern: /^\/healthz$/, handler: healthz },
];

function nameParam(raw: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return isValidQueryName(name) ? name : undefined;
}

const BAD_NAME = 'not a valid DNS name: letters, digits, "-" and "_" in dot-separated labels of 1–63 characters, 253 at most';

async function hosts(agent: AgentView, raw: string): Promise<ApiResponse> {
  const name = nameParam(raw);
  if (!name) return error(400, BAD_NAME);
  const [a, aaaa] = await Promise.all([lookup(agent, name, 'A'), lookup(agent, name, 'AAAA')]);
  return json(200, [...hostEntries(name, a.answers), ...hostEntries(name, aaaa.answers)]);
}

async function services(agent: AgentView, raw: string): Promise<ApiResponse> {
  const name = nameParam(raw);
  if (!name) return error(400, BAD_NAME);
  const r = await lookup(agent, name, 'SRV');
  return json(200, serviceEntries(name, r.answers, r.additionals));
}

async function explainQuestion(agent: AgentView, raw: string): Promise<ApiResponse> {
  const [rawName, rawType = 'A'] = raw.split('/');
  const name = nameParam(rawName);
  if (!name) return error(400, BAD_NAME);
  const qtype = queryType(rawType);
  if (qtype === undefined) return error(400, `not a record type: "${rawType}"; expected a mnemonic such as A, AAAA, SRV or TXT`);
  return json(200, await agent.explain(name, qtype));
}

async function metrics(agent: AgentView): Promise<ApiResponse> {
  const m = await agent.metrics();
  return { status: 200, body: m.text, contentType: m.contentType };
}

async function healthz(agent: AgentView): Promise<ApiResponse> {
  if (!agent.listening()) return error(503, 'not every listener is bound (starting or shutting down)');
  const ready = await agent.ready();
  if (!ready.ok) return error(503, `the agent does not answer ready.spartan: ${ready.reason ?? 'no answer'}`);
  return json(200, { status: 'ok' });
}

/** Pure routing: the reply for a method and path, or the handler to run. */
export function matchRoute(method: string, path: string): { handler: Handler; param: string } | ApiResponse {
  const route = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (!route) return error(404, `no such endpoint: ${path}`);
  if (method !== 'GET' && method !== 'HEAD') return error(405, `method ${method} not allowed; this API is read-only (GET)`);
  return { handler: route.r.handler, param: route.m![1] ?? '' };
}

export function createApiServer(agent: AgentView, log: Logger): http.Server {
  return http.createServer((req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://agent').pathname;
    } catch {
      path = '/';
    }
    const matched = matchRoute(req.method ?? 'GET', path);
    const run = 'handler' in matched ? matched.handler(agent, matched.param) : Promise.resolve(matched);
    void run
      .catch((err): ApiResponse => {
        log.error({ err, path }, 'HTTP API handler failed');
        return error(500, 'internal error; see the agent log');
      })
      .then((reply) => {
        const text = reply.contentType ? String(reply.body) : JSON.stringify(reply.body, null, 2) + '\n';
        const headers: http.OutgoingHttpHeaders = {
          'content-type': reply.contentType ?? 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text),
        };
        if (reply.status === 405) headers.allow = 'GET, HEAD';
        res.writeHead(reply.status, headers);
        res.end(req.method === 'HEAD' ? undefined : text);
      });
  });
}
