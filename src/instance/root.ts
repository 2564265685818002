/**
 * `up` by a non-root caller. k3s and its supervisor run as root; a non-root caller either finds a root instance
 * already up (the pipeline follows it: wait checks it and publish gives the caller the copy root published for them),
 * or has `up` re-run as root through `sudo -n` for itself, or is told plainly what to run. cli.ts decides this before
 * the pipeline starts, so no step ever ends the process.
 */
import { userInfo } from 'node:os';
import { UpError } from '../diagnose/upError.js';
import type { Paths } from '../paths.js';
import { liveSupervisorPid, readInstanceRecord } from './state.js';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function sudoWorks(): Promise<boolean> {
  try {
    const { execa } = await import('execa'); // isRoot() is imported widely; execa only on the sudo path
    return (await execa('sudo', ['-n', 'true'], { reject: false, stdio: 'ignore', timeout: 5000 })).exitCode === 0;
  } catch {
    return false;
  }
}

/** `up`'s arguments without --user (the re-run names the caller explicitly). */
function withoutUserOption(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--user') i++;
    else if (!args[i].startsWith('--user=')) kept.push(args[i]);
  }
  return kept;
}

/** The environment a sudo re-run keeps: where our files are, and the hook's env file. */
const PRESERVED_ENV = 'K3S_SANDBOX_STATE_DIR,K3S_SANDBOX_LOG_DIR,K3S_SANDBOX_LIB_DIR,K3S_SANDBOX_BIN_DIR,K3S_SANDBOX_CONFIG,CLAUDE_ENV_FILE';

/**
 * For `up`, before the pipeline: undefined when this process runs the pipeline itself (as root, or as a user following
 * a live root instance). Otherwise `up` runs again as root through `sudo -n` with `--user <caller>`, and its exit code
 * is returned for cli.ts to exit with; without passwordless sudo, an UpError names the command to run.
 * `upArgs` are the arguments given after `up`.
 */
export async function upAsRoot(paths: Paths, upArgs: readonly string[], user: string | undefined): Promise<number | undefined> {
  if (isRoot()) return undefined;
  if (liveSupervisorPid(paths) !== undefined && readInstanceRecord(paths)) return undefined;
  const forUser = user || userInfo().username;
  const args = [...withoutUserOption(upArgs), '--user', forUser];
  if (!(await sudoWorks())) {
    throw new UpError(
      `starting k3s needs root, and \`sudo -n\` is not allowed for ${userInfo().username}: run \`sudo k3s-sandbox up ${args.join(' ')}\` (or \`k3s-sandbox up --user ${forUser}\` as root)`,
    );
  }
  process.stderr.write('  starting k3s needs root: running `up` again through sudo -n\n');
  const { execa } = await import('execa');
  const result = await execa('sudo', ['-n', `--preserve-env=${PRESERVED_ENV}`, ...paths.selfCommand, 'up', ...args], { reject: false, stdio: 'inherit' });
  return result.exitCode ?? 1;
}
