// phalanx-genresolv as the timer runs it, on temp files (never /etc/resolv.conf), with the real
// agent on a loopback address: which nameservers it lists, when it leaves the file alone, what
// it does when there is nothing to list, a real bind-mounted file (Docker's EBUSY case, in a
// private mount namespace), and --restore.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { GENRESOLV_MAIN, runToCompletion, runTool } from '../helpers/logged-process.js';

// resolv.conf has no ports, so the agent must be on 53: a loopback address of its own.
const AGENT = `127.53.${(process.pid % 250) + 1}.1`;
const DEAD = `127.53.${(process.pid % 250) + 1}.2`; // nothing listens there
const ORIGINAL = '# written by the installer\nnameserver 192.0.2.53\n';

const dir = mkdtempSync(join(tmpdir(), 'phalanx-genresolv-'));
let agent: AgentProcess;
let resolvConf: string;
let seq = 0;

beforeAll(async () => {
  agent = await AgentProcess.start({ listen: [`${AGENT}:53`], http: { enabled: false }, log: { level: 'warn' } });
});
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  resolvConf = join(dir, `resolv-${++seq}.conf`);
  writeFileSync(resolvConf, ORIGINAL);
});

function config(fields: Record<string, unknown>): string {
  const path = join(dir, `config-${++seq}.json`);
  writeFileSync(
    path,
    JSON.stringify({ http: { enabled: false }, ...fields, genresolv: { timeoutMs: 300, ...(fields.genresolv as object) } }),
  );
  return path;
}

const genresolv = (configPath: string, output = resolvConf, extra: string[] = []) =>
  runTool(GENRESOLV_MAIN, ['--config', configPath, '--output', output, ...extra]);
const nameservers = (path = resolvConf) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('nameserver '));

