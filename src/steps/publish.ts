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
 *
 * k3s is running by the time this step runs: a failure here is a PublishError, which says that the cluster is up and
 * what could not be written; for root the admin kubeconfig remains a path that works.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import type { Shared } from '../context.js';
import { UpError } from '../diagnose/upError.js';
import { fileStamp, isReadable } from '../files.js';
import { missingPublishedKubeconfig } from '../instance/health.js';
import { isRoot } from '../instance/root.js';
import { writeStateJson } from '../instance/state.js';
import type { SandboxEntries } from '../kube/kubeconfig.js';
import type { Paths } from '../paths.js';
import { performAsUser } from '../profile/asUser.js';
import { PROFILE_D_FILE, publishProfileD } from '../profile/blocks.js';
import { readRegularFile } from '../profile/homeFile.js';
import { chosenUserName, resolveTargetUser, type TargetUser } from '../profile/user.js';
import type { Instance } from './launch.js';

/** A login name as useradd(8) accepts it (NAME_REGEX): anything else never reaches k3s, a shell line or a path. */
const USER_NAME_RE = /^[a-z_][a-z0-9_.-]*\$?$/i;

/**
 * The user `up` publishes for, resolved before anything starts: a bad or unknown --user is bad input (exit 2), not a
 * failure after k3s is up.
 */
export function targetUser(requested: string | undefined, env: NodeJS.ProcessEnv = process.env): TargetUser {
  if (requested !== undefined && !USER_NAME_RE.test(requested)) {
    throw new ConfigError(`--user ${JSON.stringify(requested)} is not a user name: give an existing account name (letters, digits, _ . -)`);
  }
  const name = chosenUserName(requested, env);
  if (!USER_NAME_RE.test(name)) throw new ConfigError(`user ${JSON.stringify(name)} is not a user name: give an existing account name with --user`);
  try {
    return resolveTargetUser(requested, env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** The kubeconfig publish writes for `user`, and so the path a ready `up` reports and the session hook exports. */
export function kubeconfigFor(user: Pick<TargetUser, 'home'>): string {
  return join(user.home, '.kube', 'config');
}

/** What publish wrote, for the report. */
export interface Published {
  user: string;
  /** The kubeconfig that works for the user. */
  kubeconfig: string;
  changed: string[];
  /** What could not be written without failing the step ($CLAUDE_ENV_FILE). */
  warnings: string[];
}

/** k3s runs, but the kubeconfig could not be published; the report says so rather than "did not start". */
class PublishError extends UpError {
  constructor(user: string, cause: string) {
    super(`k3s is running, but its kubeconfig could not be published for ${user}: ${cause}`);
    this.name = 'PublishError';
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
      marker.targetStamp === fileStamp(target) &&
      (!checkSource || (marker.source === source && marker.sourceStamp !== undefined && marker.sourceStamp === fileStamp(source)))
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

/** Names the variable and the file it points at: `CLAUDE_ENV_FILE=/path: ENOENT: …`. */
function claudeEnvWarning(warning: string, claudeEnvFile: string | undefined): string {
  return claudeEnvFile && warning.startsWith('CLAUDE_ENV_FILE: ') ? `CLAUDE_ENV_FILE=${claudeEnvFile}: ${warning.slice('CLAUDE_ENV_FILE: '.length)}` : warning;
}

/** The publish step: `publish(instance, user) → Published`. */
export async function publish(instance: Instance, user: TargetUser, shared: Pick<Shared, 'paths' | 'status'>): Promise<Published> {
  const { status, paths } = shared;
  const caller = userInfo();
  if (!isRoot() && user.uid !== caller.uid) {
    throw new UpError(`only root can publish a kubeconfig for ${user.name}; as ${caller.username}, run \`k3s-sandbox up\` without --user`);
  }
  const target = kubeconfigFor(user);
  const source = instance.record.adminKubeconfig;
  let entries: SandboxEntries | undefined;
  if (isReadable(source)) {
    if (!markerMatches(paths, user, source, target, true)) {
      entries = (await import('../kube/kubeconfig.js')).sandboxEntriesFrom(readFileSync(source, 'utf8'), source);
    }
  } else if (!markerMatches(paths, user, source, target, false) && !(await hasSandboxContextIn(target))) {
    throw missingPublishedKubeconfig(user.name, target);
  }
  const claudeEnvFile = process.env.CLAUDE_ENV_FILE || undefined;
  let home;
  try {
    home = await performAsUser(user, { kind: 'publish', home: user.home, kubeconfig: target, entries, claudeEnvFile });
  } catch (error) {
    const cause = (error as Error).message;
    if (!(isRoot() && user.uid === 0)) throw new PublishError(user.name, cause);
    // Root can read the admin kubeconfig k3s wrote: that path works where the home does not.
    const warning = `could not publish into ${user.home} (${cause}); KUBECONFIG=${source} works instead`;
    status.warn(warning);
    return { user: user.name, kubeconfig: source, changed: [], warnings: [warning] };
  }
  if (entries && isRoot()) {
    const marker: PublishMarker = { source, sourceStamp: fileStamp(source), target, targetStamp: fileStamp(target) };
    writeStateJson(markerFile(paths, user), marker);
  }
  const changed = [...home.changed];
  if (publishProfileD()) changed.push(PROFILE_D_FILE);
  const warnings = home.warnings.map((warning) => claudeEnvWarning(warning, claudeEnvFile));
  for (const warning of warnings) status.warn(warning);
  status.info(changed.length > 0 ? `for ${user.name}: updated ${changed.join(', ')}` : `for ${user.name}: already up to date`);
  return { user: user.name, kubeconfig: target, changed, warnings };
}
