import { accessSync, constants, existsSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { ProbeFacts, Shared, SysctlFact } from '../context.js';
import { parseMountinfo, type Mount } from '../fakes/mountinfo.js';
import { mountJournalFile, ourMountIds, readMountJournal, type MountJournal } from '../fakes/mounts.js';
import { isExecutable } from '../files.js';
import { KUBE_PROXY_IPTABLES_CHECKS } from '../k3s/kubeProxyIptables.js';
import { K3S_SYSCTLS, type K3sSysctl } from '../k3s/sysctls.js';
import type { Paths } from '../paths.js';

export { parseMountinfo } from '../fakes/mountinfo.js';

/**
 * The probe reads what the sandbox allows, without changing anything: it only reads files under /proc, /sys and /dev,
 * looks for binaries on PATH, and binds the API port on 127.0.0.1 for an instant. What cannot be read is tried where
 * nothing is left behind: throwaway mounts (mountScratch) and, in gVisor, iptables in a throwaway network namespace.
 * Every root is injectable so unit tests feed it fixture trees.
 */

export interface ProbeInput {
  procRoot?: string;
  sysRoot?: string;
  devRoot?: string;
  modulesRoot?: string;
  dataDir: string;
  httpsPort: number;
  /** Directories searched for iptables-legacy and nft; default $PATH plus the sbin directories. */
  binDirs?: string[];
  /** Bind the port on 127.0.0.1 to see whether it is free (off in fixture tests). */
  checkPort?: boolean;
  /** The programs `up` runs (Paths), checked for being executable; unset: reported as not checked, not there. */
  programs?: Pick<Paths, 'k3s' | 'supervise' | 'intercept'>;
  /**
   * Try throwaway mounts in this scratch directory (a tmpfs, an overlay on it, a tmpfs in a new mount namespace) to
   * learn whether the fakes can be mounted; unset: not tested (the facts say so). Needs root with CAP_SYS_ADMIN.
   */
  mountScratch?: string;
  /** The journal of the mounts our fakes made (src/fakes/mounts.ts): the probe sees past them to the sandbox itself. */
  mountJournal?: string;
}

const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;
const CAP_SYS_MODULE = 16n;
const CAP_SYS_PTRACE = 19n;
const CAP_SYS_ADMIN = 21n;
/** gVisor's uname: a fixed version string (pkg/sentry/syscalls/linux/linux64.go). */
const GVISOR_VERSION_RE = /^Linux version 4\.4\.0 #1 SMP Sun Jan 10 15:06:54 PST 2016/;
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statusField(status: string, name: string): string | undefined {
  const line = status.split('\n').find((l) => l.startsWith(name + ':'));
  return line?.slice(name.length + 1).trim();
}

function mountFor(path: string, mounts: Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const mount of mounts) {
    const prefix = mount.mountPoint === '/' ? '/' : mount.mountPoint + '/';
    if (path === mount.mountPoint || path.startsWith(prefix)) {
      if (!best || mount.mountPoint.length >= best.mountPoint.length) best = mount;
    }
  }
  return best;
}

