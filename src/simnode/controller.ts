/**
 * The simulated node: a resident controller that stands in for a kubelet in control-plane mode, so pods schedule
 * and report Running, and `helm install --wait`, rollouts, Jobs and operators that wait on pods complete.
 *
 * It registers one Node (see node.ts), keeps it Ready with a Lease renewed every 10 s and a periodic status
 * heartbeat, and drives every pod bound to it (an informer on `spec.nodeName=<node>`) through the stages in
 * podStatus.ts: Running and Ready at once, Succeeded shortly after for Job and Helm hook pods, deleted (grace period
 * 0, preconditioned on the UID) once the API server has marked it for deletion. No container runs and no readiness
 * or liveness probe is run: a pod is Ready as soon as it is bound.
 *
 * Work is informer-driven: events put `namespace/name` keys on a coalescing queue (workQueue.ts) handled with
 * bounded concurrency over one keep-alive connection pool, and each handler reads the newest state from the
 * informer's cache. After a watch error the informer is restarted with backoff; after a restart of the whole process
 * the initial list catches up with every pod created meanwhile. SIGTERM or SIGINT stops it cleanly.
 */
import * as fs from 'node:fs';
import { Agent } from 'node:https';
import type { ConfigurationOptions, CoordinationV1Api, CoreV1Api, KubeConfig, ListWatch, V1Pod } from '@kubernetes/client-node';

type ClientNode = typeof import('@kubernetes/client-node');
import { IpPool } from './ipPool.js';
import {
  hostFacts,
  leaseManifest,
  LEASE_RENEW_INTERVAL_MS,
  microTime,
  nodeLabels,
  nodeManifest,
  nodeStatus,
  NODE_LEASE_NAMESPACE,
  SIMULATED_ANNOTATION,
  SIMULATED_NOTE,
  STATUS_HEARTBEAT_INTERVAL_MS,
  type NodeFacts,
} from './node.js';
import { COMPLETION_DELAY_MS, kubeTime, nextAction, runningStatus, succeededStatus, trimToView, type PodView } from './podStatus.js';
import { successBodyDiscarded } from './replies.js';
import { WorkQueue } from './workQueue.js';

export interface SimulatedNodeOptions {
  kubeconfig: string;
  nodeName: string;
  maxPods: number;
  /** Pod status writes and deletes in flight at once. */
  concurrency?: number;
  completionDelayMs?: number;
  log?: (line: string) => void;
  /** Resolves when the controller should stop (the CLI wires SIGTERM and SIGINT to it). */
  stopSignal: Promise<void>;
}

/**
 * Pod writes in flight at once: kwok's default (podPlayStageParallelism 4). Natively at 1000 pods with the server's
 * rate limits lifted, 4 used 4.2-5.2 CPU-s against 16's 4.9-6.2 and was no slower (BENCHMARKS.md): the API server
 * behind one SQLite writer (kine) does not take the writes faster in parallel, and fewer sockets cost less.
 */
const DEFAULT_CONCURRENCY = 4;
const MAX_BACKOFF_MS = 30_000;
const SHUTDOWN_GRACE_MS = 5_000;

const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

/** The HTTP status of a failed client-node call, if it got one. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown; statusCode?: unknown } | undefined)?.code ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's message in a failed call's body (a Status object, as text or parsed), if there is one. */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

