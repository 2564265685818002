import { run } from '../commands/env.js';
import type { CommandDeclaration } from './command.js';
import { commandContext } from './context.js';

export const env: CommandDeclaration = {
  name: 'env',
  description: 'print the export line for KUBECONFIG: eval "$(k3s-sandbox env)"',
  options: [],
  async run() {
    return run(commandContext({ lenient: true }));
  },
};
