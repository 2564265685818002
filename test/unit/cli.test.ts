import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  // A named config file must exist; it lives apart so that `root` shows only what the CLI created.
  const etc = mkdtempSync(join(tmpdir(), 'k3s-sandbox-cli-etc-'));
  writeFileSync(join(etc, 'config.json'), '{}\n');
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(etc, { recursive: true, force: true });
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: join(root, 'home'),
    K3S_SANDBOX_CONFIG: join(etc, 'config.json'),
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
  assert.deepEqual(readdirSync(root), []);
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

test('doctor --mode M plans for that mode (what `up --mode M` would run); a bad mode exits 2 naming it', (t) => {
  const { root, env } = sandboxDirs(t);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const name of ['k3s', 'k3s-sandbox-supervise', 'k3s-sandbox-intercept']) writeFileSync(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
  const programs = { ...env, K3S_SANDBOX_K3S: join(bin, 'k3s'), K3S_SANDBOX_BIN_DIR: bin };
  const asked = cli(['doctor', '--mode', 'control-plane'], programs);
  assert.equal(asked.code, 0, asked.stdout + asked.stderr);
  assert.match(asked.stdout, /\nup would run: mode control-plane; /);
  const server = cli(['doctor', '--mode', 'server'], programs);
  assert.match(server.stdout, /\nup would (run: mode server; |fail: )/);
  assert.doesNotMatch(server.stdout, /up would run: mode (control-plane|sandboxed-node)/);
  const bad = cli(['doctor', '--mode', 'bogus'], programs);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid value for mode: "bogus" \(from flag --mode\)/);
});

test('doctor exits 1 when no mode can run (no k3s binary), with a remedy', (t) => {
  const { root, env } = sandboxDirs(t);
  const run = cli(['doctor'], { ...env, K3S_SANDBOX_K3S: join(root, 'missing-k3s'), K3S_SANDBOX_BIN_DIR: join(root, 'nobin') });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /missing-k3s is missing or not executable\n\s+remedy: install k3s/);
  assert.match(run.stdout, /no mode can run in this sandbox/);
});

test('in real gVisor: env reads the passwd home `up` publishes into, not $HOME, and fails clearly without a kubeconfig', (t) => {
  const script = [
    'set -u',
    'exec 2>&1',
    'useradd --create-home --shell /bin/bash tester',
    'export K3S_SANDBOX_STATE_DIR=/tmp/state',
    `run_env() { HOME=/tmp/elsewhere setpriv --reuid tester --regid tester --clear-groups node --import ${TSX} ${CLI} env; echo "rc $?"; }`,
    'run_env',
    'mkdir -p /tmp/elsewhere/.kube /home/tester/.kube && echo "apiVersion: v1" | tee /tmp/elsewhere/.kube/config > /home/tester/.kube/config',
    'chmod -R a+rX /tmp/elsewhere && chown -R tester: /home/tester/.kube',
    'run_env',
  ].join('\n');
  const run = runInGvisor(t, ['bash', '-c', script]);
  if (!run) return;
  assert.match(run.output, /no readable kubeconfig \(looked at \/home\/tester\/\.kube\/config and \/tmp\/state\/k3s\.yaml\); run `k3s-sandbox up` first\nrc 1\n/);
  assert.match(run.output, /\nexport KUBECONFIG=\/home\/tester\/\.kube\/config\nrc 0\n/);
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

test('the README\'s CLI block is the generated usage, and every command answers --help', async (t) => {
  const { env } = sandboxDirs(t);
  const help = cli(['--help'], env);
  assert.equal(help.code, 0);
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /## The CLI\n\n```\n([\s\S]*?)```\n/.exec(readme);
  assert.ok(block, 'README.md has a ```-fenced block under ## The CLI');
  assert.equal(block[1], help.stdout, 'README.md\'s CLI block differs from `k3s-sandbox --help`: paste the latter');
  const { COMMANDS } = await import('../../src/cli/commands.js');
  for (const command of COMMANDS) {
    const run = cli([command.name, '--help'], env);
    assert.equal(run.code, 0, `${command.name} --help: ${run.stderr}`);
    assert.ok(run.stdout.startsWith(`usage: k3s-sandbox ${command.name}`), run.stdout);
    for (const option of command.options) assert.ok(run.stdout.includes(`--${option.name}`), `${command.name} --help names --${option.name}`);
    if (!command.hidden) assert.ok(help.stdout.includes(`\n  ${command.name}`), `the usage lists ${command.name}`);
  }
});

test('--version prints ours and the installed k3s\'s', (t) => {
  const { root, env } = sandboxDirs(t);
  const k3s = join(root, 'k3s');
  writeFileSync(k3s, '#!/bin/sh\necho "k3s version v1.36.4+k3s1 (abcdef)"\necho "go version go1.24"\n', { mode: 0o755 });
  const run = cli(['--version'], { ...env, K3S_SANDBOX_K3S: k3s });
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `k3s-sandbox ${version}\nk3s version v1.36.4+k3s1 (abcdef) (${k3s})\n`);
  const none = cli(['--version'], { ...env, K3S_SANDBOX_K3S: join(root, 'missing') });
  assert.match(none.stdout, /\nk3s: none at .*missing \(ENOENT\)\n$/);
});

const LENIENT: { name: string; args: string[]; code: number }[] = [
  { name: 'down', args: ['down'], code: 0 },
  { name: 'status', args: ['status'], code: 3 },
  { name: 'logs', args: ['logs'], code: 1 },
  { name: 'env', args: ['env'], code: 1 },
];

for (const command of LENIENT) {
  test(`${command.name} warns about a bad setting or a corrupt config file and carries on`, (t) => {
    const { env } = sandboxDirs(t);
    const bogus = cli(command.args, { ...env, K3S_SANDBOX_MODE: 'bogus' });
    assert.equal(bogus.code, command.code, bogus.stderr);
    assert.match(bogus.stderr, /k3s-sandbox: ignoring a bad setting: invalid value for mode: "bogus" \(from env K3S_SANDBOX_MODE\)/);
    writeFileSync(env.K3S_SANDBOX_CONFIG!, '{"mode": ');
    const corrupt = cli(command.args, env);
    assert.equal(corrupt.code, command.code, corrupt.stderr);
    assert.match(corrupt.stderr, /k3s-sandbox: ignoring a bad setting: config file .* is not valid JSON/);
  });
}

test('status exits as soon as it has printed (exitWhenDone): the whole report on stdout and its exit code', (t) => {
  const { env } = sandboxDirs(t);
  const json = cli(['status', '--json'], env);
  assert.equal(json.code, 3, json.stderr);
  const report = JSON.parse(json.stdout) as { running: boolean; state: string };
  assert.deepEqual([report.running, report.state], [false, 'stopped']);
  const plain = cli(['status'], env);
  assert.equal(plain.code, 3, plain.stderr);
  assert.equal(plain.stdout, 'k3s-sandbox: not running\n');
});

test('a K3S_SANDBOX_CONFIG that names a missing file is an error naming it', (t) => {
  const { root, env } = sandboxDirs(t);
  const missing = join(root, 'no-such-config.json');
  const run = cli(['up'], { ...env, K3S_SANDBOX_CONFIG: missing });
  assert.equal(run.code, 2);
  assert.ok(run.stderr.includes(`config file ${missing} (from env K3S_SANDBOX_CONFIG) does not exist`), run.stderr);
});

test('every line of a multi-line error carries the k3s-sandbox: prefix (install.sh shows them as they are)', (t) => {
  const { root, env } = sandboxDirs(t);
  const run = cli(['write-config', '--output', join(root, 'config.json')], { ...env, VERSION: 'nope', MODE: 'bogus' });
  assert.equal(run.code, 2);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, run.stderr);
  for (const line of lines) assert.match(line, /^k3s-sandbox: invalid value for (version|mode)/);
});

