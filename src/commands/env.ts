import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import { exportLine } from '../profile/blocks.js';
import { resolveTargetUser } from '../profile/user.js';
import { isReadable } from '../files.js';

/**
 * `env`: prints the export line for the caller's kubeconfig, for `eval "$(k3s-sandbox env)"`. The caller's own
 * ~/.kube/config (which `up` publishes) wins; root may also use the admin kubeconfig k3s writes. The home is the one
 * `up` publishes into (the passwd entry of the user `up` would choose), not $HOME, so the two always agree.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const candidates = [join(resolveTargetUser(undefined).home, '.kube', 'config'), ctx.paths.adminKubeconfig];
  const kubeconfig = candidates.find(isReadable);
  if (!kubeconfig) {
    process.stderr.write(`k3s-sandbox: no readable kubeconfig (looked at ${candidates.join(' and ')}); run \`k3s-sandbox up\` first\n`);
    return 1;
  }
  process.stdout.write(exportLine(kubeconfig) + '\n');
  return 0;
}
