import type { CommandDeclaration } from './command.js';

export const down: CommandDeclaration = {
  name: 'down',
  description: 'stop the k3s this tool started (only processes it started) and clean up what k3s leaves behind',
  options: [],
  async run() {
    const { commandContext } = await import('./context.js');
    return (await import('../commands/down.js')).run(commandContext({ lenient: true }));
  },
};
