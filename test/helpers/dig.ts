// Runs the real `dig` and parses its default output, so tests assert on exactly
// what an operator debugging a node would see. Extra options must not change
// the output format (+short, +nocomments, +yaml... are not parseable here).
import { execFile, type ExecFileException } from 'node:child_process';
import { assertLoopback } from '../../sim/ports.js';

export interface DigRecord {
  name: string; // as printed, with trailing dot
  ttl: number;
  class: string;
  type: string;
  data: string; // rest of the line
}

export interface DigResult {
  status: string;
  flags: string[];
  id: number;
  answers: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  warnings: string[];
  truncated: boolean;
  msgSize?: number;
  /** dig's own ";; Query time": send to reply, without dig's process start-up. */
  queryTimeMs?: number;
  raw: string;
  elapsedMs: number;
}

export interface DigOptions {
  timeoutSec?: number;
}

/** dig got no usable reply (timeout, or only replies it rejected). `raw` keeps its diagnostics. */
export class DigError extends Error {
  constructor(
    message: string,
    readonly raw: string,
    readonly warnings: string[],
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'DigError';
  }
}

// dig 9.18 says "communications error ...: timed out" + "no servers could be
// reached"; older versions say "connection timed out; no servers could be reached".
const TIMEOUT_RE = /no servers could be reached|connection timed out/;
// Diagnostics dig prints about replies it rejected or distrusts.
const WARNING_RE = /^;;.*\b(warning|error|mismatch|bad packet)\b/i;

function baseArgs(server: string, port: number, extra: string[], opts: DigOptions): string[] {
  assertLoopback(server);
  const timeout = opts.timeoutSec ?? 5;
  // -r: ignore ~/.digrc so results never depend on the machine. One try, so a
  // test controls retries itself. No cookies: the fakes don't do them and dig
  // would otherwise warn about missing server cookies.
  return ['-r', `@${server}`, '-p', String(port), '+tries=1', `+timeout=${timeout}`, '+nocookie', ...extra];
}

interface RunOutput {
  stdout: string;
  elapsedMs: number;
}

function run(args: string[], queryCount: number, opts: DigOptions, what: string): Promise<RunOutput> {
  const timeoutSec = opts.timeoutSec ?? 5;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // The kill timer is only a backstop in case dig itself hangs.
    execFile('dig', args, { timeout: (timeoutSec * queryCount + 10) * 1000 }, (err, stdout, stderr) => {
      const elapsedMs = Date.now() - started;
      const out = stdout + stderr;
      const code = err ? (err as ExecFileException).code : 0;
      if (code === 9 || TIMEOUT_RE.test(out)) {
        reject(new DigError(`dig ${what}: timed out, no servers could be reached`, out, warningsOf(out), true));
      } else if (err && typeof code !== 'number') {
        reject(err); // could not run dig at all, or killed by the backstop
      } else {
        resolve({ stdout: out, elapsedMs });
      }
    });
  });
}

function warningsOf(text: string): string[] {
  return text.split('\n').filter((l) => WARNING_RE.test(l));
}

const HEADER_RE = /;; ->>HEADER<<- opcode: \S+, status: (\S+), id: (\d+)/;
const RECORD_RE = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/;

function parseBlock(raw: string, elapsedMs: number, what: string): DigResult {
  const header = HEADER_RE.exec(raw);
  const warnings = warningsOf(raw);
  if (!header) {
    // E.g. over TCP a wrong-ID reply makes dig print ";; ERROR: ID mismatch" and exit 0.
    throw new DigError(`dig ${what}: no reply header in output: ${warnings.join(' | ') || raw}`, raw, warnings, false);
  }
  const flags = /^;; flags:([^;]*);/m.exec(raw)?.[1].trim().split(/\s+/).filter(Boolean) ?? [];
  const msgSize = /^;; MSG SIZE\s+rcvd: (\d+)/m.exec(raw)?.[1];
  const queryTime = /^;; Query time: (\d+) msec/m.exec(raw)?.[1];
  const sections = { ANSWER: [] as DigRecord[], AUTHORITY: [] as DigRecord[], ADDITIONAL: [] as DigRecord[] };
  let current: DigRecord[] | undefined;
  for (const line of raw.split('\n')) {
    const sec = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (sec) {
      current = sections[sec[1] as keyof typeof sections];
    } else if (line.trim() === '' || line.startsWith(';')) {
      // Blank line ends a section; QUESTION and OPT PSEUDOSECTION are skipped.
      if (line.trim() === '' || line.startsWith(';; ')) current = undefined;
    } else if (current) {
      const m = RECORD_RE.exec(line);
      if (m) current.push({ name: m[1], ttl: Number(m[2]), class: m[3], type: m[4], data: m[5] });
    }
  }
  return {
    status: header[1],
    flags,
    id: Number(header[2]),
    answers: sections.ANSWER,
    authority: sections.AUTHORITY,
    additional: sections.ADDITIONAL,
    warnings,
    truncated: flags.includes('tc'),
    ...(msgSize ? { msgSize: Number(msgSize) } : {}),
    ...(queryTime ? { queryTimeMs: Number(queryTime) } : {}),
    raw,
    elapsedMs,
  };
}

/** One query. Rejects with DigError (timedOut: true) when no reply arrived. */
export async function dig(
  server: string,
  port: number,
  name: string,
  type = 'A',
  extra: string[] = [],
  opts: DigOptions = {},
): Promise<DigResult> {
  const what = `${name}/${type} @${server}:${port}`;
  const { stdout, elapsedMs } = await run([...baseArgs(server, port, extra, opts), name, type], 1, opts, what);
  return parseBlock(stdout, elapsedMs, what);
}

/**
 * Several queries in one dig process (with +tcp +keepopen: one connection).
 * `extra` applies to all queries. Each result's `elapsedMs` is the whole run.
 */
export async function digMany(
  server: string,
  port: number,
  queries: Array<{ name: string; type?: string }>,
  extra: string[] = [],
  opts: DigOptions = {},
): Promise<DigResult[]> {
  const what = `${queries.map((q) => `${q.name}/${q.type ?? 'A'}`).join(',')} @${server}:${port}`;
  const args = [...baseArgs(server, port, extra, opts), ...queries.flatMap((q) => [q.name, q.type ?? 'A'])];
  const { stdout, elapsedMs } = await run(args, queries.length, opts, what);
  // dig prints the banner once, then ";; Got answer:" before each reply.
  const blocks = stdout.split(/^(?=;; Got answer:)/m).filter((b) => HEADER_RE.test(b));
  if (blocks.length !== queries.length) {
    throw new DigError(`dig ${what}: expected ${queries.length} replies, got ${blocks.length}`, stdout, warningsOf(stdout), false);
  }
  return blocks.map((b) => parseBlock(b, elapsedMs, what));
}
