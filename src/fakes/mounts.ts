/**
 * The one place that mounts anything sandbox-wide for the fakes (the cgroup v1 tree, the /dev/kmsg bind, the overlays
 * over /proc/sys directories), and the journal that makes those mounts complete-or-undone.
 *
 * A set of mounts is made in order (a rebind tmpfs adds its binds right after it, see Rebind). Before each `mount` runs, the journal (`<stateDir>/mounts.json`, replaced
 * atomically) records the intent: the target and the ids of the mounts already there. After it, the new mount's id. The
 * journal is marked complete only when every mount of the set is made. So whatever kills `up` (Ctrl-C, SIGKILL), the
 * journal names everything that can be ours, and nothing else: a mount at a journaled target whose id was not there
 * before. The next `up` reuses a complete set that is still all there, and otherwise undoes what the journal names
 * before making the set again; `down` undoes it. A mount someone else put on top of ours is never unmounted: undo then
 * fails naming it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { SysctlFact } from '../context.js';
import { makeDirectories, readIfExists, replaceFile } from '../files.js';
import type { Paths } from '../paths.js';
import { parseMountinfo, type Mount } from './mountinfo.js';

/**
 * A tmpfs that stands in for the directory `from` shows: the `files` (relative path → content) are written on it, and
 * every other entry of `from` gets a placeholder with that entry bound over it, so it stays the live one. A directory
 * of `from` that holds some of the files gets its own such tmpfs; one `from` lacks is made on this tmpfs. Expanded
 * when the tmpfs is mounted, so the entries are read from `from` itself (a bind of /proc/sys our mounts do not cover).
 */
export interface Rebind {
  from: string;
  files: Record<string, string>;
}

export interface MountSpec {
  target: string;
  /** `bind` binds `source` over `target`; anything else is `mount -t <fsType> -o <options> <source> <target>`. */
  fsType: 'tmpfs' | 'cgroup' | 'overlay' | 'bind';
  source: string;
  options?: string;
  /** Create `target` first when it is missing (a file for a bind, else a directory); what we created goes on undo. */
  createTarget?: 'file' | 'dir';
  /** Files (mode 0644) and directories (a trailing /) to make below `target` once it is mounted, such as an overlay's layers. */
  fill?: Record<string, string>;
  /** For a tmpfs: the entries of another directory to show on it (see Rebind). */
  rebind?: Rebind;
  /** Made by expanding the rebind tmpfs at this target: told in words as part of it, not one line each. */
  within?: string;
}

interface MountRecord extends MountSpec {
  /** Mounts at `target` before ours: never ours to unmount. */
  idsBefore: number[];
  /** Ours, once `mount` returned. */
  id?: number;
  /** We created `target`. */
  created?: boolean;
}

export interface MountJournal {
  /** Every mount of the set is made. */
  complete: boolean;
  /** The set's specs, to tell whether a later `up` wants the same set. */
  key: string;
  mounts: MountRecord[];
  /**
   * The probe facts our mounts hide: the /proc/sys files below our overlays as they were before them (missing or
   * read-only), so a later probe describes the sandbox, not our fakes.
   */
  hiddenSysctls: SysctlFact[];
}

export function mountJournalFile(paths: Pick<Paths, 'stateDir'>): string {
  return join(paths.stateDir, 'mounts.json');
}

export function readMountJournal(file: string): MountJournal | undefined {
  const text = readIfExists(file);
  if (text === undefined) return undefined;
  try {
    const journal = JSON.parse(text) as MountJournal;
    if (Array.isArray(journal.mounts)) return journal;
  } catch {
    // unreadable: treated as absent below
  }
  throw new Error(`${file} is not a mount journal k3s-sandbox wrote; if nothing of k3s-sandbox is mounted, remove it and run up again`);
}

function writeJournal(file: string, journal: MountJournal): void {
  makeDirectories(dirname(file), 0o755);
  replaceFile(file, JSON.stringify(journal) + '\n', { mode: 0o644 });
}