function existingAncestor(path: string): string {
  let current = path;
  while (!existsSync(current)) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

function findBinary(name: string, dirs: string[]): string | null {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

function hasCapability(mask: bigint, cap: bigint): boolean {
  return ((mask >> cap) & 1n) === 1n;
}

function detectGvisor(procRoot: string, release: string, version: string, mounts: Mount[]): string[] {
  const signals: string[] = [];
  if (GVISOR_VERSION_RE.test(version)) signals.push('/proc/version is gVisor\'s fixed "4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016"');
  if (/runsc|gvisor/i.test(version)) signals.push('/proc/version names runsc/gVisor');
  if (release === '4.4.0') signals.push('kernel release 4.4.0');
  if (!existsSync(join(procRoot, 'sys/kernel/panic'))) signals.push('/proc/sys/kernel/panic is missing');
  const root = mounts.find((m) => m.mountPoint === '/');
  if (root && root.fsType === '9p' && /trans=fd/.test(root.superOptions)) signals.push('root is 9p over fd (the gVisor gofer)');
  return signals;
}

/** gVisor when its fixed version string or a runsc name is seen, or when two independent weaker signals agree. */
function isGvisor(signals: string[]): boolean {
  if (signals.some((s) => s.startsWith('/proc/version'))) return true;
  return signals.length >= 2;
}

function probeSysctl(procRoot: string, sysctl: K3sSysctl): SysctlFact {
  const { path } = sysctl;
  const file = join(procRoot, 'sys', path);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return { path, state: 'missing' };
  }
  const value = readText(file)?.trim();
  let accessWritable = true;
  try {
    accessSync(file, constants.W_OK);
  } catch {
    accessWritable = false;
  }
  // Root passes access(W_OK) on gVisor's read-only sysctls, whose writes then fail with EIO: the mode bits tell.
  const writable = sysctl.readOnly === true || (accessWritable && (mode & 0o222) !== 0);
  return writable ? { path, state: 'ok', value } : { path, state: 'unwritable', value };
}

function probeCgroup(procRoot: string, sysRoot: string, mounts: Mount[]): ProbeFacts['cgroup'] {
  if (mounts.some((m) => m.fsType === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup')) {
    const controllers = (readText(join(sysRoot, 'fs/cgroup/cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
    return { version: 2, controllers };
  }
  const v1Mounts = mounts.filter((m) => m.fsType === 'cgroup');
  if (v1Mounts.length === 0) return { version: null, controllers: [] };
  const mounted = new Set(v1Mounts.flatMap((m) => m.superOptions.split(',')));
  const enabled = (readText(join(procRoot, 'cgroups')) ?? '')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(/\s+/))
    .filter((fields) => fields[3] === '1' && mounted.has(fields[0]!))
    .map((fields) => fields[0]!);
  return { version: 1, controllers: enabled };
}

function probePtrace(procRoot: string, gvisor: boolean, sysPtrace: boolean): ProbeFacts['ptrace'] {
  const scopeText = readText(join(procRoot, 'sys/kernel/yama/ptrace_scope'))?.trim();
  const scope = scopeText === undefined ? null : Number(scopeText);
  if (scope === 3) return { usable: false, scope, reason: 'kernel.yama.ptrace_scope is 3: ptrace is disabled for everyone' };
  if (scope === 2 && !sysPtrace) return { usable: false, scope, reason: 'kernel.yama.ptrace_scope is 2 and CAP_SYS_PTRACE is missing' };
  const how = gvisor ? 'gVisor implements ptrace' : `tracing own children is allowed (ptrace_scope ${scope ?? 'absent'})`;
  return { usable: true, scope, reason: how };
}

function probeSeccomp(status: string): ProbeFacts['seccomp'] {
  const mode = statusField(status, 'Seccomp');
  if (mode === undefined) return { usable: false, reason: 'no Seccomp line in /proc/self/status: the kernel has no seccomp' };
  if (mode === '1') return { usable: false, reason: 'the process is in seccomp strict mode' };
  return { usable: true, reason: mode === '2' ? 'filters can be stacked on the existing one' : 'seccomp filters available' };
}

function probeOverlay(procRoot: string, gvisor: boolean, sysAdmin: boolean, dataDirFs: string): ProbeFacts['overlay'] {
  if (gvisor) return { usable: false, reason: 'gVisor: containerd overlay snapshots are not supported there' };
  if (!sysAdmin) return { usable: false, reason: 'CAP_SYS_ADMIN is missing, so mount(2) is refused' };
  const filesystems = readText(join(procRoot, 'filesystems')) ?? '';
  if (!/\toverlay$/m.test(filesystems)) return { usable: false, reason: 'overlay is not in /proc/filesystems' };
  if (['overlay', 'aufs', '9p', 'v9fs'].includes(dataDirFs) || dataDirFs.startsWith('fuse')) {
    return { usable: false, reason: `the data dir is on ${dataDirFs}, which overlayfs cannot use as an upper layer` };
  }
  return { usable: true, reason: `overlay is available and the data dir is on ${dataDirFs}` };
}

function probeVxlan(sysRoot: string, modulesRoot: string, release: string, gvisor: boolean, sysModule: boolean): ProbeFacts['vxlan'] {
  if (gvisor) return { usable: false, reason: 'gVisor has no vxlan netlink support' };
  if (existsSync(join(sysRoot, 'module/vxlan'))) return { usable: true, reason: 'the vxlan module is loaded' };
  const builtin = readText(join(modulesRoot, release, 'modules.builtin')) ?? '';
  if (/\/vxlan(\/vxlan)?\.ko/.test(builtin)) return { usable: true, reason: 'vxlan is built into the kernel' };
  const loadable = readText(join(modulesRoot, release, 'modules.dep')) ?? '';
  if (sysModule && /\/vxlan(\/vxlan)?\.ko/.test(loadable)) return { usable: true, reason: 'the vxlan module can be loaded' };
  return { usable: false, reason: 'the vxlan module is neither loaded nor loadable here' };
}

function hasDefaultRoute(procRoot: string): boolean {
  const lines = (readText(join(procRoot, 'net/route')) ?? '').split('\n').slice(1);
  return lines.some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === '00000000' && fields[7] === '00000000';
  });
}

function meminfoBytes(meminfo: string, key: string): number | null {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo);
  return match ? Number(match[1]) * 1024 : null;
}

function countCpus(procRoot: string): number {
  const cpuinfo = readText(join(procRoot, 'cpuinfo')) ?? '';
  return Math.max(1, (cpuinfo.match(/^processor\s*:/gm) ?? []).length);
}

function programFact(path: string | undefined): ProbeFacts['programs']['k3s'] {
  return path === undefined ? { path: '(not checked)', executable: false } : { path, executable: isExecutable(path) };
}

function hexMask(hex: string | undefined): bigint {
  return BigInt('0x' + (hex !== undefined && /^[0-9a-fA-F]+$/.test(hex) ? hex : '0'));
}

/** The highest capability number in a mask (a sandbox's bounding set tells which capabilities its kernel knows). */
function lastCapability(mask: bigint): number | null {
  return mask === 0n ? null : mask.toString(2).length - 1;
}

/**
 * Throwaway mounts in `scratch`, as one short shell script: a tmpfs, an overlay over a directory of it, a bind of one
 * of its directories onto another (the tmpfs-plus-rebind fakes need it), and a tmpfs mounted in a new mount namespace
 * (propagation slave, as launch would use it), which isolates when the parent does
 * not see it. A probe killed halfway leaves scratch mounts, so the script first takes off any it finds. /proc/sys
 * itself is never touched.
 */
const MOUNT_TEST_SCRIPT = `
d="$1"
mounted() { grep -q " $1 " /proc/self/mountinfo; }
for m in "$d/t/ns" "$d/t/b" "$d/t/o" "$d/t"; do while mounted "$m"; do umount "$m" || break; done; done
mkdir -p "$d/t"
tmpfs=no overlay=no bind=no isolate=no
if mount -t tmpfs k3s-sandbox-probe "$d/t" 2>/dev/null; then
  tmpfs=yes
  mkdir "$d/t/l" "$d/t/u" "$d/t/w" "$d/t/o" "$d/t/b" "$d/t/ns"
  if mount -t overlay k3s-sandbox-probe -o "lowerdir=$d/t/l,upperdir=$d/t/u,workdir=$d/t/w" "$d/t/o" 2>/dev/null; then
    overlay=yes; umount "$d/t/o"
  fi
  if mount --bind "$d/t/l" "$d/t/b" 2>/dev/null; then bind=yes; umount "$d/t/b"; fi
  if unshare --mount --propagation slave sh -c 'mount -t tmpfs k3s-sandbox-probe "$1"' sh "$d/t/ns" 2>/dev/null; then
    if mounted "$d/t/ns"; then umount "$d/t/ns"; else isolate=yes; fi
  fi
  umount "$d/t"
fi
rmdir "$d/t" "$d" 2>/dev/null
echo "tmpfs=$tmpfs overlay=$overlay bind=$bind isolate=$isolate"
`;

async function probeMounts(input: ProbeInput, uid: number, sysAdmin: boolean): Promise<ProbeFacts['mounts']> {
  const untested = (reason: string) => ({ tested: false, tmpfs: false, overlay: false, bind: false, namespacesIsolate: false, reason });
  if (input.mountScratch === undefined) return untested('not tested');
  if (uid !== 0) return untested('not tested: the mount probe needs root');
  if (!sysAdmin) return untested('CAP_SYS_ADMIN is missing, so mount(2) is refused');
  const result = await execa('sh', ['-c', MOUNT_TEST_SCRIPT, 'sh', input.mountScratch], { reject: false });
  const said = /tmpfs=(yes|no) overlay=(yes|no) bind=(yes|no) isolate=(yes|no)/.exec(String(result.stdout));
  if (!said) return untested(`the mount test failed: ${String(result.stderr).trim() || `exit ${result.exitCode}`}`);
  const [tmpfs, overlay, bind, namespacesIsolate] = [said[1] === 'yes', said[2] === 'yes', said[3] === 'yes', said[4] === 'yes'];
  const reason = [
    tmpfs ? 'a tmpfs mounts' : 'a tmpfs mount is refused',
    overlay ? 'an overlay mounts' : 'an overlay mount is refused',
    bind ? 'a bind mounts' : 'a bind mount is refused',
    namespacesIsolate ? 'mount namespaces isolate' : 'mount namespaces do not isolate (mounts are sandbox-wide)',
  ].join('; ');
  return { tested: true, tmpfs, overlay, bind, namespacesIsolate, reason };
}

/**
 * Runs each check's iptables arguments (one per argument, split on spaces) with `iptables -w` and prints "ok" or "fail"
 * and the first line of its stderr, one line per check; run by `unshare -n`, so only a throwaway namespace's tables change.
 */
const IPTABLES_CHECK_SCRIPT = `
ipt="$1"; shift
for check in "$@"; do
  if err=$("$ipt" -w $check 2>&1 >/dev/null); then echo ok; else echo "fail $(printf '%s\\n' "$err" | head -n 1)"; fi
done
`;

/**
 * Whether iptables-legacy can hold kube-proxy's rules, tried where it matters: gVisor, whose netfilter lacks some of
 * what they use, with iptables-legacy and CAP_NET_RAW (without them the plan turns kube-proxy off anyway). The checks
 * run in a new network namespace; when one cannot be made the answer is unknown, and the sandbox's own tables are
 * never tried.
 */
async function probeKubeProxyIptables(gvisor: boolean, legacy: string | null, uid: number, netRaw: boolean): Promise<ProbeFacts['kubeProxyIptables']> {
  if (!gvisor) return { tested: false, holds: null, reason: 'not tested: a real kernel has the netfilter matches kube-proxy uses' };
  if (legacy === null || !netRaw) return { tested: false, holds: null, reason: 'not tested: iptables-legacy with CAP_NET_RAW is needed first' };
  if (uid !== 0) return { tested: true, holds: null, reason: 'unknown: the test needs root (unshare -n)' };
  const checks = KUBE_PROXY_IPTABLES_CHECKS.map((check) => check.args.join(' '));
  const result = await execa('unshare', ['-n', 'sh', '-c', IPTABLES_CHECK_SCRIPT, 'sh', legacy, ...checks], { reject: false, timeout: 20_000 });
  const lines = String(result.stdout).split('\n').filter((line) => /^(ok|fail)/.test(line));
  if (result.exitCode !== 0 || lines.length !== checks.length) {
    const why = String(result.stderr).trim().split('\n')[0] || (result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.code ?? 'unknown'}`);
    return { tested: true, holds: null, reason: `unknown: a throwaway network namespace (unshare -n) failed: ${why}` };
  }
  const failed = KUBE_PROXY_IPTABLES_CHECKS.flatMap((check, i) => {
    const line = lines[i]!;
    return line === 'ok' ? [] : [`${check.name}: ${line.replace(/^fail ?/, '').replace(/\.? Run `dmesg' for more information\.?$/, '') || 'refused'}`];
  });
  if (failed.length > 0) return { tested: true, holds: false, reason: failed.join('; ') };
  return { tested: true, holds: true, reason: `${KUBE_PROXY_IPTABLES_CHECKS.map((check) => check.name).join(', ')} work (tried in a throwaway network namespace)` };
}

/** The sysctl facts, seen past our own mounts over /proc/sys directories: below them the journal holds what the sandbox had. */
function probeSysctls(procRoot: string, journal: MountJournal | undefined, ours: Mount[]): SysctlFact[] {
  const covered = (path: string) =>
    ours.some((m) => join(procRoot, 'sys', path).startsWith(m.mountPoint.replace(/^\/proc/, procRoot) + '/'));
  return K3S_SYSCTLS.map((s) => {
    if (!covered(s.path)) return probeSysctl(procRoot, s);
    return journal?.hiddenSysctls.find((fact) => fact.path === s.path) ?? { path: s.path, state: 'ok' as const };
  }).filter((f) => f.state !== 'ok');
}

/** Binds 127.0.0.1:port and closes at once: free, busy, or unknown (e.g. EACCES below 1024). */
export function checkPortFree(port: number): Promise<ProbeFacts['port']> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve({ number: port, free: false, reason: `127.0.0.1:${port} is in use` });
      else resolve({ number: port, free: null, reason: `cannot test 127.0.0.1:${port}: ${error.code ?? error.message}` });
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve({ number: port, free: true, reason: `127.0.0.1:${port} is free` }));
    });
  });
}

