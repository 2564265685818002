/**
 * How a command declares itself (the npm CLI's model): its name, one line saying what it does, and each option with
 * its description and default. `src/cli.ts` builds the dispatch table, the argument parser and every usage text from
 * these declarations, so the usage cannot drift from what a command accepts. A declaration module stays small: the
 * work is imported lazily by `run`, so `--help` and light commands never load what `up` needs.
 */
import { parseArgs } from 'node:util';

export interface OptionDeclaration {
  /** The long flag without its dashes. */
  name: string;
  short?: string;
  /** The placeholder for a string option's value (`M` in `--mode M`); a boolean option has none. */
  value?: string;
  description: string;
  /** What applies when the option is not given, in words. */
  default?: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** A string option's value, or undefined. */
export function text(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface CommandDeclaration {
  name: string;
  description: string;
  options: readonly OptionDeclaration[];
  /** A synopsis of the options when listing them one by one would mislead (`--wait|--no-wait`). */
  synopsis?: string;
  /** Plumbing other parts of k3s-sandbox call (the CNI plugin, the child that writes as a user): no usage line. */
  hidden?: boolean;
  /**
   * Once `run` returns, nothing of the command is left to run or to write but what it printed: the process exits at
   * once, skipping Node's teardown at a natural exit (closing handles, freeing the heap), about 4 ms of `status` in
   * gVisor.
   */
  exitWhenDone?: boolean;
  /** Runs the command with its parsed options; `args` is the raw argument list, for commands that pass it on. */
  run(values: OptionValues, args: string[]): Promise<number>;
}

/** A bad command line: exit 2, with the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandDeclaration,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP: OptionDeclaration = { name: 'help', short: 'h', description: 'print this help and exit' };

function flagText(option: OptionDeclaration): string {
  return `--${option.name}${option.value ? ` ${option.value}` : ''}`;
}

/** `up [--wait|--no-wait] [--mode M] ...`: the command with its options in brackets. */
export function synopsis(command: CommandDeclaration): string {
  const options = command.synopsis ?? command.options.map((option) => `[${option.short ? `-${option.short}|` : ''}${flagText(option)}]`).join(' ');
  return options ? `${command.name} ${options}` : command.name;
}

/** Parses a command's arguments strictly (unknown flags, missing values and positionals are usage errors). */
export function parseOptions(command: CommandDeclaration, args: readonly string[]): OptionValues & { help?: boolean } {
  const options = Object.fromEntries(
    [...command.options, HELP].map((option) => [option.name, { type: option.value ? ('string' as const) : ('boolean' as const), ...(option.short ? { short: option.short } : {}) }]),
  );
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values as OptionValues & { help?: boolean };
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

const INDENT = '      ';

/** The whole usage: every visible command with its options and one line on what it does. */
export function usage(commands: readonly CommandDeclaration[]): string {
  const lines = [
    'usage: k3s-sandbox <command> [options]',
    '       k3s-sandbox <command> --help     the command\'s options',
    '       k3s-sandbox --version            this k3s-sandbox\'s version and the installed k3s\'s',
    '',
    'commands:',
  ];
  for (const command of commands) {
    if (command.hidden) continue;
    lines.push(`  ${synopsis(command)}`, `${INDENT}${command.description}`);
  }
  return lines.join('\n') + '\n';
}

/** One command's help: its synopsis, what it does, and each option with its default. */
export function commandHelp(command: CommandDeclaration): string {
  const lines = [`usage: k3s-sandbox ${synopsis(command)}`, '', command.description];
  const options = [...command.options, HELP];
  const width = Math.max(...options.map((option) => (option.short ? `-${option.short}, ` : '').length + flagText(option).length));
  lines.push('', 'options:');
  for (const option of options) {
    const flag = `${option.short ? `-${option.short}, ` : ''}${flagText(option)}`.padEnd(width);
    lines.push(`  ${flag}  ${option.description}${option.default ? ` (default: ${option.default})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
