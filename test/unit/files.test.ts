import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../../src/files.js';
import { tempDir } from './helpers/tempDir.js';

test('replaceFile replaces the whole file with the mode asked for, whatever the umask, and leaves no temp file', () => {
  const dir = tempDir('files');
  const file = join(dir, 'state.json');
  const umask = process.umask(0o077);
  try {
    replaceFile(file, 'first\n', 0o644);
    replaceFile(file, 'second\n', 0o644);
  } finally {
    process.umask(umask);
  }
  assert.equal(readFileSync(file, 'utf8'), 'second\n');
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('replaceFile that cannot rename into place removes its temp file and throws', () => {
  const dir = tempDir('files');
  const target = join(dir, 'a-directory');
  mkdirSync(join(target, 'child'), { recursive: true });
  assert.throws(() => replaceFile(target, 'x', 0o644));
  assert.deepEqual(readdirSync(dir), ['a-directory']);
});
