/**
 * wait: k3s is ready when an authenticated GET /readyz answers 200 (admin client cert from the
 * kubeconfig k3s writes; anonymous gets 401) while the supervisor reports its k3s running; with
 * --wait-node in agent modes a node must also be Ready. It polls every 50 ms, so readiness is seen
 * within one poll of k3s logging `k3s is up and running`.
 *
 * Meanwhile it follows the log from the launch offset and matches each line against the known fatal
 * signatures (src/diagnose/signatures.ts); a write to the log also triggers the next poll at once:
 * - a mode that cannot work here (ContainerManager, flannel, overlayfs, host-local): with mode auto
 *   and a fallback in the plan, ModeFallback makes `up` re-plan the next mode; otherwise it fails with
 *   the diagnosis;
 * - a PostStartHook fatal: the supervisor restarts k3s and the wait goes on;
 * - address already in use: fails naming the port and its holder; the holder is never touched.
 * A crash loop reported by the supervisor fails with its last fatal line.
 */
import { existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ModeFallback, type Context } from '../context.js';
import { describePortHolders } from '../diagnose/portHolder.js';
import { matchFatalSignature, type FatalSignature } from '../diagnose/signatures.js';
import { describeSignature, UpError } from '../diagnose/upError.js';
import { fileSize, LogTail } from '../instance/logTail.js';
import { isAlive } from '../instance/processes.js';
import { isRoot } from '../instance/root.js';
import { instanceRecordFile, readSupervisorStatus, upResultFile, writeJsonAtomic, type InstanceRecord } from '../instance/state.js';
import { stopInstance } from '../instance/stop.js';
import type { Agent } from 'node:https';
import { missingPublishedKubeconfig, readinessSource } from '../kube/health.js';
import { agentFor, loadIdentity, readyNodeName, readyz, type ApiIdentity, type ReadinessSource } from '../kube/readiness.js';

const POLL_MS = 50;
const LAST_LINES_SHOWN = 5;
/** How often k3s may hit "address already in use" with no visible holder before wait gives up. */
const ADDRESS_IN_USE_RETRIES = 3;

export function isAgentMode(record: Pick<InstanceRecord, 'k3sArgs'>): boolean {
  return !record.k3sArgs.includes('--disable-agent');
}

function recordResult(ctx: Context, ok: boolean, summary: string, details: string[], exitCode: number): void {
  if (!isRoot() || !ctx.instanceLock) return;
  writeJsonAtomic(upResultFile(ctx.paths), { ok, finishedAt: Date.now(), summary, details, exitCode });
}

function finishWaiting(ctx: Context): void {
  ctx.instanceLock?.release();
  ctx.instanceLock = undefined;
}

/** Diagnosis for a signature, with the port holder named for address-in-use. */
function failureFor(signature: FatalSignature, mode: string): UpError {
  const details = describeSignature(signature);
  if (signature.id === 'address-in-use' && signature.port !== undefined) {
    const holders = describePortHolders(signature.port);
    details.splice(1, 0, holders.length > 0 ? `holder: ${holders.join(', ')}` : 'holder: not visible from here (another user or namespace)');
    const holderText = holders.length > 0 ? ` (held by ${holders.join(', ')})` : '';
    return new UpError(`port ${signature.port} is already in use${holderText}; k3s cannot listen on it and k3s-sandbox leaves that process alone`, { signature, details });
  }
  return new UpError(`k3s cannot run in mode ${mode} here: ${signature.what}`, { signature, details });
}

