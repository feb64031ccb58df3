// Single queries: dig for what dnsperf cannot show (time to SERVFAIL, the TC flag, the answer
// size), and a bare UDP probe to wait until a server answers at all.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { assertLoopback } from '../../sim/ports.js';
import { trackTransient } from './cleanup.js';
import { waitFor } from '../helpers/time.js';

export interface DigResult {
  name: string;
  /** The response code, or null when no answer came within the timeout. */
  rcode: string | null;
  /** dig's ";; Query time", or the wall time when nothing came back. */
  timeMs: number;
  answers: number;
  truncated: boolean;
  bytes: number | null;
  /** The Extended DNS Error line (RFC 8914) as dig prints it, with EDNS only: "3 (Stale Answer): (…)". */
  ede: string | null;
}

export interface DigOptions {
  timeoutS: number;
  /** Offer EDNS with this buffer size and show a truncated answer as it is (no TCP retry). */
  bufsize?: number;
  tcp?: boolean;
}

export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon);
  assertLoopback(host);
  return { host, port: Number(endpoint.slice(colon + 1)) };
}

export function dig(digPath: string, endpoint: string, name: string, type: string, opts: DigOptions): Promise<DigResult> {
  const { host, port } = splitEndpoint(endpoint);
  const args = [`@${host}`, '-p', String(port), name, type, '+tries=1', `+timeout=${opts.timeoutS}`, '+nosearch', '+nocookie'];
  if (opts.bufsize) args.push(`+bufsize=${opts.bufsize}`, '+ignore');
  else args.push('+noedns');
  if (opts.tcp) args.push('+tcp');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(digPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackTransient(child);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const backstop = setTimeout(() => child.kill('SIGKILL'), (opts.timeoutS + 5) * 1000);
    child.on('error', reject);
    // 'close', not 'exit': the output may still be in the pipe when the process has exited.
    child.on('close', () => {
      clearTimeout(backstop);
      const wallMs = performance.now() - started;
      const rcode = /status: ([A-Z]+)/.exec(out)?.[1] ?? null;
      const flags = /;; flags: ([a-z ]*);/.exec(out)?.[1] ?? '';
      resolve({
        name,
        rcode,
        timeMs: rcode === null ? wallMs : Number(/Query time: (\d+) msec/.exec(out)?.[1] ?? wallMs),
        answers: Number(/ANSWER: (\d+)/.exec(out)?.[1] ?? 0),
        truncated: flags.split(' ').includes('tc'),
        bytes: Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1] ?? NaN) || null,
        ede: /^; EDE: (.*)$/m.exec(out)?.[1] ?? null,
      });
    });
  });
}

/** True when `endpoint` answers a query for `name` (any response code) within `timeoutMs`. */
export function answers(endpoint: string, name: string, type: 'A' | 'SOA', timeoutMs: number): Promise<boolean> {
  const { host, port } = splitEndpoint(endpoint);
  const id = Math.floor(Math.random() * 65536);
  const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => {}); // e.g. ECONNREFUSED before the server binds: the timer settles it
    sock.on('message', (msg) => msg.length >= 2 && msg.readUInt16BE(0) === id && done(true));
    sock.send(query, port, host);
  });
}

/** Polls until `endpoint` answers, at most `attempts` times `timeoutMs`. */
export async function waitUntilAnswering(
  endpoint: string,
  name: string,
  type: 'A' | 'SOA',
  isAlive: () => boolean,
  attempts = 50,
  timeoutMs = 200,
): Promise<boolean> {
  let answered = false;
  await waitFor(async () => !isAlive() || (answered = await answers(endpoint, name, type, timeoutMs)), {
    timeoutMs: attempts * (timeoutMs + 50),
    everyMs: 50,
  });
  return answered;
}
