// The command line as an operator meets it: help, version, and one clear line for every kind
// of bad config, with a non-zero exit and nothing left listening.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { runAgentCli } from '../helpers/agent-process.js';

const dir = mkdtempSync(join(tmpdir(), 'phalanx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('phalanx-dns command line', () => {
  test('--help prints usage and exits 0', async () => {
    const r = await runAgentCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: phalanx-dns');
    expect(r.stdout).toContain('--config FILE');
  });

  test('--version prints the package version', async () => {
    const r = await runAgentCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^phalanx-dns \d+\.\d+\.\d+$/);
  });

  test('an unknown option is refused with the usage', async () => {
    const r = await runAgentCli(['--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  test('a missing config file names the file', async () => {
    const path = join(dir, 'nope.json');
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`config ${path}: cannot read it (file not found)`);
  });

  test('invalid JSON names the file and the parse error', async () => {
    const path = configFile('broken.json', '{"listen": ["127.0.0.1:5353"');
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config ${path}: not valid JSON`);
  });

  test('a bad value names the key, the value and what is valid', async () => {
    const path = configFile('badport.json', JSON.stringify({ listen: ['127.0.0.1:5353'], upstreams: ['127.0.0.1:99999'] }));
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('key "upstreams[0]": "127.0.0.1:99999" is not valid; expected an IP address with an optional port');
  });

  test('an upstream that is the agent itself is refused (it would loop)', async () => {
    const path = configFile('loop.json', JSON.stringify({ listen: ['127.0.0.1:5399'], upstreams: ['127.0.0.1:5399'] }));
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key "upstreams[0]"');
    expect(r.stderr).toContain('query itself in a loop');
  });

  test('an unknown key is refused by name', async () => {
    const path = configFile('typo.json', JSON.stringify({ listen: ['127.0.0.1:5399'], upstream: ['127.0.0.2'] }));
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key "upstream"');
    expect(r.stderr).toContain('unknown key');
  });

  test('an address the host does not have is a clear start-up failure, not a half-started agent', async () => {
    // 127.0.0.1 binds, 198.51.100.1 is not configured on this host: the agent must not keep
    // serving on the first address alone.
    const path = configFile('noaddr.json', JSON.stringify({ listen: ['127.0.0.1:5398', '198.51.100.1:5398'], http: { enabled: false } }));
    const r = await runAgentCli(['--config', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot listen on 198.51.100.1:5398');
    expect(r.stderr).toContain('not configured on this host');
  });
});
