import type { CommandDeclaration } from './command.js';
import { commandContext, text } from './context.js';

export const uninstallProfile: CommandDeclaration = {
  name: 'uninstall-profile',
  description: 'remove every shell-profile block k3s-sandbox wrote',
  options: [{ name: 'user', value: 'U', description: 'whose profiles', default: '$_REMOTE_USER, else $SUDO_USER, else the caller' }],
  async run(values) {
    return (await import('../lazy.js')).runUninstallProfile(commandContext({ lenient: true }), { user: text(values.user) });
  },
};
