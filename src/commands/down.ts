/**
 * `down`: stop the k3s this tool started, and nothing else. SIGTERM goes to the supervisor status.json records,
 * once its pid, start time, boot and executable are checked to still be ours, and it stops k3s; what is left of
 * its session after the grace period gets SIGKILL. In agent modes the leftovers k3s does not clean up itself are
 * removed as k3s-killall.sh does. status.json goes too: a stale one must not name a pid for the next `down`. The
 * sandbox-wide mounts the fakes step made (its journal names exactly those) come off, running or not.
 * Idempotent: nothing running is success.
 */
import { rmSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { undoMounts, mountJournalFile } from '../fakes/mounts.js';
import { cleanUpAgentLeftovers, shimProcessTree } from '../instance/agentCleanup.js';
import { isRoot } from '../instance/root.js';
import { findOurSimnode, stopSimnode } from '../instance/simnode.js';
import { clearInstanceFiles, findOurInstance, readInstanceRecord } from '../instance/state.js';
import { stopInstance } from '../instance/stop.js';

/** Takes off what the fakes step mounted (the cgroup v1 tree, the /dev/kmsg bind, the /proc/sys overlays). */
async function unmountFakes(ctx: CommandContext): Promise<void> {
  for (const line of await undoMounts(mountJournalFile(ctx.paths))) ctx.status.info(line);
}

/** The simulated node goes first, so that it does not log a vanished API server while k3s stops. */
async function stopSimulatedNode(ctx: CommandContext): Promise<void> {
  const ours = findOurSimnode(ctx.paths);
  if (!ours) {
    if (isRoot()) await stopSimnode(ctx.paths); // clears the files a dead one left
    return;
  }
  if (!isRoot()) return;
  await ctx.status.step('stop the simulated node', async (handle) => {
    await stopSimnode(ctx.paths);
    handle.detail(`${ours.record.nodeName} (supervisor ${ours.sessionId})`);
  });
}

export async function run(ctx: CommandContext): Promise<number> {
  const { paths } = ctx;
  await stopSimulatedNode(ctx);
  const instance = findOurInstance(paths);
  if (instance === undefined) {
    if (isRoot()) {
      // A crash loop's (or a previous boot's) status file would keep `status` reporting it after an explicit down.
      clearInstanceFiles(paths);
      rmSync(paths.statusFile, { force: true });
      await unmountFakes(ctx);
    }
    process.stdout.write('k3s-sandbox: not running\n');
    return 0;
  }
  const sessionId = instance.sessionId;
  if (!isRoot()) {
    process.stderr.write(`k3s-sandbox: k3s runs as root (supervisor ${sessionId}); run \`sudo k3s-sandbox down\`\n`);
    return 1;
  }
  const record = readInstanceRecord(paths);
  // Taken first: the stop ends the shims, and their containers then no longer descend from anything of ours.
  const shimsBeforeStop = record?.agent ? shimProcessTree(record.dataDir) : [];
  const outcome = await ctx.status.step('stop', async (handle) => {
    const result = await stopInstance(paths, sessionId);
    handle.detail(result.killed ? `SIGKILL to ${result.killedPids.join(', ')}` : 'stopped cleanly');
    return result;
  });
  if (record?.agent) {
    await ctx.status.step('clean up agent leftovers', () => cleanUpAgentLeftovers(record.dataDir, (line) => ctx.status.info(line), shimsBeforeStop));
  }
  await unmountFakes(ctx);
  rmSync(paths.statusFile, { force: true });
  process.stdout.write(`k3s-sandbox: stopped (supervisor ${sessionId}${outcome.killed ? ', forced with SIGKILL' : ''})\n`);
  return 0;
}
