import type { CommandDeclaration } from './command.js';
import { commandContext } from './context.js';

export const logs: CommandDeclaration = {
  name: 'logs',
  description: 'print the k3s log (root-readable: sudo k3s-sandbox logs)',
  options: [{ name: 'follow', short: 'f', description: 'keep printing what k3s appends, until interrupted' }],
  async run(values) {
    return (await import('../lazy.js')).runLogs(commandContext({ lenient: true }), { follow: values.follow === true });
  },
};
