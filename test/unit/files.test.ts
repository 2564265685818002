import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../../src/files.js';
import { runInGvisor } from './helpers/gvisor.js';
import { REPO } from './helpers/repo.js';
import { tempDir } from './helpers/tempDir.js';

test('replaceFile replaces the whole file with the mode asked for, whatever the umask, and leaves no temp file', () => {
  const dir = tempDir('files');
  const file = join(dir, 'state.json');
  const umask = process.umask(0o077);
  try {
    replaceFile(file, 'first\n', { mode: 0o644 });
    replaceFile(file, 'second\n', { mode: 0o644, fsync: true });
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
  assert.throws(() => replaceFile(target, 'x', { mode: 0o644 }));
  assert.deepEqual(readdirSync(dir), ['a-directory']);
});

test('replaceLink points a link at its target through a rename, and says when nothing changed', async () => {
  const { replaceLink } = await import('../../src/files.js');
  const dir = tempDir('files');
  const link = join(dir, 'iptables');
  assert.equal(replaceLink('/usr/sbin/iptables-legacy', link), true);
  assert.equal(replaceLink('/usr/sbin/iptables-legacy', link), false);
  assert.equal(replaceLink('/sbin/iptables-legacy', link), true);
  assert.equal(readlinkSync(link), '/sbin/iptables-legacy');
  assert.deepEqual(readdirSync(dir), ['iptables']);
});

test('fileStamp changes when a file is replaced, and is undefined for a missing file', async () => {
  const { fileStamp } = await import('../../src/files.js');
  const file = join(tempDir('files'), 'k3s.yaml');
  assert.equal(fileStamp(file), undefined);
  replaceFile(file, 'a\n', { mode: 0o600 });
  const first = fileStamp(file);
  assert.match(first ?? '', /^\d+:[\d.]+:2$/);
  replaceFile(file, 'b\n', { mode: 0o600 });
  assert.notEqual(fileStamp(file), first);
});

test('in real gVisor: makeDirectories names a read-only filesystem instead of ENOENT', (t) => {
  const script = join(tempDir('files'), 'ro.mts');
  writeFileSync(
    script,
    `import { makeDirectories } from ${JSON.stringify(join(REPO, 'src/files.ts'))};\n` +
      "try { makeDirectories('/var/lib/k3s-sandbox/cni/bin', 0o755); } catch (error) { console.log(`error: ${(error as Error).message}`); }\n",
  );
  const run = runInGvisor(t, ['sh', '-c', `mkdir -p /var/lib/k3s-sandbox && mount -t tmpfs -o ro tmpfs /var/lib/k3s-sandbox && ${process.execPath} --import tsx ${script}`]);
  if (!run) return;
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /error: cannot create \/var\/lib\/k3s-sandbox\/cni\/bin: \/var\/lib\/k3s-sandbox is on a read-only filesystem/);
});

// Issue 12: a read-only state dir's parent was reported as `ENOENT … mkdir` (Node's recursive mkdir names the path
// asked for, not the cause). makeDirectories names the read-only filesystem.
test('in real gVisor: makeDirectories under a read-only filesystem names it, not ENOENT', (t) => {
  const script = [
    'set -u',
    'exec 2>&1',
    'mkdir -p /var/lib/ro && mount -t tmpfs -o ro tmpfs /var/lib/ro',
    `node --import tsx -e "import('./src/files.ts').then(({ makeDirectories }) => makeDirectories('/var/lib/ro/k3s-sandbox/state', 0o755)).catch((error) => console.log('error: ' + error.code + ': ' + error.message))"`,
  ].join('\n');
  const run = runInGvisor(t, ['bash', '-c', script]);
  if (!run) return;
  assert.match(run.output, /error: EROFS: cannot create \/var\/lib\/ro\/k3s-sandbox\/state: \/var\/lib\/ro is on a read-only filesystem\n/);
});