describe('phalanx-genresolv', () => {
  test('lists only the agent addresses that answer, on port 53, and saves the original once', async () => {
    const c = config({
      listen: [`${DEAD}:53`, `${AGENT}:53`, '127.0.0.1:5353'],
      upstreams: ['127.0.0.21'],
      genresolv: { search: ['marathon.mesos'] },
    });
    const r = await genresolv(c);
    expect(r.exit.code).toBe(0);
    expect(nameservers()).toEqual([`nameserver ${AGENT}`]);
    expect(readFileSync(resolvConf, 'utf8')).toContain('search marathon.mesos\noptions timeout:1 attempts:3\n');
    expect(readFileSync(`${resolvConf}.orig`, 'utf8')).toBe(ORIGINAL);
    expect(r.logs.map((l) => l.msg)).toEqual([
      '127.0.0.1:5353 ("listen") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
      'saved the original resolv.conf',
      'wrote resolv.conf: it lists the agent',
    ]);
    expect(r.logs[1]).toMatchObject({ path: resolvConf, backup: `${resolvConf}.orig` });
    expect(r.logs.at(-1)).toMatchObject({ path: resolvConf, source: 'agent', nameservers: [AGENT] });
    expect(r.logs.at(-1)?.agent).toEqual([
      { address: `${DEAD}:53`, ok: false, reason: 'refused: nothing listens there (the agent is not running)' },
      { address: `${AGENT}:53`, ok: true },
    ]);

    // The next run changes nothing: not even the file's inode or mtime.
    const before = statSync(resolvConf);
    const again = await genresolv(c);
    expect(again.exit.code).toBe(0);
    expect(again.logs.at(-1)).toMatchObject({
      msg: 'resolv.conf is up to date: it lists the agent',
      path: resolvConf,
      source: 'agent',
      nameservers: [AGENT],
    });
    expect(statSync(resolvConf)).toMatchObject({ ino: before.ino, mtimeMs: before.mtimeMs });
    expect(readFileSync(`${resolvConf}.orig`, 'utf8')).toBe(ORIGINAL);
  });

  test('the agent does not answer: up to three port-53 upstreams, with a warning', async () => {
    const c = config({ listen: [`${DEAD}:53`], upstreams: ['127.0.0.21', '127.0.0.22:5353', '127.0.0.23', '127.0.0.24', '127.0.0.25'] });
    const r = await genresolv(c);
    expect(r.exit.code).toBe(0);
    expect(nameservers()).toEqual(['nameserver 127.0.0.21', 'nameserver 127.0.0.23', 'nameserver 127.0.0.24']);
    expect(readFileSync(resolvConf, 'utf8')).toContain(
      '# Nameservers: the upstream resolvers, because the phalanx-dns agent does not answer ready.spartan.',
    );
    expect(r.logs.map((l) => l.msg)).toEqual([
      '127.0.0.22:5353 ("upstreams") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed',
      'only the first 3 upstreams are listed (glibc reads at most 3): 127.0.0.25 left out',
      'saved the original resolv.conf',
      'wrote resolv.conf: it lists the upstreams, since the agent does not answer',
    ]);
    expect(r.logs.at(-1)).toMatchObject({
      level: 'warn',
      path: resolvConf,
      source: 'upstreams',
      nameservers: ['127.0.0.21', '127.0.0.23', '127.0.0.24'],
    });
  });

  test('nothing to list: the old file is kept byte for byte, exit 1, and the log says why', async () => {
    const c = config({ listen: [`${DEAD}:53`], upstreams: ['127.0.0.21:5353'] });
    const r = await genresolv(c);
    expect(r.exit.code).toBe(1);
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(`${resolvConf}.orig`)).toBe(false);
    expect(r.logs.map((l) => [l.level, l.msg])).toEqual([
      ['warn', '127.0.0.21:5353 ("upstreams") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed'],
      ['error', 'nothing to list: the agent does not answer ready.spartan, and no upstream is on port 53; the old file is kept'],
    ]);
    expect(r.logs.at(-1)).toMatchObject({
      path: resolvConf,
      agent: [{ address: `${DEAD}:53`, ok: false, reason: 'refused: nothing listens there (the agent is not running)' }],
    });
  });

  test('a file that cannot be written: exit 1, naming the path and what to check', async () => {
    const c = config({ listen: [`${AGENT}:53`] });
    const missing = join(dir, 'no-such-dir', 'resolv.conf');
    const r = await genresolv(c, missing);
    expect(r.exit.code).toBe(1);
    expect(r.logs.at(-1)).toMatchObject({
      path: missing,
      msg: 'cannot write resolv.conf; the old file is kept: check the path and its permissions ("genresolv.path" or --output)',
    });
    expect(r.logs.at(-1)?.err).toMatch(/^ENOENT/);
  });

  test('a relative --output is taken from the working directory', async () => {
    const c = config({ listen: [`${AGENT}:53`] });
    const r = await genresolv(c, relative(process.cwd(), resolvConf));
    expect(r.exit.code).toBe(0);
    expect(nameservers()).toEqual([`nameserver ${AGENT}`]);
  });

  test('a bind-mounted resolv.conf (as Docker does) cannot be renamed over: it is written in place', async () => {
    // In a private mount namespace, so the bind mount cannot outlive the test.
    const hostFile = join(dir, `docker-${seq}.conf`); // the file Docker keeps on the host
    writeFileSync(hostFile, 'nameserver 192.0.2.10\n');
    const c = config({ listen: [`${DEAD}:53`], upstreams: ['127.0.0.21'] });
    const r = await runToCompletion([
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      'mount --bind "$1" "$2" && exec "$3" "$4" --config "$5" --output "$2"',
      'sh',
      hostFile,
      resolvConf,
      process.execPath,
      GENRESOLV_MAIN,
      c,
    ]);
    expect(r.exit.code).toBe(0);
    expect(r.logs.at(-1)).toMatchObject({
      method: 'in-place',
      msg: 'wrote resolv.conf in place (a mount point cannot be replaced): it lists the upstreams, since the agent does not answer',
      path: resolvConf,
      nameservers: ['127.0.0.21'],
    });
    // The write went through the mount into the host's file; the original seen through it was saved.
    expect(nameservers(hostFile)).toEqual(['nameserver 127.0.0.21']);
    expect(readFileSync(`${resolvConf}.orig`, 'utf8')).toBe('nameserver 192.0.2.10\n');
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL); // outside the namespace: never mounted over
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('phalanx-genresolv --restore', () => {
  test('puts the saved original back', async () => {
    const c = config({ listen: [`${AGENT}:53`] });
    await genresolv(c);
    expect(nameservers()).toEqual([`nameserver ${AGENT}`]);
    const r = await genresolv(c, resolvConf, ['--restore']);
    expect(r.exit.code).toBe(0);
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(`${resolvConf}.orig`)).toBe(false);
    expect(r.logs.at(-1)).toMatchObject({ msg: 'restored the original resolv.conf', path: resolvConf, from: `${resolvConf}.orig` });
  });

  test('no original saved and the file is ours: the upstreams replace the agent, so the node keeps DNS', async () => {
    const c = config({ listen: [`${AGENT}:53`], upstreams: ['127.0.0.21'] });
    rmSync(resolvConf); // there was no resolv.conf before phalanx-dns
    await genresolv(c);
    expect(existsSync(`${resolvConf}.orig`)).toBe(false);
    const r = await genresolv(c, resolvConf, ['--restore']);
    expect(r.exit.code).toBe(0);
    expect(nameservers()).toEqual(['nameserver 127.0.0.21']);
  });

  test('no original saved, ours, and no port-53 upstream: exit 1, asks for a hand edit', async () => {
    const c = config({ listen: [`${AGENT}:53`] });
    rmSync(resolvConf);
    await genresolv(c);
    const r = await genresolv(c, resolvConf, ['--restore']);
    expect(r.exit.code).toBe(1);
    expect(r.logs.at(-1)).toMatchObject({ path: resolvConf });
    expect(r.logs.at(-1)?.msg).toContain('edit resolv.conf by hand');
    expect(nameservers()).toEqual([`nameserver ${AGENT}`]);
  });

  test('a file that is not ours and no backup: left alone', async () => {
    const c = config({ listen: [`${AGENT}:53`] });
    const r = await genresolv(c, resolvConf, ['--restore']);
    expect(r.exit.code).toBe(0);
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL);
  });
});

