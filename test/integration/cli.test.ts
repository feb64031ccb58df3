// The command line as an operator meets it: help, version, and one clear line for every kind
// of bad config, with a non-zero exit and nothing left listening.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { AgentProcess, runAgentCli } from '../helpers/agent-process.js';
import { freePort } from '../../sim/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'phalanx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('phalanx-dns command line', () => {
  // asIs: without --allow-root, so these also show --help and --version work as root.
  test('--help prints usage and exits 0', async () => {
    const r = await runAgentCli(['--help'], 10_000, { asIs: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: phalanx-dns');
    expect(r.stdout).toContain('--config FILE');
    expect(r.stdout).toContain('--allow-root');
  });

  test('--version prints the package version', async () => {
    const r = await runAgentCli(['--version'], 10_000, { asIs: true });
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

describe('running as root', () => {
  const asRoot = process.getuid?.() === 0;

  test('without --allow-root: as root it exits 2 with one line saying why and what to do; as another user it starts', async () => {
    const port = await freePort('127.0.0.1');
    const config = { listen: [`127.0.0.1:${port}`], http: { enabled: false }, log: { level: 'info' } };
    if (asRoot) {
      const r = await runAgentCli(['--config', configFile('root.json', JSON.stringify(config))], 10_000, { asIs: true });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('phalanx-dns: refusing to run as root');
      expect(r.stderr).toContain('unprivileged user with CAP_NET_BIND_SERVICE');
      expect(r.stderr).toContain('deploy/systemd/phalanx-dns.service');
      expect(r.stderr).toContain('--allow-root');
    } else {
      // Not root, so the helper adds no flag: this is the plain command line.
      const agent = await AgentProcess.start(config);
      const code = await agent.stop();
      expect(agent.logs.some((l) => l.msg === 'phalanx-dns listening')).toBe(true);
      expect(code).toBe(0);
    }
  });

  test('with --allow-root it starts, and as root warns once', async () => {
    const port = await freePort('127.0.0.1');
    const agent = await AgentProcess.start(
      { listen: [`127.0.0.1:${port}`], http: { enabled: false }, log: { level: 'info' } },
      { args: ['--allow-root'] },
    );
    try {
      await agent.waitForLog((l) => l.msg === 'phalanx-dns listening');
      const warnings = agent.logs.filter((l) => /running as root/.test(l.msg));
      expect(warnings.map((l) => l.level)).toEqual(asRoot ? ['warn'] : []);
    } finally {
      await agent.stop();
    }
  });
});
