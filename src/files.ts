import { accessSync, closeSync, constants, existsSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

/** node:crypto is large and only a writer needs it: it loads on the first temp name, never for `status` or `env`. */
const requireOnUse = createRequire(import.meta.url);

/** Whether an fs error means the file is not there, as opposed to a real failure worth reporting. */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function hasAccess(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

export function isReadable(file: string): boolean {
  return hasAccess(file, constants.R_OK);
}

export function isExecutable(file: string): boolean {
  return hasAccess(file, constants.X_OK);
}

/** The file's text, or undefined when it does not exist. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * A fresh temp file name next to `file`: a dot name (directory sweeps skip it) with 64 random bits, so nobody who can
 * write to the directory can predict it and plant a link there first.
 */
export function tempPathBeside(file: string): string {
  return join(dirname(file), `.${basename(file)}.k3s-sandbox.${(requireOnUse('node:crypto') as typeof import('node:crypto')).randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Creates `temp` (never an existing file or link: O_EXCL|O_NOFOLLOW) with `mode` set explicitly, whatever the umask,
 * and returns its descriptor.
 */
export function createTempFile(temp: string, mode: number): number {
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, mode);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  return fd;
}

export interface ReplaceOptions {
  /** The new file's mode, set whatever the umask. */
  mode: number;
  /** uid and gid for the new file (root writing a file another account reads). */
  owner?: { uid: number; gid: number };
  /** fsync the data before the rename, so a crash leaves the old file or the whole new one on disk too. */
  fsync?: boolean;
}

/**
 * Replaces `file` with `content` through a new temp file in the same directory and a rename, so readers see the old
 * file or the whole new one, with `mode` (and `owner`) set before the rename. A failed write leaves no temp file behind.
 * The one temp-file-and-rename writer: a user's home is written through it by src/profile/homeFile.ts, which runs with
 * the user's identity and first refuses what must not be replaced there (FIFOs, devices, oversized files).
 */
export function replaceFile(file: string, content: string, options: ReplaceOptions): void {
  const temp = tempPathBeside(file);
  const fd = createTempFile(temp, options.mode);
  try {
    try {
      if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
      writeFileSync(fd, content);
      if (options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Points `link` at `target` through a temp link and a rename; false when it already did. */
export function replaceLink(target: string, link: string): boolean {
  try {
    if (readlinkSync(link) === target) return false;
  } catch {
    // absent or not a link: replace it
  }
  const temp = tempPathBeside(link);
  symlinkSync(target, temp);
  try {
    renameSync(temp, link);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return true;
}

/**
 * A file's identity and version, `inode:mtime:size`: equal stamps mean the file was not replaced or rewritten since
 * (every writer here replaces by rename, which gives a new inode). Undefined when the file is not there.
 */
export function fileStamp(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

/**
 * mkdir -p that names the real cause: Node's recursive mkdir reports ENOENT for the path asked for when a parent could
 * not be made (a read-only filesystem, say), so on failure the first missing directory is made alone to learn why.
 */
export function makeDirectories(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
  } catch (error) {
    let first = dir;
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    try {
      mkdirSync(first, { mode });
    } catch (cause) {
      const { code, message } = cause as NodeJS.ErrnoException;
      throw Object.assign(new Error(`cannot create ${dir}: ${code === 'EROFS' ? `${dirname(first)} is on a read-only filesystem` : message}`), { code });
    }
    throw error;
  }
}
