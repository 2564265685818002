// Writes into a user's home (profile/asUser.ts, profile/homeFile.ts), run for real as root with the unprivileged
// uid 65534 (nobody): the child that does the writes cannot be redirected through the user's links, does not block
// on the user's FIFOs, names its temp files unpredictably, and leaves no temp file when it fails.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { execa, execaSync } from 'execa';
import { HOME_TASK_COMMAND, performAsUser, type AsUserOptions, type HomeTask } from '../../src/profile/asUser.js';
import { BLOCK_START } from '../../src/profile/blocks.js';
import { readRegularFile, replaceRegularFile } from '../../src/profile/homeFile.js';
import { tempPathBeside } from '../../src/files.js';
import type { SandboxEntries } from '../../src/kube/kubeconfig.js';
import type { TargetUser } from '../../src/profile/user.js';
import { REPO } from './helpers/repo.js';
import { tempDir } from './helpers/tempDir.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const skip = asRoot ? false : 'needs root to run the writes as uid 65534';
// The CLI from source: the child runs `node --import tsx src/cli.ts __home-task` as nobody, from / (so tsx is
// named by its file, as the child's cwd cannot resolve a package name).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILD: AsUserOptions = { command: [process.execPath, '--import', TSX, join(REPO, 'src', 'cli.ts')] };

const ENTRIES: SandboxEntries = {
  cluster: { name: 'k3s-sandbox', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } },
  user: { name: 'k3s-sandbox', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } },
  context: { name: 'k3s-sandbox', context: { cluster: 'k3s-sandbox', user: 'k3s-sandbox' } },
};

/** A root-owned 0755 directory holding a root-owned home for nobody, and a root-owned `outside` directory. */
function layout(): { user: TargetUser; outside: string } {
  const root = tempDir('home-writes');
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  const outside = join(root, 'outside');
  mkdirSync(home, { mode: 0o755 });
  mkdirSync(outside, { mode: 0o755 });
  chownSync(home, NOBODY, NOBODY);
  return { user: { name: 'nobody', uid: NOBODY, gid: NOBODY, home }, outside };
}

/** Creates `file` as nobody would have: owned by nobody, with `mode`. */
function userFile(file: string, content: string, mode = 0o644): void {
  writeFileSync(file, content);
  chmodSync(file, mode);
  chownSync(file, NOBODY, NOBODY);
}

function publish(user: TargetUser, extra: Partial<Extract<HomeTask, { kind: 'publish' }>> = {}): HomeTask {
  return { kind: 'publish', home: user.home, kubeconfig: join(user.home, '.kube', 'config'), entries: ENTRIES, ...extra };
}

/** Name, mode, owner and content of every entry of `dir`, to compare before and after. */
function snapshot(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const stats = statSync(join(dir, name));
      return `${name} ${stats.mode.toString(8)} ${stats.uid}:${stats.gid} ${stats.isFile() ? readFileSync(join(dir, name), 'utf8') : ''}`;
    })
    .join('\n');
}

test('as nobody: a new private kubeconfig and the rc block, owned by the user, with the right modes', { skip }, async () => {
  const { user } = layout();
  userFile(join(user.home, '.bashrc'), '# mine\n', 0o640);
  const result = await performAsUser(user, publish(user), CHILD);
  const kubeconfig = join(user.home, '.kube', 'config');
  assert.deepEqual(result, { changed: [kubeconfig, join(user.home, '.bashrc')], warnings: [] });
  const kubeDir = statSync(join(user.home, '.kube'));
  assert.deepEqual([kubeDir.mode & 0o777, kubeDir.uid, kubeDir.gid], [0o700, NOBODY, NOBODY]);
  const config = statSync(kubeconfig);
  assert.deepEqual([config.mode & 0o777, config.uid, config.gid], [0o600, NOBODY, NOBODY]);
  assert.match(readFileSync(kubeconfig, 'utf8'), /current-context: k3s-sandbox/);
  const bashrc = statSync(join(user.home, '.bashrc'));
  assert.deepEqual([bashrc.mode & 0o777, bashrc.uid], [0o640, NOBODY]);
  assert.match(readFileSync(join(user.home, '.bashrc'), 'utf8'), new RegExp(`^# mine\\n${BLOCK_START}\\n`));
  assert.deepEqual(await performAsUser(user, publish(user), CHILD), { changed: [], warnings: [] }, 'a second run changes nothing');

  assert.deepEqual((await performAsUser(user, { kind: 'unpublish', home: user.home }, CHILD)).changed, [join(user.home, '.bashrc')]);
  assert.equal(readFileSync(join(user.home, '.bashrc'), 'utf8'), '# mine\n');
  assert.deepEqual(readdirSync(user.home).sort(), ['.bashrc', '.kube']);
});

