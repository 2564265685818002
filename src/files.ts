import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fchmodSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
  return join(dirname(file), `.${basename(file)}.k3s-sandbox.${randomBytes(8).toString('hex')}.tmp`);
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

/**
 * Replaces `file` with `content` through a new temp file in the same directory and a rename, so readers see the old
 * file or the whole new one, with `mode` whatever the umask. A failed write leaves no temp file behind.
 */
export function replaceFile(file: string, content: string, mode: number): void {
  const temp = tempPathBeside(file);
  const fd = createTempFile(temp, mode);
  try {
    try {
      writeFileSync(fd, content);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
