/**
 * The single-instance lock: flock(2) on `<state>/lock`, taken by flock(1) from util-linux because
 * Node has no flock. The child locks a descriptor it inherits from us; flock locks belong to the open
 * file description, so the lock stays ours after the child exits and the kernel drops it when this
 * process closes the file or dies. A crashed `up` can therefore never leave a stale lock behind.
 * Node opens every other file close-on-exec, so the detached supervisor does not inherit it.
 */
import { closeSync, openSync } from 'node:fs';
import { execa } from 'execa';
import { isNotFound } from '../files.js';

export interface InstanceLock {
  /** Whether another process held the lock when we asked, so that we waited for it. */
  contended: boolean;
  /**
   * When this process started (ms since the epoch): an `up` result recorded after this came from an
   * attempt that ran while we were starting or waiting, which we report instead of repeating it.
   */
  requestedAt: number;
  release(): void;
}

async function flockDescriptor(fd: number, flags: string[]): Promise<number> {
  try {
    // The lock file is flock's stdin, so `flock 0` locks our open file description. execa hands a
    // descriptor number to child_process.spawn unchanged; its types only spell out the parent's own 0.
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
  const requestedAt = Date.now() - process.uptime() * 1000;
  // Read access suffices for flock(2); 0644 lets a non-root caller wait on a root instance's lock.
  const fd = openSync(lockFile, 'a', 0o644);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
  try {
    if ((await flockDescriptor(fd, ['--exclusive', '--nonblock'])) === 0) {
      return { contended: false, requestedAt, release };
    }
    onWait();
    if ((await flockDescriptor(fd, ['--exclusive', '--timeout', String(timeoutSeconds)])) === 0) {
      return { contended: true, requestedAt, release };
    }
    throw new Error(`another k3s-sandbox up held ${lockFile} for more than ${timeoutSeconds} s`);
  } catch (error) {
    release();
    throw error;
  }
}
