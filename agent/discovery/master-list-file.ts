// DC/OS's master_list file: a JSON array of master IPs, re-read on every refresh.
import { readFile } from 'node:fs/promises';
import { DiscoveryError, parseMasterListFile } from './parse.js';
import { PollingSource } from './source.js';

export function masterListFileSource(path: string, refreshMs: number, retryMs: number): PollingSource {
  return new PollingSource(
    async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new DiscoveryError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      try {
        return parseMasterListFile(text);
      } catch (err) {
        throw new DiscoveryError(`${path}: ${(err as Error).message}`);
      }
    },
    refreshMs,
    retryMs,
  );
}
