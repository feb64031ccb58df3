// The kernel's table of this network namespace's sockets (/proc/net/{udp,tcp}[6]): which address a
// socket is bound to, by inode. Sockets systemd hands over are identified with it, and the
// watchdog finds every process that holds the agent's sockets with it (ss and netstat name only
// one holder, which for a socket-activated agent is systemd).
import { readFileSync } from 'node:fs';
import type { Endpoint } from './config/endpoint.js';
import type { Transport } from './dns/wire.js';

export interface KernelSocket {
  transport: Transport;
  endpoint: Endpoint;
}

/** /proc/net/{udp,tcp}[6] state of a listening TCP socket (TCP_LISTEN); UDP sockets are 07 (unconnected). */
const TCP_LISTEN = '0A';

/**
 * Local endpoints by socket inode from one /proc/net/{udp,tcp,udp6,tcp6} table. TCP rows count
 * only when listening. Addresses are printed as 32-bit words in host byte order (little-endian
 * on the machines we ship for), ports in plain hex.
 */
export function parseProcNetSockets(table: string, transport: Transport, family: Endpoint['family']): Map<number, Endpoint> {
  const sockets = new Map<number, Endpoint>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [hexAddress, hexPort] = f[1].split(':');
    if (transport === 'tcp' && f[3] !== TCP_LISTEN) continue;
    const host = family === 4 ? ipv4FromProc(hexAddress) : ipv6FromProc(hexAddress);
    const inode = Number(f[9]);
    if (host === undefined || !Number.isSafeInteger(inode) || inode === 0) continue;
    sockets.set(inode, { host, port: parseInt(hexPort, 16), family });
  }
  return sockets;
}

function wordBytes(hex: string): number[] {
  const word = parseInt(hex, 16);
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24];
}

function ipv4FromProc(hex: string): string | undefined {
  return /^[0-9A-F]{8}$/i.test(hex) ? wordBytes(hex).join('.') : undefined;
}

function ipv6FromProc(hex: string): string | undefined {
  if (!/^[0-9A-F]{32}$/i.test(hex)) return undefined;
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // The canonical spelling (RFC 5952), the one config endpoints use.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Every bound UDP and listening TCP socket, by inode. A table that cannot be read (no IPv6) is skipped. */
export function readSocketTable(procNet = '/proc/self/net'): Map<number, KernelSocket> {
  const tables: Array<[Transport, Endpoint['family'], string]> = [
    ['udp', 4, 'udp'],
    ['udp', 6, 'udp6'],
    ['tcp', 4, 'tcp'],
    ['tcp', 6, 'tcp6'],
  ];
  const byInode = new Map<number, KernelSocket>();
  for (const [transport, family, file] of tables) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const [inode, endpoint] of parseProcNetSockets(text, transport, family)) byInode.set(inode, { transport, endpoint });
  }
  return byInode;
}

/** The inode in a /proc/PID/fd/N link such as "socket:[12345]", or undefined for anything else. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