test('the README\'s example hook line is what session-context prints for that report', async () => {
  const { renderHookOutput } = await import('../../src/commands/sessionContext.js');
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const example = /for example\n`(k3s-sandbox: ready in [^`]+)`/.exec(readme);
  assert.ok(example, 'README.md shows the one-line hook output');
  const { LIMITS } = await import('../../src/steps/plan.js');
  const report = {
    ok: true,
    state: 'ready',
    mode: 'control-plane',
    gvisor: true,
    fallbacks: [],
    foundReady: false,
    secondsUntilReady: 1.8,
    kubeconfig: '/root/.kube/config',
    limits: LIMITS['control-plane'],
    log: '/var/log/k3s-sandbox/k3s.log',
  };
  assert.equal(renderHookOutput({ kind: 'ready', report: report as never }, { kubeconfig: '/root/.kube/config' }, 'text'), example[1]);
});

test('in real gVisor: logs as a user who may not read the root-only log says permission denied and the remedy', (t) => {
  const script = [
    'set -u',
    'exec 2>&1',
    'useradd --create-home tester',
    'mkdir -p /tmp/log && echo "k3s line" > /tmp/log/k3s.log && chmod 640 /tmp/log/k3s.log',
    `as_tester() { setpriv --reuid tester --regid tester --clear-groups env K3S_SANDBOX_LOG_DIR=/tmp/log timeout 20 node --import ${TSX} ${CLI} "$@"; echo "rc $?"; }`,
    'as_tester logs',
    'as_tester logs -f',
  ].join('\n');
  const run = runInGvisor(t, ['bash', '-c', script]);
  if (!run) return;
  const denied = /k3s-sandbox: permission denied reading \/tmp\/log\/k3s\.log \(owner uid 0, group gid 0, mode 640\): run `sudo k3s-sandbox logs`, or read it as a member of its group\nrc 1\n/g;
  assert.equal(run.output.match(denied)?.length, 2, run.output);
});

test('session-context with a bad setting still describes the session, from the settings that are good', (t) => {
  const { root, env } = sandboxDirs(t);
  const upResult = join(root, 'up.out');
  writeFileSync(upResult, JSON.stringify({ ok: false, error: 'k3s-sandbox: invalid value for mode: "bogus"' }) + '\n');
  const run = cli(['session-context', '--up-result', upResult], { ...env, K3S_SANDBOX_MODE: 'bogus', K3S_SANDBOX_DATA_DIR: '/' });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^k3s-sandbox: no Kubernetes cluster in this session: invalid value for mode: "bogus"/);
});
