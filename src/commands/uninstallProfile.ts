import type { CommandContext } from '../context.js';
import { removeProfileBlocks } from '../profile/blocks.js';
import { resolveTargetUser } from '../profile/user.js';

/** `uninstall-profile [--user U]`: removes every shell-profile block `up` wrote for the user. */
export async function run(ctx: CommandContext, options: { user?: string }): Promise<number> {
  const user = resolveTargetUser(options.user);
  const changed = removeProfileBlocks(user);
  if (changed.length === 0) ctx.status.info(`no k3s-sandbox profile blocks found for ${user.name}`);
  for (const file of changed) process.stdout.write(`removed the k3s-sandbox block from ${file}\n`);
  return 0;
}
