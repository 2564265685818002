/**
 * What k3s leaves behind when an agent ran, removed the way k3s's own k3s-killall.sh does (k3s install.sh,
 * create_killall): containerd shims under the data dir and their children, mounts under
 * /run/k3s and the kubelet dirs, CNI network namespaces, the cni0/flannel links and the KUBE-, CNI- and
 * flannel iptables rules. Each part runs only when there is something to remove, and a failure in
 * one part is reported and does not stop the others.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { execa } from 'execa';
import { executableOf, isOurExecutable, ourExecutables } from './identity.js';
import { isStillRunning, processTable, signalIfStillRunning, type SeenProcess } from './processes.js';

const LINKS = ['cni0', 'flannel.1', 'flannel-v6.1', 'kube-ipvs0', 'flannel-wg', 'flannel-wg-v6'];
const MOUNT_ROOTS = ['/run/k3s', '/var/lib/kubelet/pods', '/var/lib/kubelet/plugins', '/run/netns/cni-'];
const RULE_PATTERN = /KUBE-|CNI-|flannel/;

/** The real and effective uid of a live process, from /proc/<pid>/status; undefined once it is gone. */
function uidsOf(pid: number): number[] | undefined {
  try {
    const match = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? [Number(match[1]), Number(match[2])] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * containerd shims of our k3s, plus every descendant (the containers). A shim is ours when it runs as us (root) and
 * its executable (not just its argv, which anyone can set) is a containerd-shim that k3s extracted under
 * `<dataDir>/data/`: only root can start a root process, and root starts that file only through our k3s. Shims
 * outlive k3s on purpose, possibly across several of our supervisors, so no start-time bound applies to them; a
 * descendant must have started after its shim, as anything the shim started or reaped did.
 */
export function shimProcessTree(dataDir: string): SeenProcess[] {
  const table = processTable();
  const extracted = ourExecutables([], [dataDir]);
  const us = process.geteuid?.();
  const tree = new Map<number, SeenProcess>();
  for (const entry of table) {
    const exe = executableOf(entry.pid);
    if (exe === undefined || !isOurExecutable(exe, extracted) || !basename(exe).startsWith('containerd-shim')) continue;
    if (uidsOf(entry.pid)?.every((uid) => uid === us)) tree.set(entry.pid, { pid: entry.pid, startTime: entry.startTime });
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of table) {
      const parent = tree.get(entry.ppid);
      if (!tree.has(entry.pid) && parent !== undefined && entry.startTime >= parent.startTime) {
        tree.set(entry.pid, { pid: entry.pid, startTime: entry.startTime });
        grew = true;
      }
    }
  }
  return [...tree.values()];
}

/** Mount points under the k3s/kubelet roots, deepest first, from /proc/self/mounts text. */
export function leftoverMounts(mountsText: string): string[] {
  const points = mountsText
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => MOUNT_ROOTS.some((root) => point === root || point.startsWith(root.endsWith('-') ? root : `${root}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** iptables-save text without our rules; undefined when there is nothing to remove. */
export function withoutKubeRules(saved: string): string | undefined {
  const lines = saved.split('\n');
  const kept = lines.filter((line) => !RULE_PATTERN.test(line));
  return kept.length === lines.length ? undefined : kept.join('\n');
}

async function cleanRules(save: string, restore: string, report: (line: string) => void): Promise<void> {
  const saved = await execa(save, [], { reject: false });
  if (saved.exitCode !== 0) return; // tool missing or no netfilter: nothing of ours there
  const filtered = withoutKubeRules(String(saved.stdout));
  if (filtered === undefined) return;
  const restored = await execa(restore, [], { input: filtered + '\n', reject: false });
  report(restored.exitCode === 0 ? `removed KUBE-/CNI-/flannel rules (${save})` : `could not restore filtered rules with ${restore}: ${restored.stderr}`);
}

/**
 * `seenBeforeStop` is the shim tree taken before k3s was stopped: stopping the supervisor's session also stops the
 * shims (they run our executables in that session), and the containers they leave behind are no longer their
 * descendants, so only that earlier view still names them.
 */
export async function cleanUpAgentLeftovers(dataDir: string, report: (line: string) => void, seenBeforeStop: readonly SeenProcess[] = []): Promise<void> {
  const now = shimProcessTree(dataDir).filter((entry) => !seenBeforeStop.some((seen) => seen.pid === entry.pid));
  const shims = [...seenBeforeStop, ...now].filter(isStillRunning);
  for (const shim of shims) signalIfStillRunning(shim, 'SIGKILL');
  if (shims.length > 0) report(`killed ${shims.length} containerd-shim processes and their containers`);

  let mounts: string[] = [];
  try {
    mounts = leftoverMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    mounts = [];
  }
  for (const point of mounts) {
    const result = await execa('umount', [point], { reject: false });
    report(result.exitCode === 0 ? `unmounted ${point}` : `could not unmount ${point}: ${result.stderr}`);
  }
  let stillMounted: string[] = [];
  try {
    stillMounted = leftoverMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    stillMounted = [];
  }
  for (const dir of ['/run/k3s', '/var/lib/kubelet/pods', '/var/lib/kubelet/plugins', '/var/lib/cni']) {
    // Never delete through a mount that would not come off: it may be a bind of someone else's files.
    const blocked = stillMounted.some((point) => point === dir || point.startsWith(`${dir}/`));
    if (existsSync(dir) && !blocked) {
      try {
        rmSync(dir, { recursive: true, force: true });
        report(`removed ${dir}`);
      } catch (error) {
        report(`could not remove ${dir}: ${(error as Error).message}`);
      }
    }
  }

  const bridgePorts = existsSync('/sys/class/net/cni0/brif') ? readdirSync('/sys/class/net/cni0/brif') : [];
  for (const link of [...bridgePorts, ...LINKS]) {
    if (!existsSync(`/sys/class/net/${link}`)) continue;
    const result = await execa('ip', ['link', 'delete', link], { reject: false });
    report(result.exitCode === 0 ? `deleted link ${link}` : `could not delete link ${link}: ${result.stderr || result.message}`);
  }

  for (const [save, restore] of [
    ['iptables-save', 'iptables-restore'],
    ['ip6tables-save', 'ip6tables-restore'],
    ['iptables-legacy-save', 'iptables-legacy-restore'],
    ['ip6tables-legacy-save', 'ip6tables-legacy-restore'],
  ]) {
    await cleanRules(save, restore, report);
  }
}
