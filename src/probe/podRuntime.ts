/**
 * What a pod needs from the kernel beyond what a Ready node needs: the operations kubelet, containerd's shim and
 * runc perform for every pod, each tried for real on a scratch directory (mounts) or in a throwaway process, so
 * that a sandbox which gains one (a newer gVisor) is recognised. Every check undoes what it did.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export type PodRuntimeCheckName = 'recursiveBind' | 'sharedPropagation' | 'pivotRoot' | 'childSubreaper' | 'netnsSetns' | 'devicesCgroup';

export interface PodRuntimeCheck {
  name: PodRuntimeCheckName;
  ok: boolean;
  /** The operation's own error, or what was seen. */
  detail: string;
}

/** Who needs each operation, for reports: a missing one keeps pods from starting. */
export const POD_RUNTIME_NEEDS: Readonly<Record<PodRuntimeCheckName, string>> = {
  recursiveBind: "containerd's snapshotters mount image layers and runc mounts volumes with recursive binds (MS_BIND|MS_REC)",
  sharedPropagation: 'kubelet makes its root dir rshared at start (MS_SHARED|MS_REC), a fatal error otherwise',
  pivotRoot: "runc enters each container's root filesystem with pivot_root",
  childSubreaper: "containerd's shim makes itself the containers' subreaper (PR_SET_CHILD_SUBREAPER) as a non-init process",
  netnsSetns: "the CNI plugins and runc join each pod's network namespace with setns",
  devicesCgroup: 'runc confines each container to its allowed devices through the devices cgroup',
};

const ORDER: readonly PodRuntimeCheckName[] = ['recursiveBind', 'sharedPropagation', 'pivotRoot', 'childSubreaper', 'netnsSetns', 'devicesCgroup'];

/** prctl's syscall number per architecture (perl's syscall() takes the raw number). */
const PRCTL_SYSCALL: Readonly<Record<string, number>> = { x64: 157, arm64: 167 };
const PR_SET_CHILD_SUBREAPER = 36;

// Each script runs in its own mount namespace, mounts only under its scratch dir $1, and unmounts before it exits.
const RECURSIVE_BIND = `mkdir -p "$1/a" "$1/b" && mount -t tmpfs probe "$1/a" || exit
mkdir "$1/a/sub" && mount -t tmpfs probe "$1/a/sub" || { umount "$1/a"; exit 1; }
mount --rbind "$1/a" "$1/b"; rc=$?
for m in "$1/b/sub" "$1/b" "$1/a/sub" "$1/a"; do umount "$m" 2>/dev/null; done
exit $rc`;
const SHARED_PROPAGATION = `mkdir -p "$1/a" && mount -t tmpfs probe "$1/a" || exit
mount --make-rshared "$1/a"; rc=$?
umount "$1/a"
exit $rc`;
// pivot_root only where the namespace is private (its id differs from ours, $2): never on the sandbox's own root.
const PIVOT_ROOT = `set -e
[ "$(readlink /proc/self/ns/mnt)" != "$2" ] || { echo "no private mount namespace to try it in"; exit 2; }
mkdir -p "$1/a"; mount -t tmpfs probe "$1/a"; mkdir "$1/a/old"; cd "$1/a"
pivot_root . old`;

/**
 * Runs a mount script in a new mount namespace made private, so nothing propagates back; where the sandbox
 * cannot change propagation at all (gVisor, whose mounts are sandbox-wide anyway, and whose mounts made in a
 * namespace that then ends stay busy) it runs in ours, and the script's own unmounts keep it clean.
 */
async function mountScript(script: string, scratch: string, extra: string[] = []): Promise<{ ok: boolean; detail: string }> {
  const args = ['sh', '-c', script, 'sh', scratch, ...extra];
  let result = await execa('unshare', ['--mount', '--propagation', 'private', '--fork', ...args], { reject: false, all: true });
  if (/cannot change root filesystem propagation/.test(String(result.all ?? ''))) {
    const [command = 'sh', ...rest] = args;
    result = await execa(command, rest, { reject: false, all: true });
  }
  return { ok: result.exitCode === 0, detail: result.exitCode === 0 ? 'works' : String(result.all ?? '').trim() || `exit ${result.exitCode}` };
}

