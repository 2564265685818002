/** `up`: config, then the pipeline (src/pipeline.ts); with --json every outcome the pipeline diagnoses is one JSON object. */
import { loadConfig, type FlagValues } from '../config.js';
import type { Shared, UpOptions } from '../context.js';
import { UpError } from '../diagnose/upError.js';
import { resolvePaths } from '../paths.js';
import { createStatusReporter } from '../ui/status.js';
import { modeFlag, text } from './context.js';
import type { OptionValues } from './command.js';

export async function runUp(values: OptionValues): Promise<number> {
  const status = createStatusReporter();
  const flags: FlagValues = modeFlag(values.mode);
  if (typeof values.timeout === 'string') flags.waitTimeout = { value: values.timeout, flag: '--timeout' };
  const { config } = await status.step('config', () => loadConfig({ flags }));
  const options: UpOptions = {
    wait: values['no-wait'] !== true,
    waitNode: values['wait-node'] === true,
    json: values.json === true,
    user: text(values.user),
  };
  const ctx: Shared = { config, paths: resolvePaths(config), status, options };
  try {
    await (await import('../pipeline.js')).up(ctx);
  } catch (error) {
    if (!options.json || !(error instanceof UpError)) throw error;
    process.stdout.write(JSON.stringify({ ok: false, error: error.message, details: error.details }) + '\n');
    return error.exitCode;
  }
  return 0;
}
