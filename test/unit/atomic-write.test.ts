// The file side of genresolv, on temp files only: atomic replacement keeping mode and owner, the
// EBUSY fallback for bind-mounted files (the rename is made to fail; test/integration/genresolv
// does it with a real bind mount), never a file without a nameserver, the original saved once,
// and restoring it. Never touches /etc/resolv.conf.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { writeFileAtomic, writeInPlace } from '../../genresolv/atomic-write.js';
import { NoNameserverError, renderResolvConf } from '../../genresolv/render.js';
import { backupPath, restoreOriginal, saveOriginalOnce, updateResolvConf } from '../../genresolv/resolv-file.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'phalanx-resolv-'));
  file = join(dir, 'resolv.conf');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ORIGINAL = "# the node's own\nnameserver 192.0.2.53\nsearch corp.example\n";
const agentConf = renderResolvConf({
  nameservers: ['198.51.100.1', '198.51.100.2'],
  source: 'agent',
  search: [],
  options: ['timeout:1', 'attempts:3'],
});
const upstreamConf = renderResolvConf({ nameservers: ['10.0.0.2'], source: 'upstreams', search: [], options: ['timeout:1', 'attempts:3'] });

const failingRename = (code: string) => ({
  rename: () => {
    throw Object.assign(new Error(`${code}: simulated, rename`), { code });
  },
});
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  test('creates a missing file with mode 0644', () => {
    expect(writeFileAtomic(file, 'nameserver 10.0.0.2\n')).toBe('rename');
    expect(readFileSync(file, 'utf8')).toBe('nameserver 10.0.0.2\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(leftovers()).toEqual([]);
  });

  test('replaces the file by rename (a new inode), keeping its mode', () => {
    writeFileSync(file, ORIGINAL);
    chmodSync(file, 0o640);
    const before = statSync(file).ino;
    expect(writeFileAtomic(file, agentConf)).toBe('rename');
    expect(readFileSync(file, 'utf8')).toBe(agentConf);
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    expect(statSync(file).ino).not.toBe(before);
    expect(leftovers()).toEqual([]);
  });

  const asRoot = process.getuid?.() === 0 ? test : test.skip;
  asRoot('keeps the owner of the file it replaces', () => {
    writeFileSync(file, ORIGINAL);
    chownSync(file, 4321, 4322);
    writeFileAtomic(file, agentConf);
    expect(statSync(file)).toMatchObject({ uid: 4321, gid: 4322 });
  });

  test('replaces a symlink (systemd-resolved) with a file and leaves its target alone', () => {
    const target = join(dir, 'stub-resolv.conf');
    writeFileSync(target, 'nameserver 127.0.0.53\n');
    symlinkSync(target, file);
    writeFileAtomic(file, agentConf);
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(agentConf);
    expect(readFileSync(target, 'utf8')).toBe('nameserver 127.0.0.53\n');
  });

  test('EBUSY on rename (a bind-mounted file, as in Docker): written in place, same inode, cut to length', () => {
    writeFileSync(file, ORIGINAL + '# a long tail that the shorter new content must not keep\n'.repeat(20));
    chmodSync(file, 0o600);
    const before = statSync(file).ino;
    expect(writeFileAtomic(file, upstreamConf, { ops: failingRename('EBUSY') })).toBe('in-place');
    expect(readFileSync(file, 'utf8')).toBe(upstreamConf);
    expect(statSync(file).ino).toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(leftovers()).toEqual([]);
  });

  test('any other rename failure throws, leaving the old file and no temp file', () => {
    writeFileSync(file, ORIGINAL);
    expect(() => writeFileAtomic(file, agentConf, { ops: failingRename('EACCES') })).toThrow('EACCES');
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(leftovers()).toEqual([]);
  });

  test('a directory that does not exist is an error naming the path', () => {
    expect(() => writeFileAtomic(join(dir, 'nope', 'resolv.conf'), agentConf)).toThrow(/ENOENT.*nope/);
  });

  test('writeInPlace grows and shrinks the file', () => {
    writeFileSync(file, 'short\n');
    writeInPlace(file, 'a much longer content\n');
    expect(readFileSync(file, 'utf8')).toBe('a much longer content\n');
    writeInPlace(file, 'x\n');
    expect(readFileSync(file, 'utf8')).toBe('x\n');
  });
});

