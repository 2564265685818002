/**
 * Process facts read from /proc. `down` and `up` only signal a process after these checks say it is ours: the
 * process recorded in status.json (same pid, start time and boot, see identity.ts) running one of our executables,
 * or a member of that process's session started after it and running one of our executables.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { executableOf, isOurExecutable, isRecordedProcess, readProcStat, type OurExecutables, type ProcStat, type RecordedProcess } from './identity.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** argv of a live process, or undefined once it is gone (a zombie has an empty cmdline). */
export function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** A process at the moment we looked: with its start time, a later process that gets the same pid is told apart. */
export interface SeenProcess {
  pid: number;
  startTime: number;
}

function livePids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Whether this is the very process we saw: same start time, and not a zombie. */
export function isStillRunning(seen: SeenProcess): boolean {
  const stat = readProcStat(seen.pid);
  return stat !== undefined && stat.startTime === seen.startTime && stat.state !== 'Z';
}

/**
 * Whether the recorded process still runs, in the recorded boot, one of our executables. Only root signals our
 * processes, and only root can read their executables; a caller that is not root (`status`, a non-root `up` adopting
 * the root instance) judges by pid, start time and boot alone.
 */
export function isOurProcess(
  recorded: RecordedProcess,
  executables: OurExecutables,
  bootId: string | undefined,
  observed: ProcStat | undefined = readProcStat(recorded.pid),
): boolean {
  if (!isRecordedProcess(recorded, observed, bootId)) return false;
  const exe = executableOf(recorded.pid);
  if (exe === undefined) return process.getuid?.() !== 0;
  return isOurExecutable(exe, executables);
}

/**
 * The live members of session `sessionId` that started no earlier than its leader (`notBefore`, in this boot) and run
 * one of our executables. The caller has checked that the session is ours: while any member is alive the kernel
 * does not hand out its id as a new pid, so the session cannot have been replaced underneath us.
 */
export function ourSessionMembers(sessionId: number, notBefore: number, executables: OurExecutables): SeenProcess[] {
  const members: SeenProcess[] = [];
  for (const pid of livePids()) {
    const stat = readProcStat(pid);
    if (!stat || stat.session !== sessionId || stat.state === 'Z' || stat.startTime < notBefore) continue;
    if (isOurExecutable(executableOf(pid), executables)) members.push({ pid, startTime: stat.startTime });
  }
  return members;
}

/** Every live process with its parent, for walking a process tree. */
export function processTable(): { pid: number; ppid: number; startTime: number }[] {
  const table: { pid: number; ppid: number; startTime: number }[] = [];
  for (const pid of livePids()) {
    const stat = readProcStat(pid);
    if (stat && stat.state !== 'Z') table.push({ pid, ppid: stat.ppid, startTime: stat.startTime });
  }
  return table;
}

/** Sends `name` to the process we saw, unless it has exited (its pid may already name another process). */
export function signalIfStillRunning(seen: SeenProcess, name: NodeJS.Signals): void {
  if (!isStillRunning(seen)) return;
  try {
    process.kill(seen.pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** How much of a command line a message shows: whole words up to this length, then `…`. */
const COMMAND_LINE_CHARS = 120;

/** A command line in whole words: never cut inside an argument, `…` where words were left off. */
export function shortCommandLine(argv: readonly string[], limit = COMMAND_LINE_CHARS): string {
  let text = '';
  for (const word of argv) {
    const next = text === '' ? word : `${text} ${word}`;
    if (next.length > limit && text !== '') return `${text} …`;
    text = next;
  }
  return text;
}

/** Short description of a process for messages: `1234 (nc -l 6443)`. */
export function describeProcess(pid: number): string {
  const argv = commandLine(pid);
  return argv ? `${pid} (${shortCommandLine(argv)})` : String(pid);
}

/** Sleeps; used by the few polling loops (lock waiters, stop). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until none of `processes` runs (zombies and reused pids count as gone); true if they all went in time. */
export async function waitForExit(processes: SeenProcess[], timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!processes.some(isStillRunning)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}