/** Collects every fact; reads only, apart from the instant port bind when checkPort is on and the throwaway tries above. */
export async function collectFacts(input: ProbeInput): Promise<ProbeFacts> {
  const started = process.hrtime.bigint();
  const procRoot = input.procRoot ?? '/proc';
  const sysRoot = input.sysRoot ?? '/sys';
  const devRoot = input.devRoot ?? '/dev';
  const modulesRoot = input.modulesRoot ?? '/lib/modules';
  const binDirs = input.binDirs ?? [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN_DIRS];

  const status = readText(join(procRoot, 'self/status')) ?? '';
  const version = (readText(join(procRoot, 'version')) ?? '').trim();
  const release = readText(join(procRoot, 'sys/kernel/osrelease'))?.trim() ?? /^Linux version (\S+)/.exec(version)?.[1] ?? '';
  const allMounts = parseMountinfo(readText(join(procRoot, 'self/mountinfo')) ?? '');
  // Our own fakes (a cgroup v1 tree, a /dev/kmsg bind, /proc/sys overlays) are not the sandbox's: look past them.
  const journal = input.mountJournal === undefined ? undefined : readMountJournal(input.mountJournal);
  const ourIds = ourMountIds(journal, allMounts);
  const ours = allMounts.filter((m) => ourIds.has(m.id));
  const mounts = allMounts.filter((m) => !ourIds.has(m.id));
  const gvisorSignals = detectGvisor(procRoot, release, version, mounts);
  const gvisor = isGvisor(gvisorSignals);

  const uid = Number((statusField(status, 'Uid') ?? '').split(/\s+/)[1] ?? NaN);
  const capSource = uid === 0 ? 'CapEff' : 'CapBnd';
  const capHex = statusField(status, capSource) ?? '0';
  const capMask = hexMask(capHex);
  const capabilities = {
    source: capSource,
    mask: capHex,
    sysPtrace: hasCapability(capMask, CAP_SYS_PTRACE),
    sysAdmin: hasCapability(capMask, CAP_SYS_ADMIN),
    netAdmin: hasCapability(capMask, CAP_NET_ADMIN),
    netRaw: hasCapability(capMask, CAP_NET_RAW),
    sysModule: hasCapability(capMask, CAP_SYS_MODULE),
  } as const;

  const ancestor = existingAncestor(input.dataDir);
  const dataDirFs = mountFor(ancestor, mounts)?.fsType ?? 'unknown';
  let dataDirWritable = true;
  try {
    accessSync(ancestor, constants.W_OK);
  } catch {
    dataDirWritable = false;
  }
  let freeBytes: number | null = null;
  try {
    const fsStats = statfsSync(ancestor);
    freeBytes = Number(fsStats.bavail) * Number(fsStats.bsize);
  } catch {
    freeBytes = null;
  }

  const legacy = findBinary('iptables-legacy', binDirs);
  const nftBinary = findBinary('iptables-nft', binDirs) ?? findBinary('nft', binDirs);
  const nft = nftBinary !== null && !gvisor;
  const iptablesReason = [
    legacy ? `iptables-legacy at ${legacy}` : 'no iptables-legacy',
    nftBinary ? (gvisor ? 'nft present but gVisor answers "Protocol not supported"' : `nft at ${nftBinary}`) : 'no nft',
  ].join('; ');

  const meminfo = readText(join(procRoot, 'meminfo')) ?? '';
  const root = mounts.find((m) => m.mountPoint === '/');
  const port = input.checkPort === false
    ? { number: input.httpsPort, free: null, reason: 'not checked' }
    : await checkPortFree(input.httpsPort);

  return {
    gvisor,
    gvisorSignals,
    kernelRelease: release,
    uid,
    capabilities,
    ptrace: probePtrace(procRoot, gvisor, capabilities.sysPtrace),
    seccomp: probeSeccomp(status),
    cgroup: probeCgroup(procRoot, sysRoot, mounts),
    kmsg: existsSync(join(devRoot, 'kmsg')) && !ours.some((m) => m.mountPoint === '/dev/kmsg'),
    overlay: probeOverlay(procRoot, gvisor, capabilities.sysAdmin, dataDirFs),
    vxlan: probeVxlan(sysRoot, modulesRoot, release, gvisor, capabilities.sysModule),
    iptables: { legacy, nft, reason: iptablesReason },
    kubeProxyIptables: await probeKubeProxyIptables(gvisor, legacy, uid, capabilities.netRaw),
    defaultRoute: hasDefaultRoute(procRoot),
    sysctls: probeSysctls(procRoot, journal, ours),
    lastCap: lastCapability(hexMask(statusField(status, 'CapBnd'))),
    mounts: await probeMounts(input, uid, capabilities.sysAdmin),
    port,
    dataDir: { path: input.dataDir, existingAncestor: ancestor, fsType: dataDirFs, writable: dataDirWritable, freeBytes },
    programs: {
      k3s: programFact(input.programs?.k3s),
      supervise: programFact(input.programs?.supervise),
      intercept: programFact(input.programs?.intercept),
    },
    memory: { totalBytes: meminfoBytes(meminfo, 'MemTotal'), availableBytes: meminfoBytes(meminfo, 'MemAvailable') },
    cpus: countCpus(procRoot),
    rootIs9p: root?.fsType === '9p',
    devShmTmpfs: mounts.some((m) => m.mountPoint === '/dev/shm' && m.fsType === 'tmpfs'),
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
}

/** What `up` and `doctor` probe: the config's data dir and port, the programs, the mount test and our mount journal. */
export function probeInputFor(config: Pick<Shared['config'], 'dataDir' | 'httpsPort'>, paths: Paths): ProbeInput {
  return {
    dataDir: config.dataDir,
    httpsPort: config.httpsPort,
    programs: paths,
    mountScratch: join(paths.stateDir, 'mount-probe'),
    mountJournal: mountJournalFile(paths),
  };
}

/** The probe step: `probe(config) → ProbeFacts`, with a one-line summary. */
export async function probe(shared: Pick<Shared, 'config' | 'paths' | 'status'>): Promise<ProbeFacts> {
  const { config, paths } = shared;
  const facts = await collectFacts({
    ...probeInputFor(config, paths),
    // Only sandboxed-node can use mounted fakes (auto never picks it), so only then are mounts worth testing.
    ...(config.mode === 'sandboxed-node' && config.fakes !== 'intercept' ? {} : { mountScratch: undefined }),
  });
  shared.status.info(
    `${facts.gvisor ? 'gVisor' : `Linux ${facts.kernelRelease}`}, uid ${facts.uid}, ` +
      `cgroup ${facts.cgroup.version ?? 'none'}, ${facts.sysctls.length} k3s sysctl file(s) missing or read-only` +
      (facts.mounts.tested ? `; mounts: ${facts.mounts.reason}` : ''),
  );
  return facts;
}
