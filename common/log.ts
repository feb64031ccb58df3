// pino JSON lines on stdout (journald keeps them), ISO timestamps so humans can read them too.
// Under systemd each line starts with its syslog priority (sd-daemon(3): "<4>" for a warning),
// which journald strips and files the line under, so `journalctl -p warning` finds warnings.
import { fstatSync } from 'node:fs';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config/schema.js';

/** syslog priorities for pino's levels: trace/debug 7, info 6, warn 4, error 3, fatal 2. */
export function syslogPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

/** True when stdout is the journal: systemd names the stream it connected in JOURNAL_STREAM. */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(1);
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}

/** A destination that prefixes each line with the priority of the level pino just wrote. */
function journalDestination(out: DestinationStream): DestinationStream {
  // pino sets lastLevel before each write on streams that ask for it with this symbol.
  const stream = {
    [pino.symbols.needsMetadataGsym]: true,
    lastLevel: 30,
    write(line: string) {
      out.write(`<${syslogPriority(stream.lastLevel)}>${line}`);
    },
  };
  return stream;
}

export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  const out = pino.destination({ sync: true }); // lines in order, none lost on exit
  return pino(
    {
      name: service,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stdoutIsJournal() ? journalDestination(out) : out,
  );
}
