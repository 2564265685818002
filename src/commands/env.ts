import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import { exportLine } from '../profile/blocks.js';
import { isReadable } from '../files.js';

/**
 * `env`: prints the export line for the caller's kubeconfig, for `eval "$(k3s-sandbox env)"`. The caller's own
 * ~/.kube/config (which `up` publishes) wins; root may also use the admin kubeconfig k3s writes.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const candidates = [join(homedir(), '.kube', 'config'), ctx.paths.adminKubeconfig];
  const kubeconfig = candidates.find(isReadable);
  if (!kubeconfig) {
    process.stderr.write(`k3s-sandbox: no readable kubeconfig (looked at ${candidates.join(' and ')}); run \`k3s-sandbox up\` first\n`);
    return 1;
  }
  process.stdout.write(exportLine(kubeconfig) + '\n');
  return 0;
}
