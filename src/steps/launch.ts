/**
 * launch: start exactly one supervised k3s for a plan. The pipeline (src/pipeline.ts) calls it under the instance lock
 * (src/instance/lock.ts), in this order:
 * - `keepRunning(plan)`: a healthy instance (one that became ready while we waited for the lock), or one still
 *   starting with this very plan, is kept as it is; anything else of ours (another plan, a crash loop, a stale pidfile,
 *   k3s orphaned by a killed supervisor) is stopped and its files cleared. What is kept is never touched on disk.
 * - the fakes step, for a plan that will be launched;
 * - `launch(plan, lock)`: refuses a port another process holds, then spawns k3s-sandbox-supervise in its own session
 *   with k3s (under k3s-sandbox-intercept when the plan says so); this process keeps nothing resident.
 *
 * The data dir comes from the config and is passed by the plan (`--data-dir`); when the plan finds it
 * on 9p it may point the sqlite db/ elsewhere through its k3s args, which launch passes unchanged.
 */
import { rmSync } from 'node:fs';
import { makeDirectories } from '../files.js';
import { execa } from 'execa';
import type { FallbackRecord, Plan, Shared } from '../context.js';
import type { Config } from '../config.js';
import { describePortHolders } from '../diagnose/portHolder.js';
import { UpError } from '../diagnose/upError.js';
import { inspect } from '../instance/health.js';
import type { InstanceLock } from '../instance/lock.js';
import { fileSize } from '../instance/logTail.js';
import { sleep } from '../instance/processes.js';
import {
  clearInstanceFiles,
  instanceRecordFile,
  launchSettings,
  liveSupervisorPid,
  readLastUp,
  readPidFile,
  writeStateJson,
  type InstanceRecord,
} from '../instance/state.js';
import { orphanedSessionId, stopInstance } from '../instance/stop.js';
import { runsAgent } from '../k3s/flags.js';
import type { Paths } from '../paths.js';
import { checkPortFree } from './probe.js';
import { samePlan, sameWrapper } from './plan.js';

const SUPERVISOR_START_TIMEOUT_MS = 5000;
/** k3s gets this long after SIGTERM before the supervisor SIGKILLs it: k3s stops its components within about 10 s. */
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

/** What launch leaves running (or found running), for wait, publish and report. */
export interface Instance {
  supervisorPid: number;
  record: InstanceRecord;
  /** It already answered /readyz with 200 before this `up` changed anything. */
  foundReady: boolean;
}

/** The interceptor and its options: the fake tree when it serves /proc/sys, the mount fakes when the plan asks for them; -v puts each redirect and fake in k3s's log. */
function interceptorArgv(paths: Paths, plan: Plan): string[] {
  return [
    paths.intercept,
    '-v',
    ...(plan.fakes.procSys === 'intercept' ? ['--fake-root', paths.fakeRoot] : []),
    ...(plan.fakes.interceptMounts ? ['--fake-propagation', '--rbind-as-bind'] : []),
    '--',
  ];
}

