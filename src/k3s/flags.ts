/**
 * The k3s flags each mode adds, and why. Flag names are k3s's own (pkg/cli/cmds/server.go and agent.go); the plan step
 * decides which sets apply and records each as a remedy.
 */
import type { Mode } from '../context.js';

/** A set of k3s flags added together, with the reason shown by `up`, `status` and `doctor`. */
export interface FlagSet {
  args: readonly string[];
  reason: string;
}

/** Whether k3s runs its agent (kubelet, containerd, flannel) in `mode`: control-plane passes --disable-agent. */
export function runsAgent(mode: Mode): boolean {
  return mode !== 'control-plane';
}

/** The packaged add-ons that need pods, which never run in the sandboxed modes (k3s --disable choices). */
export const POD_ADDONS: readonly string[] = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server'];

/** cgroup v1 controllers kubelet uses; gVisor implements all of them. */
export const CGROUP_V1_CONTROLLERS: readonly string[] = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'];

/** k3s's own sqlite DSN options (pkg/cli/server: the default ./db/state.db DSN), kept when the file moves. */
export const SQLITE_DSN_OPTIONS = '_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate';

/** The flags every mode starts with. */
export function baseArgs(dataDir: string, httpsPort: number, adminKubeconfig: string): string[] {
  return ['server', `--data-dir=${dataDir}`, `--https-listen-port=${httpsPort}`, `--write-kubeconfig=${adminKubeconfig}`, '--write-kubeconfig-mode=600'];
}

export const CONTROL_PLANE_FLAGS: readonly FlagSet[] = [
  { args: ['--disable-agent'], reason: 'no kubelet, containerd or flannel: the API server runs without a node' },
  { args: ['--egress-selector-mode=disabled'], reason: 'there is no agent to tunnel API server egress through' },
  { args: ['--bind-address=127.0.0.1'], reason: 'the API is for this sandbox only' },
];

export const SANDBOXED_NODE_FLAGS: readonly FlagSet[] = [
  { args: ['--flannel-backend=none'], reason: 'flannel cannot create its links in the sandbox' },
  { args: ['--snapshotter=native'], reason: 'overlay mounts do not work in the sandbox' },
  {
    args: [
      '--kubelet-arg=local-storage-capacity-isolation=false',
      '--kubelet-arg=cgroups-per-qos=false',
      '--kubelet-arg=enforce-node-allocatable=',
      '--kubelet-arg=image-gc-high-threshold=100',
      '--kubelet-arg=image-gc-low-threshold=99',
    ],
    reason: "cAdvisor cannot read the sandbox's root filesystem or build the QoS cgroup tree; image GC would misfire",
  },
];

/** kubelet v1.35+ refuses to start on cgroup v1 (`failCgroupV1` defaults to true) unless told otherwise; the flag exists since v1.31. */
export const CGROUP_V1_KUBELET_FLAGS: FlagSet = {
  args: ['--kubelet-arg=fail-cgroupv1=false'],
  reason: 'this sandbox has cgroup v1, which kubelet v1.35+ refuses by default ("kubelet is configured to not run on a host using cgroup v1")',
};

/** Without working iptables, kube-proxy and the network policy controller would exit. */
export const NO_IPTABLES_FLAGS = ['--disable-kube-proxy', '--disable-network-policy'] as const;
