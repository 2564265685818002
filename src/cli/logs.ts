import type { CommandDeclaration } from './command.js';

export const logs: CommandDeclaration = {
  name: 'logs',
  description: 'print the k3s log (root-readable: sudo k3s-sandbox logs)',
  options: [{ name: 'follow', short: 'f', description: 'keep printing what k3s appends, until interrupted' }],
  async run(values) {
    const { commandContext } = await import('./context.js');
    return (await import('../commands/logs.js')).run(commandContext({ lenient: true }), { follow: values.follow === true });
  },
};
