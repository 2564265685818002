import { accessSync, constants, readFileSync } from 'node:fs';

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