test('as nobody: an existing kubeconfig loses group and other access', { skip }, async () => {
  const { user } = layout();
  mkdirSync(join(user.home, '.kube'));
  chownSync(join(user.home, '.kube'), NOBODY, NOBODY);
  userFile(join(user.home, '.kube', 'config'), 'apiVersion: v1\nkind: Config\n', 0o644);
  await performAsUser(user, publish(user), CHILD);
  assert.equal(statSync(join(user.home, '.kube', 'config')).mode & 0o777, 0o600);
});

test('~/.kube linked to a root-owned directory: refused with the reason, the directory untouched', { skip }, async () => {
  const { user, outside } = layout();
  writeFileSync(join(outside, 'existing.conf'), 'keep\n');
  symlinkSync(outside, join(user.home, '.kube'));
  const before = snapshot(outside);
  await assert.rejects(performAsUser(user, publish(user), CHILD), /^Error: cannot update \S+\/home\/\.kube\/config as nobody: EACCES: permission denied/);
  assert.equal(snapshot(outside), before);
});

test('~/.bashrc linked to a root-owned file: refused, the file keeps its content, mode and owner', { skip }, async () => {
  const { user, outside } = layout();
  const passwd = join(outside, 'passwd');
  writeFileSync(passwd, 'root:x:0:0::/root:/bin/bash\n', { mode: 0o644 });
  symlinkSync(passwd, join(user.home, '.bashrc'));
  const before = snapshot(outside);
  await assert.rejects(performAsUser(user, publish(user), CHILD), /cannot update \S+\/home\/\.bashrc as nobody: EACCES: permission denied/);
  assert.equal(snapshot(outside), before);
});

test('~/.bashrc a FIFO: refused at once, without blocking on it', { skip }, async () => {
  const { user } = layout();
  const fifo = join(user.home, '.bashrc');
  execaSync('mkfifo', [fifo]);
  chownSync(fifo, NOBODY, NOBODY);
  const started = Date.now();
  await assert.rejects(
    performAsUser(user, publish(user), { ...CHILD, timeoutMs: 20_000 }),
    new RegExp(`^Error: ${fifo} is a FIFO, not a regular file: k3s-sandbox only edits regular files`),
  );
  assert.ok(Date.now() - started < 15_000, 'refused well before the child timeout');
  // The same in-process (root publishing for itself): no open blocks on a FIFO, for reading or replacing.
  assert.throws(() => readRegularFile(fifo), /is a FIFO, not a regular file/);
  assert.throws(() => replaceRegularFile(fifo, 'x', 0o644), /is a FIFO, not a regular file/);
});

test('a device behind a link and an oversized file are refused, not read', () => {
  const dir = tempDir('home-writes');
  symlinkSync('/dev/zero', join(dir, 'zero'));
  assert.throws(() => readRegularFile(join(dir, 'zero')), /zero is a character device, not a regular file/);
  writeFileSync(join(dir, 'big'), 'x'.repeat(2048));
  assert.throws(() => readRegularFile(join(dir, 'big'), 1024), /big is larger than 1024 bytes/);
  assert.equal(readRegularFile(join(dir, 'absent')), undefined);
});

test('temp names are random, never the pid, and a link planted at a temp name is never followed', () => {
  const names = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const name = tempPathBeside('/home/u/.bashrc');
    assert.match(name, /^\/home\/u\/\.\.bashrc\.k3s-sandbox\.[0-9a-f]{16}\.tmp$/);
    assert.ok(!name.includes(`.${process.pid}.`));
    names.add(name);
  }
  assert.equal(names.size, 1000);
  // Links at the names the old scheme used (the pid) change nothing either.
  const dir = tempDir('home-writes');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'untouched\n');
  symlinkSync(victim, join(dir, `..bashrc.k3s-sandbox.${process.pid}.tmp`));
  writeFileSync(join(dir, '.bashrc'), 'old\n');
  replaceRegularFile(join(dir, '.bashrc'), 'new\n', 0o644);
  assert.equal(readFileSync(victim, 'utf8'), 'untouched\n');
  assert.equal(readFileSync(join(dir, '.bashrc'), 'utf8'), 'new\n');
});

test('a write that fails at the rename leaves no temp file and the old file as it was', { skip }, async () => {
  const { user } = layout();
  // A sticky home owned by root with a root-owned .bashrc: nobody may create the temp file, but not rename over it.
  chownSync(user.home, 0, 0);
  chmodSync(user.home, 0o1777);
  writeFileSync(join(user.home, '.bashrc'), '# root owns this\n', { mode: 0o666 });
  await assert.rejects(performAsUser(user, publish(user, { entries: undefined }), CHILD), /cannot update \S+\/\.bashrc as nobody: EPERM/);
  assert.deepEqual(readdirSync(user.home), ['.bashrc']);
  assert.equal(readFileSync(join(user.home, '.bashrc'), 'utf8'), '# root owns this\n');
});

