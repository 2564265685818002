/**
 * The `up` pipeline, the whole story in order (the steps live in src/steps/, each with explicit inputs and output):
 *
 *   user    = targetUser(--user)                       bad input fails here, before anything starts
 *   running = inspect(paths)                           a healthy instance is kept as it is: nothing on disk changes;
 *                                                      launched with these very settings, it is kept without probing
 *   facts   = probe(config)
 *   plan    = plan(facts, config)
 *   under the instance lock:
 *     keepRunning(plan) ?? (fakes(plan); launch(plan, lock)) → instance
 *     wait(instance, plan) → Ready, or Fallback → plan(facts, config with the next mode) and round again
 *   simulatedNode(instance)                            with simulateNode on (control-plane only), its controller runs
 *   published = publish(instance, user)
 *   report(UpResult)
 *
 * A non-root caller never takes the lock: cli.ts has re-run `up` through sudo unless a root instance runs, which it
 * follows. The steps that start k3s (probe, plan, fakes, launch, wait, the simulated node) load on demand through
 * src/lazy.ts; a warm `up` (kept as launched, then publish and report) loads none of them.
 */
import { simulateNodeConflict } from './config.js';
import { existsSync } from 'node:fs';
import { makeDirectories } from './files.js';
import type { FallbackRecord, Plan, ProbeFacts, Shared } from './context.js';
import { UpError } from './diagnose/upError.js';
import { inspect, type InstanceHealth } from './instance/health.js';
import { withInstanceLock, type InstanceLock } from './instance/lock.js';
import { isRoot } from './instance/root.js';
import { lastUpFile, launchedWithSettings, writeStateJson, type LastUp } from './instance/state.js';
import { simnodeFiles } from './instance/simnode.js';
import type { TargetUser } from './profile/user.js';
import type { Instance } from './steps/launch.js';
import { publish, targetUser } from './steps/publish.js';
import { report, type UpResult } from './steps/report.js';
import type { SimulatedNodeState } from './steps/simulatedNode.js';
import type { Ready } from './steps/wait.js';

/** Past the wait itself, how long a second `up` waits for the lock before giving up. */
const LOCK_SLACK_S = 60;
/** `up --mode M` while another mode runs: not a failure to start, but not what was asked for either. */
const EXIT_DRIFT = 4;

async function planStep(facts: ProbeFacts, shared: Shared, detail: string, running?: InstanceHealth): Promise<Plan> {
  const { plan } = await import('./lazy.js');
  return shared.status.step('plan', (handle) => {
    const planned = plan(facts, shared, running?.healthy ? running.record : undefined);
    handle.detail(detail || planned.mode);
    return planned;
  });
}

/**
 * A healthy instance is kept as it is. When it differs from what the config gives now, that is said plainly, and it
 * fails `up` when the user asked for a mode other than the one that runs.
 */
async function checkDrift(instance: Instance, plan: Plan, shared: Shared): Promise<void> {
  const { driftOf } = await import('./lazy.js');
  const drift = driftOf(instance.record, plan, shared.config);
  if (drift?.explicitMode) throw new UpError(drift.message, { exitCode: EXIT_DRIFT });
  if (drift) shared.status.warn(drift.message);
}

async function keepHealthy(running: InstanceHealth, plan: Plan, shared: Shared): Promise<Instance> {
  const instance = { supervisorPid: running.supervisorPid!, record: running.record!, foundReady: true };
  await checkDrift(instance, plan, shared);
  shared.status.info(`k3s already running (supervisor ${instance.supervisorPid}, mode ${instance.record.mode})`);
  return instance;
}

/**
 * The warm `up`: a healthy instance launched with the settings this `up` has is kept as it is, without the probe or
 * the plan (the same settings make the same plan; what else the sandbox offers now cannot change a running k3s).
 * Undefined: take the full path (other settings, not healthy, or --wait-node).
 */
