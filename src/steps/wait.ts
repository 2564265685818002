/**
 * wait: k3s is ready when an authenticated GET /readyz answers 200 (admin client cert from the
 * kubeconfig k3s writes; anonymous gets 401) while the supervisor reports its k3s running; with
 * --wait-node in agent modes a node must also be Ready. It polls every 50 ms, so readiness is seen
 * within one poll of k3s logging `k3s is up and running`.
 *
 * Only our k3s counts: the server's certificate must chain to the CA k3s wrote into its kubeconfig; a server that
 * keeps answering with another certificate (another process on the port) fails the wait, naming it.
 *
 * Meanwhile it follows the log from the launch offset and matches each line against the known fatal
 * signatures (src/k3s/signatures.ts); a write to the log also triggers the next poll at once:
 * - a mode that cannot work here (ContainerManager, flannel, overlayfs, host-local): with mode auto
 *   and a fallback in the plan, it returns a Fallback and the pipeline re-plans for the next mode;
 *   otherwise it fails with the diagnosis;
 * - a PostStartHook fatal: the supervisor restarts k3s and the wait goes on;
 * - address already in use: fails naming the port and its holder; the holder is never touched.
 * A crash loop reported by the supervisor fails with its last fatal line.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import type { Agent } from 'node:https';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Mode, Plan, Shared } from '../context.js';
import { describePortHolders } from '../diagnose/portHolder.js';
import { describeSignature, UpError } from '../diagnose/upError.js';
import { fileStamp } from '../files.js';
import { missingPublishedKubeconfig, readinessSource, reportsRunning } from '../instance/health.js';
import { fileSize, LogTail } from '../instance/logTail.js';
import { isAlive } from '../instance/processes.js';
import { isRoot } from '../instance/root.js';
import { instanceRecordFile, readSupervisorStatus, writeStateJson, type InstanceRecord } from '../instance/state.js';
import { stopInstance } from '../instance/stop.js';
import { runsAgent } from '../k3s/flags.js';
import { matchFatalSignature, type FatalSignature } from '../k3s/signatures.js';
import { agentFor, loadIdentity, readyNodeName, readyz, type ApiIdentity, type ReadinessSource } from '../kube/readiness.js';
import type { Instance } from './launch.js';

const POLL_MS = 50;
const LAST_LINES_SHOWN = 5;
/** How often k3s may hit "address already in use" with no visible holder before wait gives up. */
const ADDRESS_IN_USE_RETRIES = 3;

/** How long another server may keep answering on our port before the wait gives up on it. */
const FOREIGN_ANSWERS_MS = 3000;

/** k3s answered /readyz with 200 (and, with --wait-node, a node is Ready). */
export interface Ready {
  kind: 'ready';
  /** Seconds from this process's start (Node's own start-up included) until it saw k3s ready. */
  secondsUntilReady: number;
  node?: string;
}

