/**
 * What a kubelet would report for a pod bound to the simulated node: pure decisions and status bodies.
 *
 * The stages follow kwok's default "fast" pod stages (kubernetes-sigs/kwok, kustomize/stage/pod/fast/):
 * - pod-ready.yaml: a pod without a podIP and without a deletionTimestamp becomes Running at once, with the
 *   Initialized/Ready/ContainersReady conditions (and every readiness gate) True, each container `running`,
 *   init containers `terminated` with exit 0 (sidecars, restartPolicy Always, `running`), hostIP, podIP, startTime;
 * - pod-complete.yaml: a Running pod owned by a Job goes to Succeeded, containers `terminated` exit 0 reason
 *   Completed, Ready/ContainersReady False with reason PodCompleted;
 * - pod-delete.yaml: a pod with a deletionTimestamp is deleted.
 * Where we differ from kwok: PodScheduled and PodReadyToStartContainers are reported too, as a kubelet does; the
 * delete is the kubelet's (grace period 0, preconditioned on the UID) and leaves finalizers to their owners instead of
 * emptying them; container and image IDs name simulation; Helm hook pods (`helm.sh/hook`, restartPolicy not Always)
 * complete like Job pods, because Helm waits for a hook Pod to reach Succeeded.
 *
 * No container runs and no probe is run: a pod is Ready as soon as it is bound.
 */
import { createHash } from 'node:crypto';

interface ContainerStateView {
  running?: { startedAt?: string | Date };
  terminated?: { startedAt?: string | Date };
}

/** The parts of a Pod these decisions read (the watch gives JSON strings, a typed list gives Dates). */
export interface PodView {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    /** Not read here: the informer compares it and resumes its watch from it. */
    resourceVersion?: string;
    deletionTimestamp?: string | Date;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind?: string; apiVersion?: string }>;
  };
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    restartPolicy?: string;
    containers?: Array<{ name: string; image?: string }>;
    initContainers?: Array<{ name: string; image?: string; restartPolicy?: string }>;
    readinessGates?: Array<{ conditionType: string }>;
  };
  status?: {
    phase?: string;
    podIP?: string;
    startTime?: string | Date;
    containerStatuses?: Array<{ name: string; state?: ContainerStateView }>;
    initContainerStatuses?: Array<{ name: string; state?: ContainerStateView }>;
  };
}

export type PodAction =
  /** Report Running (the pod-ready stage). */
  | { kind: 'start' }
  /** Report Succeeded once `dueAt` (ms since the epoch) has passed (the pod-complete stage). */
  | { kind: 'complete'; dueAt: number }
  /** Delete it as a kubelet does once its containers have stopped (the pod-delete stage). */
  | { kind: 'delete' }
  | { kind: 'none' };

/** How long a completing pod stays Running before it reports Succeeded. */
export const COMPLETION_DELAY_MS = 1000;

const TERMINAL_PHASES = new Set(['Succeeded', 'Failed']);

function timeOf(value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** A pod that runs to completion rather than forever: a Job's pod, or a Helm hook Pod that does not restart. */
export function runsToCompletion(pod: PodView): boolean {
  if (pod.metadata?.ownerReferences?.some((owner) => owner.kind === 'Job' && (owner.apiVersion ?? 'batch/v1').startsWith('batch/'))) return true;
  const isHelmHook = pod.metadata?.annotations?.['helm.sh/hook'] !== undefined;
  return isHelmHook && (pod.spec?.restartPolicy ?? 'Always') !== 'Always';
}

/** The next step for a pod bound to this node, given its current state. */
export function nextAction(pod: PodView, completionDelayMs = COMPLETION_DELAY_MS): PodAction {
  if (pod.metadata?.deletionTimestamp) return { kind: 'delete' };
  const phase = pod.status?.phase;
  if (phase !== undefined && TERMINAL_PHASES.has(phase)) return { kind: 'none' };
  if (phase !== 'Running' || !pod.status?.podIP) return { kind: 'start' };
  if (runsToCompletion(pod)) {
    const startedAt = timeOf(pod.status.startTime) ?? 0;
    return { kind: 'complete', dueAt: startedAt + completionDelayMs };
  }
  return { kind: 'none' };
}

/** A stand-in ID that says what it is: `simulated://` and a stable hash of what it identifies. */
function simulatedId(...parts: string[]): string {
  return `simulated://${createHash('sha256').update(parts.join('\0')).digest('hex')}`;
}

function condition(type: string, status: 'True' | 'False', now: string, reason?: string): Record<string, unknown> {
  return reason === undefined ? { type, status, lastTransitionTime: now } : { type, status, lastTransitionTime: now, reason };
}

export interface StartFacts {
  now: string;
  hostIP: string;
  /** The pod's own address (the host's for hostNetwork pods). */
  podIP: string;
}

/** The status of a pod that has just started: the body of a strategic-merge patch of pods/status. */
export function runningStatus(pod: PodView, facts: StartFacts): Record<string, unknown> {
  const { now, hostIP, podIP } = facts;
  const uid = pod.metadata?.uid ?? '';
  const containerStatus = (container: { name: string; image?: string }) => ({
    name: container.name,
    image: container.image ?? '',
    imageID: `simulated://${container.image ?? ''}`,
    containerID: simulatedId(uid, container.name),
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: now } },
  });
  const initContainerStatus = (container: { name: string; image?: string; restartPolicy?: string }) => {
    if (container.restartPolicy === 'Always') return containerStatus(container);
    return {
      ...containerStatus(container),
      started: false,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
    };
  };
  const gates = (pod.spec?.readinessGates ?? []).map((gate) => condition(gate.conditionType, 'True', now));
  return {
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers', 'True', now),
      condition('Initialized', 'True', now),
      condition('Ready', 'True', now),
      condition('ContainersReady', 'True', now),
      condition('PodScheduled', 'True', now),
      ...gates,
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: now,
    containerStatuses: (pod.spec?.containers ?? []).map(containerStatus),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map(initContainerStatus),
  };
}

