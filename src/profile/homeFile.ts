/**
 * Reading, replacing and appending to files in a home directory. The caller already has the home owner's identity
 * (`asUser.ts` runs these in a child process with the user's uid and gid when root publishes for someone else), so a
 * symlink can only lead where the user could write anyway and is followed: a dotfile manager's link survives.
 * What this module guards against is what would still hurt with the user's rights: a FIFO or device that blocks a
 * read forever (opened O_NONBLOCK, then refused after fstat), a file too large to be a profile or kubeconfig
 * (bounded reads), a temp name someone predicted and planted a link at (random names, O_EXCL|O_NOFOLLOW), and a
 * half-written file (temp + fsync + rename in the same directory, the temp removed on failure).
 */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { userInfo } from 'node:os';
import { isNotFound, replaceFile } from '../files.js';

/** Far above any real shell profile or kubeconfig, far below what would hurt to hold in memory. */
export const MAX_HOME_FILE_BYTES = 8 * 1024 * 1024;

const { O_APPEND, O_CREAT, O_NOCTTY, O_NONBLOCK, O_RDONLY, O_RDWR } = constants;

/** A file k3s-sandbox will not touch; the message says which, why, and what to do. */
export class RefusedFileError extends Error {}

/** Whose rights a write had, for error messages. */
function identity(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.()}`;
  }
}

/**
 * Runs `update` on `file`; an fs error becomes one line naming the file and whose rights the write had (a refusal
 * already says what it is about).
 */
export function updating<T>(file: string, update: () => T): T {
  try {
    return update();
  } catch (error) {
    if (error instanceof RefusedFileError) throw error;
    throw new Error(`cannot update ${file} as ${identity()}: ${(error as Error).message}`);
  }
}

/** Creates `dir` with mode 0700 unless something is already there. */
export function createPrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file';
}

function requireRegular(file: string, stats: Stats): void {
  if (!stats.isFile()) {
    throw new RefusedFileError(`${file} is a ${kindOf(stats)}, not a regular file: k3s-sandbox only edits regular files; replace it with one or remove it`);
  }
}

/** Reads the whole of an open regular file from offset 0, refusing one larger than `maxBytes`. */
function readBounded(fd: number, file: string, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total));
    const read = readSync(fd, chunk, 0, chunk.length, total);
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
    if (total > maxBytes) throw new RefusedFileError(`${file} is larger than ${maxBytes} bytes: too large to be edited by k3s-sandbox; left untouched`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of `file`, or undefined when it does not exist; a FIFO, device or directory is refused without blocking. */
export function readRegularFile(file: string, maxBytes = MAX_HOME_FILE_BYTES): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    requireRegular(file, fstatSync(fd));
    return readBounded(fd, file, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** The file a symlink at `file` leads to, so the link stays in place; `file` itself when nothing is there yet. */
function linkTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch (error) {
    if (isNotFound(error)) return file;
    throw error;
  }
}

/**
 * Replaces `file` with `content`. An existing file keeps its permission bits (a `privateFile` keeps only the
 * owner's); a new one gets `modeWhenNew`. The result belongs to whoever runs this: nothing is chowned.
 */
export function replaceRegularFile(file: string, content: string, modeWhenNew: number, options: { privateFile?: boolean } = {}): void {
  const target = linkTarget(file);
  let mode = modeWhenNew;
  try {
    const stats = statSync(target);
    requireRegular(file, stats);
    mode = options.privateFile ? stats.mode & 0o700 : stats.mode & 0o777;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  replaceFile(target, content, { mode, fsync: true });
}

/**
 * Appends `line` to `file` unless a line equal to it is already there; true when it appended. One write on an
 * O_APPEND descriptor, because other hooks append to the same file concurrently and a rename would drop their lines.
 */
export function appendLineOnce(file: string, line: string, modeWhenNew = 0o600): boolean {
  const fd = openSync(file, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY, modeWhenNew);
  try {
    requireRegular(file, fstatSync(fd));
    const current = readBounded(fd, file, MAX_HOME_FILE_BYTES);
    if (current.split('\n').some((existing) => existing.trim() === line)) return false;
    const separator = current === '' || current.endsWith('\n') ? '' : '\n';
    writeSync(fd, `${separator}${line}\n`);
    return true;
  } finally {
    closeSync(fd);
  }
}
