// status from the state dir: nothing running, a crash loop the supervisor gave up on, a status file naming processes
// that are not ours. The health rule itself is src/instance/health.ts, shared with up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectStatus } from '../../src/commands/status.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import type { CommandContext } from '../../src/context.js';
import { fileStamp } from '../../src/files.js';
import { inspect, reportsRunning } from '../../src/instance/health.js';
import { identityCacheFile, instanceRecordFile } from '../../src/instance/state.js';
import { resolvePaths } from '../../src/paths.js';
import { createSilentReporter, createStatusReporter } from '../../src/ui/status.js';
import { tempDir } from './helpers/tempDir.js';

function context(): CommandContext {
  const root = tempDir('status');
  const config = { ...DEFAULT_CONFIG, dataDir: join(root, 'data') };
  const paths = resolvePaths(config, { K3S_SANDBOX_STATE_DIR: join(root, 'run'), K3S_SANDBOX_LOG_DIR: join(root, 'log'), PATH: '' });
  mkdirSync(paths.stateDir, { recursive: true });
  return { config, configSources: {} as CommandContext['configSources'], paths, status: createSilentReporter() };
}

test('status: an empty state dir is stopped, not running, readiness unknown', async () => {
  const ctx = context();
  const report = await collectStatus(ctx);
  assert.equal(report.running, false);
  assert.equal(report.state, 'stopped');
  assert.equal(report.ready, null);
  assert.equal(report.supervisorPid, null);
  assert.deepEqual(await inspect(ctx.paths), { supervisorPid: undefined, record: undefined, state: undefined, ready: null, healthy: false, orphanChildPid: undefined });
});

test('status: a crash loop the supervisor gave up on is reported with its last fatal line', async () => {
  const ctx = context();
  writeFileSync(
    ctx.paths.statusFile,
    JSON.stringify({ state: 'crashloop', supervisorPid: 999999, supervisorStartTime: 1, bootId: 'x', childPid: null, starts: 6, crashes: 6, lastExit: 'exit 1', lastFatal: 'level=fatal msg="boom"', updated: 0 }),
  );
  const report = await collectStatus(ctx);
  assert.equal(report.running, false);
  assert.equal(report.state, 'crashloop');
  assert.equal(report.crashes, 6);
  assert.equal(report.lastFatal, 'level=fatal msg="boom"');
});

/** status.json saying k3s runs, naming a live process that is not ours: this test runner, from another boot. */
const STATUS_NAMING_A_PROCESS_NOT_OURS = JSON.stringify({ state: 'running', supervisorPid: process.pid, supervisorStartTime: 1, bootId: 'not-this-boot', childPid: process.pid, childStartTime: 1, starts: 1, crashes: 0, lastExit: null, lastFatal: null, updated: 0 });

test('status: a status file naming a live process that is not ours (this test runner) is not running', async () => {
  const ctx = context();
  writeFileSync(ctx.paths.statusFile, STATUS_NAMING_A_PROCESS_NOT_OURS);
  const health = await inspect(ctx.paths);
  assert.equal(health.supervisorPid, undefined);
  assert.equal(health.healthy, false);
  const report = await collectStatus(ctx);
  assert.equal(report.running, false);
  assert.equal(report.supervisorPid, null);
});

test('the supervisor half of the health rule (inspect and wait alike): status running with a child, nothing else', () => {
  const table: [Parameters<typeof reportsRunning>[0], boolean][] = [
    [{ state: 'running', childPid: 42 }, true],
    [{ state: 'running', childPid: null }, false],
    [{ state: 'starting', childPid: 42 }, false],
    [{ state: 'backoff', childPid: null }, false],
    [{ state: 'crashloop', childPid: null }, false],
    [undefined, false],
  ];
  for (const [status, expected] of table) assert.equal(reportsRunning(status), expected, JSON.stringify(status));
});

test('inspect judges by the state files its caller read (status reports from that one read, not a second one)', async () => {
  const ctx = context();
  const crashLoop = { state: 'crashloop', supervisorPid: 999999, supervisorStartTime: 1, bootId: 'x', childPid: null, starts: 6, crashes: 6, lastExit: 'exit 1', lastFatal: 'boom', updated: 0 } as const;
  // On disk: nothing. Handed over: a crash loop. inspect reads neither file again.
  const health = await inspect(ctx.paths, { status: crashLoop, record: undefined });
  assert.equal(health.state, 'crashloop');
  assert.equal(health.healthy, false);
  assert.equal((await inspect(ctx.paths)).state, undefined);
});

test('the step reporter opens stderr only when it first prints (status and env print no step)', () => {
  const stderr = Object.getOwnPropertyDescriptor(process, 'stderr')!;
  const written: string[] = [];
  let opened = 0;
  Object.defineProperty(process, 'stderr', { configurable: true, get: () => (opened++, { write: (text: string) => written.push(text), isTTY: false }) });
  try {
    const reporter = createStatusReporter();
    assert.equal(opened, 0, 'creating the reporter does not open stderr');
    reporter.info('first');
    reporter.warn('second');
    assert.equal(opened, 1, 'opened once, on the first line');
    assert.deepEqual(written, ['  first\n', '  ! second\n']);
  } finally {
    Object.defineProperty(process, 'stderr', stderr);
  }
});

test('inspect opens /readyz before its /proc checks when status.json says k3s runs, and closes it when nothing is ours', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('the identity cache is root\'s');
  const ctx = context();
  // Usable TLS material for the cached identity (never verified here: nothing answers the handshake).
  const dir = tempDir('status-tls');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=x', '-days', '1'], { cwd: dir, stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const connections: Socket[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const kubeconfig = join(ctx.paths.stateDir, 'k3s.yaml');
    writeFileSync(kubeconfig, 'apiVersion: v1\n');
    writeFileSync(instanceRecordFile(ctx.paths), JSON.stringify({ mode: 'control-plane', adminKubeconfig: kubeconfig, launchedAt: 0 }));
    const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(identityCacheFile(ctx.paths), JSON.stringify({ server: address, ca: cert, cert, key, source: kubeconfig, stamp: fileStamp(kubeconfig) }));
    // Says running, but names a process that is not ours (this test runner, another boot).
    writeFileSync(ctx.paths.statusFile, STATUS_NAMING_A_PROCESS_NOT_OURS);
    const health = await inspect(ctx.paths);
    assert.equal(health.supervisorPid, undefined);
    assert.equal(health.ready, null);
    assert.equal(connections.length, 1, 'the connection was opened before the /proc checks found nothing of ours');
    await Promise.race([Promise.all(closed), new Promise((_, reject) => setTimeout(() => reject(new Error('the connection was left open')), 1000))]);
  } finally {
    server.close();
  }
});
