// Reads the config file. Every failure becomes one line that names the file and what is wrong.
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, parseConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/phalanx-dns/config.json';

export class ConfigLoadError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`config ${path}: ${detail}`);
    this.name = 'ConfigLoadError';
  }
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'file not found' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigLoadError(path, `cannot read it (${why}); pass the right file with --config FILE`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigLoadError(path, `not valid JSON (${(err as Error).message})`);
  }
  try {
    return parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigLoadError(path, err.message);
    throw err;
  }
}
