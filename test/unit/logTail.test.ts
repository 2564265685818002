import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogTail } from '../../src/instance/logTail.js';
import { tempDir } from './helpers/tempDir.js';

test('LogTail reads from an offset, holds back a partial line, and follows a rotation without losing lines', () => {
  const dir = tempDir('tail');
  const log = join(dir, 'k3s.log');
  writeFileSync(log, 'old run\n');
  const tail = new LogTail(log, 'old run\n'.length);
  assert.deepEqual(tail.readLines(), []);
  appendFileSync(log, 'one\ntw');
  assert.deepEqual(tail.readLines(), ['one']);
  appendFileSync(log, 'o\nthree\n');
  // The supervisor rotates: the current file becomes k3s.log.1 and a new k3s.log starts.
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'four\n');
  assert.deepEqual(tail.readLines(), ['two', 'three', 'four']);
  appendFileSync(log, 'five\n');
  assert.deepEqual(tail.readLines(), ['five']);
  tail.close();
});

test('LogTail waits for a log that does not exist yet', () => {
  const log = join(tempDir('tail'), 'k3s.log');
  const tail = new LogTail(log, 0);
  assert.deepEqual(tail.readLines(), []);
  writeFileSync(log, 'first\n');
  assert.deepEqual(tail.readLines(), ['first']);
  tail.close();
});
