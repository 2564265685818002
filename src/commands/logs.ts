/**
 * `logs [-f]`: prints (or follows) the k3s log. The log belongs to root (mode 640): a caller who may not read it is
 * told so, with the remedy, instead of "no log yet" or a silent follow.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { LogTail } from '../instance/logTail.js';
import { sleep } from '../instance/processes.js';

const FOLLOW_POLL_MS = 200;

/** Why `file` cannot be read by this caller, or undefined when it can (or does not exist yet). */
export function permissionProblem(file: string): string | undefined {
  try {
    closeSync(openSync(file, 'r'));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') return undefined;
  }
  let owner = '';
  try {
    const stats = statSync(file);
    owner = ` (owner uid ${stats.uid}, group gid ${stats.gid}, mode ${(stats.mode & 0o777).toString(8)})`;
  } catch {
    // the directory itself is closed to us: no details
  }
  return `permission denied reading ${file}${owner}: run \`sudo k3s-sandbox logs\`, or read it as a member of its group`;
}

export async function run(ctx: CommandContext, options: { follow: boolean }): Promise<number> {
  const denied = permissionProblem(ctx.paths.logFile);
  if (denied) {
    process.stderr.write(`k3s-sandbox: ${denied}\n`);
    return 1;
  }
  const tail = new LogTail(ctx.paths.logFile, 0);
  const first = tail.readAvailable();
  if (first === '' && !options.follow) {
    process.stderr.write(`k3s-sandbox: no log yet at ${ctx.paths.logFile}\n`);
    tail.close();
    return 1;
  }
  process.stdout.write(first);
  if (!options.follow) {
    tail.close();
    return 0;
  }
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.on('error', stop); // reader went away (e.g. `| head`)
  while (!stopped) {
    await sleep(FOLLOW_POLL_MS);
    const text = tail.readAvailable();
    if (text !== '') process.stdout.write(text);
  }
  tail.close();
  return 0;
}
