#!/usr/bin/env node
// phalanx-genresolv: writes resolv.conf for this node, run by a systemd timer 5 s after boot and
// then every minute. Lists the agent's addresses that answer ready.spartan, or the upstream
// resolvers while none does; with --restore, puts back the file the node had before.
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { formatEndpoint } from '../common/config/endpoint.js';
import { failAndExit, readCommandLine } from '../common/config/command-line.js';
import { DEFAULT_CONFIG_PATH } from '../common/config/load.js';
import type { Config } from '../common/config/schema.js';
import { createLogger } from '../common/log.js';
import { checkReadyAll } from '../common/ready-check.js';
import { chooseNameservers, resolvConfCandidates } from './nameservers.js';
import { renderResolvConf } from './render.js';
import { backupPath, restoreOriginal, updateResolvConf } from './resolv-file.js';

const USAGE = `Usage: phalanx-genresolv [--config FILE] [--output PATH] [--restore]

Writes resolv.conf: up to 3 of the phalanx-dns agent's port-53 addresses that answer ready.spartan
(one IPv6 among them when one answers), or, when none does, up to 3 port-53 upstream resolvers;
plus "genresolv.search" and "genresolv.options".
The file is replaced atomically and only when its content changes; the node's original file is
saved once as PATH.orig.

Options:
  -c, --config FILE   JSON config file (default ${DEFAULT_CONFIG_PATH})
  -o, --output PATH   the file to write (default "genresolv.path" from the config, /etc/resolv.conf)
      --restore       put PATH.orig back (for uninstalling) and exit
  -h, --help          show this help
  -v, --version       print the version

Exit status: 0 written, already up to date, or restored; 1 nothing written (no nameserver to list,
the file could not be written, or nothing to restore): the old file is kept; 2 bad command line or
config.`;

const EXIT = { ok: 0, notWritten: 1, misconfigured: 2 } as const;

const fail = (message: string): never => failAndExit('phalanx-genresolv', message, EXIT.misconfigured);

function readArgs(argv: string[]): { config: Config; path: string; restore: boolean } {
  const { config, values } = readCommandLine('phalanx-genresolv', USAGE, argv, {
    output: { type: 'string', short: 'o' },
    restore: { type: 'boolean' },
  });
  if (values.output === '') fail('--output needs a file path');
  const output = typeof values.output === 'string' ? values.output : undefined;
  return { config, path: output ? resolve(output) : config.genresolv.path, restore: values.restore === true };
}

function errorText(err: unknown): string {
  return (err as Error).message ?? String(err);
}

/** What resolv.conf lists, for the messages. */
function listing(source: 'agent' | 'upstreams'): string {
  return source === 'agent' ? 'it lists the agent' : 'it lists the upstreams, since the agent does not answer';
}

async function generate(config: Config, path: string, log: Logger): Promise<number> {
  const g = config.genresolv;
  const candidates = resolvConfCandidates(config.listen, 'listen');
  for (const note of candidates.skipped) log.warn(note);

  const checks = await checkReadyAll(candidates.usable, g.timeoutMs);
  const choice = chooseNameservers(checks, config.upstreams);
  const agent = checks.map((r) => ({ address: formatEndpoint(r.endpoint), ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) }));
  for (const note of choice.notes) log.warn(note);
  if (choice.source !== 'none' && choice.leftOut) log.info(choice.leftOut);
  if (choice.source === 'none') {
    log.error({ path, agent }, `${choice.why}; the old file is kept`);
    return EXIT.notWritten;
  }

  const content = renderResolvConf({ nameservers: choice.nameservers, source: choice.source, search: g.search, options: g.options });
  let result;
  try {
    result = updateResolvConf(path, content);
  } catch (err) {
    log.error(
      { path, err: errorText(err) },
      'cannot write resolv.conf; the old file is kept: check the path and its permissions ("genresolv.path" or --output)',
    );
    return EXIT.notWritten;
  }

  const fields = { path, source: choice.source, nameservers: choice.nameservers, agent };
  if (result.status === 'unchanged') {
    log.info(fields, `resolv.conf is up to date: ${listing(choice.source)}`);
    return EXIT.ok;
  }
  if (result.savedOriginal) log.info({ path, backup: result.savedOriginal }, 'saved the original resolv.conf');
  const how = result.method === 'in-place' ? ' in place (a mount point cannot be replaced)' : '';
  const msg = `wrote resolv.conf${how}: ${listing(choice.source)}`;
  if (choice.source === 'agent') log.info({ ...fields, method: result.method }, msg);
  else log.warn({ ...fields, method: result.method }, msg);
  return EXIT.ok;
}

function restore(config: Config, path: string, log: Logger): number {
  const backup = backupPath(path);
  let result;
  try {
    result = restoreOriginal(path);
  } catch (err) {
    log.error({ path, backup, err: errorText(err) }, 'cannot restore the original resolv.conf');
    return EXIT.notWritten;
  }
  if (result.status === 'restored') {
    log.info({ path, from: result.from, method: result.method }, 'restored the original resolv.conf');
    return EXIT.ok;
  }
  if (!result.generated) {
    log.info({ path, backup }, 'no original to restore, and resolv.conf was not written by phalanx-genresolv: leaving it as it is');
    return EXIT.ok;
  }
  // Ours, with no original to go back to (there was none): without the agent the node still
  // needs a resolver, so list the upstreams rather than leave the agent's addresses behind.
  const choice = chooseNameservers([], config.upstreams);
  if (choice.source !== 'upstreams') {
    log.error({ path, backup }, 'no original to restore, and no port-53 upstream to list instead of the agent: edit resolv.conf by hand');
    return EXIT.notWritten;
  }
  try {
    updateResolvConf(
      path,
      renderResolvConf({
        nameservers: choice.nameservers,
        source: 'upstreams',
        search: config.genresolv.search,
        options: config.genresolv.options,
      }),
    );
  } catch (err) {
    log.error({ path, err: errorText(err) }, 'cannot write resolv.conf');
    return EXIT.notWritten;
  }
  log.warn({ path, backup, nameservers: choice.nameservers }, 'no original to restore: resolv.conf now lists the upstreams');
  return EXIT.ok;
}

async function main(): Promise<number> {
  const { config, path, restore: restoring } = readArgs(process.argv.slice(2));
  const log = createLogger('phalanx-genresolv', config.log.level);
  return restoring ? restore(config, path, log) : generate(config, path, log);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`phalanx-genresolv: unexpected error: ${(err as Error).stack ?? err}\n`);
    process.exit(EXIT.notWritten);
  },
);
