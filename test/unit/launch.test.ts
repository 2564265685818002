// The launch step's decisions against real files and a real port holder: what differs from a running instance,
// what is refused before anything starts, and what a stale state dir is cleaned of.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG, type Config } from '../../src/config.js';
import { UpError } from '../../src/diagnose/upError.js';
import type { InstanceLock } from '../../src/instance/lock.js';
import { lastUpFile, type InstanceRecord } from '../../src/instance/state.js';
import { resolvePaths } from '../../src/paths.js';
import { driftOf, failureWhileWaiting, keepRunning, launch, launchRecord } from '../../src/steps/launch.js';
import { fakesWords } from '../../src/commands/status.js';
import { planFor } from '../../src/steps/plan.js';
import { createStatusReporter } from '../../src/ui/status.js';
import { gvisorFacts, privilegedDockerFacts } from './helpers/probeFacts.js';
import { tempDir } from './helpers/tempDir.js';

function setup(overrides: Partial<Config> = {}) {
  const root = tempDir('launch');
  const config = { ...DEFAULT_CONFIG, dataDir: join(root, 'data'), ...overrides };
  const paths = resolvePaths(config, { K3S_SANDBOX_STATE_DIR: join(root, 'run'), K3S_SANDBOX_LOG_DIR: join(root, 'log'), K3S_SANDBOX_LIB_DIR: join(root, 'lib'), K3S_SANDBOX_BIN_DIR: join(root, 'bin'), PATH: '' });
  mkdirSync(paths.stateDir, { recursive: true });
  const lines: string[] = [];
  const status = createStatusReporter({ write: (text: string) => lines.push(text) });
  return { config, paths, status, lines };
}

const lock: InstanceLock = { contended: false, processStartedAt: 1000, release: () => undefined };

function recordOf(config: Config, mode: 'control-plane' | 'sandboxed-node', fallbacks: InstanceRecord['fallbacks'] = []): InstanceRecord {
  const plan = planFor(gvisorFacts(), { ...config, mode }, resolvePaths(config));
  return { mode, agent: mode !== 'control-plane', k3sArgs: plan.k3sArgs, useInterceptor: plan.useInterceptor, limits: '', remedies: [], adminKubeconfig: '', dataDir: '', logOffset: 0, launchedAt: 0, fallbacks };
}

test('driftOf: the same plan is no drift; another mode or port is said plainly; only an asked-for mode is explicit', () => {
  const { config } = setup();
  const running = recordOf(config, 'sandboxed-node');
  const paths = resolvePaths(config);
  assert.equal(driftOf(running, planFor(gvisorFacts(), { ...config, mode: 'sandboxed-node' }, paths), { mode: 'sandboxed-node' }), undefined);

  const explicit = driftOf(running, planFor(gvisorFacts(), { ...config, mode: 'control-plane' }, paths), { mode: 'control-plane' });
  assert.equal(explicit?.explicitMode, true);
  assert.match(explicit!.message, /mode sandboxed-node runs, the config gives control-plane.*`k3s-sandbox down` then `k3s-sandbox up`/);

  const auto = driftOf(running, planFor(gvisorFacts(), { ...config, mode: 'auto' }, paths), { mode: 'auto' });
  assert.equal(auto?.explicitMode, false);

  const port = driftOf(running, planFor(gvisorFacts(), { ...config, mode: 'sandboxed-node', httpsPort: 7443 }, paths), { mode: 'sandboxed-node' });
  assert.equal(port?.explicitMode, false);
  assert.match(port!.message, /https port 6443 is in use, the config gives 7443/);
});

