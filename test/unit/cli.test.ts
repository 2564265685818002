import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInGvisor } from './helpers/gvisor.js';
import { createStatusReporter } from '../../src/ui/status.js';
import { REPO } from './helpers/repo.js';

const CLI = join(REPO, 'src', 'cli.ts');
// tsx named by its file: `uninstall-profile --user` reruns the CLI as that user from /, with the same node flags.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function sandboxDirs(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'k3s-sandbox-cli-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: join(root, 'home'),
    K3S_SANDBOX_CONFIG: join(root, 'config.json'),
    K3S_SANDBOX_STATE_DIR: join(root, 'state'),
    K3S_SANDBOX_LOG_DIR: join(root, 'log'),
    K3S_SANDBOX_LIB_DIR: join(root, 'lib'),
    K3S_SANDBOX_DATA_DIR: join(root, 'data'),
  };
  return { root, env };
}

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const BAD_UP: { name: string; args: string[]; env?: Record<string, string>; message: RegExp }[] = [
  { name: '--mode bogus', args: ['--mode', 'bogus'], message: /invalid value for mode: "bogus" \(from flag --mode\); allowed: auto, server, sandboxed-node, control-plane/ },
  { name: '--timeout 0', args: ['--timeout', '0'], message: /invalid value for waitTimeout: "0" \(from flag --timeout\); allowed: a whole number of seconds from 1 to 3600/ },
  {
    name: 'an injection attempt in K3S_SANDBOX_VERSION',
    args: [],
    env: { K3S_SANDBOX_VERSION: 'v1.30.0+k3s1; touch /pwned' },
    message: /invalid value for version: "v1\.30\.0\+k3s1; touch \/pwned" \(from env K3S_SANDBOX_VERSION\)/,
  },
  { name: 'an unknown flag', args: ['--frobnicate'], message: /Unknown option '--frobnicate'/ },
  { name: '--wait with --no-wait', args: ['--wait', '--no-wait'], message: /--wait and --no-wait exclude each other/ },
];

for (const bad of BAD_UP) {
  test(`up with ${bad.name} exits 2, names the problem, and touches nothing`, (t) => {
    const { root, env } = sandboxDirs(t);
    const run = cli(['up', ...bad.args], { ...env, ...bad.env });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, bad.message);
    assert.deepEqual(readdirSync(root), [], 'no state, log, lib or data dir was created');
    assert.equal(existsSync('/pwned'), false);
  });
}

test('a bad config file exits 2 before anything runs, naming the file', (t) => {
  const { root, env } = sandboxDirs(t);
  writeFileSync(env.K3S_SANDBOX_CONFIG!, JSON.stringify({ httpsPort: 'http' }));
  const run = cli(['up'], env);
  assert.equal(run.code, 2);
  assert.ok(run.stderr.includes(`invalid value for httpsPort: "http" (from config file ${env.K3S_SANDBOX_CONFIG})`), run.stderr);
  assert.deepEqual(readdirSync(root), ['config.json']);
});

test('unknown commands and a missing command exit 2 with the usage', (t) => {
  const { env } = sandboxDirs(t);
  for (const args of [['frob'], []]) {
    const run = cli(args, env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: k3s-sandbox <command>/);
  }
  const help = cli(['--help'], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /uninstall-profile/);
});

test('doctor prints the facts and each mode, exits 0 when a mode can run', (t) => {
  const { root, env } = sandboxDirs(t);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const name of ['k3s', 'k3s-sandbox-supervise', 'k3s-sandbox-intercept']) writeFileSync(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
  const run = cli(['doctor'], { ...env, K3S_SANDBOX_K3S: join(bin, 'k3s'), K3S_SANDBOX_BIN_DIR: bin });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^facts:\n {2}kernel: Linux /);
  assert.match(run.stdout, /\n {2}[✓✗] server\n/);
  assert.match(run.stdout, /\n {2}✓ control-plane\n/);
  assert.match(run.stdout, /\nup would run: mode \S+ \(auto\)/);
});

test('doctor exits 1 when no mode can run (no k3s binary), with a remedy', (t) => {
  const { root, env } = sandboxDirs(t);
  const run = cli(['doctor'], { ...env, K3S_SANDBOX_K3S: join(root, 'missing-k3s'), K3S_SANDBOX_BIN_DIR: join(root, 'nobin') });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /no k3s binary at .*missing-k3s\n\s+remedy: install the feature/);
  assert.match(run.stdout, /no mode can run in this sandbox/);
});

test('env prints the export line for a readable kubeconfig, and fails clearly without one', (t) => {
  const { env } = sandboxDirs(t);
  const missing = cli(['env'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no readable kubeconfig .*run `k3s-sandbox up` first/);
  mkdirSync(join(env.HOME!, '.kube'), { recursive: true });
  writeFileSync(join(env.HOME!, '.kube', 'config'), 'apiVersion: v1\n');
  const found = cli(['env'], env);
  assert.equal(found.code, 0, found.stderr);
  assert.equal(found.stdout, `export KUBECONFIG=${join(env.HOME!, '.kube', 'config')}\n`);
});

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (chunk: string) => chunks.push(chunk) }, text: () => chunks.join('') };
}

test('status lines: plain ✓/✗ lines with durations and the reason when not a TTY', async () => {
  const out = capture(false);
  const status = createStatusReporter(out.stream);
  assert.equal(await status.step('probe', (h) => { h.detail('gVisor'); return 42; }), 42);
  await assert.rejects(status.step('launch', () => { throw new Error('port 6443 is in use'); }), /port 6443/);
  status.info('a detail');
  assert.match(out.text(), /^✓ probe \(\d+\.\ds\): gVisor\n✗ launch \(\d+\.\ds\): port 6443 is in use\n {2}a detail\n$/);
  assert.doesNotMatch(out.text(), /\r/);
});

test('status lines: a spinner on a TTY, replaced by the final line', async () => {
  const out = capture(true);
  const status = createStatusReporter(out.stream);
  await status.step('wait', () => new Promise((resolve) => setTimeout(resolve, 250)));
  assert.match(out.text(), /\r\x1b\[2K⠋ wait/);
  assert.match(out.text(), /\r\x1b\[2K✓ wait \(0\.\ds\)\n$/);
});

test('in real gVisor: uninstall-profile removes the blocks for --user and leaves the rest of the file', (t) => {
  const script = [
    'set -eu',
    'exec 2>&1',
    'useradd --create-home --shell /bin/bash tester',
    "printf 'alias ll=\"ls -l\"\\n# >>> k3s-sandbox >>>\\nexport KUBECONFIG=/home/tester/.kube/config\\n# <<< k3s-sandbox <<<\\nexport EDITOR=vi\\n' > /home/tester/.bashrc",
    'chown tester: /home/tester/.bashrc',
    `node --import ${TSX} ${CLI} uninstall-profile --user tester`,
    'echo "--- bashrc"',
    'cat /home/tester/.bashrc',
    'find /home/tester/.bashrc -printf "owner %u mode %m\\n"',
    `node --import ${TSX} ${CLI} uninstall-profile --user tester`,
    'echo "second rc: $?"',
  ].join('\n');
  const run = runInGvisor(t, ['bash', '-c', script]);
  if (!run) return;
  const { status, output } = run;
  assert.equal(status, 0, output);
  assert.match(output, /removed the k3s-sandbox block from \/home\/tester\/\.bashrc\n/);
  assert.match(output, /--- bashrc\nalias ll="ls -l"\nexport EDITOR=vi\nowner tester mode 644\n/);
  assert.match(output, /no k3s-sandbox profile blocks found for tester/);
  assert.match(output, /second rc: 0/);
});
