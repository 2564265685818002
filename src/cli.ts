import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, DEFAULT_CONFIG, loadConfig, type FlagValues } from './config.js';
import type { CommandContext, Context, UpOptions } from './context.js';
import { resolvePaths } from './paths.js';
import { createStatusReporter, wasReported } from './ui/status.js';
import { UpError } from './diagnose/upError.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

const USAGE = `usage: k3s-sandbox <command> [options]

commands:
  up [--wait|--no-wait] [--mode M] [--timeout S] [--wait-node] [--json] [--user U]
                      bring k3s up (idempotent) and publish KUBECONFIG
  down                stop the k3s this tool started
  status [--json]     show whether k3s is up, its mode and pid
  logs [-f]           print (or follow) the k3s log
  doctor [--mode M]   report what this sandbox allows, with a remedy for each blocker
  env                 print the export lines for KUBECONFIG
  uninstall-profile [--user U]
                      remove every shell-profile block k3s-sandbox wrote
  install-k3s, write-config
                      used by install.sh
  session-context [--format text|claude] [--up-result F] [--up-errors F]
                      what hooks/session-start.sh prints for the agent
`;

/** A bad command line: exit 2 with the usage text. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(args: string[], options: Options): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function commandContext(flags: FlagValues = {}): CommandContext {
  const { config, sources } = loadConfig({ flags });
  return { config, configSources: sources, paths: resolvePaths(config), status: createStatusReporter() };
}

async function up(args: string[]): Promise<number> {
  const { values } = parse(args, {
    wait: { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    mode: { type: 'string' },
    timeout: { type: 'string' },
    'wait-node': { type: 'boolean' },
    json: { type: 'boolean' },
    user: { type: 'string' },
  });
  if (values.wait && values['no-wait']) throw new UsageError('--wait and --no-wait exclude each other');
  const status = createStatusReporter();
  const flags: FlagValues = {};
  if (values.mode !== undefined) flags.mode = { value: values.mode, flag: '--mode' };
  if (values.timeout !== undefined) flags.waitTimeout = { value: values.timeout, flag: '--timeout' };
  const { config } = await status.step('config', () => loadConfig({ flags }));
  const options: UpOptions = {
    wait: values['no-wait'] !== true,
    waitNode: values['wait-node'] === true,
    json: values.json === true,
    user: text(values.user),
  };
  const ctx: Context = { config, paths: resolvePaths(config), status, options };
  try {
    await (await import('./pipeline.js')).up(ctx);
  } catch (error) {
    if (!options.json || !(error instanceof UpError)) throw error;
    process.stdout.write(JSON.stringify({ ok: false, error: error.message, details: error.details }) + '\n');
    return error.exitCode;
  }
  return EXIT_OK;
}

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'up':
      return up(args);
    case 'down':
      parse(args, {});
      return (await import('./commands/down.js')).run(commandContext());
    case 'status': {
      const { values } = parse(args, { json: { type: 'boolean' } });
      return (await import('./commands/status.js')).run(commandContext(), { json: values.json === true });
    }
    case 'logs': {
      const { values } = parse(args, { follow: { type: 'boolean', short: 'f' } });
      return (await import('./commands/logs.js')).run(commandContext(), { follow: values.follow === true });
    }
    case 'doctor': {
      const { values } = parse(args, { mode: { type: 'string' } });
      const flags = values.mode === undefined ? {} : { mode: { value: values.mode, flag: '--mode' } };
      return (await import('./commands/doctor.js')).run(commandContext(flags));
    }
    case 'env':
      parse(args, {});
      return (await import('./commands/env.js')).run(commandContext());
    case 'session-context':
      return (await import('./commands/sessionContext.js')).main(args);
    case 'uninstall-profile': {
      const { values } = parse(args, { user: { type: 'string' } });
      return (await import('./commands/uninstallProfile.js')).run(commandContext(), { user: text(values.user) });
    }
    case 'cni':
      parse(args, {});
      return (await import('./cni/hostLocal.js')).runCniPlugin({
        env: process.env,
        stdin: process.stdin,
        stdout: process.stdout,
        stateDir: process.env.K3S_SANDBOX_CNI_STATE_DIR || resolvePaths(DEFAULT_CONFIG).cniStateDir,
      });
    case 'simulate-node': {
      const { values } = parse(args, { kubeconfig: { type: 'string' }, 'node-name': { type: 'string' }, 'max-pods': { type: 'string' } });
      return (await import('./simnode/index.js')).runSimulateNode({
        kubeconfig: text(values.kubeconfig),
        nodeName: text(values['node-name']),
        maxPods: text(values['max-pods']),
      });
    }
    case '__home-task':
      // Internal: root runs this as a child with a user's uid and gid to write into that user's home.
      return (await import('./profile/asUser.js')).runHomeTaskChild(process.stdin);
    case 'install-k3s':
    case 'write-config':
      return (await import('./install/index.js')).main(argv);
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return EXIT_OK;
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`k3s-sandbox: ${error.message}\n${USAGE}`);
      code = EXIT_BAD_INPUT;
    } else if (error instanceof UpError) {
      // The hook context reads stdout: the failure gets its one line there, like the success report.
      process.stdout.write(`k3s-sandbox: failed: ${error.message}\n`);
      code = error.exitCode;
    } else {
      // A step's ✗ line has already shown the message on stderr.
      if (!wasReported(error)) process.stderr.write(`k3s-sandbox: ${describe(error)}\n`);
      code = error instanceof ConfigError ? EXIT_BAD_INPUT : EXIT_FAILURE;
    }
  }
  process.exitCode = code;
}

await main();
