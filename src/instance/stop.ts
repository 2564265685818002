/**
 * Stopping an instance we started: SIGTERM to our supervisor (it forwards SIGTERM to k3s and waits for it), then,
 * if anything is still there after the grace period, SIGKILL to what is left of the supervisor's session. The
 * supervisor setsid()s, so its session holds what it started. Nothing is signalled unless status.json's record of
 * the supervisor or its child still matches a live process (pid, start time, boot, executable: see findOurInstance),
 * and each session member must itself run one of our executables and have started after our supervisor.
 */
import type { Paths } from '../paths.js';
import { ourSessionMembers, signalIfStillRunning, waitForExit, type SeenProcess } from './processes.js';
import { clearInstanceFiles, findOurInstance, type OurInstance } from './state.js';

/** launch gives the supervisor a 10 s stop timeout (SIGTERM to k3s, then SIGKILL); allow for it. */
export const STOP_GRACE_MS = 15_000;

export interface StopOutcome {
  /** Whether SIGKILL was needed. */
  killed: boolean;
  /** Pids that got SIGKILL. */
  killedPids: number[];
}

function leftoversOf(instance: OurInstance): SeenProcess[] {
  return ourSessionMembers(instance.sessionId, instance.supervisor.startTime, instance.executables);
}

/**
 * Stops our instance whose supervisor had pid `supervisorPid`, plus what is left of its session. Also used for a
 * dead supervisor's orphans (its child still runs in the session). Does nothing when status.json does not name a
 * live process of ours with that supervisor pid.
 */
export async function stopInstance(paths: Paths, supervisorPid: number, graceMs = STOP_GRACE_MS): Promise<StopOutcome> {
  const instance = findOurInstance(paths);
  if (!instance || instance.sessionId !== supervisorPid) return { killed: false, killedPids: [] };
  if (instance.supervisorAlive) {
    const supervisor = { pid: instance.supervisor.pid, startTime: instance.supervisor.startTime };
    signalIfStillRunning(supervisor, 'SIGTERM');
    await waitForExit([supervisor], graceMs);
  }
  // Our supervisor or child was in this session when we looked, and the kernel does not hand out a session's id
  // as a new pid while any member lives: what is still in it (and runs our executables) is ours, stuck, or
  // orphaned by a SIGKILLed supervisor.
  const leftovers = leftoversOf(instance);
  if (leftovers.length > 0) {
    const polite = leftovers.filter((member) => member.pid !== supervisorPid);
    for (const member of polite) signalIfStillRunning(member, 'SIGTERM');
    if (!(await waitForExit(leftovers, polite.length > 0 ? 3000 : 0))) {
      const stuck = leftoversOf(instance);
      for (const member of stuck) signalIfStillRunning(member, 'SIGKILL');
      await waitForExit(stuck, 3000);
      clearInstanceFiles(paths);
      return { killed: true, killedPids: stuck.map((member) => member.pid) };
    }
  }
  clearInstanceFiles(paths);
  return { killed: false, killedPids: [] };
}

/** The session id of our instance whose supervisor died (SIGKILL, OOM) while its recorded child lives on. */
export function orphanedSessionId(paths: Paths): number | undefined {
  const instance = findOurInstance(paths);
  return instance && !instance.supervisorAlive ? instance.sessionId : undefined;
}
