import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { replaceFile } from '../files.js';
import { CONFIG_KEYS, ConfigError, validateOption, type Config, type ConfigKey } from '../config.js';

/**
 * The devcontainer CLI hands each feature option to install.sh as an env var named after the option id, upper-cased
 * with every character outside [A-Za-z0-9_] turned into `_` (spec "Option Resolution"): waitTimeout → WAITTIMEOUT.
 */
export function optionEnvName(key: ConfigKey): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
}

/**
 * Validates every option present in `env` and returns the config file's contents. All bad options are reported
 * together, each named, so one run shows everything to fix.
 */
export function configFromOptionEnv(env: NodeJS.ProcessEnv): Partial<Config> {
  const config: Partial<Record<ConfigKey, unknown>> = {};
  const problems: string[] = [];
  for (const key of CONFIG_KEYS) {
    const name = optionEnvName(key);
    const raw = env[name];
    if (raw === undefined) continue;
    try {
      config[key] = validateOption(key, raw, `feature option ${key}, env ${name}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length) throw new ConfigError(problems.join('\n'));
  return config as Partial<Config>;
}

/** Writes the config file through a temp file and a rename, so readers see the old file or the whole new one. */
export async function writeConfigFile(file: string, config: Partial<Config>): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  replaceFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
}
