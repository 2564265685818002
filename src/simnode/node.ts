/**
 * The simulated Node and its kubelet-style heartbeat, as pure builders.
 *
 * Like a kubelet it registers a Node with the host's capacity and reports the Ready condition (kwok's
 * kustomize/stage/node/fast/node-initialize.yaml reports the same conditions, addresses, daemonEndpoints, capacity
 * and nodeInfo), and it renews a Lease in kube-node-lease every 10 s (the kubelet's default: a quarter of the 40 s
 * lease duration), which the node lifecycle controller takes as the heartbeat. The node has no taint and carries the
 * well-known os/arch/hostname labels, so ordinary workloads and DaemonSets land on it.
 */
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { kubeTime } from './podStatus.js';

export const DEFAULT_NODE_NAME = 'k3s-sandbox-simulated';
const SIMULATED_LABEL = 'k3s-sandbox.io/simulated';
export const SIMULATED_ANNOTATION = 'k3s-sandbox.io/simulated';
export const SIMULATED_NOTE =
  'Simulated by k3s-sandbox: no container runs on this node. Pods bound to it report Running and Ready at once (no probes run), ' +
  'Job and Helm hook pods report Succeeded; logs, exec and port-forward cannot work, and Services carry no traffic.';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_INTERVAL_MS = 10_000;
/** How often the Ready condition's heartbeat time is refreshed (the lease is what keeps the node Ready). */
export const STATUS_HEARTBEAT_INTERVAL_MS = 60_000;
/** The kubelet's default --max-pods. */
export const DEFAULT_MAX_PODS = 110;
/**
 * The node's InternalIP and the pods' hostIP. The API server dials the kubelet at this address for logs, exec and
 * port-forward; on loopback nothing answers there, so those fail at once instead of waiting on a route.
 */
export const NODE_IP = '127.0.0.1';
export const KUBELET_PORT = 10250;

export interface NodeFacts {
  name: string;
  cpus: number;
  memoryBytes: number;
  /** Bytes of the filesystem holding the data, when known. */
  ephemeralStorageBytes?: number;
  maxPods: number;
  architecture: string;
  kernelVersion: string;
  /** The API server's version, reported as the kubelet's. */
  kubeletVersion: string;
  hostIP: string;
  kubeletPort: number;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The sandbox's own figures. */
export function hostFacts(name: string, maxPods: number, kubeletVersion: string, ephemeralStorageBytes?: number): NodeFacts {
  return {
    name,
    cpus: Math.max(1, cpus().length),
    memoryBytes: totalmem(),
    ephemeralStorageBytes,
    maxPods,
    architecture: GO_ARCH[arch()] ?? arch(),
    kernelVersion: release(),
    kubeletVersion,
    hostIP: NODE_IP,
    kubeletPort: KUBELET_PORT,
  };
}

/** DNS-1123 subdomain, as the API server requires of a Node name. */
export function validNodeName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);
}

export function nodeLabels(facts: NodeFacts): Record<string, string> {
  return {
    'kubernetes.io/hostname': facts.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': facts.architecture,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': facts.architecture,
    [SIMULATED_LABEL]: 'true',
  };
}

function resources(facts: NodeFacts): Record<string, string> {
  const list: Record<string, string> = {
    cpu: String(facts.cpus),
    memory: `${Math.floor(facts.memoryBytes / 1024)}Ki`,
    pods: String(facts.maxPods),
  };
  if (facts.ephemeralStorageBytes !== undefined) list['ephemeral-storage'] = `${Math.floor(facts.ephemeralStorageBytes / 1024)}Ki`;
  return list;
}

/** The conditions a healthy kubelet reports; `since` is when they last changed. */
export function nodeConditions(now: Date, since: Date): Array<Record<string, string>> {
  const heartbeat = kubeTime(now);
  const transition = kubeTime(since);
  const entry = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: transition,
  });
  return [
    entry('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'simulated node has sufficient memory available'),
    entry('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'simulated node has no disk pressure'),
    entry('PIDPressure', 'False', 'KubeletHasSufficientPID', 'simulated node has sufficient PID available'),
    entry('Ready', 'True', 'KubeletReady', 'simulated by k3s-sandbox: pods report Running but no container runs'),
  ];
}

export function nodeStatus(facts: NodeFacts, now: Date, since: Date): Record<string, unknown> {
  return {
    capacity: resources(facts),
    allocatable: resources(facts),
    conditions: nodeConditions(now, since),
    // No Hostname address: the API server prefers it when dialling the kubelet, and a name nothing resolves makes
    // logs and exec wait on DNS before failing; with the InternalIP alone they fail at once.
    addresses: [{ type: 'InternalIP', address: facts.hostIP }],
    daemonEndpoints: { kubeletEndpoint: { Port: facts.kubeletPort } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: facts.kernelVersion,
      osImage: `k3s-sandbox simulated node (${hostname()})`,
      containerRuntimeVersion: 'simulated://k3s-sandbox',
      kubeletVersion: facts.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: facts.architecture,
    },
  };
}

/** The Node to create when none exists. */
export function nodeManifest(facts: NodeFacts, now: Date): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: facts.name, labels: nodeLabels(facts), annotations: { [SIMULATED_ANNOTATION]: SIMULATED_NOTE } },
    spec: {},
    status: nodeStatus(facts, now, now),
  };
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

export function leaseManifest(nodeName: string, nodeUid: string, now: Date): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }],
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) },
  };
}
