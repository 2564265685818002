/** `logs [-f]`: print the k3s log (k3s and supervisor lines); -f keeps following across rotations. */
import type { CommandContext } from '../context.js';
import { LogTail } from '../instance/logTail.js';
import { sleep } from '../instance/processes.js';

const FOLLOW_POLL_MS = 200;

export async function run(ctx: CommandContext, options: { follow: boolean }): Promise<number> {
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
