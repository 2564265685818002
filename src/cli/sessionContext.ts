import type { CommandDeclaration } from './command.js';

export const sessionContext: CommandDeclaration = {
  name: 'session-context',
  description: 'what hooks/session-start.sh prints for the agent, from the output of `up --json`',
  options: [
    { name: 'format', value: 'F', description: 'text (one line) or claude (Claude Code SessionStart JSON)', default: 'text' },
    { name: 'up-result', value: 'FILE', description: 'the stdout of `up --wait --json`' },
    { name: 'up-errors', value: 'FILE', description: 'the stderr of that `up`' },
    { name: 'in-background', description: 'start `up --wait` in the background instead, and say so (the hook\'s K3S_SANDBOX_HOOK_ASYNC=1)' },
  ],
  async run(values) {
    return (await import('../lazy.js')).runSessionContext(values);
  },
};
