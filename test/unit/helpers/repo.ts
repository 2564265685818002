import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tests that run the CLI from source or point runsc at repo files. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
