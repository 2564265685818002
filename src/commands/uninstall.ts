/**
 * `uninstall`: as root, stop the cluster (`down`), then remove everything k3s-sandbox created: the mounts sandboxed-node
 * made, the profile blocks and the kubeconfig context of root and of the target user, /etc/profile.d/k3s-sandbox.sh,
 * the state, log, fakes and data dirs, and what install.sh placed (the kubectl link only when it points at our k3s,
 * k3s only when install-k3s recorded installing it). Idempotent: what is already gone is skipped.
 * Everything this needs is imported before the installed files go, since this very bundle is among them.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import { isRoot } from '../instance/root.js';
import { performAsUser } from '../profile/asUser.js';
import { PROFILE_D_FILE, removeProfileD } from '../profile/blocks.js';
import { lookUpUser, resolveTargetUser, type TargetUser } from '../profile/user.js';
import { parseMountinfo } from '../steps/probe.js';
import { run as down } from './down.js';

/** Where install.sh puts things (install.sh's SHARE_DIR, CONFIG_DIR and BIN_DIR). */
export const INSTALLED = {
  shareDir: '/usr/local/share/k3s-sandbox',
  configDir: '/usr/local/etc/k3s-sandbox',
  binDir: '/usr/local/bin',
  /** Written by install-k3s when it placed k3s: without it, the k3s binary is someone else's. */
  k3sRecord: '/usr/local/etc/k3s-sandbox/installed-k3s.json',
};

/** What k3s itself writes outside its data dir (the node password, registries and its default config dir). */
const K3S_ETC_DIRS = ['/etc/rancher/k3s', '/etc/rancher/node'];

const CGROUP_ROOT = '/sys/fs/cgroup';

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The mounts fakes made for sandboxed-node: /dev/null bound over /dev/kmsg, and the cgroup v1 tree on a tmpfs named `cgroup`. */
export function ourMounts(mountinfo: string, kmsgIsDevNull: boolean): string[] {
  const mounts = parseMountinfo(mountinfo);
  const found: string[] = [];
  const cgroupTmpfs = mounts.some((m) => m.mountPoint === CGROUP_ROOT && m.fsType === 'tmpfs' && m.source === 'cgroup');
  if (cgroupTmpfs) {
    const below = mounts.filter((m) => m.mountPoint.startsWith(`${CGROUP_ROOT}/`)).map((m) => m.mountPoint);
    found.push(...below.sort((a, b) => b.length - a.length), CGROUP_ROOT);
  }
  if (kmsgIsDevNull && mounts.some((m) => m.mountPoint === '/dev/kmsg')) found.push('/dev/kmsg');
  return found;
}

function sameDevice(a: string, b: string): boolean {
  try {
    return statSync(a).rdev === statSync(b).rdev;
  } catch {
    return false;
  }
}

async function unmountOurs(say: (line: string) => void): Promise<void> {
  const mounts = ourMounts(readFileSync('/proc/self/mountinfo', 'utf8'), sameDevice('/dev/kmsg', '/dev/null'));
  for (const point of mounts) {
    const result = await execa('umount', [point], { reject: false });
    if (result.exitCode !== 0) throw new Error(`cannot unmount ${point}: ${String(result.stderr).trim() || `umount exited ${result.exitCode}`}`);
    say(`unmounted ${point}`);
  }
}

/** Removes a directory and all in it; a mount point (a dev container's data volume) keeps its now empty self. */
function removeTree(dir: string, say: (line: string) => void): void {
  if (!existsSync(dir)) return;
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  say(`removed ${dir}`);
}

function removeFile(file: string, say: (line: string) => void): void {
  if (linkTarget(file) === undefined && !existsSync(file)) return;
  rmSync(file, { force: true });
  say(`removed ${file}`);
}

async function removeHomeEntries(users: TargetUser[], say: (line: string) => void): Promise<void> {
  for (const user of users) {
    const { changed } = await performAsUser(user, { kind: 'unpublish', home: user.home, kubeconfig: join(user.home, '.kube', 'config') });
    for (const file of changed) say(`removed k3s-sandbox's entries from ${file}`);
  }
  if (removeProfileD()) say(`removed ${PROFILE_D_FILE}`);
}

function removeInstalledFiles(say: (line: string) => void): void {
  const { shareDir, configDir, binDir, k3sRecord } = INSTALLED;
  const k3s = join(binDir, 'k3s');
  if (linkTarget(join(binDir, 'kubectl')) === k3s) removeFile(join(binDir, 'kubectl'), say);
  if (existsSync(k3sRecord)) removeFile(k3s, say);
  const cli = join(binDir, 'k3s-sandbox');
  if (linkTarget(cli)?.startsWith(`${shareDir}/`)) removeFile(cli, say);
  removeTree(configDir, say);
  removeTree(shareDir, say);
}

export async function run(ctx: CommandContext, options: { user?: string }): Promise<number> {
  if (!isRoot()) {
    process.stderr.write('k3s-sandbox: uninstall removes files only root may remove; run `sudo k3s-sandbox uninstall`\n');
    return 1;
  }
  const say = (line: string): void => void process.stdout.write(`k3s-sandbox: ${line}\n`);
  const stopped = await down(ctx);
  if (stopped !== 0) return stopped;
  await unmountOurs(say);
  const root = lookUpUser('root');
  const target = resolveTargetUser(options.user);
  const users = [root, target].filter((user, index, all): user is TargetUser => user !== undefined && all.findIndex((other) => other?.name === user.name) === index);
  await removeHomeEntries(users, say);
  const { paths } = ctx;
  for (const dir of [paths.stateDir, paths.logDir, paths.libDir, paths.dataDir, ...K3S_ETC_DIRS]) removeTree(dir, say);
  removeInstalledFiles(say);
  say('uninstalled');
  return 0;
}
