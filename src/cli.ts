/**
 * The entry point. Each command declares its name, description and options in src/cli/<command>.ts; this file builds
 * the dispatch table, the argument parsing and every usage text from those declarations. Only the declarations load
 * at start-up: a command's work is imported when it runs (the bundle is code-split, so `--help`, `status` and `env`
 * never parse the Kubernetes client).
 */
import { commandHelp, parseOptions, usage, UsageError } from './cli/command.js';
import { COMMANDS } from './cli/commands.js';
import { ConfigError } from './config.js';
import { UpError } from './diagnose/upError.js';
import { wasReported } from './ui/status.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

const USAGE = usage(COMMANDS);

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (name === '--version') return (await import('./lazy.js')).printVersion();
  if (name === undefined) throw new UsageError('no command given');
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const values = parseOptions(command, args);
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  const code = await command.run(values, args);
  if (command.exitWhenDone) await exitOnceWritten(code);
  return code;
}

/** Exits with `code` once stdout has taken all the command wrote (on Linux a write to a file, pipe or terminal already has). */
async function exitOnceWritten(code: number): Promise<never> {
  if (process.stdout.writableLength > 0) await new Promise((resolve) => process.stdout.once('drain', resolve));
  process.exit(code);
}

/** Every line of a message carries the prefix, so a multi-line error (all bad options at once) reads as ours. */
function prefixed(message: string): string {
  return message.split('\n').map((line) => `k3s-sandbox: ${line}\n`).join('');
}

async function main(): Promise<void> {
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      // With --json on the command line, stdout carries one JSON object whatever happens (issue 12, defect 6).
      if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ ok: false, error: error.message, details: [] }) + '\n');
      process.stderr.write(prefixed(error.message) + (error.command ? commandHelp(error.command) : USAGE));
      code = EXIT_BAD_INPUT;
    } else {
      if (error instanceof UpError) {
        // The hook context reads stdout: the failure gets its one line there, like the success report.
        process.stdout.write(`k3s-sandbox: failed: ${error.message}\n`);
        code = error.exitCode;
      } else {
        // A step's ✗ line has already shown the message on stderr.
        if (!wasReported(error)) process.stderr.write(prefixed(error instanceof Error ? error.message : String(error)));
        code = error instanceof ConfigError ? EXIT_BAD_INPUT : EXIT_FAILURE;
      }
    }
  }
  process.exitCode = code;
}

void main();
