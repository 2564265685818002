/**
 * publish: the target user (--user, else $_REMOTE_USER, else $SUDO_USER, else the caller) gets the
 * cluster in ~/.kube/config as context `k3s-sandbox` (created 0600 and owned by them, or merged
 * without touching their other entries), KUBECONFIG in their shell profiles and /etc/profile.d, and
 * the export line in $CLAUDE_ENV_FILE when that is set. Every write into the home is made with the user's own
 * identity (profile/asUser.ts: a child process with their uid and gid when root publishes for them), atomic, and
 * keeps the file's mode.
 *
 * As root the source is the admin kubeconfig k3s wrote. A non-root caller cannot read that, so it
 * relies on the copy root already published for it, and says plainly what to run when there is none.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../context.js';
import type { SandboxEntries } from '../kube/kubeconfig.js';
import { UpError } from '../diagnose/upError.js';
import { isRoot } from '../instance/root.js';
import { missingPublishedKubeconfig } from '../kube/health.js';
import { writeJsonAtomic } from '../instance/state.js';
import type { Paths } from '../paths.js';
import { performAsUser } from '../profile/asUser.js';
import { PROFILE_D_FILE, publishProfileD } from '../profile/blocks.js';
import { readRegularFile } from '../profile/homeFile.js';
import { resolveTargetUser, type TargetUser } from '../profile/user.js';
import { isReadable } from '../files.js';

function stampOf(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

/**
 * What the last publish for a user left: the stamps (inode:mtime:size) of the admin kubeconfig and of
 * the user's file. When neither changed, the merge would change nothing, and a warm `up` skips it
 * without loading the Kubernetes client.
 */
interface PublishMarker {
  source: string;
  sourceStamp?: string;
  target: string;
  targetStamp?: string;
}

function markerFile(paths: Paths, user: TargetUser): string {
  return join(paths.stateDir, `published-${user.name}.json`);
}

function markerMatches(paths: Paths, user: TargetUser, source: string, target: string, checkSource: boolean): boolean {
  try {
    const marker = JSON.parse(readFileSync(markerFile(paths, user), 'utf8')) as PublishMarker;
    return (
      marker.target === target &&
      marker.targetStamp !== undefined &&
      marker.targetStamp === stampOf(target) &&
      (!checkSource || (marker.source === source && marker.sourceStamp !== undefined && marker.sourceStamp === stampOf(source)))
    );
  } catch {
    return false;
  }
}

/** For a caller publishing for themselves without the admin kubeconfig: whether root already published for them. */
async function hasSandboxContextIn(target: string): Promise<boolean> {
  const text = readRegularFile(target);
  if (text === undefined) return false;
  const { hasSandboxContext } = await import('../kube/kubeconfig.js');
  return hasSandboxContext(text);
}

export async function run(ctx: Context): Promise<void> {
  const { status } = ctx;
  const record = ctx.instance;
  if (!record) throw new Error('publish needs launch to have run');
  const user = resolveTargetUser(ctx.options.user);
  const caller = userInfo();
  if (!isRoot() && user.uid !== caller.uid) {
    throw new UpError(`only root can publish a kubeconfig for ${user.name}; as ${caller.username}, run \`k3s-sandbox up\` without --user`);
  }
  const target = join(user.home, '.kube', 'config');
  const source = record.adminKubeconfig;
  let entries: SandboxEntries | undefined;
  if (isReadable(source)) {
    if (!markerMatches(ctx.paths, user, source, target, true)) {
      entries = (await import('../kube/kubeconfig.js')).sandboxEntriesFrom(readFileSync(source, 'utf8'), source);
    }
  } else if (!markerMatches(ctx.paths, user, source, target, false) && !(await hasSandboxContextIn(target))) {
    throw missingPublishedKubeconfig(user.name, target);
  }
  const claudeEnvFile = process.env.CLAUDE_ENV_FILE || undefined;
  const home = await performAsUser(user, { kind: 'publish', home: user.home, kubeconfig: target, entries, claudeEnvFile });
  if (entries && isRoot()) {
    const marker: PublishMarker = { source, sourceStamp: stampOf(source), target, targetStamp: stampOf(target) };
    writeJsonAtomic(markerFile(ctx.paths, user), marker);
  }
  const changed = [...home.changed];
  if (publishProfileD()) changed.push(PROFILE_D_FILE);
  for (const warning of home.warnings) status.warn(warning);
  ctx.kubeconfigPath = target;
  ctx.published = { user: user.name, changed, claudeEnvFile };
  status.info(changed.length > 0 ? `for ${user.name}: updated ${changed.join(', ')}` : `for ${user.name}: already up to date`);
}