test('CLAUDE_ENV_FILE the user cannot write: a warning, the file untouched, the rest published', { skip }, async () => {
  const { user, outside } = layout();
  const envFile = join(outside, 'claude-env');
  writeFileSync(envFile, 'export A=1\n');
  symlinkSync(envFile, join(user.home, 'claude-env'));
  const result = await performAsUser(user, publish(user, { claudeEnvFile: join(user.home, 'claude-env') }), CHILD);
  assert.deepEqual(result.changed, [join(user.home, '.kube', 'config')]);
  assert.match(result.warnings.join('\n'), /^CLAUDE_ENV_FILE: cannot update \S+\/claude-env as nobody: EACCES: permission denied/);
  assert.equal(readFileSync(envFile, 'utf8'), 'export A=1\n');
});

test('the child refuses to work as any uid or group but the ones the task is for', { skip }, async () => {
  const { user } = layout();
  const [file, ...args] = CHILD.command!;
  const task = JSON.stringify({ uid: NOBODY, gid: NOBODY, task: publish(user) });
  const asRootChild = await execa(file, [...args, HOME_TASK_COMMAND], { input: task, reject: false });
  assert.equal(asRootChild.exitCode, 1);
  assert.match(String(asRootChild.stderr), /__home-task must run as uid 65534, gid 65534 and no other group, not as uid 0/);
  // The right uid still holding one of root's groups is refused too.
  const withRootGroup = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--groups=0', file, ...args, HOME_TASK_COMMAND], { input: task, cwd: '/', reject: false });
  assert.equal(withRootGroup.exitCode, 1);
  assert.match(String(withRootGroup.stderr), /must run as uid 65534, gid 65534 and no other group, not as uid 65534 \(groups /);
  assert.deepEqual(readdirSync(user.home), []);
});

/** A bootstrapper entry at `dir`/cli.cjs that requires a chunk beside it, as the bundle does; root-owned, world-readable. */
function bootstrapperIn(dir: string): { entry: string; chunk: string } {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const entry = join(dir, 'cli.cjs');
  const chunk = join(dir, 'cli-chunk-x.cjs');
  writeFileSync(chunk, 'exports.ok = true;\n', { mode: 0o644 });
  writeFileSync(entry, "require('./cli-chunk-x.cjs');\nprocess.stdout.write('{\"changed\":[],\"warnings\":[]}');\n", { mode: 0o644 });
  return { entry, chunk };
}

const UNREADABLE_REMEDY = 'make the bootstrapper readable by all (0755 directories, 0644 files)';

/** Publishing for `user` through the CLI at `entry` fails with exactly `message`. */
async function publishFailsWith(user: TargetUser, entry: string, message: string): Promise<void> {
  await assert.rejects(performAsUser(user, publish(user), { command: [process.execPath, entry] }), (error: Error) => {
    assert.equal(error.message, message);
    return true;
  });
}

test('the bootstrapper under a directory the user cannot enter: the error names the user, the file, the directory and the fix', { skip }, async () => {
  const { user } = layout();
  const installed = join(tempDir('bootstrapper-0700'), 'feature');
  chmodSync(dirname(installed), 0o755);
  const { entry } = bootstrapperIn(join(installed, 'dist'));
  // As readable as the bundle should be, the child runs.
  assert.deepEqual(await performAsUser(user, publish(user), { command: [process.execPath, entry] }), { changed: [], warnings: [] });
  chmodSync(installed, 0o700);
  await publishFailsWith(user, entry, `user nobody (uid ${NOBODY}) cannot read ${entry}: permission denied (${installed} is mode 0700, owner uid 0); ${UNREADABLE_REMEDY}`);
});

test('a bundle chunk the user cannot read beside a readable entry: the error names the chunk', { skip }, async () => {
  const { user } = layout();
  const dir = join(tempDir('bootstrapper-chunk'), 'dist');
  chmodSync(dirname(dir), 0o755);
  const { entry, chunk } = bootstrapperIn(dir);
  chmodSync(chunk, 0o600);
  await publishFailsWith(user, entry, `user nobody (uid ${NOBODY}) cannot read ${chunk}: permission denied (${chunk} is mode 0600, owner uid 0); ${UNREADABLE_REMEDY}`);
});

test("a child node itself fails to start (no such script): the error says what was being done and node's error line, not its version", { skip }, async () => {
  const { user } = layout();
  const missing = join(tempDir('bootstrapper-missing'), 'cli.cjs');
  await publishFailsWith(user, missing, `writing into ${user.home} as nobody failed: Error: Cannot find module '${missing}'`);
});
