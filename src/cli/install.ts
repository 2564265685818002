import { CONFIG_KEYS } from '../config.js';
import type { CommandDeclaration } from './command.js';

/** The two commands install.sh runs; src/install/index.ts parses their flags again and does the work. */
export const writeConfig: CommandDeclaration = {
  name: 'write-config',
  description: 'used by install.sh: the feature options (env VERSION, MODE, ...) to a validated config.json',
  options: [
    { name: 'output', value: 'FILE', description: 'where to write it', default: '/usr/local/etc/k3s-sandbox/config.json' },
    { name: 'lifecycle-env', value: 'FILE', description: 'also write what the lifecycle scripts source there (autoStart, node, remote user)' },
    { name: 'option-names', description: 'only print the option variables it reads (VERSION, MODE, ...), one a line, for the hooks' },
  ],
  async run(values, args) {
    if (values['option-names']) {
      const { optionEnvName } = await import('../lazy.js');
      process.stdout.write(CONFIG_KEYS.map((key) => `${optionEnvName(key)}\n`).join(''));
      return 0;
    }
    return (await import('../lazy.js')).runInstall(['write-config', ...args]);
  },
};

export const installK3s: CommandDeclaration = {
  name: 'install-k3s',
  description: 'used by install.sh: install the pinned k3s binary',
  options: [
    { name: 'config', value: 'FILE', description: 'the config to read', default: '/usr/local/etc/k3s-sandbox/config.json' },
    { name: 'arch', value: 'A', description: 'amd64 or arm64', default: 'this machine\'s' },
    { name: 'bin-dir', value: 'DIR', description: 'where k3s goes', default: '/usr/local/bin' },
    { name: 'record', value: 'FILE', description: 'where the installed version and digest are recorded', default: '/usr/local/etc/k3s-sandbox/installed-k3s.json' },
    { name: 'timeout', value: 'S', description: 'seconds the whole install may take', default: '900' },
  ],
  async run(_values, args) {
    return (await import('../lazy.js')).runInstall(['install-k3s', ...args]);
  },
};
