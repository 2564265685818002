import { run } from '../commands/status.js';
import type { CommandDeclaration } from './command.js';
import { commandContext } from './context.js';

export const status: CommandDeclaration = {
  name: 'status',
  description: 'mode, supervisor state and readiness; exit 0 ready, 1 starting, not ready, orphaned or crash loop, 3 not running',
  options: [{ name: 'json', description: 'print the status as one JSON object' }],
  exitWhenDone: true,
  async run(values) {
    return run(commandContext({ lenient: true }), { json: values.json === true });
  },
};
