/**
 * `up` by a non-root caller. k3s and its supervisor run as root; a non-root caller either finds a root
 * instance already up (wait then checks it and publish gives the caller the copy root published for
 * them), or has `up` re-run as root through `sudo -n` for itself, or is told plainly what to run.
 */
import { userInfo } from 'node:os';
import { execa } from 'execa';
import type { Context } from '../context.js';
import { UpError } from '../diagnose/upError.js';
import { checkHealthy, readinessSource } from '../kube/health.js';
import { liveSupervisorPid, readInstanceRecord, readSupervisorStatus } from './state.js';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function sudoWorks(): Promise<boolean> {
  try {
    return (await execa('sudo', ['-n', 'true'], { reject: false, stdio: 'ignore', timeout: 5000 })).exitCode === 0;
  } catch {
    return false;
  }
}

/** `up`'s arguments without --user (the re-run names the caller explicitly). */
function withoutUserOption(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--user') i++;
    else if (!args[i].startsWith('--user=')) kept.push(args[i]);
  }
  return kept;
}

/**
 * Called by launch when not root. With a live root instance: adopt it (wait follows it). Otherwise:
 * run `up` again as root via `sudo -n` with `--user <caller>`, and exit with its result; without
 * passwordless sudo, fail with the command to run.
 */
export async function delegateToRoot(ctx: Context): Promise<void> {
  const { paths, status } = ctx;
  const supervisorPid = liveSupervisorPid(paths);
  const record = readInstanceRecord(paths);
  if (supervisorPid !== undefined && record) {
    ctx.instance = record;
    const healthy = readSupervisorStatus(paths)?.state === 'running' && (await checkHealthy(readinessSource(record, paths)));
    ctx.launched = { supervisorPid, alreadyRunning: healthy };
    status.info(`k3s runs as root (supervisor ${supervisorPid}, mode ${record.mode}); waiting for it as ${userInfo().username}`);
    return;
  }
  const user = ctx.options.user || userInfo().username;
  const upArgs = [...withoutUserOption(process.argv.slice(3)), '--user', user];
  if (!(await sudoWorks())) {
    throw new UpError(
      `starting k3s needs root, and \`sudo -n\` is not allowed for ${userInfo().username}: run \`sudo k3s-sandbox up ${upArgs.join(' ')}\` (or \`k3s-sandbox up --user ${user}\` as root)`,
    );
  }
  const rerun = [...paths.selfCommand, 'up', ...upArgs];
  status.info('starting k3s needs root: running `up` again through sudo -n');
  const result = await execa('sudo', ['-n', '--preserve-env=K3S_SANDBOX_STATE_DIR,K3S_SANDBOX_LOG_DIR,K3S_SANDBOX_LIB_DIR,K3S_SANDBOX_BIN_DIR,K3S_SANDBOX_CONFIG,CLAUDE_ENV_FILE', ...rerun], {
    reject: false,
    stdio: 'inherit',
  });
  process.exit(result.exitCode ?? 1);
}