function supervisorArgv(paths: Paths, plan: Plan): string[] {
  const k3s = [...plan.k3sWrapper, paths.k3s, ...plan.k3sArgs];
  const program = plan.useInterceptor ? [...interceptorArgv(paths, plan), ...k3s] : k3s;
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

/** What one k3s-sandbox-supervise runs: k3s, or the simulated node (src/instance/simnode.ts), each with its own files. */
export interface SupervisorLaunch {
  supervise: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  supervisorPidFile: string;
}

/** Starts the supervisor detached and returns its pid once it is set up and its pidfile names it. */
export async function spawnSupervisor(launch: SupervisorLaunch): Promise<number> {
  const supervisor = execa(launch.supervise, launch.argv, {
    detached: true,
    cleanup: false,
    reject: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: launch.env,
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
    if (stderrClosed && readPidFile(launch) === supervisor.pid && supervisor.pid !== undefined) {
      supervisor.unref();
      return supervisor.pid;
    }
    if (Date.now() > deadline) {
      throw new UpError(`k3s-sandbox-supervise (pid ${supervisor.pid}) did not finish setting up within ${SUPERVISOR_START_TIMEOUT_MS} ms`);
    }
  }
}

/** The https port k3s listens on per its argv. */
function httpsPortOf(k3sArgs: readonly string[]): string {
  return k3sArgs.find((arg) => arg.startsWith('--https-listen-port='))?.slice('--https-listen-port='.length) ?? '6443';
}

/** How a running instance differs from what the config asks for now, or undefined when it does not. */
export interface Drift {
  /** The user asked for a mode (not auto) other than the one that runs. */
  explicitMode: boolean;
  message: string;
}

/**
 * Compares the running instance with the current plan. Under mode auto, an instance that fell back from the planned
 * mode in an earlier `up` is what auto chose, not drift.
 */
export function driftOf(record: InstanceRecord, plan: Plan, config: Pick<Config, 'mode'>): Drift | undefined {
  if (samePlan(record, plan)) return undefined;
  if (config.mode === 'auto' && (record.fallbacks ?? []).some((f) => f.from === plan.mode)) return undefined;
  const differences: string[] = [];
  if (record.mode !== plan.mode) differences.push(`mode ${record.mode} runs, the config gives ${plan.mode}`);
  const [running, wanted] = [httpsPortOf(record.k3sArgs), httpsPortOf(plan.k3sArgs)];
  if (running !== wanted) differences.push(`https port ${running} is in use, the config gives ${wanted}`);
  if (!sameWrapper(record, plan)) differences.push("the /proc/sys fakes bound in k3s's own mount namespace differ");
  if (differences.length === 0) differences.push('its k3s flags differ from the ones this config gives');
  return {
    explicitMode: config.mode !== 'auto' && config.mode !== record.mode,
    message: `the running cluster differs from the config (${differences.join('; ')}): it keeps running as it is; \`k3s-sandbox down\` then \`k3s-sandbox up\` applies the config`,
  };
}

/**
 * Under the lock, first: the failure of an `up` that finished after this process started (it held the lock while we
 * waited) is reported instead of repeated.
 */
export function failureWhileWaiting(paths: Paths, lock: InstanceLock): UpError | undefined {
  const last = readLastUp(paths);
  if (!last || last.ok || last.finishedAt < lock.processStartedAt) return undefined;
  return new UpError(last.summary, { exitCode: last.exitCode, details: last.details });
}

/**
 * Keeps an instance that is healthy, or still starting with this very plan; stops anything else of ours and clears its
 * files. Undefined: nothing runs now, launch starts one.
 */
export async function keepRunning(plan: Plan, shared: Pick<Shared, 'paths' | 'status'>): Promise<Instance | undefined> {
  const { paths, status } = shared;
  const live = await inspect(paths);
  const { supervisorPid, record, state } = live;
  if (supervisorPid !== undefined && record && state !== 'crashloop' && state !== 'stopping' && state !== 'stopped') {
    if (live.healthy) {
      status.info(`k3s already running (supervisor ${supervisorPid}, mode ${record.mode})`);
      return { supervisorPid, record, foundReady: true };
    }
    if (samePlan(record, plan)) {
      status.info(`k3s is starting (supervisor ${supervisorPid}); waiting for it`);
      return { supervisorPid, record, foundReady: false };
    }
  }
  if (supervisorPid !== undefined) {
    status.info(`stopping the previous instance (supervisor ${supervisorPid}, ${state ?? 'no status'}${record ? `, mode ${record.mode}` : ''})`);
    await stopInstance(paths, supervisorPid);
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

/** How often the port is tried before launch refuses it: another `up`'s probe binds it for an instant. */
const PORT_CHECKS = 5;
const PORT_CHECK_SPACING_MS = 40;

/**
 * Refuses to launch while another process holds the API port, in every mode: k3s in an agent mode binds 0.0.0.0,
 * which a holder on 127.0.0.1 does not always stop, and then the readiness polls would reach that holder.
 */
async function refuseHeldPort(port: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const check = await checkPortFree(port);
    if (check.free !== false) return;
    if (attempt >= PORT_CHECKS) break;
    await sleep(PORT_CHECK_SPACING_MS);
  }
  const holders = describePortHolders(port);
  const holderText = holders.length > 0 ? ` (held by ${holders.join(', ')})` : ' (its holder is not visible from here: another user or namespace)';
  throw new UpError(`port ${port} is already in use${holderText}; k3s cannot listen on it and k3s-sandbox leaves that process alone`, {
    details: ['remedy: stop that process, or set another https port (httpsPort, K3S_SANDBOX_HTTPS_PORT)'],
  });
}

/** What launch records beside the plan: the sandbox kind and the modes this `up` left behind. */
export interface LaunchHistory {
  gvisor: boolean;
  fallbacks: FallbackRecord[];
}

/** instance.json for a plan about to be launched: the plan, how k3s is wrapped, and what this `up` ran with. */
export function launchRecord(plan: Plan, shared: Pick<Shared, 'config' | 'paths'>, history: LaunchHistory): InstanceRecord {
  const { paths, config } = shared;
  return {
    mode: plan.mode,
    agent: runsAgent(plan.mode),
    k3sArgs: plan.k3sArgs,
    useInterceptor: plan.useInterceptor,
    k3sWrapper: plan.k3sWrapper,
    procSysFakes: plan.fakes.procSys,
    limits: plan.limits,
    remedies: plan.remedies,
    adminKubeconfig: adminKubeconfigOf(plan, paths.adminKubeconfig),
    dataDir: paths.dataDir,
    logOffset: fileSize(paths.logFile),
    launchedAt: Date.now(),
    gvisor: history.gvisor,
    fallbacks: history.fallbacks,
    settings: launchSettings(config),
  };
}

/**
 * The launch step: `launch(plan, lock) → Instance`, when nothing of ours runs (keepRunning said so). Only the holder of
 * the instance lock may launch, hence the lock parameter.
 */
export async function launch(plan: Plan, _lock: InstanceLock, shared: Pick<Shared, 'config' | 'paths' | 'status'>, history: LaunchHistory): Promise<Instance> {
  const { paths, status, config } = shared;
  await refuseHeldPort(config.httpsPort);
  makeDirectories(paths.stateDir, 0o755);
  makeDirectories(paths.logDir, 0o755);
  const record = launchRecord(plan, shared, history);
  // A status file from the previous instance would show its final state until the new supervisor writes its own.
  clearInstanceFiles(paths);
  rmSync(paths.statusFile, { force: true });
  const supervisorPid = await spawnSupervisor({ supervise: paths.supervise, argv: supervisorArgv(paths, plan), env: k3sEnvironment(plan), supervisorPidFile: paths.supervisorPidFile });
  writeStateJson(instanceRecordFile(paths), record);
  status.info(`started k3s under k3s-sandbox-supervise (pid ${supervisorPid})${plan.useInterceptor ? ' through k3s-sandbox-intercept' : ''}`);
  return { supervisorPid, record, foundReady: false };
}

/** For a non-root `up`: the root instance to follow, when one runs (cli.ts re-runs `up` through sudo otherwise). */
export async function followRootInstance(paths: Paths, status: Shared['status']): Promise<Instance> {
  const live = await inspect(paths);
  const supervisorPid = live.supervisorPid ?? liveSupervisorPid(paths);
  if (supervisorPid === undefined || !live.record) {
    throw new UpError('k3s stopped before this `up` could follow it: run `k3s-sandbox up` again');
  }
  status.info(`k3s runs as root (supervisor ${supervisorPid}, mode ${live.record.mode}); waiting for it as this user`);
  return { supervisorPid, record: live.record, foundReady: live.healthy };
}