// Issue 13: natively, fakes by bind run k3s behind `unshare` and a bind script; the record must say so.
test('the instance record keeps how k3s was wrapped and how /proc/sys is faked; a plan binding other files is drift; status says it', () => {
  const { config, paths } = setup();
  const readOnlyProcSys = (paths: string[]) => ({
    ...privilegedDockerFacts(),
    sysctls: paths.map((path) => ({ path, state: 'unwritable' as const, value: '0' })),
    mounts: { tested: true, tmpfs: true, overlay: true, bind: true, namespacesIsolate: true, reason: 'isolate' },
  });
  const plan = planFor(readOnlyProcSys(['kernel/panic']), { ...config, mode: 'sandboxed-node' }, paths);
  const record = launchRecord(plan, { config, paths }, { gvisor: false, fallbacks: [] });
  assert.equal(record.procSysFakes, 'bind');
  assert.deepEqual(record.k3sWrapper, plan.k3sWrapper);
  assert.deepEqual(record.k3sWrapper?.slice(0, 2), ['unshare', '--mount']);
  assert.match(fakesWords(record) ?? '', /^\/proc\/sys fakes by bind, k3s runs behind `unshare --mount --propagation slave …` \(its own mount namespace\)$/);
  assert.equal(driftOf(record, plan, { mode: 'sandboxed-node' }), undefined);

  const more = planFor(readOnlyProcSys(['kernel/panic', 'vm/overcommit_memory']), { ...config, mode: 'sandboxed-node' }, paths);
  assert.deepEqual(more.k3sArgs, plan.k3sArgs, 'the k3s argv alone does not tell');
  assert.match(driftOf(record, more, { mode: 'sandboxed-node' })?.message ?? '', /the \/proc\/sys fakes bound in k3s's own mount namespace differ/);
  const { k3sWrapper: _wrapper, ...older } = record;
  assert.ok(driftOf(older, plan, { mode: 'sandboxed-node' }), 'a record without the wrapper did not run this one');

  const gvisor = launchRecord(planFor(gvisorFacts(), { ...config, mode: 'sandboxed-node', fakes: 'intercept' }, paths), { config, paths }, { gvisor: true, fallbacks: [] });
  assert.deepEqual(gvisor.k3sWrapper, []);
  assert.equal(fakesWords(gvisor), '/proc/sys fakes by intercept');
  assert.equal(fakesWords({ ...gvisor, procSysFakes: 'none' }), null);
});

test('driftOf: under auto, an instance that fell back from the planned mode is what auto chose', () => {
  const { config } = setup();
  const running = recordOf(config, 'control-plane', [{ from: 'sandboxed-node', reason: 'kubelet died' }]);
  const planned = planFor(gvisorFacts(), { ...config, mode: 'sandboxed-node' }, resolvePaths(config));
  assert.equal(driftOf(running, planned, { mode: 'auto' }), undefined);
  assert.ok(driftOf(running, planned, { mode: 'sandboxed-node' })?.explicitMode);
});

test('launch refuses a port another process holds, naming it, before anything starts', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const shared = setup({ httpsPort: port });
    const plan = planFor(gvisorFacts(), { ...shared.config, mode: 'control-plane' }, shared.paths);
    await assert.rejects(launch(plan, lock, shared, { gvisor: true, fallbacks: [] }), (error: unknown) => {
      assert.ok(error instanceof UpError);
      assert.match(error.message, new RegExp(`^port ${port} is already in use \\(held by ${process.pid} \\(`));
      return true;
    });
    assert.equal(existsSync(shared.paths.statusFile), false, 'no supervisor was started');
    assert.equal(existsSync(join(shared.paths.stateDir, 'instance.json')), false);
  } finally {
    holder.close();
  }
});

test('keepRunning with a stale pidfile keeps nothing and clears it', async () => {
  const shared = setup();
  writeFileSync(shared.paths.supervisorPidFile, '999999\n');
  const plan = planFor(gvisorFacts(), shared.config, shared.paths);
  assert.equal(await keepRunning(plan, shared), undefined);
  assert.equal(existsSync(shared.paths.supervisorPidFile), false);
  assert.match(shared.lines.join(''), /recovered stale state: supervisor pid 999999 is gone/);
});

test('failureWhileWaiting reports only a failure that finished after this process started', () => {
  const { paths } = setup();
  const write = (finishedAt: number) =>
    writeFileSync(lastUpFile(paths), JSON.stringify({ ok: false, finishedAt, summary: 'k3s cannot run here', details: ['why'], exitCode: 1 }));
  write(500);
  assert.equal(failureWhileWaiting(paths, lock), undefined);
  write(2000);
  const earlier = failureWhileWaiting(paths, lock);
  assert.ok(earlier instanceof UpError);
  assert.equal(earlier.message, 'k3s cannot run here');
  assert.deepEqual(earlier.details, ['why']);
});
