// "ip[:port]" and "[v6]:port" endpoints, the only address form the config accepts.
// Hostnames are refused on purpose: a resolver cannot depend on DNS to find its own servers.
import { isIP } from 'node:net';

export interface Endpoint {
  host: string; // IP literal, without brackets
  port: number;
  family: 4 | 6;
}

export function formatEndpoint(e: Endpoint): string {
  return e.family === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Parses an endpoint; returns undefined when the text is not one. */
export function parseEndpoint(text: string, defaultPort?: number): Endpoint | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else if (isIP(text) === 6) {
    host = text; // a bare IPv6 literal carries no port
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (isIP(host) !== 4) return undefined;
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
  }
  if (port === undefined || port < 1 || port > 65535) return undefined;
  const family = isIP(host) === 6 ? 6 : 4;
  return { host: family === 6 ? canonicalIPv6(host) : host, port, family };
}

/** One spelling per IPv6 address (RFC 5952), so "0:0:0:0:0:0:0:1" and "::1" compare equal. */
function canonicalIPv6(host: string): string {
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.host === b.host && a.port === b.port;
}

export function isWildcard(e: Endpoint): boolean {
  return e.host === '0.0.0.0' || e.host === '::';
}

export function isLoopback(e: Endpoint): boolean {
  // IPv4-mapped loopback (::ffff:127.x.y.z) canonicalises to ::ffff:7fxx:xxxx.
  return e.family === 4 ? e.host.startsWith('127.') : e.host === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(e.host);
}
