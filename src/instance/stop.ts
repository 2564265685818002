/**
 * Stopping an instance we started: SIGTERM to our supervisor (it forwards SIGTERM to k3s and waits for
 * it), then, if anything is still there after the grace period, SIGKILL to the processes of the
 * supervisor's session. The supervisor setsid()s, so its session holds exactly what it started; no
 * other process ever gets a signal from us.
 */
import type { Paths } from '../paths.js';
import { isAlive, isOurSupervisor, sessionMembers, waitForExit } from './processes.js';
import { clearInstanceFiles, readSupervisorStatus } from './state.js';

/** launch gives the supervisor a 10 s stop timeout (SIGTERM to k3s, then SIGKILL); allow for it. */
export const STOP_GRACE_MS = 15_000;

export interface StopOutcome {
  /** Whether SIGKILL was needed. */
  killed: boolean;
  /** Pids that got SIGKILL. */
  killedPids: number[];
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Stops the instance whose supervisor is `supervisorPid` (already checked to be ours), plus what is
 * left of its session. Also used for a dead supervisor's orphans: `sid` is then the dead supervisor's pid.
 */
export async function stopInstance(paths: Paths, supervisorPid: number, graceMs = STOP_GRACE_MS): Promise<StopOutcome> {
  if (isAlive(supervisorPid)) {
    // A live pid that is not our supervisor was reused by someone else: its session is not ours either.
    if (!isOurSupervisor(supervisorPid, paths.supervisorPidFile)) return { killed: false, killedPids: [] };
    signal(supervisorPid, 'SIGTERM');
    await waitForExit([supervisorPid], graceMs);
  }
  // From here the session id is either our supervisor's or that of a dead one whose members live on; the
  // kernel does not hand out a pid that is still some session's id, so those members are ours.
  const leftovers = sessionMembers(supervisorPid);
  if (leftovers.length > 0) {
    // A session member outliving its supervisor's stop is ours and stuck (or orphaned by a SIGKILLed supervisor).
    const polite = leftovers.filter((pid) => pid !== supervisorPid);
    for (const pid of polite) signal(pid, 'SIGTERM');
    if (!(await waitForExit(leftovers, polite.length > 0 ? 3000 : 0))) {
      for (const pid of sessionMembers(supervisorPid)) signal(pid, 'SIGKILL');
      await waitForExit(leftovers, 3000);
      clearInstanceFiles(paths);
      return { killed: true, killedPids: leftovers };
    }
  }
  clearInstanceFiles(paths);
  return { killed: false, killedPids: [] };
}

/** The session id of an instance whose supervisor died (SIGKILL, OOM) but whose k3s may live on, from status.json. */
export function orphanedSessionId(paths: Paths): number | undefined {
  const status = readSupervisorStatus(paths);
  if (!status || !status.supervisorPid || isAlive(status.supervisorPid)) return undefined;
  return sessionMembers(status.supervisorPid).length > 0 ? status.supervisorPid : undefined;
}
