/**
 * What k3s leaves behind when an agent ran, removed the way k3s-killall.sh does (see
 * ../shared/facts/k3s.md §8): containerd shims under the data dir and their children, mounts under
 * /run/k3s and the kubelet dirs, CNI network namespaces, the cni0/flannel links and the KUBE-, CNI- and
 * flannel iptables rules. Each part runs only when there is something to remove, and a failure in
 * one part is reported and does not stop the others.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { commandLine } from './processes.js';

const LINKS = ['cni0', 'flannel.1', 'flannel-v6.1', 'kube-ipvs0', 'flannel-wg', 'flannel-wg-v6'];
const MOUNT_ROOTS = ['/run/k3s', '/var/lib/kubelet/pods', '/var/lib/kubelet/plugins', '/run/netns/cni-'];
const RULE_PATTERN = /KUBE-|CNI-|flannel/;

function parentOf(pid: number): number | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(raw.slice(raw.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** Shims whose binary lives under `<dataDir>/data/`, plus every descendant. */
export function shimProcessTree(dataDir: string): number[] {
  const pids = allPids();
  const prefix = `${dataDir.replace(/\/$/, '')}/data/`;
  const shims = pids.filter((pid) => {
    const argv0 = commandLine(pid)?.[0] ?? '';
    return argv0.startsWith(prefix) && argv0.includes('containerd-shim');
  });
  const tree = new Set(shims);
  for (let grew = true; grew; ) {
    grew = false;
    for (const pid of pids) {
      const parent = parentOf(pid);
      if (!tree.has(pid) && parent !== undefined && tree.has(parent)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
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

export async function cleanUpAgentLeftovers(dataDir: string, report: (line: string) => void): Promise<void> {
  const shims = shimProcessTree(dataDir);
  for (const pid of shims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
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
