#!/usr/bin/env node
// phalanx-watchdog: one check of the agent, run by a systemd timer every minute. Healthy when any
// listen address answers ready.spartan; after two failed rounds a retry delay apart, it logs what
// it sees of the agent process and runs the restart command.
import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint } from '../common/config/endpoint.js';
import { failAndExit, readCommandLine } from '../common/config/command-line.js';
import { DEFAULT_CONFIG_PATH } from '../common/config/load.js';
import type { Config } from '../common/config/schema.js';
import { createLogger } from '../common/log.js';
import { type ReadyCheckResult, checkAnyReady } from '../common/ready-check.js';
import { type AgentSnapshot, snapshotAgent } from './agent-snapshot.js';
import { EXIT, FAILED_ROUNDS_BEFORE_RESTART, nextStep } from './decision.js';
import { findExecutable, runRestartCommand } from './restart.js';

const USAGE = `Usage: phalanx-watchdog [--config FILE]

Checks once that the phalanx-dns agent answers ready.spartan on its addresses ("watchdog.addresses",
default "listen"). When none answers, asks again after "watchdog.retryDelayMs"; after two failed
rounds it logs the agent process's state and runs "watchdog.restartCommand".

Options:
  -c, --config FILE   JSON config file (default ${DEFAULT_CONFIG_PATH})
  -h, --help          show this help
  -v, --version       print the version

Exit status: 0 the agent answers; 1 it did not, and the restart command ran; 2 bad command line or
config; 3 it did not answer and was not restarted (watchdog.enabled is false, or the restart
command failed), or the watchdog itself failed unexpectedly.`;

const fail = (message: string): never => failAndExit('phalanx-watchdog', message, EXIT.misconfigured);

function readConfig(argv: string[]): { config: Config; path: string } {
  const { config, configPath } = readCommandLine('phalanx-watchdog', USAGE, argv);
  return { config, path: configPath };
}

/** The address that answered, or each address's failure, for the `addresses` field. */
function summarise(results: ReadyCheckResult[]) {
  return results.map((r) => ({
    address: formatEndpoint(r.endpoint),
    ok: r.ok,
    ...(r.ok ? { rttMs: r.rttMs } : { reason: r.reason }),
  }));
}

/** The agent's processes in a few words ("pid 4242 (node) stopped"); the rest is in the `agent` field. */
function describeAgent(s: AgentSnapshot): string {
  if (s.processes.length === 0) return 'no agent process found';
  return s.processes.map((p) => `pid ${p.pid} (${p.name}) ${p.state}`).join(', ');
}

async function main(): Promise<number> {
  const { config, path } = readConfig(process.argv.slice(2));
  const w = config.watchdog;
  const command = w.restartCommand;
  if (w.enabled && !findExecutable(command[0])) {
    // Found now rather than at 3 a.m. when the agent hangs.
    const where = command[0].includes('/') ? '' : ` in PATH (${process.env.PATH ?? ''})`;
    fail(
      `config ${path}: key "watchdog.restartCommand": program "${command[0]}" is not an executable file${where}; ` +
        'give its full path, install it, or set "watchdog.enabled": false',
    );
  }
  const log = createLogger('phalanx-watchdog', config.log.level);

  const rounds: boolean[] = [];
  for (let round = 1; round <= FAILED_ROUNDS_BEFORE_RESTART; round++) {
    // The first address that answers ends the round: the others are not waited for.
    const checked = await checkAnyReady(w.addresses, w.timeoutMs);
    rounds.push(checked.ok);
    const step = nextStep(rounds, w);
    const addresses = summarise(checked.ok ? [checked.answered] : checked.failures);

    if (step.kind === 'healthy') {
      log.info(
        { round, addresses },
        round === 1 ? 'the agent answers ready.spartan' : 'the agent answers ready.spartan again; not restarting it',
      );
      return EXIT.healthy;
    }
    if (step.kind === 'retry') {
      log.warn({ round, addresses, retryInMs: step.delayMs }, 'the agent does not answer ready.spartan; asking again');
      await sleep(step.delayMs);
      continue;
    }

    const agent = await snapshotAgent(w.addresses);
    const fields = { round, addresses, agent, command };
    const seen = `the agent does not answer ready.spartan: ${describeAgent(agent)}`;
    if (step.kind === 'report-only') {
      log.error(fields, `${seen}; not restarting it ("watchdog.enabled" is false)`);
      return EXIT.notRestarted;
    }
    log.error(fields, `${seen}; restarting it`);
    const outcome = await runRestartCommand(command);
    if (outcome.ok) {
      log.warn({ command, output: outcome.output }, 'restart command done; the service manager starts a fresh agent');
      return EXIT.restarted;
    }
    log.error(
      { command, error: outcome.error, exitCode: outcome.exitCode, signal: outcome.signal, output: outcome.output },
      'restart command failed; the agent still does not answer: run it by hand and check "watchdog.restartCommand"',
    );
    return EXIT.notRestarted;
  }
  throw new Error('unreachable: the decision ends every run within two rounds');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`phalanx-watchdog: unexpected error: ${(err as Error).stack ?? err}\n`);
    process.exit(EXIT.notRestarted);
  },
);
