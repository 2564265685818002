/**
 * Atomic file replacement for files in a user's home and in /etc: write a temp file in the same
 * directory, give it the mode and owner the file has (or the defaults for a new file), fsync, rename.
 * A symlinked dotfile is followed so the link survives; as root, a link into a file the user does not
 * own is refused, because the user could otherwise point root at any file on the system.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface Ownership {
  mode: number;
  uid: number;
  gid: number;
}

/** The real file behind `file` (the path itself when it does not exist yet). */
export function resolveTarget(file: string, expectedOwnerUid?: number): string {
  let target: string;
  try {
    target = realpathSync(file);
  } catch {
    return file;
  }
  if (target !== file && expectedOwnerUid !== undefined && process.getuid?.() === 0) {
    const owner = statSync(target).uid;
    if (owner !== expectedOwnerUid) {
      throw new Error(`${file} is a symlink to ${target}, which belongs to uid ${owner}, not to uid ${expectedOwnerUid}: left untouched`);
    }
  }
  return target;
}

/**
 * Replaces `file` with `content`. An existing file keeps its mode and owner (a `privateFile` only
 * keeps the owner's bits); a new one gets `whenNew`. Ownership is only changed when we run as root (otherwise we already are the owner).
 */
export function writeFileAtomic(
  file: string,
  content: string,
  whenNew: Ownership,
  expectedOwnerUid?: number,
  options: { privateFile?: boolean } = {},
): void {
  const target = resolveTarget(file, expectedOwnerUid);
  let ownership = whenNew;
  try {
    const stat = statSync(target);
    // A file holding credentials loses group and other access even when it had them.
    const mode = options.privateFile ? stat.mode & 0o700 : stat.mode & 0o7777;
    ownership = { mode, uid: stat.uid, gid: stat.gid };
  } catch {
    // New file: the defaults apply.
  }
  const tmp = join(dirname(target), `.${basename(target)}.k3s-sandbox.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fchmodSync(fd, ownership.mode);
    if (process.getuid?.() === 0) fchownSync(fd, ownership.uid, ownership.gid);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