/** The mode cannot run here (a diagnosed fatal start under mode auto): the pipeline re-plans for `to`. */
export interface Fallback {
  kind: 'fallback';
  from: Mode;
  to: Mode;
  /** What killed k3s, in plain words. */
  reason: string;
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
  private foreignSince: number | undefined;
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
    private readonly shared: Shared,
    private readonly instance: Instance,
    private readonly plan: Plan,
    logOffset: number,
  ) {
    this.tail = new LogTail(shared.paths.logFile, logOffset);
  }

  private get record(): InstanceRecord {
    return this.instance.record;
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
        this.logWatcher = watch(this.shared.paths.logDir, () => this.wake?.());
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

  /** Reacts to new log lines: a Fallback for a mode-fatal signature under auto; throws UpError on a fatal one. */
  async scanLog(): Promise<Fallback | undefined> {
    for (const line of this.tail.readLines()) {
      this.recentLines.push(line);
      if (this.recentLines.length > LAST_LINES_SHOWN) this.recentLines.shift();
      const signature = matchFatalSignature(line);
      const fallback = signature ? await this.react(signature) : undefined;
      if (fallback) return fallback;
    }
    return undefined;
  }

  private async react(signature: FatalSignature): Promise<Fallback | undefined> {
    const { shared, record, plan } = this;
    if (signature.id === 'address-in-use' && signature.port !== undefined && describePortHolders(signature.port).length === 0) {
      // Nobody visible holds the port any more: a momentary bind (another `up`'s probe checks the port by
      // binding it) or a holder we cannot see. The supervisor retries; a holder that stays makes it recur.
      this.unseenPortHolders += 1;
      if (this.unseenPortHolders < ADDRESS_IN_USE_RETRIES) {
        shared.status.info(`k3s found port ${signature.port} in use, but nothing visible holds it now; the supervisor retries`);
        return undefined;
      }
    }
    if (signature.action === 'restart') {
      this.restarts += 1;
      shared.status.info(`k3s exited: ${signature.what}; the supervisor restarts it (restart ${this.restarts})`);
      return undefined;
    }
    if (signature.action === 'fallback' && plan.fallback && shared.config.mode === 'auto' && isRoot()) {
      for (const line of describeSignature(signature)) shared.status.info(line);
      return { kind: 'fallback', from: record.mode, to: plan.fallback, reason: signature.what };
    }
    const failure = failureFor(signature, record.mode);
    if (isRoot()) await stopInstance(shared.paths, this.instance.supervisorPid);
    throw failure;
  }

  /** Fails when the supervisor gave up or is gone; returns whether its k3s currently runs. */
  checkSupervisor(): boolean {
    const { shared } = this;
    const supervisorPid = this.instance.supervisorPid;
    const status = readSupervisorStatus(shared.paths);
    if (status?.state === 'crashloop') {
      const signature = status.lastFatal ? matchFatalSignature(status.lastFatal) : undefined;
      const details = signature ? describeSignature(signature) : [];
      throw new UpError(
        `k3s crashed ${status.crashes} times in a row and the supervisor gave up (crash loop); last fatal line: ${status.lastFatal ?? status.lastExit ?? 'none'}`,
        { details: [...details, `see \`k3s-sandbox logs\` (${shared.paths.logFile})`] },
      );
    }
    if (!isAlive(supervisorPid)) {
      throw new UpError(`the supervisor (pid ${supervisorPid}) exited; last log lines:\n${this.recentLines.join('\n')}`);
    }
    return reportsRunning(status);
  }

  /** Where the credentials come from; a non-root caller with no readable kubeconfig cannot wait at all. */
  private source(): ReadinessSource {
    const source = readinessSource(this.record, this.shared.paths);
    if (source) return source;
    const { username, homedir } = userInfo();
    throw missingPublishedKubeconfig(username, join(homedir, '.kube', 'config'));
  }

  /** Whether /readyz answers 200 with the client cert (reloading the kubeconfig when it is rewritten). */
  async readyzOk(): Promise<boolean> {
    const source = this.source();
    if (!existsSync(source.kubeconfig)) return false;
    const stamp = `${source.kubeconfig}:${fileStamp(source.kubeconfig)}`;
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
    this.checkOurServer(answer.notOurServer === true);
    return answer.status === 200;
  }

  /** Fails once another server has kept answering on our address (its certificate is not from our CA). */
  private checkOurServer(foreign: boolean): void {
    if (!foreign) {
      this.foreignSince = undefined;
      return;
    }
    this.foreignSince ??= Date.now();
    if (Date.now() - this.foreignSince < FOREIGN_ANSWERS_MS) return;
    this.kubeconfigStamp = '';
    const server = this.identity?.server ?? 'the API address';
    const port = Number(new URL(server).port || 443);
    const holders = describePortHolders(port).join(', ');
    throw new UpError(
      `${server} is answered by a server that is not our k3s (its certificate is not signed by the CA k3s wrote)${holders ? `: held by ${holders}` : ''}; k3s-sandbox leaves that process alone`,
      { details: ['remedy: stop that process, or set another https port (httpsPort, K3S_SANDBOX_HTTPS_PORT)'] },
    );
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

/**
 * The wait step: `wait(instance, plan) → Ready | Fallback`. Fails with an UpError (and stops what it cannot save, as
 * root) on a fatal start, a crash loop, or the timeout, which leaves k3s running.
 */
export async function wait(instance: Instance, plan: Plan, shared: Shared): Promise<Ready | Fallback> {
  const { config, status, options, paths } = shared;
  const { record } = instance;
  const agent = record.agent ?? runsAgent(record.mode);
  if (options.waitNode && !agent) status.info(`--wait-node: mode ${record.mode} runs no agent, so there is no node to wait for`);
  const waitNode = options.waitNode && agent;
  if (instance.foundReady && !waitNode) {
    // launch has just seen it healthy (supervisor running, /readyz 200).
    return { kind: 'ready', secondsUntilReady: process.uptime() };
  }
  const waiter = new Waiter(shared, instance, plan, instance.foundReady ? fileSize(paths.logFile) : record.logOffset);
  const deadline = Date.now() + config.waitTimeout * 1000;
  try {
    for (;;) {
      const fallback = await waiter.scanLog();
      if (fallback) return fallback;
      if (waiter.checkSupervisor() && (await waiter.readyzOk())) {
        const node = waitNode ? await waiter.readyNode() : undefined;
        if (!waitNode || node) {
          const late = await waiter.scanLog();
          if (late) return late;
          if (isRoot() && !instance.foundReady) writeStateJson(instanceRecordFile(paths), { ...record, readyAt: Date.now() });
          return { kind: 'ready', secondsUntilReady: process.uptime(), node };
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
    const failure = error instanceof UpError ? error : new UpError((error as Error).message);
    for (const line of failure.details) status.info(line);
    throw failure;
  } finally {
    waiter.close();
  }
}
