import type { CommandContext } from '../context.js';
import { performAsUser } from '../profile/asUser.js';
import { PROFILE_D_FILE, removeProfileD } from '../profile/blocks.js';
import { resolveTargetUser } from '../profile/user.js';

/**
 * `uninstall-profile [--user U]`: removes every shell-profile block `up` wrote for the user, with the user's own
 * identity (see profile/asUser.ts), and the /etc/profile.d snippet as root.
 */
export async function run(ctx: CommandContext, options: { user?: string }): Promise<number> {
  const user = resolveTargetUser(options.user);
  const { changed } = await performAsUser(user, { kind: 'unpublish', home: user.home });
  if (removeProfileD()) changed.push(PROFILE_D_FILE);
  if (changed.length === 0) ctx.status.info(`no k3s-sandbox profile blocks found for ${user.name}`);
  for (const file of changed) process.stdout.write(`removed the k3s-sandbox block from ${file}\n`);
  return 0;
}