class Waiter {
  private identity: ApiIdentity | undefined;
  private agent: Agent | undefined;
  private kubeconfigStamp = '';
  private readonly tail: LogTail;
  private readonly recentLines: string[] = [];
  private restarts = 0;
  private unseenPortHolders = 0;
  private logWatcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly record: InstanceRecord,
    logOffset: number,
  ) {
    this.tail = new LogTail(ctx.paths.logFile, logOffset);
  }

  close(): void {
    this.agent?.destroy();
    this.tail.close();
    this.logWatcher?.close();
  }

  /**
   * Waits for the next poll: POLL_MS, or less when the log directory changes (k3s logs `k3s is up and
   * running` as it becomes ready, so a log write is the moment worth checking at once).
   */
  nextPoll(): Promise<void> {
    if (!this.logWatcher) {
      try {
        this.logWatcher = watch(this.ctx.paths.logDir, () => this.wake?.());
        this.logWatcher.on('error', () => undefined);
      } catch {
        this.logWatcher = undefined; // no inotify: plain polling
      }
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), POLL_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  /** Reacts to new log lines; throws ModeFallback or UpError on a fatal signature. */
  async scanLog(): Promise<void> {
    for (const line of this.tail.readLines()) {
      this.recentLines.push(line);
      if (this.recentLines.length > LAST_LINES_SHOWN) this.recentLines.shift();
      const signature = matchFatalSignature(line);
      if (signature) await this.react(signature);
    }
  }

  private async react(signature: FatalSignature): Promise<void> {
    const { ctx, record } = this;
    if (signature.id === 'address-in-use' && signature.port !== undefined && describePortHolders(signature.port).length === 0) {
      // Nobody visible holds the port any more: a momentary bind (another `up`'s probe checks the port by
      // binding it) or a holder we cannot see. The supervisor retries; a holder that stays makes it recur.
      this.unseenPortHolders += 1;
      if (this.unseenPortHolders < ADDRESS_IN_USE_RETRIES) {
        ctx.status.info(`k3s found port ${signature.port} in use, but nothing visible holds it now; the supervisor retries`);
        return;
      }
    }
    if (signature.action === 'restart') {
      this.restarts += 1;
      ctx.status.info(`k3s exited: ${signature.what}; the supervisor restarts it (restart ${this.restarts})`);
      return;
    }
    const fallback = ctx.plan?.fallback;
    if (signature.action === 'fallback' && fallback && ctx.config.mode === 'auto' && isRoot()) {
      for (const line of describeSignature(signature)) ctx.status.info(line);
      ctx.fallbacks = [...(ctx.fallbacks ?? []), { from: record.mode, reason: signature.what }];
      throw new ModeFallback(`mode ${record.mode} cannot run here: ${signature.what}`, fallback);
    }
    const failure = failureFor(signature, record.mode);
    if (isRoot() && this.ctx.launched) await stopInstance(ctx.paths, this.ctx.launched.supervisorPid);
    throw failure;
  }

  /** Fails when the supervisor gave up or is gone; returns whether its k3s currently runs. */
  checkSupervisor(): boolean {
    const { ctx } = this;
    const supervisorPid = ctx.launched!.supervisorPid;
    const status = readSupervisorStatus(ctx.paths);
    if (status?.state === 'crashloop') {
      const signature = status.lastFatal ? matchFatalSignature(status.lastFatal) : undefined;
      const details = signature ? describeSignature(signature) : [];
      throw new UpError(
        `k3s crashed ${status.crashes} times in a row and the supervisor gave up (crash loop); last fatal line: ${status.lastFatal ?? status.lastExit ?? 'none'}`,
        { details: [...details, `see \`k3s-sandbox logs\` (${ctx.paths.logFile})`] },
      );
    }
    if (!isAlive(supervisorPid)) {
      throw new UpError(`the supervisor (pid ${supervisorPid}) exited; last log lines:\n${this.recentLines.join('\n')}`);
    }
    return status?.state === 'running' && status.childPid !== null;
  }

  /** Where the credentials come from; a non-root caller with no readable kubeconfig cannot wait at all. */
  private source(): ReadinessSource {
    const source = readinessSource(this.record, this.ctx.paths);
    if (source) return source;
    const { username, homedir } = userInfo();
    throw missingPublishedKubeconfig(username, join(homedir, '.kube', 'config'));
  }

  /** Whether /readyz answers 200 with the client cert (reloading the kubeconfig when it is rewritten). */
  async readyzOk(): Promise<boolean> {
    const source = this.source();
    if (!existsSync(source.kubeconfig)) return false;
    const stat = statSync(source.kubeconfig);
    const stamp = `${source.kubeconfig}:${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    if (!this.identity || !this.agent || stamp !== this.kubeconfigStamp) {
      this.agent?.destroy();
      this.agent = undefined;
      try {
        this.identity = await loadIdentity(source);
        this.agent = agentFor(this.identity, true);
        this.kubeconfigStamp = stamp;
      } catch {
        return false; // k3s is still writing it
      }
    }
    const answer = await readyz(this.identity, this.agent);
    if (answer.status === 401) this.kubeconfigStamp = ''; // a stale cert: reload next time
    return answer.status === 200;
  }

  async readyNode(): Promise<string | undefined> {
    try {
      return await readyNodeName(this.source());
    } catch {
      return undefined;
    }
  }

  lastLines(): string[] {
    return [...this.recentLines];
  }
}

export async function run(ctx: Context): Promise<void> {
  const { config, status, options } = ctx;
  const record = ctx.instance;
  if (!record || !ctx.launched) throw new Error('wait needs launch to have run');
  const agent = isAgentMode(record);
  if (options.waitNode && !agent) status.info(`--wait-node: mode ${record.mode} runs no agent, so there is no node to wait for`);
  const waitNode = options.waitNode && agent;
  if (ctx.launched.alreadyRunning && !waitNode) {
    // launch has just seen it healthy (supervisor running, /readyz 200).
    ctx.ready = { seconds: process.uptime() };
    finishWaiting(ctx);
    return;
  }
  const waiter = new Waiter(ctx, record, ctx.launched.alreadyRunning ? fileSize(ctx.paths.logFile) : record.logOffset);
  let fellBack = false;
  const deadline = Date.now() + config.waitTimeout * 1000;
  try {
    for (;;) {
      await waiter.scanLog();
      if (waiter.checkSupervisor() && (await waiter.readyzOk())) {
        const node = waitNode ? await waiter.readyNode() : undefined;
        if (!waitNode || node) {
          await waiter.scanLog();
          ctx.ready = { seconds: process.uptime(), node };
          if (isRoot() && !ctx.launched.alreadyRunning) writeJsonAtomic(instanceRecordFile(ctx.paths), { ...record, readyAt: Date.now() });
          recordResult(ctx, true, `ready, mode ${record.mode}`, [], 0);
          return;
        }
      }
      if (Date.now() >= deadline) {
        const what = waitNode ? 'a Ready node' : 'k3s to answer /readyz with 200';
        throw new UpError(`waited ${config.waitTimeout} s for ${what}; k3s is left running (see \`k3s-sandbox status\` and \`k3s-sandbox logs\`)`, {
          details: waiter.lastLines().map((line) => `log: ${line}`),
        });
      }
      await waiter.nextPoll();
    }
  } catch (error) {
    if (error instanceof ModeFallback) {
      fellBack = true;
      throw error;
    }
    const failure = error instanceof UpError ? error : new UpError((error as Error).message);
    for (const line of failure.details) status.info(line);
    recordResult(ctx, false, failure.message, failure.details, failure.exitCode);
    throw failure;
  } finally {
    waiter.close();
    if (!fellBack) finishWaiting(ctx);
  }
}
