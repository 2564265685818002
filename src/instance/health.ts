/**
 * The one rule for "the instance is healthy", used by launch, wait, `status` and a non-root `up`: our supervisor is
 * alive (its recorded pid, start time, boot and executable still match, see state.ts), it reports its k3s
 * `running`, and an authenticated GET /readyz, verified against the CA k3s wrote, answers 200.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { UpError } from '../diagnose/upError.js';
import { isReadable } from '../files.js';
import { SANDBOX_NAME } from '../kube/names.js';
import { cachedIdentity, loadIdentity, readyzOnce, type ReadinessSource } from '../kube/readiness.js';
import type { Paths } from '../paths.js';
import {
  findOurInstance,
  identityCacheFile,
  readInstanceFiles,
  type InstanceFiles,
  type InstanceRecord,
  type SupervisorState,
  type SupervisorStatus,
} from './state.js';

export interface InstanceHealth {
  /** Our live supervisor, if any. */
  supervisorPid?: number;
  /** What it was launched with (instance.json). */
  record?: InstanceRecord;
  /** The supervisor's state from status.json (also after it exited, e.g. `crashloop`). */
  state?: SupervisorState;
  /** /readyz answered 200 (true) or not (false); null when not asked: not running, or no credentials the caller can read. */
  ready: boolean | null;
  /** Supervisor alive, state `running`, /readyz 200. */
  healthy: boolean;
  /** k3s (or the interceptor running it) still runs in the session of a supervisor that is gone (killed). */
  orphanChildPid?: number;
}

/**
 * Root uses the admin kubeconfig k3s writes (even before it exists: then the instance is not ready);
 * a non-root caller uses it when readable, else the k3s-sandbox context root published into the
 * caller's own ~/.kube/config. Undefined: the caller can read neither.
 */
export function readinessSource(record: Pick<InstanceRecord, 'adminKubeconfig'>, paths: Pick<Paths, 'stateDir'>): ReadinessSource | undefined {
  if (process.getuid?.() === 0) return { kubeconfig: record.adminKubeconfig, cacheFile: identityCacheFile(paths) };
  if (isReadable(record.adminKubeconfig)) return { kubeconfig: record.adminKubeconfig };
  const own = join(userInfo().homedir, '.kube', 'config');
  return isReadable(own) ? { kubeconfig: own, context: SANDBOX_NAME } : undefined;
}

/** What a non-root caller without a published kubeconfig is told (by wait or publish). */
export function missingPublishedKubeconfig(user: string, target: string): UpError {
  return new UpError(
    `k3s runs as root and ${user} has no kubeconfig for it yet (${target} has no k3s-sandbox context): run \`sudo k3s-sandbox up --user ${user}\` once`,
  );
}

/**
 * The supervisor's half of the rule: its status.json says its k3s runs. inspect() asks it once; wait's poll asks it
 * every round, with a kept-alive /readyz, so that polling costs no handshake per round.
 */
export function reportsRunning(status: Pick<SupervisorStatus, 'state' | 'childPid'> | undefined): boolean {
  return status?.state === 'running' && status.childPid !== null;
}

/** One authenticated /readyz; false when the credentials cannot be loaded or another server answers. */
async function answersReady(source: ReadinessSource): Promise<boolean> {
  let identity;
  try {
    identity = await loadIdentity(source);
  } catch {
    return false;
  }
  return (await readyzOnce(identity).answer).status === 200;
}

/** The readiness half of the rule, under way (see startReadyCheck). */
interface ReadyCheck {
  /** Settles once the request is on its way (readyzOnce's `sent`), at once when nothing was started yet. */
  sent: Promise<void>;
  /** true/false from /readyz; null when the caller can read no credentials to ask with. */
  answer(): Promise<boolean | null>;
  cancel(): void;
}

/**
 * The readiness half of the rule for the instance `record` describes. With a fresh identity cache the /readyz
 * connection opens right away, so that the server does its half of the TLS handshake while the caller checks /proc
 * instead of after (`status` and a warm `up` are otherwise busy, not waiting, almost all the time). Otherwise the
 * request waits for answer(): loading the identity takes client-node, hundreds of milliseconds, not worth a guess.
 */
function startReadyCheck(record: Pick<InstanceRecord, 'adminKubeconfig'>, paths: Pick<Paths, 'stateDir'>): ReadyCheck {
  const source = readinessSource(record, paths);
  const identity = source && cachedIdentity(source);
  if (!identity) return { sent: Promise.resolve(), answer: async () => (source ? answersReady(source) : null), cancel: () => undefined };
  const request = readyzOnce(identity);
  return { sent: request.sent, answer: async () => (await request.answer).status === 200, cancel: request.cancel };
}

/** Our instance as it is right now, by the one health rule; `files` are the state files as the caller just read them. */
export async function inspect(paths: Paths, files: InstanceFiles = readInstanceFiles(paths)): Promise<InstanceHealth> {
  const { record, status } = files;
  // When status.json says k3s runs, /readyz will be asked unless the /proc checks below find none of our processes:
  // start it first and run those checks while the handshake is under way (cancelled if they find nothing).
  const early = record && reportsRunning(status) ? startReadyCheck(record, paths) : undefined;
  await early?.sent;
  const ours = findOurInstance(paths, files);
  const supervisorPid = ours?.supervisorAlive ? ours.sessionId : undefined;
  const orphanChildPid = ours && !ours.supervisorAlive ? ours.childPid : undefined;
  const state = status?.state;
  const askReady = async (): Promise<boolean | null> => {
    const check = early ?? (record ? startReadyCheck(record, paths) : undefined);
    return check ? check.answer() : null;
  };
  if (supervisorPid === undefined) {
    if (orphanChildPid === undefined) {
      early?.cancel();
      return { supervisorPid, record, state, ready: null, healthy: false, orphanChildPid };
    }
    return { supervisorPid, record, state, ready: await askReady(), healthy: false, orphanChildPid };
  }
  if (!reportsRunning(status)) return { supervisorPid, record, state, ready: false, healthy: false };
  const ready = await askReady();
  return { supervisorPid, record, state, ready, healthy: ready === true };
}
