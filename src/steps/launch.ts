/**
 * launch: make sure exactly one supervised k3s runs for the current plan.
 *
 * A healthy instance (our supervisor alive, status `running`, authenticated /readyz 200) is returned
 * at once, without even taking the lock. Otherwise, under the single-instance lock (src/instance/lock.ts):
 * - a healthy instance (one that became ready while we waited for the lock) is returned;
 * - an instance still starting with the same plan is adopted (wait picks it up), one with another
 *   plan (a fallback) or in a crash loop is stopped first;
 * - a stale pidfile, or k3s orphaned by a killed supervisor, is recovered;
 * - otherwise k3s-sandbox-supervise is spawned in its own session with k3s (under
 *   k3s-sandbox-intercept when the plan says so) and this process keeps nothing resident.
 * Callers that overlapped a failed attempt (it finished after they started) report its failure instead of repeating it.
 *
 * The data dir comes from the config and is passed by the plan (`--data-dir`); when the plan finds it
 * on 9p it may point the sqlite db/ elsewhere through its k3s args, which launch passes unchanged.
 */
import { accessSync, constants, mkdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import type { Context, Plan } from '../context.js';
import { UpError } from '../diagnose/upError.js';
import { acquireInstanceLock } from '../instance/lock.js';
import { fileSize } from '../instance/logTail.js';
import { sleep } from '../instance/processes.js';
import { delegateToRoot, isRoot } from '../instance/root.js';
import {
  clearInstanceFiles,
  instanceRecordFile,
  liveSupervisorPid,
  readInstanceRecord,
  readPidFile,
  readSupervisorStatus,
  readUpResult,
  writeJsonAtomic,
  type InstanceRecord,
} from '../instance/state.js';
import { orphanedSessionId, stopInstance } from '../instance/stop.js';
import { checkHealthy, readinessSource } from '../kube/health.js';

const SUPERVISOR_START_TIMEOUT_MS = 5000;
/** k3s gets this long after SIGTERM before the supervisor SIGKILLs it (k3s.md §9: about 10 s). */
const K3S_STOP_TIMEOUT_S = 10;

/** The admin kubeconfig path k3s writes: the plan's --write-kubeconfig, else the path k3s uses as root. */
export function adminKubeconfigOf(plan: Pick<Plan, 'k3sArgs'>, fallback: string): string {
  const args = plan.k3sArgs;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--write-kubeconfig' || arg === '-o') return args[i + 1] ?? fallback;
    if (arg.startsWith('--write-kubeconfig=')) return arg.slice('--write-kubeconfig='.length);
  }
  return fallback;
}

function samePlan(record: InstanceRecord, plan: Plan): boolean {
  return record.useInterceptor === plan.useInterceptor && JSON.stringify(record.k3sArgs) === JSON.stringify(plan.k3sArgs);
}

function supervisorArgv(ctx: Context, plan: Plan): string[] {
  const { paths } = ctx;
  const k3s = [paths.k3s, ...plan.k3sArgs];
  const program = plan.useInterceptor ? [paths.intercept, '--fake-root', paths.fakeRoot, '--', ...k3s] : k3s;
  return [
    '--log', paths.logFile,
    '--status', paths.statusFile,
    '--pidfile', paths.supervisorPidFile,
    '--stop-timeout', String(K3S_STOP_TIMEOUT_S),
    '--', ...program,
  ];
}