async function childSubreaper(): Promise<{ ok: boolean; detail: string }> {
  const number = PRCTL_SYSCALL[arch()];
  if (number === undefined) return { ok: false, detail: `not probed: no prctl syscall number for ${arch()}` };
  // perl runs as a child of this process, so it is not init: the case containerd's shim is in.
  const result = await execa('perl', ['-e', `syscall(${number}, ${PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\\n"`], { reject: false, all: true });
  if (result.failed && result.exitCode === undefined) return { ok: false, detail: 'not probed: perl is missing' };
  return { ok: result.exitCode === 0, detail: result.exitCode === 0 ? 'works' : String(result.all ?? '').trim() };
}

async function netnsSetns(): Promise<{ ok: boolean; detail: string }> {
  // From a new network namespace, join ours again: the setns(CLONE_NEWNET) a CNI plugin makes into a pod's.
  const result = await execa('unshare', ['--net', 'nsenter', `--net=/proc/${process.pid}/ns/net`, 'true'], { reject: false, all: true });
  return { ok: result.exitCode === 0, detail: result.exitCode === 0 ? 'works' : String(result.all ?? '').trim() };
}

/** The devices controller as /proc/cgroups lists it (cgroup v1); cgroup v2 uses an eBPF program instead. */
export function devicesController(procCgroups: string | undefined, cgroupV2: boolean): { ok: boolean; detail: string } {
  if (cgroupV2) return { ok: true, detail: 'cgroup v2: device rules are an eBPF program, not a controller' };
  const line = (procCgroups ?? '').split('\n').find((row) => row.startsWith('devices\t'));
  if (!line) return { ok: false, detail: 'no devices controller in /proc/cgroups' };
  return line.trim().split(/\s+/)[3] === '1' ? { ok: true, detail: 'devices controller enabled' } : { ok: false, detail: 'devices controller disabled' };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs every check (root only: they mount and unshare). */
export async function probePodRuntime(procRoot = '/proc', sysRoot = '/sys'): Promise<PodRuntimeCheck[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'k3s-sandbox-pod-probe-'));
  try {
    const ownMountNs = mountNamespaceId(procRoot);
    const results: Record<PodRuntimeCheckName, { ok: boolean; detail: string }> = {
      recursiveBind: await mountScript(RECURSIVE_BIND, join(scratch, 'rbind')),
      sharedPropagation: await mountScript(SHARED_PROPAGATION, join(scratch, 'shared')),
      pivotRoot: ownMountNs ? await mountScript(PIVOT_ROOT, join(scratch, 'pivot'), [ownMountNs]) : { ok: false, detail: 'not probed: our mount namespace is unknown' },
      childSubreaper: await childSubreaper(),
      netnsSetns: await netnsSetns(),
      devicesCgroup: devicesController(readOptional(`${procRoot}/cgroups`), readOptional(`${sysRoot}/fs/cgroup/cgroup.controllers`) !== undefined),
    };
    return ORDER.map((name) => ({ name, ...results[name] }));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Our mount namespace's id (`mnt:[…]`), or empty when /proc does not say. */
function mountNamespaceId(procRoot: string): string {
  try {
    return readlinkSync(`${procRoot}/self/ns/mnt`);
  } catch {
    return '';
  }
}

/** "pods can run here" only when every check passed; otherwise what is missing, each with who needs it. */
export function podVerdict(checks: readonly PodRuntimeCheck[]): { podsCanRun: boolean; lines: string[] } {
  const missing = checks.filter((check) => !check.ok);
  if (missing.length === 0) return { podsCanRun: true, lines: ['pods can run here: every operation runc, containerd and kubelet need works'] };
  return {
    podsCanRun: false,
    lines: [
      `pods cannot run here: ${missing.length} operation(s) fail`,
      ...missing.map((check) => `  ${check.name}: ${check.detail} (${POD_RUNTIME_NEEDS[check.name]})`),
    ],
  };
}
