/**
 * `up`: config, the sudo decision (src/instance/root.ts), then the pipeline (src/pipeline.ts). With --json every
 * outcome is one JSON object on stdout: success (the report), a diagnosed failure, a bad setting, anything else.
 */
import { ConfigError, loadConfig, type FlagValues } from '../config.js';
import type { Shared, UpOptions } from '../context.js';
import { UpError } from '../diagnose/upError.js';
import { resolvePaths } from '../paths.js';
import { upAsRoot } from '../instance/root.js';
import { up } from '../pipeline.js';
import { createStatusReporter } from '../ui/status.js';
import { modeFlag, text } from './context.js';
import type { OptionValues } from './command.js';

const EXIT_BAD_INPUT = 2;

export async function runUp(values: OptionValues, args: readonly string[]): Promise<number> {
  const options: UpOptions = {
    wait: values['no-wait'] !== true,
    waitNode: values['wait-node'] === true,
    json: values.json === true,
    user: text(values.user),
  };
  try {
    const status = createStatusReporter();
    const flags: FlagValues = modeFlag(values.mode);
    if (typeof values.timeout === 'string') flags.waitTimeout = { value: values.timeout, flag: '--timeout' };
    if (values['simulate-node'] === true) flags.simulateNode = { value: true, flag: '--simulate-node' };
    if (typeof values['simulate-node-max-pods'] === 'string') flags.simulateNodeMaxPods = { value: values['simulate-node-max-pods'], flag: '--simulate-node-max-pods' };
    const { config } = await status.step('config', () => loadConfig({ flags }));
    const shared: Shared = { config, paths: resolvePaths(config), status, options };
    const sudoExit = await upAsRoot(shared.paths, args, options.user);
    if (sudoExit !== undefined) return sudoExit;
    await up(shared);
  } catch (error) {
    if (!options.json) throw error;
    const details = error instanceof UpError ? error.details : [];
    process.stdout.write(JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error), details }) + '\n');
    if (error instanceof UpError) return error.exitCode;
    return error instanceof ConfigError ? EXIT_BAD_INPUT : 1;
  }
  return 0;
}
