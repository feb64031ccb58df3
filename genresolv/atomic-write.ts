// Replacing a file so that no reader ever sees it empty or half-written: write a temp file in the
// same directory (same filesystem, so rename is atomic), fsync it, rename it over the target,
// fsync the directory. The target's mode (and, as root, owner) is kept.
//
// Docker bind-mounts /etc/resolv.conf into containers; renaming over a mount point fails with
// EBUSY, and the only way left is to write the file in place.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The one filesystem call the tests replace, to reach the EBUSY path without a mount. */
export interface RenameOp {
  rename: (from: string, to: string) => void;
}

export type WriteMethod = 'rename' | 'in-place';

function writeAll(fd: number, data: Buffer, position?: number): void {
  let written = 0;
  while (written < data.length) {
    written += writeSync(fd, data, written, data.length - written, position === undefined ? null : position + written);
  }
}

/** The result of a stat-like call, or undefined when the file does not exist. */
export function ifExists<T>(stat: () => T): T | undefined {
  try {
    return stat();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function statOrUndefined(path: string) {
  return ifExists(() => statSync(path));
}

function syncDirectory(dir: string): void {
  // Makes the rename itself durable; some filesystems refuse fsync on a directory, which is fine.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Overwrites an existing file's contents where it is (same inode). The new bytes go in first and
 * the file is cut to length after, so a reader can see a stale tail for a moment but never an
 * empty file, as truncating first would show it.
 */
export function writeInPlace(path: string, content: string | Buffer): void {
  const data = Buffer.from(content);
  const fd = openSync(path, 'r+');
  try {
    writeAll(fd, data, 0);
    ftruncateSync(fd, data.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `content` atomically; a file that did not exist gets `newFileMode`.
 * Returns how it was written. On any failure the old file is untouched and no temp file is left.
 */
export function writeFileAtomic(path: string, content: string | Buffer, opts: { newFileMode?: number; ops?: RenameOp } = {}): WriteMethod {
  const rename = opts.ops?.rename ?? renameSync;
  const data = Buffer.from(content);
  const existing = statOrUndefined(path); // through a symlink: the mode the readers know
  const mode = existing ? existing.mode & 0o7777 : (opts.newFileMode ?? 0o644);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeAll(fd, data);
      fchmodSync(fd, mode); // the umask may have cut the mode given to open
      if (existing && process.getuid?.() === 0 && (existing.uid !== 0 || existing.gid !== 0)) {
        fchownSync(fd, existing.uid, existing.gid);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    rename(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    if ((err as NodeJS.ErrnoException).code === 'EBUSY' && existing) {
      writeInPlace(path, data);
      return 'in-place';
    }
    throw err;
  }
  syncDirectory(dir);
  return 'rename';
}