function currentMounts(procRoot: string): Mount[] {
  return parseMountinfo(readFileSync(join(procRoot, 'self/mountinfo'), 'utf8'));
}

/** The mounts at the record's target that are ours: not there before, and the one we recorded once we knew it. */
function oursAt(record: MountRecord, mounts: Mount[]): Mount[] {
  return mounts.filter((m) => m.mountPoint === record.target && !record.idsBefore.includes(m.id) && (record.id === undefined || m.id === record.id));
}

/** The ids of every mount the journal names that is there now (for the probe, which must see past them). */
export function ourMountIds(journal: MountJournal | undefined, mounts: Mount[]): Set<number> {
  return new Set((journal?.mounts ?? []).flatMap((record) => oursAt(record, mounts).map((m) => m.id)));
}

function mountArgs(spec: MountSpec): string[] {
  if (spec.fsType === 'bind') return ['--bind', spec.source, spec.target];
  return ['-t', spec.fsType, ...(spec.options ? ['-o', spec.options] : []), spec.source, spec.target];
}

function describe(spec: MountSpec): string {
  if (spec.fsType === 'bind') return `${spec.source} bound over ${spec.target}`;
  if (spec.rebind) return `a tmpfs at ${spec.target} with its real entries bound back (and the directories below it that hold fakes)`;
  return `${spec.fsType === 'cgroup' ? `the ${spec.options} cgroup` : `${spec.fsType === 'overlay' ? 'an overlay' : 'a tmpfs'}`} at ${spec.target}`;
}

async function runMount(args: string[], what: string): Promise<void> {
  const result = await execa(args[0]!, args.slice(1), { reject: false });
  if (result.exitCode !== 0) throw new Error(`cannot ${what}: ${String(result.stderr).trim() || `${args[0]} exited ${result.exitCode}`}`);
}

function fill(target: string, entries: Record<string, string>): void {
  for (const [relative, content] of Object.entries(entries)) {
    const path = join(target, relative);
    if (relative.endsWith('/')) {
      mkdirSync(path, { recursive: true, mode: 0o755 });
    } else {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      writeFileSync(path, content, { mode: 0o644 });
    }
  }
}

/** What a Rebind tmpfs at `target` gets: its files and placeholders (fill), then the binds and nested tmpfs mounts. */
export function expandRebind(target: string, rebind: Rebind): { fill: Record<string, string>; mounts: MountSpec[] } {
  const fillEntries: Record<string, string> = {};
  const binds: MountSpec[] = [];
  const nested: MountSpec[] = [];
  const below = new Map<string, Record<string, string>>();
  for (const [path, content] of Object.entries(rebind.files)) {
    const [first, ...rest] = path.split('/');
    if (rest.length === 0) fillEntries[first!] = content;
    else below.set(first!, { ...below.get(first!), [rest.join('/')]: content });
  }
  const real = existsSync(rebind.from) ? readdirSync(rebind.from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)) : [];
  const realDirs = new Set(real.filter((entry) => entry.isDirectory()).map((entry) => entry.name));
  for (const [dir, files] of below) {
    if (realDirs.has(dir)) {
      fillEntries[`${dir}/`] = '';
      nested.push({ target: join(target, dir), fsType: 'tmpfs', source: 'k3s-sandbox', options: 'mode=0555', rebind: { from: join(rebind.from, dir), files }, within: target });
    } else {
      for (const [path, content] of Object.entries(files)) fillEntries[`${dir}/${path}`] = content;
    }
  }
  for (const entry of real) {
    if (entry.name in fillEntries || below.has(entry.name)) continue;
    fillEntries[entry.isDirectory() ? `${entry.name}/` : entry.name] = '';
    binds.push({ target: join(target, entry.name), fsType: 'bind', source: join(rebind.from, entry.name), within: target });
  }
  return { fill: fillEntries, mounts: [...binds, ...nested] };
}