function describe(error: unknown): string {
  const status = statusOf(error);
  if (status !== undefined) {
    const message = statusMessage((error as { body?: unknown }).body);
    return `HTTP ${status}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** client-node 1.4's Watch calls AbortSignal.any, which Node gained in 20.3; on older Nodes give it one. */
function ensureAbortSignalAny(): void {
  const signal = AbortSignal as unknown as { any?: (signals: AbortSignal[]) => AbortSignal };
  if (typeof signal.any === 'function') return;
  signal.any = (signals: AbortSignal[]) => {
    const combined = new AbortController();
    for (const each of signals) {
      if (each.aborted) {
        combined.abort(each.reason);
        break;
      }
      each.addEventListener('abort', () => combined.abort(each.reason), { once: true });
    }
    return combined.signal;
  };
}

function filesystemBytes(path: string): number | undefined {
  // statfsSync arrived in Node 18.15; without it the node reports no ephemeral-storage.
  const statfs = (fs as { statfsSync?: (path: string) => { bsize: number; blocks: number } }).statfsSync;
  if (!statfs) return undefined;
  try {
    const stats = statfs(path);
    return stats.bsize * stats.blocks;
  } catch {
    return undefined;
  }
}

type Written = 'running' | 'succeeded' | 'deleted';

export class SimulatedNode {
  private readonly log: (line: string) => void;
  private readonly pool = new IpPool();
  /** What this process last wrote for a pod UID, so a cache that lags behind our own write does not repeat it. */
  private readonly written = new Map<string, Written>();
  private readonly queue: WorkQueue;
  private readonly timers: NodeJS.Timeout[] = [];
  private client!: ClientNode;
  private informer?: ListWatch<V1Pod>;
  /** The informer's latest (re)start: its list may still be in flight when stop() is called. */
  private informerStarted: Promise<void> = Promise.resolve();
  private agent?: Agent;
  private core!: CoreV1Api;
  private coordination!: CoordinationV1Api;
  private facts!: NodeFacts;
  private nodeUid = '';
  private readySince = new Date();
  private stopped = false;
  private watchBackoffMs = 1000;
  private heartbeatFailing = false;

  constructor(private readonly options: SimulatedNodeOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${new Date().toISOString()} simulate-node: ${line}\n`));
    this.queue = new WorkQueue({
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      handle: (key) => this.handlePod(key),
      onError: (key, error, retryInMs) => this.log(`pod ${key}: ${describe(error)}; retrying in ${retryInMs} ms`),
    });
  }

  /** Runs until the stop signal resolves; resolves once shut down. */
  async run(): Promise<void> {
    ensureAbortSignalAny();
    const client = await import('@kubernetes/client-node');
    this.client = client;
    const kubeConfig = new client.KubeConfig();
    kubeConfig.loadFromFile(this.options.kubeconfig);
    await this.connect(kubeConfig, client);
    const stopping = this.options.stopSignal.then(() => {
      this.stopped = true;
    });
    const kubeletVersion = await this.waitForApi(client, kubeConfig, stopping);
    if (this.stopped) return this.shutdown();
    this.facts = hostFacts(this.options.nodeName, this.options.maxPods, kubeletVersion, filesystemBytes('/'));
    await this.retryUntilStopped('register the node', () => this.registerNode(), stopping);
    if (this.stopped) return this.shutdown();
    await this.retryUntilStopped('renew the node lease', () => this.renewLease(), stopping);
    if (this.stopped) return this.shutdown();
    this.timers.push(setInterval(() => void this.heartbeat('lease', () => this.renewLease()), LEASE_RENEW_INTERVAL_MS));
    this.timers.push(setInterval(() => void this.heartbeat('node status', () => this.reportStatus()), STATUS_HEARTBEAT_INTERVAL_MS));
    this.watchPods(kubeConfig, client);
    await stopping;
    await this.shutdown();
  }

  private async connect(kubeConfig: KubeConfig, client: ClientNode): Promise<void> {
    // client-node opens a new connection per call; status writes for many pods share a keep-alive pool instead.
    const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    const cluster = kubeConfig.getCurrentCluster();
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: (this.options.concurrency ?? DEFAULT_CONCURRENCY) + 2,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: cluster?.skipTLSVerify ? false : tls.rejectUnauthorized,
      servername: cluster?.tlsServerName,
    });
    this.core = kubeConfig.makeApiClient(client.CoreV1Api);
    this.coordination = kubeConfig.makeApiClient(client.CoordinationV1Api);
  }

  /**
   * Per-call options: the shared keep-alive agent and, for patches, the patch type. The object-style API hands these
   * to its Observable layer, so the middleware is client-node's own header middleware with the agent swap added.
   * `discardReply` for calls whose answer this controller never reads (replies.ts).
   */
  private callOptions(contentType = 'application/json', discardReply = false): ConfigurationOptions {
    const agent = this.agent;
    const header = this.client.setHeaderMiddleware(contentType === 'application/json' ? 'Accept' : 'Content-Type', contentType);
    const discard = discardReply ? successBodyDiscarded(this.client) : undefined;
    return {
      middleware: [
        {
          pre: (context) => {
            if (agent) context.setAgent(agent);
            return header.pre(context);
          },
          post: (response) => (discard ? discard(response) : header.post(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /** Waits for the API server to answer, and returns its version (reported as the kubelet's). */
  private async waitForApi(client: ClientNode, kubeConfig: KubeConfig, stopping: Promise<void>): Promise<string> {
    let version = 'v0.0.0';
    await this.retryUntilStopped(
      'reach the API server',
      async () => {
        const info = await kubeConfig.makeApiClient(client.VersionApi).getCode(this.callOptions());
        version = info.gitVersion;
      },
      stopping,
    );
    return version;
  }

  private async retryUntilStopped(what: string, attempt: () => Promise<void>, stopping: Promise<void>): Promise<void> {
    let delayMs = 250;
    let failures = 0;
    while (!this.stopped) {
      try {
        await attempt();
        if (failures > 0) this.log(`could ${what} after ${failures} failed attempts`);
        return;
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 20 === 0) this.log(`cannot ${what} yet: ${describe(error)}; retrying`);
        await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, delayMs))]);
        delayMs = Math.min(delayMs * 2, 5000);
      }
    }
  }

  private async registerNode(): Promise<void> {
    const name = this.facts.name;
    const now = new Date();
    let node;
    try {
      node = await this.core.readNode({ name }, this.callOptions());
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (node) {
      node = await this.core.patchNode(
        { name, body: { metadata: { labels: nodeLabels(this.facts), annotations: { [SIMULATED_ANNOTATION]: SIMULATED_NOTE } } } },
        this.callOptions(MERGE_PATCH),
      );
    } else {
      node = await this.core.createNode({ body: nodeManifest(this.facts, now) as never }, this.callOptions());
      this.log(`registered node ${name} (cpu ${this.facts.cpus}, memory ${Math.round(this.facts.memoryBytes / 2 ** 20)} MiB, pods ${this.facts.maxPods})`);
    }
    this.nodeUid = node.metadata?.uid ?? '';
    this.readySince = now;
    await this.reportStatus();
    this.log(`node ${name} is Ready (simulated)`);
  }

  private async reportStatus(): Promise<void> {
    try {
      await this.core.patchNodeStatus(
        // A JSON merge patch replaces the lists this node owns (conditions, addresses) instead of merging into them.
        { name: this.facts.name, body: { status: nodeStatus(this.facts, new Date(), this.readySince) } },
        this.callOptions(MERGE_PATCH),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      this.log(`node ${this.facts.name} was deleted; registering it again`);
      await this.registerNode();
    }
  }

  private async renewLease(): Promise<void> {
    const name = this.facts.name;
    try {
      await this.coordination.patchNamespacedLease(
        { name, namespace: NODE_LEASE_NAMESPACE, body: { spec: { holderIdentity: name, renewTime: microTime(new Date()) } } },
        this.callOptions(MERGE_PATCH),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.coordination.createNamespacedLease(
        { namespace: NODE_LEASE_NAMESPACE, body: leaseManifest(name, this.nodeUid, new Date()) as never },
        this.callOptions(),
      );
    }
  }

  private async heartbeat(what: string, beat: () => Promise<void>): Promise<void> {
    try {
      await beat();
      if (this.heartbeatFailing) this.log(`${what} heartbeat recovered`);
      this.heartbeatFailing = false;
    } catch (error) {
      if (!this.heartbeatFailing) this.log(`${what} heartbeat failed: ${describe(error)}`);
      this.heartbeatFailing = true;
    }
  }

  private watchPods(kubeConfig: KubeConfig, client: ClientNode): void {
    const fieldSelector = `spec.nodeName=${this.options.nodeName}`;
    const informer = new client.ListWatch<V1Pod>(
      '/api/v1/pods',
      new client.Watch(kubeConfig),
      () => this.core.listPodForAllNamespaces({ fieldSelector }, this.callOptions()),
      false,
      undefined,
      fieldSelector,
    );
    this.informer = informer;
    const enqueue = (pod: V1Pod) => {
      this.watchBackoffMs = 1000;
      // Only this process's decisions read the cache: keep what they read (podStatus.ts PodView), nothing more.
      trimToView(pod as unknown as Parameters<typeof trimToView>[0]);
      const uid = pod.metadata?.uid;
      if (uid && pod.status?.podIP && !pod.spec?.hostNetwork) this.pool.reserve(uid, pod.status.podIP);
      this.queue.add(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
    };
    informer.on('add', enqueue);
    informer.on('update', enqueue);
    informer.on('delete', (pod: V1Pod) => {
      const uid = pod.metadata?.uid;
      if (!uid) return;
      this.pool.release(uid);
      if (this.written.get(uid) === 'deleted') this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} deleted`);
      this.written.delete(uid);
    });
    informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      const delayMs = this.watchBackoffMs;
      this.watchBackoffMs = Math.min(delayMs * 2, MAX_BACKOFF_MS);
      this.log(`pod watch failed: ${describe(error)}; restarting in ${delayMs} ms`);
      const timer = setTimeout(() => {
        if (!this.stopped) this.startInformer(informer);
      }, delayMs);
      this.timers.push(timer);
    });
    this.startInformer(informer);
    this.log(`watching pods bound to ${this.options.nodeName}`);
  }

  private startInformer(informer: ListWatch<V1Pod>): void {
    this.informerStarted = informer.start().catch((error: unknown) => this.log(`pod watch failed to start: ${describe(error)}`));
  }

  private async handlePod(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const pod = this.informer?.get(name, namespace);
    const uid = pod?.metadata?.uid;
    if (!pod || !uid || pod.spec?.nodeName !== this.options.nodeName) return;
    const view = pod as PodView;
    const action = nextAction(view, this.options.completionDelayMs ?? COMPLETION_DELAY_MS);
    const written = this.written.get(uid);
    switch (action.kind) {
      case 'start': {
        if (written !== undefined) return;
        const hostNetwork = pod.spec?.hostNetwork === true;
        const podIP = hostNetwork ? this.facts.hostIP : this.pool.allocate(uid);
        const status = runningStatus(view, { now: kubeTime(new Date()), hostIP: this.facts.hostIP, podIP });
        if (!(await this.patchPodStatus(namespace, name, uid, status))) return;
        this.written.set(uid, 'running');
        this.log(`pod ${key} Running (${podIP})`);
        return;
      }
      case 'complete': {
        if (written === 'succeeded' || written === 'deleted') return;
        const waitMs = action.dueAt - Date.now();
        if (waitMs > 0) {
          this.queue.addAfter(key, waitMs);
          return;
        }
        if (!(await this.patchPodStatus(namespace, name, uid, succeededStatus(view, kubeTime(new Date()))))) return;
        this.written.set(uid, 'succeeded');
        this.log(`pod ${key} Succeeded`);
        return;
      }
      case 'delete': {
        if (written === 'deleted') return;
        try {
          await this.core.deleteNamespacedPod(
            { name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } },
            this.callOptions('application/json', true),
          );
        } catch (error) {
          // Gone already, or a new pod of the same name (the UID precondition failed): nothing of ours to delete.
          if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
        }
        this.written.set(uid, 'deleted');
        return;
      }
      case 'none':
        return;
    }
  }

  /** Patches pods/status; false when the pod is gone (or replaced by one of the same name). */
  private async patchPodStatus(namespace: string, name: string, uid: string, status: Record<string, unknown>): Promise<boolean> {
    try {
      // The UID in the patch makes the API server refuse it (409) if the pod was replaced by one of the same name.
      await this.core.patchNamespacedPodStatus({ name, namespace, body: { metadata: { uid }, status } }, this.callOptions(STRATEGIC_MERGE_PATCH, true));
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 409) throw error;
      this.pool.release(uid);
      return false;
    }
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    // ListWatch checks for stop() before it lists but not after: a start still listing would open its watch
    // afterwards, so stop again once it has.
    await this.informer?.stop();
    await this.informerStarted;
    await this.informer?.stop();
    await Promise.race([this.queue.drain(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    this.agent?.destroy();
    this.log('stopped');
  }
}
