// pino JSON lines on stdout (journald keeps them), ISO timestamps so humans can read them too.
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config/schema.js';

export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.destination({ sync: true })); // lines in order, none lost on exit
}