async function keptAsLaunched(running: InstanceHealth, shared: Shared): Promise<Started | undefined> {
  const { record, supervisorPid } = running;
  if (!running.healthy || !record || supervisorPid === undefined || shared.options.waitNode) return undefined;
  if (!launchedWithSettings(record, shared.config)) return undefined;
  refuseSimulatedNodeIn(record.mode, shared);
  const { status } = shared;
  await status.step('plan', (handle) => {
    status.info(`unchanged: the running instance has this plan (mode ${record.mode}, ${record.remedies.length} remedies; \`k3s-sandbox status\` lists them)`);
    handle.detail(record.mode);
  });
  status.info(`k3s already running (supervisor ${supervisorPid}, mode ${record.mode})`);
  return { instance: { supervisorPid, record, foundReady: true }, gvisor: record.gvisor ?? false, ready: { kind: 'ready', secondsUntilReady: process.uptime() }, fallbacks: [] };
}

/** simulateNode in a mode with a kubelet of its own: refused (exit 2) before anything starts. */
function refuseSimulatedNodeIn(mode: string, shared: Shared): void {
  const conflict = simulateNodeConflict(shared.config, mode);
  if (conflict) throw conflict;
}

function recordLastUp(shared: Shared, outcome: Omit<LastUp, 'finishedAt'>): void {
  writeStateJson(lastUpFile(shared.paths), { ...outcome, finishedAt: Date.now() });
}

interface Started {
  instance: Instance;
  gvisor: boolean;
  ready?: Ready;
  fallbacks: FallbackRecord[];
}

/** What an interrupted `up` leaves, in words (Ctrl-C or SIGTERM while k3s is starting). */
let leftBehind = 'nothing was started';

/**
 * Under the lock: keep or launch, wait, and on a diagnosed fatal start fall back to the plan's next mode (re-planned
 * through the plan step, so its remedies print too). With --no-wait the lock is released once launch is done.
 */
async function startUnderLock(facts: ProbeFacts, firstPlan: Plan, lock: InstanceLock, shared: Shared): Promise<Started> {
  const { status, options, paths } = shared;
  const { failureWhileWaiting, fakes, keepRunning, launch, wait } = await import('./lazy.js');
  const earlier = failureWhileWaiting(paths, lock);
  if (earlier) throw earlier;
  let plan = firstPlan;
  const fallbacks: FallbackRecord[] = [];
  try {
    for (;;) {
      let instance = await keepRunning(plan, shared);
      if (instance?.foundReady) await checkDrift(instance, plan, shared);
      if (!instance) {
        await status.step('fakes', () => fakes(plan, facts, shared));
        instance = await status.step('launch', () => launch(plan, lock, shared, { gvisor: facts.gvisor, fallbacks: [...fallbacks] }));
      }
      leftBehind = `k3s keeps starting under supervisor ${instance.supervisorPid} (mode ${instance.record.mode}): \`k3s-sandbox status\` shows it, \`k3s-sandbox up\` waits for it, \`k3s-sandbox down\` stops it`;
      if (!options.wait) return { instance, gvisor: facts.gvisor, fallbacks };
      const started = instance;
      const outcome = await status.step('wait', () => wait(started, plan, shared));
      if (outcome.kind === 'ready') {
        recordLastUp(shared, { ok: true, summary: `ready, mode ${instance.record.mode}`, details: [], exitCode: 0 });
        return { instance, gvisor: facts.gvisor, ready: outcome, fallbacks };
      }
      fallbacks.push({ from: outcome.from, reason: outcome.reason });
      status.warn(`mode ${outcome.from} cannot run here: ${outcome.reason}; falling back to mode ${outcome.to}`);
      plan = await planStep(facts, { ...shared, config: { ...shared.config, mode: outcome.to } }, `${outcome.to} (fallback)`);
    }
  } catch (error) {
    if (error instanceof UpError) recordLastUp(shared, { ok: false, summary: error.message, details: error.details, exitCode: error.exitCode });
    throw error;
  }
}

/** A non-root `up`: follow the root instance (cli.ts re-ran `up` through sudo when there was none). */
async function follow(plan: Plan, facts: ProbeFacts, shared: Shared): Promise<Started> {
  const { followRootInstance, wait } = await import('./lazy.js');
  const instance = await shared.status.step('launch', () => followRootInstance(shared.paths, shared.status));
  if (!shared.options.wait) return { instance, gvisor: facts.gvisor, fallbacks: [] };
  const outcome = await shared.status.step('wait', () => wait(instance, plan, shared));
  if (outcome.kind === 'fallback') throw new UpError(`mode ${outcome.from} cannot run here: ${outcome.reason}`);
  return { instance, gvisor: facts.gvisor, ready: outcome, fallbacks: [] };
}

