/**
 * The single-instance lock: flock(2) on `<state>/locks/up.lock`, taken by flock(1) from util-linux because
 * Node has no flock. The child locks a descriptor it inherits from us; flock locks belong to the open
 * file description, so the lock stays ours after the child exits and the kernel drops it when this
 * process closes the file or dies. A crashed `up` can therefore never leave a stale lock behind.
 * Node opens every other file close-on-exec, so the detached supervisor does not inherit it.
 *
 * flock(2) grants an exclusive lock on a read-only descriptor, so whoever can open the lock file can hold it and
 * block every `up`: the file is 0600 in a directory only its owner (root; only root takes this lock) may enter.
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { isNotFound } from '../files.js';

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;
/** The sticky bit: in such a directory (/tmp) others may add entries but not rename or remove ours. */
const STICKY = 0o1000;

/**
 * Makes `dir` a directory only we may enter: created 0700 when missing; a group- or world-accessible one of ours is
 * repaired to 0700. One that is not ours, or a symbolic link, is refused, as is a parent others may rename it in.
 */
export function preparePrivateDir(dir: string): void {
  const us = process.geteuid?.() ?? 0;
  const parent = lstatSync(dirname(dir));
  if ((parent.uid !== us && parent.uid !== 0) || ((parent.mode & 0o022) !== 0 && (parent.mode & STICKY) === 0)) {
    throw new Error(`${dirname(dir)} can be changed by users other than uid ${us}, so the lock beneath it cannot be trusted: make it owned by root and not group- or world-writable`);
  }
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (errnoOf(error) !== 'EEXIST') throw error;
  }
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} must be a directory, and it is a ${stat.isSymbolicLink() ? 'symbolic link' : 'file'}: remove it`);
  if (stat.uid !== us) throw new Error(`${dir} belongs to uid ${stat.uid}, not to uid ${us}: remove it, and \`up\` creates it again`);
  if ((stat.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** Opens the lock file: created 0600, never through a symbolic link, and only a regular file of ours. */
function openLockFile(lockFile: string): number {
  preparePrivateDir(dirname(lockFile));
  let fd: number;
  try {
    fd = openSync(lockFile, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    if (errnoOf(error) === 'ELOOP') throw new Error(`${lockFile} is a symbolic link; the lock must be a plain file: remove it`);
    throw error;
  }
  const stat = fstatSync(fd);
  if (!stat.isFile() || stat.uid !== (process.geteuid?.() ?? 0) || stat.nlink !== 1) {
    closeSync(fd);
    throw new Error(`${lockFile} is not a plain file of ours (a single link, owned by us): remove it`);
  }
  if ((stat.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
  return fd;
}

export interface InstanceLock {
  /** Whether another process held the lock when we asked, so that we waited for it. */
  contended: boolean;
  /**
   * When this process started (ms since the epoch): an `up` result recorded after this came from an
   * attempt that ran while we were starting or waiting, which we report instead of repeating it.
   */
  processStartedAt: number;
  release(): void;
}

async function flockDescriptor(fd: number, flags: string[]): Promise<number> {
  try {
    // The lock file is flock's stdin, so `flock 0` locks our open file description. execa hands a
    // descriptor number to child_process.spawn unchanged; its types only spell out the parent's own 0.
    const { execa } = await import('execa'); // loaded only when the lock is taken: a warm `up` never parses it
    const result = await execa('flock', [...flags, '0'], { stdin: fd as 0, stdout: 'ignore', stderr: 'pipe', reject: false });
    if (result.exitCode !== 0 && result.exitCode !== 1) {
      throw new Error(`flock ${flags.join(' ')} failed (exit ${result.exitCode}): ${result.stderr}`);
    }
    return result.exitCode;
  } catch (error) {
    if (isNotFound(error)) {
      throw new Error('flock(1) was not found on PATH: install util-linux, which provides it');
    }
    throw error;
  }
}

/**
 * Takes the lock, waiting up to `timeoutSeconds` for another holder; `onWait` runs once when we have to
 * wait. Rejects with a clear message on timeout.
 */
export async function acquireInstanceLock(
  lockFile: string,
  timeoutSeconds: number,
  onWait: () => void = () => undefined,
): Promise<InstanceLock> {
  const processStartedAt = Date.now() - process.uptime() * 1000;
  const fd = openLockFile(lockFile);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
  try {
    if ((await flockDescriptor(fd, ['--exclusive', '--nonblock'])) === 0) {
      return { contended: false, processStartedAt, release };
    }
    onWait();
    if ((await flockDescriptor(fd, ['--exclusive', '--timeout', String(timeoutSeconds)])) === 0) {
      return { contended: true, processStartedAt, release };
    }
    throw new Error(`another k3s-sandbox up held ${lockFile} for more than ${timeoutSeconds} s`);
  } catch (error) {
    release();
    throw error;
  }
}

/** Runs `fn` holding the lock, and releases it however `fn` ends. */
export async function withInstanceLock<T>(
  lockFile: string,
  timeoutSeconds: number,
  onWait: () => void,
  fn: (lock: InstanceLock) => Promise<T>,
): Promise<T> {
  const lock = await acquireInstanceLock(lockFile, timeoutSeconds, onWait);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
