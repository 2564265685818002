import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const created: string[] = [];
after(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed once the test file's tests are done. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `k3s-sandbox-${name}-`));
  created.push(dir);
  return dir;
}
