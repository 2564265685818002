import { accessSync, chmodSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

let tempFiles = 0;

/**
 * Replaces `file` with `content` through a temp file in the same directory and a rename, so readers see the old
 * file or the whole new one. The temp name starts with a dot (directory sweeps skip it), and `mode` is set
 * explicitly, whatever the umask. A failed write leaves no temp file behind.
 */
export function replaceFile(file: string, content: string, mode: number): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${tempFiles++}.tmp`);
  try {
    writeFileSync(temp, content, { mode });
    chmodSync(temp, mode);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
