// resolv.conf on disk: replaced only when its content changes (the timer runs every minute, and an
// unchanged file keeps its inode and mtime), never with a file that lacks a nameserver, and with
// the node's original saved once beside it so uninstalling can put it back.
import { lstatSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { type RenameOp, type WriteMethod, ifExists, writeFileAtomic, writeInPlace } from './atomic-write.js';
import { NoNameserverError, hasNameserver, isGenerated } from './render.js';

export function backupPath(path: string): string {
  return `${path}.orig`;
}

function lstatOrUndefined(path: string) {
  return ifExists(() => lstatSync(path));
}

function readOrUndefined(path: string): string | undefined {
  return ifExists(() => readFileSync(path, 'utf8'));
}

/**
 * Saves the file at `path` as `<path>.orig`, unless a backup already exists, there is nothing to
 * save, or the file is one we generated (the original was saved by an earlier run, or there was
 * none). A symlink (systemd-resolved's stub-resolv.conf) is saved as the link itself, so
 * restoring brings back the link, not a frozen copy. Returns the backup path when it saved one.
 */
export function saveOriginalOnce(path: string): string | undefined {
  const orig = backupPath(path);
  if (lstatOrUndefined(orig)) return undefined;
  const st = lstatOrUndefined(path);
  if (!st) return undefined;
  const tmp = `${orig}.${process.pid}.tmp`;
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(path), tmp);
    renameSync(tmp, orig);
    return orig;
  }
  const current = readFileSync(path, 'utf8');
  if (isGenerated(current)) return undefined;
  // Atomic too: a half-written backup would never be replaced, and uninstalling would restore it.
  writeFileAtomic(orig, current, { newFileMode: st.mode & 0o7777 });
  return orig;
}

export type UpdateResult = { status: 'unchanged' } | { status: 'written'; method: WriteMethod; savedOriginal?: string };

/**
 * Makes `path` hold `content`. Throws NoNameserverError (touching nothing) when the content has
 * no nameserver line.
 */
export function updateResolvConf(path: string, content: string, opts: { ops?: RenameOp } = {}): UpdateResult {
  if (!hasNameserver(content)) throw new NoNameserverError(`refusing to write ${path}`);
  if (readOrUndefined(path) === content) return { status: 'unchanged' };
  const savedOriginal = saveOriginalOnce(path);
  const method = writeFileAtomic(path, content, opts);
  return { status: 'written', method, ...(savedOriginal ? { savedOriginal } : {}) };
}

export type RestoreResult =
  | { status: 'restored'; method: WriteMethod; from: string }
  /** No backup. `generated`: the file there is still ours (it lists the agent or the upstreams). */
  | { status: 'no-backup'; generated: boolean };

/** Puts `<path>.orig` back at `path` (and removes the backup). */
export function restoreOriginal(path: string, opts: { ops?: RenameOp } = {}): RestoreResult {
  const rename = opts.ops?.rename ?? renameSync;
  const orig = backupPath(path);
  if (!lstatOrUndefined(orig)) {
    const current = readOrUndefined(path);
    return { status: 'no-backup', generated: current !== undefined && isGenerated(current) };
  }
  try {
    rename(orig, path);
    return { status: 'restored', method: 'rename', from: orig };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    // A bind-mounted file (Docker): copy the original's content into it instead.
    writeInPlace(path, readFileSync(orig));
    unlinkSync(orig);
    return { status: 'restored', method: 'in-place', from: orig };
  }
}
