// Exhibitor's cluster status, polled over HTTP. Every request has a deadline: one dcos-dns
// version had none and hung forever on a stuck Exhibitor.
import { redactUrl } from '../../common/config/master-source.js';
import { DiscoveryError, parseExhibitorStatus } from './parse.js';
import { PollingSource } from './source.js';

export function exhibitorSource(url: string, refreshMs: number, retryMs: number, requestTimeoutMs: number): PollingSource {
  const shown = redactUrl(url);
  // fetch() refuses URLs with credentials: move them into a Basic auth header.
  const target = new URL(url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.username) {
    const user = decodeURIComponent(target.username);
    const pass = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  return new PollingSource(
    async () => {
      let res: Response;
      let text: string;
      try {
        res = await fetch(target, { headers, signal: AbortSignal.timeout(requestTimeoutMs) });
        text = await res.text();
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        const why = e.name === 'TimeoutError' ? `no answer within ${requestTimeoutMs} ms` : (e.cause?.code ?? e.message);
        throw new DiscoveryError(`GET ${shown} failed: ${why}`);
      }
      if (!res.ok) throw new DiscoveryError(`GET ${shown} answered HTTP ${res.status}`);
      try {
        return parseExhibitorStatus(text);
      } catch (err) {
        throw new DiscoveryError(`GET ${shown}: ${(err as Error).message}`);
      }
    },
    refreshMs,
    retryMs,
  );
}
