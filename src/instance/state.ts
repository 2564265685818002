/**
 * What a running instance leaves in the state dir, and how to read it cheaply (status must answer in
 * well under 250 ms, so nothing here loads the Kubernetes client):
 * - `supervisor.pid` and `status.json`, written by k3s-sandbox-supervise;
 * - `instance.json`, written by launch: the plan the instance runs;
 * - `last-up.json`, written when an `up` finishes, so that callers that waited on the lock report the same result;
 * - `api-identity.json`, the TLS identity cache for /readyz (src/kube/readiness.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { FallbackRecord, Mode, ProcSysFakes, Remedy } from '../context.js';
import type { Paths } from '../paths.js';
import { replaceFile } from '../files.js';
import { currentBootId, ourExecutables, readProcStat, type OurExecutables, type RecordedProcess } from './identity.js';
import { isOurProcess } from './processes.js';

export type SupervisorState = 'starting' | 'running' | 'backoff' | 'crashloop' | 'stopping' | 'stopped';

/** status.json, as k3s-sandbox-supervise writes it (supervisor/src/status.c). */
export interface SupervisorStatus {
  state: SupervisorState;
  supervisorPid: number;
  /** With bootId, tells our supervisor from a later process with its pid (identity.ts); absent from older files. */
  supervisorStartTime?: number;
  bootId?: string;
  childPid: number | null;
  /** The child's start time, null when unknown. */
  childStartTime?: number | null;
  starts: number;
  crashes: number;
  backoffMs?: number;
  lastExit: string | null;
  lastFatal: string | null;
  /** Seconds since the epoch. */
  updated: number;
}

/** instance.json: what launch started. */
export interface InstanceRecord {
  mode: Mode;
  /** Whether k3s runs its agent (kubelet, containerd, flannel): `down` then cleans up what the agent leaves. */
  agent: boolean;
  k3sArgs: string[];
  useInterceptor: boolean;
  /**
   * The argv k3s ran behind (the plan's k3sWrapper: with /proc/sys fakes by bind, `unshare` and the script binding the
   * fake files in k3s's own mount namespace); absent from older records, which ran k3s unwrapped or did not say.
   */
  k3sWrapper?: string[];
  /** How the /proc/sys fakes reach k3s (the plan's fakes.procSys); absent from older records. */
  procSysFakes?: ProcSysFakes;
  limits: string;
  remedies: Remedy[];
  /** The admin kubeconfig k3s writes (`--write-kubeconfig`). */
  adminKubeconfig: string;
  dataDir: string;
  /** Where the log stood when this instance was launched: wait reads from here on. */
  logOffset: number;
  /** ms since the epoch. */
  launchedAt: number;
  /** Set once wait saw it ready. */
  readyAt?: number;
  gvisor?: boolean;
  /** The modes tried before this one in the same `up`, with the reason each was left. */
  fallbacks: FallbackRecord[];
  /** The settings the `up` that launched it ran with (see launchSettings); absent from records of older versions. */
  settings?: LaunchSettings;
}

/**
 * Every setting but the ones that only bound how long `up` waits or whether anything starts at all, and the simulated
 * node's: it runs beside k3s under its own supervisor, and every `up` starts or stops it to match (simnode.ts).
 */
export type LaunchSettings = Omit<Config, 'waitTimeout' | 'autoStart' | 'simulateNode' | 'simulateNodeName' | 'simulateNodeMaxPods'>;

export function launchSettings(config: Config): LaunchSettings {
  const { waitTimeout: _waitTimeout, autoStart: _autoStart, simulateNode: _simulateNode, simulateNodeName: _simulateNodeName, simulateNodeMaxPods: _simulateNodeMaxPods, ...settings } = config;
  return settings;
}

function canonicalJson(value: object): string {
  return JSON.stringify(value, Object.keys(value).sort());
}

/**
 * Whether the instance was launched by an `up` with these very settings: then the same plan would be made again
 * (a warm `up` keeps it without probing); any difference, or a record without settings, takes the full path, whose
 * plan says what differs.
 */
export function launchedWithSettings(record: InstanceRecord, config: Config): boolean {
  return record.settings !== undefined && canonicalJson(record.settings) === canonicalJson(launchSettings(config));
}

/** last-up.json. */
export interface LastUp {
  ok: boolean;
  finishedAt: number;
  summary: string;
  details: string[];
  exitCode: number;
}