function k3sEnvironment(plan: Plan): NodeJS.ProcessEnv {
  const path = [...plan.pathPrepend, process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']
    .filter((dir) => dir !== '')
    .join(':');
  return { ...process.env, ...plan.env, PATH: path };
}

/** Fails before anything starts when a program the supervisor would run is missing (it would only crash-loop). */
function checkPrograms(ctx: Context, plan: Plan): void {
  const programs: [string, string][] = [
    [ctx.paths.supervise, 'set K3S_SANDBOX_BIN_DIR to the directory holding it, or reinstall k3s-sandbox'],
    [ctx.paths.k3s, 'install k3s (install.sh does), or point K3S_SANDBOX_K3S at the binary'],
  ];
  if (plan.useInterceptor) programs.push([ctx.paths.intercept, 'set K3S_SANDBOX_BIN_DIR to the directory holding it, or reinstall k3s-sandbox']);
  for (const [program, remedy] of programs) {
    try {
      accessSync(program, constants.X_OK);
    } catch {
      throw new UpError(`${program} is missing or not executable: ${remedy}`);
    }
  }
}

/** Starts the supervisor detached and returns its pid once it is set up and its pidfile names it. */
async function spawnSupervisor(ctx: Context, plan: Plan): Promise<number> {
  const { paths } = ctx;
  const supervisor = execa(paths.supervise, supervisorArgv(ctx, plan), {
    detached: true,
    cleanup: false,
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: k3sEnvironment(plan),
    extendEnv: false,
  });
  // The supervisor reports setup errors on stderr, then points stderr at /dev/null: EOF means set up, or gone.
  let setupErrors = '';
  let stderrClosed = false;
  let exited = false;
  supervisor.stderr?.setEncoding('utf8');
  supervisor.stderr?.on('data', (chunk: string) => (setupErrors += chunk));
  supervisor.stderr?.on('close', () => (stderrClosed = true));
  void supervisor.then(() => (exited = true));
  const deadline = Date.now() + SUPERVISOR_START_TIMEOUT_MS;
  for (;;) {
    await sleep(5);
    if (exited) {
      const result = await supervisor;
      throw new UpError(`k3s-sandbox-supervise could not start (exit ${result.exitCode ?? result.signal}): ${setupErrors.trim() || 'no message'}`);
    }
    if (stderrClosed && readPidFile(paths) === supervisor.pid && supervisor.pid !== undefined) {
      supervisor.unref();
      return supervisor.pid;
    }
    if (Date.now() > deadline) {
      throw new UpError(`k3s-sandbox-supervise (pid ${supervisor.pid}) did not finish setting up within ${SUPERVISOR_START_TIMEOUT_MS} ms`);
    }
  }
}

interface KeptInstance {
  supervisorPid: number;
  record: InstanceRecord;
  healthy: boolean;
}

/** Our live supervisor with its record, and whether its k3s answers /readyz with 200 right now. */
async function inspectLive(ctx: Context): Promise<(KeptInstance & { state?: string }) | undefined> {
  const { paths } = ctx;
  const supervisorPid = liveSupervisorPid(paths);
  const record = readInstanceRecord(paths);
  if (supervisorPid === undefined || !record) return undefined;
  const state = readSupervisorStatus(paths)?.state;
  const healthy = state === 'running' && (await checkHealthy(readinessSource(record, paths)));
  return { supervisorPid, record, healthy, state };
}

function noteModeMismatch(ctx: Context, record: InstanceRecord, plan: Plan): void {
  if (!samePlan(record, plan) && ctx.config.mode !== 'auto' && ctx.config.mode !== record.mode) {
    ctx.status.warn(`k3s already runs in mode ${record.mode}; run \`k3s-sandbox down\` first to switch to ${ctx.config.mode}`);
  }
}

/** Stops what is there if it cannot serve the current plan; returns an instance to keep. */
async function reconcileExisting(ctx: Context, plan: Plan): Promise<KeptInstance | undefined> {
  const { paths, status } = ctx;
  const live = await inspectLive(ctx);
  if (live && live.state !== 'crashloop' && live.state !== 'stopping' && live.state !== 'stopped') {
    if (live.healthy) {
      noteModeMismatch(ctx, live.record, plan);
      return live;
    }
    if (samePlan(live.record, plan)) return live;
  }
  const pid = liveSupervisorPid(paths);
  if (pid !== undefined) {
    status.info(`stopping the previous instance (supervisor ${pid}, ${live?.state ?? 'no status'}${live ? `, mode ${live.record.mode}` : ''})`);
    await stopInstance(paths, pid);
    return undefined;
  }
  const stalePid = readPidFile(paths);
  const orphans = orphanedSessionId(paths);
  if (orphans !== undefined) {
    status.info(`supervisor ${orphans} is gone but its k3s still runs; stopping it`);
    await stopInstance(paths, orphans);
  } else if (stalePid !== undefined) {
    status.info(`recovered stale state: supervisor pid ${stalePid} is gone`);
  }
  clearInstanceFiles(paths);
  return undefined;
}

function keep(ctx: Context, kept: KeptInstance): void {
  ctx.instance = kept.record;
  ctx.launched = { supervisorPid: kept.supervisorPid, alreadyRunning: kept.healthy };
  ctx.status.info(
    kept.healthy
      ? `k3s already running (supervisor ${kept.supervisorPid}, mode ${kept.record.mode})`
      : `k3s is starting (supervisor ${kept.supervisorPid}); waiting for it`,
  );
}

export async function run(ctx: Context): Promise<void> {
  const { paths, status, config } = ctx;
  const plan = ctx.plan;
  if (!plan) throw new Error('launch needs a plan');
  if (!isRoot()) {
    await delegateToRoot(ctx);
    return;
  }
  if (!ctx.instanceLock) {
    // The common case, a warm `up`: a healthy instance needs neither the lock nor anything else.
    const live = await inspectLive(ctx);
    if (live?.healthy) {
      noteModeMismatch(ctx, live.record, plan);
      keep(ctx, live);
      return;
    }
  }
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o755 });
  mkdirSync(paths.logDir, { recursive: true, mode: 0o755 });
  if (!ctx.instanceLock) {
    ctx.instanceLock = await acquireInstanceLock(paths.lockFile, config.waitTimeout + 60, () =>
      status.info('another `k3s-sandbox up` is starting k3s; waiting for it'),
    );
    // Concurrent callers report the failure of the attempt that ran meanwhile rather than repeat it.
    const result = readUpResult(paths);
    if (result && !result.ok && result.finishedAt >= ctx.instanceLock.requestedAt) {
      ctx.instanceLock.release();
      ctx.instanceLock = undefined;
      throw new UpError(result.summary, { exitCode: result.exitCode, details: result.details });
    }
  }

  const kept = await reconcileExisting(ctx, plan);
  if (kept !== undefined) {
    keep(ctx, kept);
    return;
  }

  checkPrograms(ctx, plan);
  const record: InstanceRecord = {
    mode: plan.mode,
    k3sArgs: plan.k3sArgs,
    useInterceptor: plan.useInterceptor,
    limits: plan.limits,
    remedies: plan.remedies,
    adminKubeconfig: adminKubeconfigOf(plan, paths.adminKubeconfig),
    dataDir: paths.dataDir,
    logOffset: fileSize(paths.logFile),
    launchedAt: Date.now(),
    gvisor: ctx.facts?.gvisor,
    fallbacks: ctx.fallbacks,
  };
  // A status file from the previous instance would show its final state until the new supervisor writes its own.
  clearInstanceFiles(paths);
  rmSync(paths.statusFile, { force: true });
  const supervisorPid = await spawnSupervisor(ctx, plan);
  writeJsonAtomic(instanceRecordFile(paths), record);
  ctx.instance = record;
  ctx.launched = { supervisorPid, alreadyRunning: false };
  status.info(`started k3s under k3s-sandbox-supervise (pid ${supervisorPid})${plan.useInterceptor ? ' through k3s-sandbox-intercept' : ''}`);
}
