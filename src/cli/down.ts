import type { CommandDeclaration } from './command.js';
import { commandContext } from './context.js';

export const down: CommandDeclaration = {
  name: 'down',
  description: 'stop the k3s this tool started (only processes it started) and clean up what k3s leaves behind',
  options: [],
  async run() {
    return (await import('../lazy.js')).runDown(commandContext({ lenient: true }));
  },
};