describe('phalanx-genresolv command line', () => {
  test('a bad config: exit 2 with one line naming the key', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ genresolv: { options: ['timeout 1'] } }));
    const r = await runTool(GENRESOLV_MAIN, ['--config', path, '--output', resolvConf]);
    expect(r.exit.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `phalanx-genresolv: config ${path}: key "genresolv.options[0]": "timeout 1" is not valid; ` +
        'expected resolv.conf options such as "timeout:1"',
    );
    expect(readFileSync(resolvConf, 'utf8')).toBe(ORIGINAL);
  });

  test('--help and --version; an unknown option is refused', async () => {
    const help = await runTool(GENRESOLV_MAIN, ['--help']);
    expect(help.exit.code).toBe(0);
    expect(help.stdout).toContain('Usage: phalanx-genresolv [--config FILE] [--output PATH] [--restore]');
    expect((await runTool(GENRESOLV_MAIN, ['--version'])).stdout.trim()).toMatch(/^phalanx-genresolv \d+\.\d+\.\d+$/);
    const bad = await runTool(GENRESOLV_MAIN, ['--ouput', '/tmp/x']);
    expect(bad.exit.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--ouput'");
  });
});

test('the agent used here really is on port 53 of its own loopback address', () => {
  // Guards the premise of this file: resolv.conf can only name port-53 servers.
  expect(
    execFileSync('dig', ['+short', '+tries=1', '+timeout=2', `@${AGENT}`, 'ready.spartan'])
      .toString()
      .trim(),
  ).toBe('127.0.0.1');
});
