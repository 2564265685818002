import type { CommandDeclaration } from './command.js';
import { commandContext, text } from './context.js';

export const uninstall: CommandDeclaration = {
  name: 'uninstall',
  description: 'as root: down, then remove everything k3s-sandbox created (profile blocks, kubeconfig context, state, logs, data, installed files)',
  options: [{ name: 'user', value: 'U', description: 'also remove the profile blocks and kubeconfig context of U', default: '$_REMOTE_USER, else $SUDO_USER' }],
  async run(values) {
    return (await import('../lazy.js')).runUninstall(commandContext({ lenient: true }), { user: text(values.user) });
  },
};
