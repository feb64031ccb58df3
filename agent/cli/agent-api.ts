// The operator commands' side of the HTTP API: the address from the config, one GET with a
// deadline, and one line saying why when the agent does not answer (exit status 2, which a
// monitoring check reads as critical).
import { type Endpoint, formatEndpoint, isWildcard } from '../../common/config/endpoint.js';

/** The agent gave no answer at all, or not one we can read. */
export class AgentUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentUnreachable';
  }
}

/** The API's base URL for `http.listen`; a wildcard address is reached on loopback. */
export function apiBase(listen: Endpoint): string {
  const e = isWildcard(listen) ? { ...listen, host: listen.family === 6 ? '::1' : '127.0.0.1' } : listen;
  return `http://${formatEndpoint(e)}`;
}

function why(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e.cause?.code === 'ECONNREFUSED') return 'connection refused; is it running? (systemctl status phalanx-dns)';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/** The body of GET `path`; throws AgentUnreachable without an answer, Error with the API's own for a non-200. */
export async function getText(base: string, path: string, timeoutMs: number): Promise<string> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw new AgentUnreachable(`the agent's HTTP API at ${base} does not answer: ${why(err, timeoutMs)}`);
  }
  if (status !== 200) {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      /* not JSON: the text as it is */
    }
    throw new Error(`${path}: ${status} ${message}`);
  }
  return text;
}

export async function getJson<T>(base: string, path: string, timeoutMs: number): Promise<T> {
  const text = await getText(base, path, timeoutMs);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AgentUnreachable(`the agent's HTTP API at ${base} answered ${path} with something that is not JSON`);
  }
}
