import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
} from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { applyMounts, mountJournalFile, type MountSpec } from '../fakes/mounts.js';
import { makeDirectories, replaceFile, replaceLink } from '../files.js';
import type { Plan, ProbeFacts, Shared, SysctlFact } from '../context.js';
import type { Paths } from '../paths.js';

/**
 * Everything k3s needs that the sandbox lacks, made idempotently under the lib dir (root-owned, never
 * world-writable): the fake /proc/sys tree the interceptor serves, the host-local CNI stand-in, a PATH directory where
 * `iptables` means iptables-legacy (the host's own alternatives stay untouched), and the sandbox-wide mounts (a
 * /dev/null bind over a missing /dev/kmsg, a cgroup v1 tree, overlays over /proc/sys directories), made complete or not
 * at all by src/fakes/mounts.ts and undone by `down`. Files are written to a temp name and renamed; anything a previous plan made and this one does not need is
 * removed. The pipeline runs this step under the instance lock, and only for a plan it is about to launch: a running
 * instance's fakes are never touched.
 */

const SYSCTL_PATH_RE = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/;
const SYSCTL_VALUE_RE = /^[0-9]*$/;
/** The iptables tools kube-proxy, flannel and the network policy controller call. */
const IPTABLES_TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];

export interface FakesOptions {
  /** Where /dev/kmsg lives (tests pass a temp dir). */
  devDir?: string;
  /** Where cgroup v1 hierarchies are mounted (tests pass a temp dir). */
  cgroupRoot?: string;
  /** The host's iptables-legacy binary, from the probe. */
  iptablesLegacy?: string | null;
  /** Where /proc/sys is (tests pass a temp dir to overlay). */
  procSysDir?: string;
  /** The probe's sysctl facts: the journal keeps those our overlays hide, so a later probe still sees them. */
  sysctlFacts?: SysctlFact[];
  /** /proc, for mountinfo. */
  procRoot?: string;
}

/** Creates `dir` and its parents up to `base` (inclusive; nothing above it is touched), each root-owned (when we are root) and not writable by others. */
export function ensureSafeDir(base: string, dir: string): void {
  if (dir !== base && !dir.startsWith(base + sep)) throw new Error(`${dir} is outside ${base}`);
  makeDirectories(dir, 0o755);
  const chain: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    chain.push(current);
    if (current === base || dirname(current) === current) break;
  }
  for (const current of chain) {
    const stats = lstatSync(current);
    if (stats.isSymbolicLink() || !stats.isDirectory()) {
      throw new Error(`${current} must be a real directory, not a symlink or file: remove it and run up again`);
    }
    if (process.getuid?.() === 0 && stats.uid !== 0) chownSync(current, 0, 0);
    if ((stats.mode & 0o002) !== 0) chmodSync(current, stats.mode & 0o7755);
  }
}

function writeIfChanged(file: string, content: string, mode: number): boolean {
  try {
    if (readFileSync(file, 'utf8') === content && (lstatSync(file).mode & 0o7777) === mode) return false;
  } catch {
    // absent or unreadable: write it
  }
  replaceFile(file, content, { mode });
  return true;
}

/** writeIfChanged into a directory made safe first. */
function writeIntoSafeDir(base: string, file: string, content: string, mode: number): boolean {
  ensureSafeDir(base, dirname(file));
  return writeIfChanged(file, content, mode);
}

/** Files below `dir`, leaving out dot-named temp files (replaceFile's, should one have been left by a crash). */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

