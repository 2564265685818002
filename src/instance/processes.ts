/**
 * Process facts read from /proc. `down` and `launch` only signal a pid after these checks say the
 * process is ours, so a reused pid never gets a signal meant for our supervisor.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';

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

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces and parens. */
function statFields(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether the pid is a zombie (exited, not yet reaped): it no longer runs anything. */
export function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === 'Z';
}

export function sessionOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[3]) : undefined;
}

/** Every live pid whose session id is `sid`: the supervisor setsid()s, so these are all the processes it started. */
export function sessionMembers(sid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (sessionOf(pid) === sid && !isZombie(pid)) members.push(pid);
  }
  return members;
}

/** The supervisor we started for this state dir: its argv names our binary and our pidfile. */
export function isOurSupervisor(pid: number, pidFile: string): boolean {
  const argv = commandLine(pid);
  if (!argv || isZombie(pid)) return false;
  if (basename(argv[0]) !== 'k3s-sandbox-supervise') return false;
  const at = argv.indexOf('--pidfile');
  return at >= 0 && argv[at + 1] === pidFile;
}

/** Short description of a process for messages: `1234 (nc -l 6443)`. */
export function describeProcess(pid: number): string {
  const argv = commandLine(pid);
  return argv ? `${pid} (${argv.join(' ').slice(0, 80)})` : String(pid);
}

/** Sleeps; used by the few polling loops (lock waiters, stop). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until none of `pids` is alive (zombies count as gone); true if they all went within the time. */
export async function waitForExit(pids: number[], timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((pid) => !isAlive(pid) || isZombie(pid))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}