function startedAtOf(pod: PodView, name: string, init: boolean, fallback: string): string {
  const statuses = init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  const state = statuses?.find((status) => status.name === name)?.state;
  const started = state?.running?.startedAt ?? state?.terminated?.startedAt;
  const ms = timeOf(started) ?? timeOf(pod.status?.startTime);
  return ms === undefined ? fallback : kubeTime(new Date(ms));
}

/** The status of a pod whose containers all exited 0: the body of a strategic-merge patch of pods/status. */
export function succeededStatus(pod: PodView, now: string): Record<string, unknown> {
  const uid = pod.metadata?.uid ?? '';
  const terminated = (container: { name: string; image?: string }, init: boolean) => ({
    name: container.name,
    image: container.image ?? '',
    imageID: `simulated://${container.image ?? ''}`,
    containerID: simulatedId(uid, container.name),
    ready: init,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startedAtOf(pod, container.name, init, now), finishedAt: now } },
  });
  return {
    phase: 'Succeeded',
    conditions: [
      condition('PodReadyToStartContainers', 'False', now),
      condition('Initialized', 'True', now, 'PodCompleted'),
      condition('Ready', 'False', now, 'PodCompleted'),
      condition('ContainersReady', 'False', now, 'PodCompleted'),
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((container) => terminated(container, false)),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((container) => terminated(container, container.restartPolicy !== 'Always')),
  };
}

/** Kubernetes timestamps are RFC 3339 with whole seconds. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const HELM_HOOK_ANNOTATION = 'helm.sh/hook';

/**
 * Cuts a pod, in place, down to the fields PodView names: the informer caches what its handlers are given, and a
 * whole pod (env, volumes, tolerations, managedFields, conditions) is most of the controller's heap at 1000 pods.
 */
export function trimToView(pod: Record<string, unknown> & PodView): void {
  for (const key of Object.keys(pod)) if (key !== 'metadata' && key !== 'spec' && key !== 'status') delete pod[key];
  const { metadata, spec, status } = pod;
  if (metadata) {
    const hook = metadata.annotations?.[HELM_HOOK_ANNOTATION];
    pod.metadata = {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      deletionTimestamp: metadata.deletionTimestamp,
      annotations: hook === undefined ? undefined : { [HELM_HOOK_ANNOTATION]: hook },
      ownerReferences: metadata.ownerReferences?.map(({ kind, apiVersion }) => ({ kind, apiVersion })),
    };
  }
  if (spec) {
    pod.spec = {
      nodeName: spec.nodeName,
      hostNetwork: spec.hostNetwork,
      restartPolicy: spec.restartPolicy,
      containers: spec.containers?.map(({ name, image }) => ({ name, image })),
      initContainers: spec.initContainers?.map(({ name, image, restartPolicy }) => ({ name, image, restartPolicy })),
      readinessGates: spec.readinessGates?.map(({ conditionType }) => ({ conditionType })),
    };
  }
  if (status) {
    pod.status = {
      phase: status.phase,
      podIP: status.podIP,
      startTime: status.startTime,
      containerStatuses: status.containerStatuses?.map(({ name, state }) => ({ name, state })),
      initContainerStatuses: status.initContainerStatuses?.map(({ name, state }) => ({ name, state })),
    };
  }
}