describe('updateResolvConf', () => {
  test('the first write saves the original once, with its mode, as resolv.conf.orig', () => {
    writeFileSync(file, ORIGINAL);
    chmodSync(file, 0o644);
    expect(updateResolvConf(file, agentConf)).toEqual({ status: 'written', method: 'rename', savedOriginal: backupPath(file) });
    expect(readFileSync(`${file}.orig`, 'utf8')).toBe(ORIGINAL);
    expect(statSync(`${file}.orig`).mode & 0o777).toBe(0o644);

    expect(updateResolvConf(file, upstreamConf)).toEqual({ status: 'written', method: 'rename' });
    expect(readFileSync(`${file}.orig`, 'utf8')).toBe(ORIGINAL); // not overwritten by our own file
    expect(readFileSync(file, 'utf8')).toBe(upstreamConf);
  });

  test('unchanged content is not written at all: same inode, same mtime', () => {
    writeFileSync(file, agentConf);
    const before = statSync(file);
    expect(updateResolvConf(file, agentConf)).toEqual({ status: 'unchanged' });
    const after = statSync(file);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  test('never writes a file without a nameserver line: the old file stays, nothing is saved', () => {
    writeFileSync(file, ORIGINAL);
    for (const bad of ['', '# Generated by phalanx-genresolv\noptions timeout:1\n', 'nameserver\n']) {
      expect(() => updateResolvConf(file, bad)).toThrow(NoNameserverError);
    }
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(`${file}.orig`)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  test('the EBUSY path through updateResolvConf', () => {
    writeFileSync(file, ORIGINAL);
    expect(updateResolvConf(file, agentConf, { ops: failingRename('EBUSY') })).toMatchObject({ status: 'written', method: 'in-place' });
    expect(readFileSync(file, 'utf8')).toBe(agentConf);
  });

  test('no file yet: written, nothing to save', () => {
    expect(updateResolvConf(file, agentConf)).toEqual({ status: 'written', method: 'rename' });
    expect(existsSync(`${file}.orig`)).toBe(false);
  });
});

describe('saveOriginalOnce', () => {
  test('a file we generated is not taken for the original', () => {
    writeFileSync(file, agentConf);
    expect(saveOriginalOnce(file)).toBeUndefined();
    expect(existsSync(`${file}.orig`)).toBe(false);
  });

  test('a symlink is saved as the link itself', () => {
    symlinkSync('/run/systemd/resolve/stub-resolv.conf', file); // dangling here, and that is fine
    expect(saveOriginalOnce(file)).toBe(`${file}.orig`);
    expect(readlinkSync(`${file}.orig`)).toBe('/run/systemd/resolve/stub-resolv.conf');
  });

  test('an existing backup is never replaced', () => {
    writeFileSync(`${file}.orig`, 'nameserver 192.0.2.1\n');
    writeFileSync(file, ORIGINAL);
    expect(saveOriginalOnce(file)).toBeUndefined();
    expect(readFileSync(`${file}.orig`, 'utf8')).toBe('nameserver 192.0.2.1\n');
  });
});

describe('restoreOriginal', () => {
  test('puts the original back and removes the backup', () => {
    writeFileSync(file, ORIGINAL);
    updateResolvConf(file, agentConf);
    expect(restoreOriginal(file)).toEqual({ status: 'restored', method: 'rename', from: `${file}.orig` });
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(`${file}.orig`)).toBe(false);
  });

  test('restores a saved symlink as a symlink', () => {
    symlinkSync('/run/systemd/resolve/stub-resolv.conf', file);
    updateResolvConf(file, agentConf);
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    restoreOriginal(file);
    expect(readlinkSync(file)).toBe('/run/systemd/resolve/stub-resolv.conf');
  });

  test('EBUSY: copies the original into the mounted file', () => {
    writeFileSync(file, ORIGINAL);
    updateResolvConf(file, agentConf);
    const ino = statSync(file).ino;
    expect(restoreOriginal(file, { ops: failingRename('EBUSY') })).toMatchObject({ status: 'restored', method: 'in-place' });
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(statSync(file).ino).toBe(ino);
    expect(existsSync(`${file}.orig`)).toBe(false);
  });

  test('no backup: says whether the file there is ours', () => {
    writeFileSync(file, agentConf);
    expect(restoreOriginal(file)).toEqual({ status: 'no-backup', generated: true });
    writeFileSync(file, ORIGINAL);
    expect(restoreOriginal(file)).toEqual({ status: 'no-backup', generated: false });
    rmSync(file);
    expect(restoreOriginal(file)).toEqual({ status: 'no-backup', generated: false });
  });
});
