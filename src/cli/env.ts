import type { CommandDeclaration } from './command.js';

export const env: CommandDeclaration = {
  name: 'env',
  description: 'print the export line for KUBECONFIG: eval "$(k3s-sandbox env)"',
  options: [],
  async run() {
    const { commandContext } = await import('./context.js');
    return (await import('../commands/env.js')).run(commandContext({ lenient: true }));
  },
};
