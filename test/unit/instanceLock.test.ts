import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { acquireInstanceLock } from '../../src/instance/lock.js';
import { resolvePaths } from '../../src/paths.js';
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

const modeOf = (path: string): string => (lstatSync(path).mode & 0o7777).toString(8);

/** The lock where paths puts it, under a state dir everyone may traverse (as /run/k3s-sandbox is). */
function lockInStateDir(): string {
  const stateDir = join(tempDir('lock'), 'state');
  mkdirSync(stateDir, { mode: 0o755 });
  chmodSync(join(stateDir, '..'), 0o755);
  return resolvePaths({ dataDir: '/var/lib/rancher/k3s' }, { K3S_SANDBOX_STATE_DIR: stateDir }).lockFile;
}

/** Runs a shell command as nobody: a plain user with no rights to root's files. */
function asNobody(script: string): { status: number | null; output: string } {
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, output: result.stdout + result.stderr };
}

test('the lock file is 0600 in a 0700 directory of ours, created when missing', async () => {
  const file = lockInStateDir();
  const lock = await acquireInstanceLock(file, 5);
  lock.release();
  assert.equal(modeOf(join(file, '..')), '700');
  assert.equal(modeOf(file), '600');
  assert.equal(statSync(file).uid, 0);
  assert.equal(statSync(join(file, '..')).uid, 0);
});

test('another user can neither open nor flock the lock, so root takes it at once', async () => {
  const file = lockInStateDir();
  (await acquireInstanceLock(file, 5)).release();
  const held = asNobody(`exec 3<'${file}' && flock -n 3 && echo held`);
  assert.notEqual(held.status, 0, held.output);
  assert.doesNotMatch(held.output, /held/);
  const flocked = asNobody(`flock -n '${file}' echo held`);
  assert.notEqual(flocked.status, 0, flocked.output);
  const lock = await acquireInstanceLock(file, 5);
  assert.equal(lock.contended, false);
  lock.release();
});

test('a lock directory of ours that others may write to is repaired to 0700', async () => {
  const file = lockInStateDir();
  mkdirSync(join(file, '..'), { mode: 0o777 });
  chmodSync(join(file, '..'), 0o777);
  (await acquireInstanceLock(file, 5)).release();
  assert.equal(modeOf(join(file, '..')), '700');
});

test('a lock directory that belongs to another user is refused, naming it', async () => {
  const file = lockInStateDir();
  mkdirSync(join(file, '..'), { mode: 0o700 });
  chownSync(join(file, '..'), 65534, 65534);
  await assert.rejects(acquireInstanceLock(file, 5), new RegExp(`${join(file, '..')} belongs to uid 65534, not to uid 0: remove it`));
});

test('a lock directory that is a symbolic link is refused', async () => {
  const file = lockInStateDir();
  const elsewhere = tempDir('lock-target');
  symlinkSync(elsewhere, join(file, '..'));
  await assert.rejects(acquireInstanceLock(file, 5), /must be a directory, and it is a symbolic link: remove it/);
});

test('a symbolic link at the lock path is refused and its target left as it was', async () => {
  const file = lockInStateDir();
  mkdirSync(join(file, '..'), { mode: 0o700 });
  const target = join(tempDir('lock-target'), 'precious');
  writeFileSync(target, 'precious\n', { mode: 0o644 });
  symlinkSync(target, file);
  await assert.rejects(acquireInstanceLock(file, 5), new RegExp(`${file} is a symbolic link; the lock must be a plain file: remove it`));
  assert.equal(readFileSync(target, 'utf8'), 'precious\n');
  assert.equal(modeOf(target), '644');
});

test('a state dir others may write to is refused: they could swap the lock directory', async () => {
  const stateDir = join(tempDir('lock'), 'state');
  mkdirSync(stateDir, { mode: 0o777 });
  chmodSync(stateDir, 0o777);
  const file = join(stateDir, 'locks', 'up.lock');
  await assert.rejects(acquireInstanceLock(file, 5), new RegExp(`${stateDir} can be changed by users other than uid 0`));
});
