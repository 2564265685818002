import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../config.js';
import { constants } from 'node:os';
import { AllSourcesFailedError, InstallAbortedError, archOf, installK3s } from './install-k3s.js';
import { configFromOptionEnv, writeConfigFile } from './write-config.js';
import { writeLifecycleEnv } from './lifecycle-env.js';

/**
 * The two commands install.sh runs, in this order:
 *   write-config [--output FILE] [--lifecycle-env FILE]   feature options (env VERSION, MODE, ...) → validated config.json,
 *                                  and what the lifecycle scripts source (lifecycle-env.ts)
 *   install-k3s [--config FILE] [--arch amd64|arm64] [--bin-dir DIR] [--record FILE] [--timeout SECONDS]
 * Exit codes: 0 done, 1 install failed (or --timeout passed), 2 bad input, 128+n interrupted by signal n.
 */

const DEFAULT_BIN_DIR = '/usr/local/bin';
const DEFAULT_RECORD = '/usr/local/etc/k3s-sandbox/installed-k3s.json';
const DEFAULT_TIMEOUT_SECONDS = 900;

/** `--name value` flags, all strings; parseArgs errors (unknown flag, missing value) become bad-input errors. */
function parseFlags(command: string, args: string[], names: string[]): Record<string, string | undefined> {
  const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError(`${command}: ${(error as Error).message}`);
  }
}

function log(command: string): (line: string) => void {
  return (line) => process.stderr.write(`${command}: ${line}\n`);
}

async function writeConfigCommand(args: string[]): Promise<number> {
  const values = parseFlags('write-config', args, ['output', 'lifecycle-env']);
  const file = values.output ?? DEFAULT_CONFIG_FILE;
  const config = configFromOptionEnv(process.env);
  await writeConfigFile(file, config);
  log('write-config')(`wrote ${file}`);
  const lifecycleFile = values['lifecycle-env'];
  if (lifecycleFile !== undefined) {
    writeLifecycleEnv(lifecycleFile, config, process.env);
    log('write-config')(`wrote ${lifecycleFile}`);
  }
  return 0;
}

function timeoutFrom(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1) {
    throw new ConfigError(`invalid value for --timeout: ${JSON.stringify(raw)}; allowed: a whole number of seconds from 1 to 99999`);
  }
  return Number(raw);
}

async function installK3sCommand(args: string[]): Promise<number> {
  const values = parseFlags('install-k3s', args, ['config', 'arch', 'bin-dir', 'record', 'timeout']);
  let arch: 'amd64' | 'arm64';
  try {
    arch = archOf(values.arch ?? process.arch);
  } catch (error) {
    throw new ConfigError(`invalid value for --arch: ${(error as Error).message}`);
  }
  const { config } = loadConfig({ configFile: values.config });
  const timeoutSeconds = timeoutFrom(values.timeout);
  const say = log('install-k3s');
  // A first SIGTERM or SIGINT stops the install and lets it remove its work dir; a second one kills at once.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the install and removing its partial download`);
    interrupt.abort(new InstallAbortedError(`interrupted by ${signal}; nothing was installed`, signal));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await installK3s(config, {
      arch,
      binDir: values['bin-dir'] ?? DEFAULT_BIN_DIR,
      recordFile: values.record ?? DEFAULT_RECORD,
      timeoutSeconds,
      interrupt: interrupt.signal,
    }, say);
  } catch (error) {
    if (error instanceof AllSourcesFailedError) {
      say(error.message);
      return 1;
    }
    if (error instanceof InstallAbortedError) {
      say(error.message);
      return error.signal ? 128 + constants.signals[error.signal] : 1;
    }
    throw error;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return 0;
}

/** Entry point from cli.ts: argv starts with the command name. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'write-config') return writeConfigCommand(args);
  if (command === 'install-k3s') return installK3sCommand(args);
  throw new ConfigError(`unknown install command ${JSON.stringify(command)}; allowed: install-k3s, write-config`);
}