/** Removes empty directories below `dir` (deepest first), keeping `dir` itself. */
function pruneEmptyDirs(dir: string): void {
  if (!existsSync(dir)) return;
  const dirs = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort((a, b) => b.split(sep).length - a.split(sep).length);
  for (const sub of dirs) {
    try {
      rmdirSync(sub);
    } catch (error) {
      if (!isErrno(error, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) throw error;
    }
  }
}

/** `<fakeRoot>/proc/sys/<path>` holding `<value>\n` for exactly the planned sysctls. */
export function syncFakeTree(paths: Pick<Paths, 'libDir' | 'fakeRoot'>, sysctls: Record<string, string>): string[] {
  const changes: string[] = [];
  const sysDir = join(paths.fakeRoot, 'proc', 'sys');
  const wanted = new Set<string>();
  for (const [path, value] of Object.entries(sysctls)) {
    if (!SYSCTL_PATH_RE.test(path) || !SYSCTL_VALUE_RE.test(value)) {
      throw new Error(`refusing fake sysctl ${JSON.stringify(path)}=${JSON.stringify(value)}: paths are lowercase words joined by /, values digits`);
    }
    const file = join(sysDir, path);
    wanted.add(file);
    if (writeIntoSafeDir(paths.libDir, file, `${value}\n`, 0o644)) changes.push(`fake /proc/sys/${path} = ${value}`);
  }
  for (const file of listFiles(sysDir)) {
    if (!wanted.has(file)) {
      rmSync(file, { force: true });
      changes.push(`removed stale fake /proc/sys/${relative(sysDir, file)}`);
    }
  }
  pruneEmptyDirs(paths.fakeRoot);
  return changes;
}

function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The host-local stand-in: a shell wrapper that runs this CLI's hidden `cni` command (src/cni/hostLocal.ts). */
export function hostLocalWrapper(paths: Pick<Paths, 'selfCommand' | 'cniStateDir'>): string {
  return [
    '#!/bin/sh',
    '# Written by k3s-sandbox: an IPAM-only host-local CNI plugin (it allocates addresses, it creates no interfaces).',
    '# k3s in control-plane mode waits until a host-local is on its PATH; this one is real enough to answer the CNI spec.',
    `K3S_SANDBOX_CNI_STATE_DIR=${shellWord(paths.cniStateDir)} exec ${paths.selfCommand.map(shellWord).join(' ')} cni`,
    '',
  ].join('\n');
}

export function syncCniStandIn(paths: Pick<Paths, 'libDir' | 'cniBinDir' | 'cniStateDir' | 'selfCommand'>, wanted: boolean): string[] {
  const file = join(paths.cniBinDir, 'host-local');
  if (!wanted) {
    if (!existsSync(file)) return [];
    rmSync(file, { force: true });
    return [`removed the host-local stand-in ${file}`];
  }
  ensureSafeDir(paths.libDir, paths.cniStateDir);
  chmodSync(paths.cniStateDir, 0o700);
  return writeIntoSafeDir(paths.libDir, file, hostLocalWrapper(paths), 0o755) ? [`host-local stand-in at ${file}`] : [];
}

/** `<iptablesBinDir>/iptables` → the host's iptables-legacy (and the -save/-restore and ip6tables siblings that exist). */
export function syncIptablesLegacy(paths: Pick<Paths, 'libDir' | 'iptablesBinDir'>, legacyBinary: string | null | undefined, wanted: boolean): string[] {
  const changes: string[] = [];
  if (!wanted) {
    if (existsSync(paths.iptablesBinDir)) {
      rmSync(paths.iptablesBinDir, { recursive: true, force: true });
      changes.push(`removed ${paths.iptablesBinDir}`);
    }
    return changes;
  }
  if (!legacyBinary) throw new Error('the plan wants iptables-legacy but the probe found no iptables-legacy binary');
  ensureSafeDir(paths.libDir, paths.iptablesBinDir);
  const legacyDir = dirname(legacyBinary);
  for (const tool of IPTABLES_TOOLS) {
    const target = join(legacyDir, tool.replace(/^(ip6?tables)/, '$1-legacy'));
    const link = join(paths.iptablesBinDir, tool);
    if (existsSync(target)) {
      if (replaceLink(target, link)) changes.push(`${link} -> ${target}`);
    } else {
      rmSync(link, { force: true });
    }
  }
  return changes;
}

/** Where the overlays' layers (or the rebind variant's saved bind of /proc/sys) live: a tmpfs of ours, so nothing of them outlives the mounts. */
export function overlayLayersDir(paths: Pick<Paths, 'libDir'>): string {
  return join(paths.libDir, 'proc-sys-layers');
}

/** `kernel/keys/root_maxkeys` → `kernel`: one overlay per top-level /proc/sys directory holding a fake. */
function topDirectory(path: string): string {
  return path.split('/')[0]!;
}

/**
 * The sandbox-wide mounts `plan` asks for, in the order they are made (src/fakes/mounts.ts makes them complete or not
 * at all): a tmpfs at the cgroup root with one cgroup v1 hierarchy per controller, the way a container runtime
 * prepares /sys/fs/cgroup; /dev/null bound over a missing /dev/kmsg; and for `overlay` fakes a tmpfs holding each
 * overlay's upper layer (the fake files, `<value>\n`) and work directory, then an overlay over each /proc/sys
 * directory that holds a fake; for `rebind` fakes (gVisor refusing overlays) that tmpfs holds a bind of /proc/sys
 * (`real`, which our later mounts do not cover), then a tmpfs over each top /proc/sys directory holding a fake gets the
 * fake files and every other entry bound back from `real` (Rebind in src/fakes/mounts.ts). Either way untouched
 * entries of those directories stay the live ones.
 */
export function mountSpecsFor(plan: Plan, paths: Pick<Paths, 'libDir'>, options: Pick<FakesOptions, 'devDir' | 'cgroupRoot' | 'procSysDir'> = {}): MountSpec[] {
  const specs: MountSpec[] = [];
  const cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
  if (plan.fakes.cgroupV1Mounts?.length) {
    specs.push({ target: cgroupRoot, fsType: 'tmpfs', source: 'cgroup', options: 'mode=0755,nosuid,nodev,noexec', createTarget: 'dir' });
    for (const controller of plan.fakes.cgroupV1Mounts) {
      specs.push({ target: join(cgroupRoot, controller), fsType: 'cgroup', source: 'cgroup', options: controller, createTarget: 'dir' });
    }
  }
  if (plan.fakes.kmsgBind) specs.push({ target: join(options.devDir ?? '/dev', 'kmsg'), fsType: 'bind', source: '/dev/null', createTarget: 'file' });
  if ((plan.fakes.procSys === 'overlay' || plan.fakes.procSys === 'rebind') && Object.keys(plan.fakes.sysctls).length > 0) {
    const layers = overlayLayersDir(paths);
    const procSys = options.procSysDir ?? '/proc/sys';
    if (/[,:\s]/.test(layers + procSys)) throw new Error(`overlay layers cannot live at ${layers}: the path holds a comma, colon or space (set K3S_SANDBOX_LIB_DIR to a plain path)`);
    const tops = [...new Set(Object.keys(plan.fakes.sysctls).map(topDirectory))].sort();
    if (plan.fakes.procSys === 'rebind') {
      specs.push({ target: layers, fsType: 'tmpfs', source: 'k3s-sandbox', options: 'mode=0700', createTarget: 'dir', fill: { 'real/': '' } });
      specs.push({ target: join(layers, 'real'), fsType: 'bind', source: procSys });
      for (const top of tops) {
        const files = Object.fromEntries(Object.entries(plan.fakes.sysctls).filter(([path]) => topDirectory(path) === top).map(([path, value]) => [path.slice(top.length + 1), `${value}\n`]));
        specs.push({ target: join(procSys, top), fsType: 'tmpfs', source: 'k3s-sandbox', options: 'mode=0555', rebind: { from: join(layers, 'real', top), files } });
      }
      return specs;
    }
    const fill: Record<string, string> = {};
    for (const top of tops) Object.assign(fill, { [`${top}/upper/`]: '', [`${top}/work/`]: '' });
    for (const [path, value] of Object.entries(plan.fakes.sysctls)) fill[`${topDirectory(path)}/upper/${path.slice(topDirectory(path).length + 1)}`] = `${value}\n`;
    specs.push({ target: layers, fsType: 'tmpfs', source: 'k3s-sandbox', options: 'mode=0700', createTarget: 'dir', fill });
    for (const top of tops) {
      const dir = join(procSys, top);
      specs.push({ target: dir, fsType: 'overlay', source: 'k3s-sandbox', options: `lowerdir=${dir},upperdir=${layers}/${top}/upper,workdir=${layers}/${top}/work` });
    }
  }
  return specs;
}

/** The sqlite datastore's directory off the data dir: created 0700, and refused if something else sits there. */
export function ensureDatastoreDir(dir: string): string[] {
  const existed = existsSync(dir);
  makeDirectories(dir, 0o700);
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink() || !stats.isDirectory()) throw new Error(`${dir} must be a real directory for the k3s datastore`);
  if ((stats.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  return existed ? [] : [`datastore directory ${dir}`];
}

/** The plan's CNI conflist in k3s's conf dir (k3s's data dir, so it goes with it). */
export function writeCniConfig(config: { file: string; content: string }): string[] {
  makeDirectories(dirname(config.file), 0o755);
  return writeIfChanged(config.file, config.content, 0o644) ? [`CNI network ${config.file}`] : [];
}

/** Makes exactly the fakes `plan` asks for; returns what changed, in words. */
export async function applyFakes(plan: Plan, paths: Paths, options: FakesOptions = {}): Promise<string[]> {
  ensureSafeDir(paths.libDir, paths.libDir);
  const changes = [
    ...syncFakeTree(paths, plan.fakes.sysctls),
    ...syncCniStandIn(paths, plan.fakes.cniStandIn),
    ...syncIptablesLegacy(paths, options.iptablesLegacy, plan.fakes.iptablesLegacy),
  ];
  if (plan.fakes.datastoreDir) changes.push(...ensureDatastoreDir(plan.fakes.datastoreDir));
  if (plan.fakes.cniConfig) changes.push(...writeCniConfig(plan.fakes.cniConfig));
  const specs = mountSpecsFor(plan, paths, options);
  const overlaid = new Set(specs.filter((spec) => spec.fsType === 'overlay' || spec.rebind).map((spec) => basename(spec.target)));
  const hidden = (options.sysctlFacts ?? []).filter((fact) => overlaid.has(topDirectory(fact.path)));
  changes.push(...(await applyMounts(mountJournalFile(paths), specs, hidden, options.procRoot)));
  return changes;
}

/** The fakes step: `fakes(plan)` as root (k3s runs as root, and only a root `up` launches it); returns what changed. */
export async function fakes(plan: Plan, facts: Pick<ProbeFacts, 'iptables' | 'sysctls' | 'mounts'>, shared: Pick<Shared, 'paths' | 'status'>): Promise<string[]> {
  const changes = await applyFakes(plan, shared.paths, { iptablesLegacy: facts.iptables.legacy, sysctlFacts: facts.sysctls });
  for (const change of changes) shared.status.info(change);
  if ((plan.fakes.procSys === 'overlay' || plan.fakes.procSys === 'rebind') && !facts.mounts.namespacesIsolate) {
    shared.status.warn("the /proc/sys fakes are sandbox-wide (this gVisor's mount namespaces do not isolate): every process here sees them until `k3s-sandbox down`");
  }
  return changes;
}
