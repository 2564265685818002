/**
 * What a running instance leaves in the state dir, and how to read it cheaply (status must answer in
 * well under 250 ms, so nothing here loads the Kubernetes client):
 * - `supervisor.pid` and `status.json`, written by k3s-sandbox-supervise;
 * - `instance.json`, written by launch: the plan the instance runs;
 * - `last-up.json`, written when an `up` finishes, so that callers that waited on the lock report the same result.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode, Remedy } from '../context.js';
import type { Paths } from '../paths.js';
import { replaceFile } from '../files.js';
import { identityCacheFile } from '../kube/health.js';
import { isAlive, isOurSupervisor } from './processes.js';

export type SupervisorState = 'starting' | 'running' | 'backoff' | 'crashloop' | 'stopping' | 'stopped';

/** status.json, as k3s-sandbox-supervise writes it (supervisor/src/status.c). */
export interface SupervisorStatus {
  state: SupervisorState;
  supervisorPid: number;
  childPid: number | null;
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
  k3sArgs: string[];
  useInterceptor: boolean;
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
  fallbacks?: { from: Mode; reason: string }[];
}

/** last-up.json. */
export interface UpResult {
  ok: boolean;
  finishedAt: number;
  summary: string;
  details: string[];
  exitCode: number;
}

export function instanceRecordFile(paths: Paths): string {
  return join(paths.stateDir, 'instance.json');
}

export function upResultFile(paths: Paths): string {
  return join(paths.stateDir, 'last-up.json');
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes JSON through a temp file in the same directory and a rename, so readers never see half a file. */
export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  replaceFile(file, JSON.stringify(value, null, 2) + '\n', mode);
}

export function readSupervisorStatus(paths: Paths): SupervisorStatus | undefined {
  return readJson<SupervisorStatus>(paths.statusFile);
}

export function readInstanceRecord(paths: Paths): InstanceRecord | undefined {
  return readJson<InstanceRecord>(instanceRecordFile(paths));
}

export function readUpResult(paths: Paths): UpResult | undefined {
  return readJson<UpResult>(upResultFile(paths));
}

export function readPidFile(paths: Paths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.supervisorPidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of our live supervisor, or undefined when there is none (no pidfile, dead, or the pid was reused). */
export function liveSupervisorPid(paths: Paths): number | undefined {
  const pid = readPidFile(paths);
  if (pid === undefined || !isAlive(pid)) return undefined;
  return isOurSupervisor(pid, paths.supervisorPidFile) ? pid : undefined;
}

/** Removes what a dead instance left behind; the log stays for `logs`. */
export function clearInstanceFiles(paths: Paths): void {
  for (const file of [paths.supervisorPidFile, instanceRecordFile(paths), identityCacheFile(paths)]) rmSync(file, { force: true });
}
