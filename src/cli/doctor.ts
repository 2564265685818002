import type { CommandDeclaration } from './command.js';

export const doctor: CommandDeclaration = {
  name: 'doctor',
  description: 'report what this sandbox allows, with a remedy for each blocker; exit 1 when no mode can run',
  options: [{ name: 'mode', value: 'M', description: 'the mode `up would run` is planned for', default: 'the mode setting, auto' }],
  async run(values) {
    const { commandContext, modeFlag } = await import('./context.js');
    return (await import('../commands/doctor.js')).run(commandContext({ flags: modeFlag(values.mode) }));
  },
};
