import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { acquireInstanceLock } from '../../src/instance/lock.js';
import { tempDir } from './helpers/tempDir.js';

const HOLDER = fileURLToPath(new URL('./helpers/lockHolder.ts', import.meta.url));

function lockFile(): string {
  return join(tempDir('lock'), 'lock');
}

/** Starts a process holding the lock; resolves once it holds it, with the pid of its detached child (or 0). */
async function startHolder(file: string, holdMs: number, mode = ''): Promise<{ holder: ResultPromise; childPid: number }> {
  const holder = execa('node', ['--import', 'tsx', HOLDER, file, String(holdMs), mode], { reject: false });
  const childPid = await new Promise<number>((resolve, reject) => {
    holder.stdout!.on('data', (chunk: Buffer) => {
      const match = /locked (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    void holder.then((result) => reject(new Error(`holder exited before locking: ${result.stderr}`)));
  });
  return { holder, childPid };
}

test('an uncontended lock is taken at once and can be taken again after release', async () => {
  const file = lockFile();
  const first = await acquireInstanceLock(file, 5);
  assert.equal(first.contended, false);
  first.release();
  const second = await acquireInstanceLock(file, 5);
  assert.equal(second.contended, false);
  second.release();
});

test('a second process waits for the holder, then gets the lock', async () => {
  const file = lockFile();
  const { holder } = await startHolder(file, 700);
  let waited = false;
  const lock = await acquireInstanceLock(file, 20, () => (waited = true));
  assert.equal(waited, true);
  assert.equal(lock.contended, true);
  assert.equal((await holder).exitCode, 0, 'the holder released and exited before we got the lock');
  lock.release();
});

test('the lock dies with its holder, even when the holder left a detached child running', async () => {
  const file = lockFile();
  const { holder, childPid } = await startHolder(file, 60_000, 'spawn');
  assert.ok(childPid > 0);
  try {
    holder.kill('SIGKILL');
    await holder;
    const lock = await acquireInstanceLock(file, 10);
    assert.equal(process.kill(childPid, 0), true, 'the detached child still runs, and does not hold the lock');
    lock.release();
  } finally {
    process.kill(childPid, 'SIGKILL');
  }
});

test('waiting longer than the timeout fails with a message naming the lock file', async () => {
  const file = lockFile();
  const { holder } = await startHolder(file, 60_000);
  try {
    await assert.rejects(acquireInstanceLock(file, 1), new RegExp(`held ${file} for more than 1 s`));
  } finally {
    holder.kill('SIGKILL');
    await holder;
  }
});
