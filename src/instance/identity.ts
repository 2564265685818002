/**
 * Which process a pid names. A pid alone says nothing once its process has exited: pids are reused, and after a
 * container restart (with a /run that is not a tmpfs) they start again at 1 while our state files stay. A process is
 * the one we recorded only when its start time (field 22 of /proc/<pid>/stat, clock ticks since boot) and the boot
 * id both match what k3s-sandbox-supervise recorded (supervisor/src/identity.c reads them the same way), and it is
 * one of ours only when its executable is one we install or k3s extracted.
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/** The fields of /proc/<pid>/stat we use. */
export interface ProcStat {
  pid: number;
  /** The command name, which may hold spaces and parentheses. */
  comm: string;
  /** R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  session: number;
  /** Clock ticks after boot. */
  startTime: number;
}

/**
 * Parses a /proc/<pid>/stat line. The comm sits in parentheses and may itself contain ') ', so the fields after it
 * start at the LAST ')'. Undefined when the line does not have that shape.
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf(' (');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = line.slice(0, open);
  // Field 3 (state) is the first after the comm, so field N is at index N - 3.
  const fields = line.slice(close + 1).trim().split(/\s+/);
  const numbers = [pid, fields[1], fields[3], fields[19]];
  if (fields.length < 20 || !numbers.every((text) => /^\d+$/.test(text ?? ''))) return undefined;
  return {
    pid: Number(pid),
    comm: line.slice(open + 2, close),
    state: fields[0],
    ppid: Number(fields[1]),
    session: Number(fields[3]),
    startTime: Number(fields[19]),
  };
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** `btime <seconds>` from /proc/stat text: the boot time, our boot id where the kernel (gVisor) has no boot_id. */
export function bootTimeLine(procStat: string): string | undefined {
  const match = /^btime (\d+)$/m.exec(procStat);
  return match ? `btime ${match[1]}` : undefined;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** This boot's id: /proc/sys/kernel/random/boot_id, else the btime line of /proc/stat; undefined if neither reads. */
export function currentBootId(): string | undefined {
  return readOrEmpty('/proc/sys/kernel/random/boot_id').trim() || bootTimeLine(readOrEmpty('/proc/stat'));
}

/** A process as recorded when it was started. */
export interface RecordedProcess {
  pid: number;
  startTime: number;
  bootId: string;
}

/** Whether the live process `observed` is the one `recorded`: same pid, start time and boot, and not a zombie. */
export function isRecordedProcess(recorded: RecordedProcess, observed: ProcStat | undefined, bootId: string | undefined): boolean {
  return (
    observed !== undefined &&
    bootId !== undefined &&
    recorded.bootId === bootId &&
    observed.pid === recorded.pid &&
    observed.startTime === recorded.startTime &&
    observed.state !== 'Z'
  );
}

/** The executable of a live process, without the ` (deleted)` the kernel appends once the file is replaced or removed. */
export function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    // Gone, a kernel thread, or another user's process (EACCES) while we are not root.
    return undefined;
  }
}

/** The programs whose processes we may signal: our helpers, k3s, and what k3s extracted under `<dataDir>/data/`. */
export interface OurExecutables {
  files: string[];
  dirs: string[];
}

/** /proc/<pid>/exe shows the resolved path; an installed path that no longer resolves is compared as written. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

export function ourExecutables(programs: string[], dataDirs: string[]): OurExecutables {
  return {
    files: [...new Set(programs.map(canonical))],
    // k3s re-executes itself from <dataDir>/data/<hash>/bin, and containerd and its shims run from there too.
    // The configured and the recorded data dir are usually the same path: resolve it once (each lstat counts in gVisor).
    dirs: [...new Set([...new Set(dataDirs)].map((dir) => `${canonical(dir).replace(/\/$/, '')}/data/`))],
  };
}

export function isOurExecutable(exe: string | undefined, ours: OurExecutables): boolean {
  if (exe === undefined) return false;
  return ours.files.includes(exe) || ours.dirs.some((dir) => exe.startsWith(dir));
}