/** Removes a target we created, once nothing is mounted on it. */
function removeCreated(record: MountRecord): void {
  if (!record.created) return;
  try {
    if (record.createTarget === 'file') rmSync(record.target, { force: true });
    else rmdirSync(record.target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Undoes what the journal at `file` names, last mount first, keeping the journal true after each step; removes it
 * when all is undone. Returns what was undone, in words.
 */
export async function undoMounts(file: string, procRoot = '/proc'): Promise<string[]> {
  const journal = readMountJournal(file);
  if (!journal) return [];
  const changes: string[] = [];
  while (journal.mounts.length > 0) {
    const record = journal.mounts[journal.mounts.length - 1]!;
    for (let ours = oursAt(record, currentMounts(procRoot)); ours.length > 0; ours = oursAt(record, currentMounts(procRoot))) {
      const topmost = currentMounts(procRoot).filter((m) => m.mountPoint === record.target).at(-1)!;
      if (!ours.some((m) => m.id === topmost.id)) {
        throw new Error(`cannot unmount ${record.target}: another mount (${topmost.fsType}, id ${topmost.id}) sits on top of ours; unmount it first`);
      }
      await runMount(['umount', record.target], `unmount ${record.target}`);
      if (!record.within) changes.push(`unmounted ${describe(record)}`);
    }
    removeCreated(record);
    journal.mounts.pop();
    journal.complete = false;
    writeJournal(file, journal);
  }
  rmSync(file, { force: true });
  return changes;
}

/** Whether the journal's set is complete, is the set `specs` asks for, and is all still mounted. */
function reusable(journal: MountJournal | undefined, key: string, procRoot: string): boolean {
  if (!journal?.complete || journal.key !== key) return false;
  const mounts = currentMounts(procRoot);
  return journal.mounts.every((record) => record.id !== undefined && oursAt(record, mounts).length > 0);
}

/**
 * Makes exactly the mounts `specs` lists, in order, or nothing: a complete earlier set of the same specs is reused;
 * anything else the journal names is undone first; a failure undoes what this call mounted and throws.
 * Returns what changed, in words.
 */
export async function applyMounts(file: string, specs: MountSpec[], hiddenSysctls: SysctlFact[], procRoot = '/proc'): Promise<string[]> {
  const key = JSON.stringify(specs);
  if (reusable(readMountJournal(file), key, procRoot)) return [];
  const changes = await undoMounts(file, procRoot);
  if (specs.length === 0) return changes;
  const journal: MountJournal = { complete: false, key, mounts: [], hiddenSysctls };
  const queue = [...specs];
  try {
    for (let spec = queue.shift(); spec !== undefined; spec = queue.shift()) {
      const record: MountRecord = { ...spec, idsBefore: currentMounts(procRoot).filter((m) => m.mountPoint === spec.target).map((m) => m.id) };
      if (spec.createTarget && !existsSync(spec.target)) {
        record.created = true;
        journal.mounts.push(record);
        writeJournal(file, journal);
        if (spec.createTarget === 'file') writeFileSync(spec.target, '', { mode: 0o600 });
        else mkdirSync(spec.target, { recursive: true, mode: 0o755 });
      } else {
        journal.mounts.push(record);
        writeJournal(file, journal);
      }
      await runMount(['mount', ...mountArgs(spec)], `mount ${describe(spec)}`);
      record.id = oursAt(record, currentMounts(procRoot)).at(-1)?.id;
      if (record.id === undefined) throw new Error(`mount of ${describe(spec)} succeeded but ${spec.target} is not in ${procRoot}/self/mountinfo`);
      writeJournal(file, journal);
      if (spec.fill) fill(spec.target, spec.fill);
      if (spec.rebind) {
        const expanded = expandRebind(spec.target, spec.rebind);
        fill(spec.target, expanded.fill);
        queue.unshift(...expanded.mounts);
      }
      if (!spec.within) changes.push(`mounted ${describe(spec)}`);
    }
    journal.complete = true;
    writeJournal(file, journal);
  } catch (error) {
    try {
      await undoMounts(file, procRoot);
    } catch (undoError) {
      throw new Error(`${(error as Error).message}; undoing the partial mounts failed too: ${(undoError as Error).message}`);
    }
    throw error;
  }
  return changes;
}