export function instanceRecordFile(paths: Paths): string {
  return join(paths.stateDir, 'instance.json');
}

export function lastUpFile(paths: Pick<Paths, 'stateDir'>): string {
  return join(paths.stateDir, 'last-up.json');
}

/** The cached TLS identity for /readyz (src/kube/readiness.ts), next to the state files. */
export function identityCacheFile(paths: Pick<Paths, 'stateDir'>): string {
  return join(paths.stateDir, 'api-identity.json');
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A state file as JSON, through the one file writer (readers never see half a file). */
export function writeStateJson(file: string, value: unknown): void {
  replaceFile(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o644 });
}

export function readSupervisorStatus(paths: Paths): SupervisorStatus | undefined {
  return readJson<SupervisorStatus>(paths.statusFile);
}

export function readInstanceRecord(paths: Paths): InstanceRecord | undefined {
  return readJson<InstanceRecord>(instanceRecordFile(paths));
}

export function readLastUp(paths: Paths): LastUp | undefined {
  return readJson<LastUp>(lastUpFile(paths));
}

export function readPidFile(paths: Pick<Paths, 'supervisorPidFile'>): number | undefined {
  try {
    const pid = Number(readFileSync(paths.supervisorPidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** status.json and instance.json, read once for one look at the instance (inspect reads each file once). */
export interface InstanceFiles {
  status?: SupervisorStatus;
  record?: InstanceRecord;
}

export function readInstanceFiles(paths: Paths): InstanceFiles {
  return { status: readSupervisorStatus(paths), record: readInstanceRecord(paths) };
}

/** Our instance as status.json records it, checked against /proc just now. */
export interface OurInstance {
  /** The supervisor's pid, which is also the id of the session holding everything it started (it setsid()s). */
  sessionId: number;
  supervisor: RecordedProcess;
  /** Whether the recorded supervisor itself still runs. */
  supervisorAlive: boolean;
  /** The recorded child (k3s, or the interceptor running it), when it still runs in the supervisor's session. */
  childPid?: number;
  /** What our processes may run: any process we signal must run one of these. */
  executables: OurExecutables;
}

/** A positive integer: a pid or a start time as status.json holds them. */
const isTick = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * The instance status.json describes, if its supervisor or its child still runs: same pid, start time and boot as
 * recorded, running our executables. A status file without that record, from another boot, or naming processes that
 * have since exited (their pids may now be anyone's) yields undefined: nothing there is ours to signal.
 */
export function findOurInstance(paths: Paths, files?: InstanceFiles): OurInstance | undefined {
  const status = files ? files.status : readSupervisorStatus(paths);
  if (!status || !isTick(status.supervisorPid) || !isTick(status.supervisorStartTime) || typeof status.bootId !== 'string') return undefined;
  const bootId = currentBootId();
  const record = files ? files.record : readInstanceRecord(paths);
  const dataDirs = [paths.dataDir, ...(typeof record?.dataDir === 'string' ? [record.dataDir] : [])];
  const executables = ourExecutables([paths.supervise, paths.intercept, paths.k3s], dataDirs);
  const supervisor = { pid: status.supervisorPid, startTime: status.supervisorStartTime, bootId: status.bootId };
  const supervisorAlive = isOurProcess(supervisor, executables, bootId);
  let childPid: number | undefined;
  if (isTick(status.childPid) && isTick(status.childStartTime)) {
    const child = { pid: status.childPid, startTime: status.childStartTime, bootId: status.bootId };
    const observed = readProcStat(child.pid);
    if (observed?.session === supervisor.pid && isOurProcess(child, executables, bootId, observed)) childPid = child.pid;
  }
  if (!supervisorAlive && childPid === undefined) return undefined;
  return { sessionId: supervisor.pid, supervisor, supervisorAlive, childPid, executables };
}

/** The pid of our live supervisor, or undefined when there is none (no record, exited, or the pid was reused). */
export function liveSupervisorPid(paths: Paths): number | undefined {
  const instance = findOurInstance(paths);
  return instance?.supervisorAlive ? instance.sessionId : undefined;
}

/** Removes what a dead instance left behind; the log stays for `logs`. */
export function clearInstanceFiles(paths: Paths): void {
  for (const file of [paths.supervisorPidFile, instanceRecordFile(paths), identityCacheFile(paths)]) rmSync(file, { force: true });
}
