/** The context commands other than `up` run with: the config, where each value came from, the paths, the reporter. */
import { loadConfig, type FlagValues } from '../config.js';
import type { CommandContext } from '../context.js';
import { resolvePaths } from '../paths.js';
import { createStatusReporter } from '../ui/status.js';

/**
 * `lenient`: for commands that must work whatever the settings say (down, status, logs, env, uninstall): a bad
 * setting is named in a warning and its default (or the next lower source) stands.
 */
export function commandContext(options: { flags?: FlagValues; lenient?: boolean } = {}): CommandContext {
  const { config, sources, problems } = loadConfig({ flags: options.flags, lenient: options.lenient });
  for (const problem of problems) process.stderr.write(`k3s-sandbox: ignoring a bad setting: ${problem}\n`);
  return { config, configSources: sources, paths: resolvePaths(config), status: createStatusReporter() };
}

export { text } from './command.js';

/** `--mode` on the command line, as config sees a flag. */
export function modeFlag(mode: string | boolean | undefined): FlagValues {
  return typeof mode === 'string' ? { mode: { value: mode, flag: '--mode' } } : {};
}
