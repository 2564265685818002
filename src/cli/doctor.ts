import type { CommandDeclaration } from './command.js';
import { commandContext, modeFlag } from './context.js';

export const doctor: CommandDeclaration = {
  name: 'doctor',
  description: 'report what this sandbox allows, with a remedy for each blocker; exit 1 when no mode can run',
  options: [{ name: 'mode', value: 'M', description: 'the mode `up would run` is planned for', default: 'the mode setting, auto' }],
  async run(values) {
    return (await import('../lazy.js')).runDoctor(commandContext({ flags: modeFlag(values.mode) }));
  },
};
