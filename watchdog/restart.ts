// Runs the configured restart command (by default `systemctl kill --signal SIGKILL --kill-who main
// phalanx-dns.service`; systemd's Restart=always then starts a fresh agent). SIGKILL rather than
// a stop: a hung agent may never get round to handling SIGTERM.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where `program` would be run from, the way execvp finds it; undefined when nowhere. */
export function findExecutable(program: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : pathEnv
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

export interface RestartOutcome {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr together, cut to a few KiB for the log. */
  output: string;
  /** Why it failed, when it did. */
  error?: string;
}

const MAX_OUTPUT = 4096;

/** Runs argv to completion, bounded by timeoutMs (then SIGKILL). Never rejects. */
export function runRestartCommand(argv: string[], timeoutMs = 30_000): Promise<RestartOutcome> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output = (output + chunk.toString()).slice(0, MAX_OUTPUT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const settle = (outcome: RestartOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({
        ok: false,
        exitCode: null,
        signal: 'SIGKILL',
        output: output.trim(),
        error: `did not finish within ${timeoutMs} ms; killed it`,
      });
    }, timeoutMs);
    child.on('error', (err) =>
      settle({ ok: false, exitCode: null, signal: null, output: output.trim(), error: `cannot run it: ${err.message}` }),
    );
    child.on('close', (code, signal) =>
      settle({
        ok: code === 0,
        exitCode: code,
        signal,
        output: output.trim(),
        ...(code === 0 ? {} : { error: signal ? `killed by ${signal}` : `exited with status ${code}` }),
      }),
    );
  });
}