/** Says what an interrupted `up` leaves behind, then exits as interrupted (128 + the signal number). */
function onInterrupt(shared: Shared): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    const message = `interrupted by ${signal}: ${leftBehind}`;
    if (shared.options.json) process.stdout.write(JSON.stringify({ ok: false, error: message, details: [] }) + '\n');
    else process.stderr.write(`\nk3s-sandbox: ${message}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** (kept as launched, or probe → plan → (lock: keep or fakes → launch → wait, falling back)) → publish. */
async function bringUp(shared: Shared): Promise<UpResult> {
  const user = targetUser(shared.options.user);
  const running = await inspect(shared.paths);
  const kept = await keptAsLaunched(running, shared);
  if (kept) return publishStarted(kept, user, shared);
  const { probe } = await import('./lazy.js');
  const facts = await shared.status.step('probe', () => probe(shared));
  return bringUpFrom(facts, user, shared, running);
}

/**
 * The simulated node matches the config after every `up` (src/steps/simulatedNode.ts); with simulateNode off and
 * nothing of it on disk, nothing more is loaded.
 */
async function simulatedNodeStep(instance: Instance, shared: Shared): Promise<SimulatedNodeState | undefined> {
  if (!shared.config.simulateNode && !existsSync(simnodeFiles(shared.paths).statusFile) && !existsSync(simnodeFiles(shared.paths).recordFile)) return undefined;
  const { simulatedNode } = await import('./lazy.js');
  if (!shared.config.simulateNode) return simulatedNode(instance.record, shared);
  return shared.status.step('simulated node', async (handle) => {
    const state = await simulatedNode(instance.record, shared);
    handle.detail(state ? `${state.nodeName}${state.kept ? ' (kept)' : ''}` : 'not running');
    return state;
  });
}

/** The publish step when k3s is ready; the result for the report step. */
async function publishStarted(started: Started, user: TargetUser, shared: Shared): Promise<UpResult> {
  const simulatedNode = await simulatedNodeStep(started.instance, shared);
  const result: UpResult = { gvisor: started.gvisor, instance: started.instance, ready: started.ready, fallbacks: started.fallbacks, ...(simulatedNode ? { simulatedNode } : {}) };
  if (started.ready) result.published = await shared.status.step('publish', () => publish(started.instance, user, shared));
  return result;
}

/**
 * Everything after the probe, from given facts (a test can hand it facts of another sandbox); `running` is what
 * inspect found before the probe, asked again when not given.
 */
export async function bringUpFrom(facts: ProbeFacts, user: TargetUser, shared: Shared, before?: InstanceHealth): Promise<UpResult> {
  const { status, options, paths } = shared;
  const running = before ?? (await inspect(paths));
  const plan = await planStep(facts, shared, '', running);
  refuseSimulatedNodeIn(plan.mode, shared);
  let started: Started;
  if (running.healthy) {
    started = { instance: await keepHealthy(running, plan, shared), gvisor: facts.gvisor, fallbacks: [] };
    if (options.waitNode) {
      const { wait } = await import('./lazy.js');
      const outcome = await status.step('wait', () => wait(started.instance, plan, shared));
      if (outcome.kind === 'ready') started.ready = outcome;
    } else {
      started.ready = { kind: 'ready', secondsUntilReady: process.uptime() };
    }
  } else if (!isRoot()) {
    started = await follow(plan, facts, shared);
  } else {
    const { config } = shared;
    makeDirectories(paths.stateDir, 0o755); // the lock's directory lives in it
    started = await withInstanceLock(
      paths.lockFile,
      config.waitTimeout + LOCK_SLACK_S,
      () => status.info('another `k3s-sandbox up` is starting k3s; waiting for it'),
      (lock) => startUnderLock(facts, plan, lock, shared),
    );
  }
  return publishStarted(started, user, shared);
}

/** The `up` command's pipeline, from config to the report on stdout. */
export async function up(shared: Shared): Promise<UpResult> {
  leftBehind = 'nothing was started';
  const stopListening = onInterrupt(shared);
  try {
    const result = await bringUp(shared);
    report(result, { json: shared.options.json, logFile: shared.paths.logFile });
    return result;
  } finally {
    stopListening();
  }
}
