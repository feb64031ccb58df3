// The command line shared by phalanx-dns, phalanx-watchdog and phalanx-genresolv: --config,
// --help, --version and each program's own options; one clear line and exit 2 for anything
// wrong with the arguments or the config file.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { VERSION } from '../version.js';
import { ConfigLoadError, DEFAULT_CONFIG_PATH, loadConfig } from './load.js';
import type { Config } from './schema.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

/** Exit status for a bad command line or config, the same for all three programs. */
export const EXIT_MISCONFIGURED = 2;

export function failAndExit(program: string, message: string, code = EXIT_MISCONFIGURED): never {
  process.stderr.write(`${program}: ${message}\n`);
  process.exit(code);
}

export interface CommandLine {
  config: Config;
  configPath: string;
  /** The program's own options, as parsed. */
  values: Record<string, string | boolean | undefined>;
}

/**
 * Parses argv, answers --help and --version (exit 0), and loads the config. Returns only with a
 * valid config; everything else exits.
 */
export function readCommandLine(program: string, usage: string, argv: string[], extra: Options = {}): CommandLine {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...COMMON, ...extra }, strict: true }).values as typeof values;
  } catch (err) {
    failAndExit(program, `${(err as Error).message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(usage + '\n');
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`${program} ${VERSION}\n`);
    process.exit(0);
  }
  const configPath = typeof values.config === 'string' ? values.config : DEFAULT_CONFIG_PATH;
  try {
    return { config: loadConfig(configPath), configPath, values };
  } catch (err) {
    if (err instanceof ConfigLoadError) failAndExit(program, err.message);
    throw err;
  }
}
