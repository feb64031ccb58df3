// `phalanx-dns status` and `phalanx-dns explain`: commands an operator runs against the agent
// already running on the node, through the HTTP API named by the same config file. Apart from
// the daemon's options so that `phalanx-dns --config F` (the systemd unit's ExecStart) is untouched.
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../common/config/load.js';
import type { Config } from '../../common/config/schema.js';
import { apiBase } from './agent-api.js';
import { fetchExplanation, renderExplanation } from './explain.js';
import { fetchStatus, renderStatus } from './status.js';
import { painter, wantColour } from './table.js';

export const OPERATOR_COMMANDS = ['status', 'explain'] as const;

/** The agent does not answer, or the command cannot be run (bad arguments, no API). */
const EXIT_NO_ANSWER = 2;

export const OPERATOR_USAGE = `Usage: phalanx-dns status [--config FILE] [--json]
       phalanx-dns explain NAME [TYPE] [--config FILE] [--json]

Ask the agent running on this node, at the HTTP API of its config file (http.listen):

  status   its servers (state, failure score, p50/p99 reply time, last failure), the discovery
           source, the answer cache and stale store, and queries per second by route with the
           share answered stale or SERVFAIL; rates from two scrapes of /v1/metrics 1 s apart.
           Exit 0 healthy, 1 degraded (a server down, discovery failing, no master known),
           2 the agent does not answer.
  explain  what the agent does with one question (TYPE defaults to A) and why: the route, what
           the answer cache and stale store hold, the servers in the order the policy would ask
           them and each one's own reply, then the answer a client gets.
           Exit 0 explained, 2 the agent does not answer.

Options:
  -c, --config FILE   the agent's config file (default ${DEFAULT_CONFIG_PATH})
      --json          JSON for scripts instead of text
  -h, --help          show this help

Colour only on a terminal, and never with NO_COLOR set.`;

function fail(message: string): number {
  process.stderr.write(`phalanx-dns: ${message}\n`);
  return EXIT_NO_ANSWER;
}

/** Runs `status …` or `explain …` (argv without the program) and returns the exit status. */
export async function runOperatorCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${OPERATOR_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(OPERATOR_USAGE + '\n');
    return 0;
  }
  const wanted = command === 'status' ? positionals.length === 0 : positionals.length === 1 || positionals.length === 2;
  if (!wanted) return fail(`${command}: ${command === 'status' ? 'takes no arguments' : 'expects NAME [TYPE]'}\n${OPERATOR_USAGE}`);

  let config: Config;
  const path = values.config ?? DEFAULT_CONFIG_PATH;
  try {
    config = loadConfig(path);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (!config.http.enabled)
    return fail(`the HTTP API is off ("http": {"enabled": false} in ${path}); ${command} asks the agent through it`);
  const api = apiBase(config.http.listen);
  const paint = painter(!values.json && wantColour(process.stdout, process.env));
  try {
    if (command === 'status') {
      const report = await fetchStatus(api);
      process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report, paint));
      return report.verdict.exitCode;
    }
    const [name, type = 'A'] = positionals;
    // The agent asks every server directly and the client's query in parallel, each within timeoutMs
    // (a truncated answer's TCP retry included); the margin covers the HTTP round trip.
    const explanation = await fetchExplanation(api, name, type, 2 * config.timeoutMs + 2000);
    process.stdout.write(values.json ? JSON.stringify(explanation, null, 2) + '\n' : renderExplanation(explanation, paint));
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
