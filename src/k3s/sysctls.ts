/**
 * The /proc/sys files k3s and its embedded components read or write at start, and the values they want. Sources:
 * kubelet pkg/kubelet/cm/container_manager_linux.go setupKernelTunables (fatal when a value cannot be set),
 * kube-proxy pkg/proxy/iptables/proxier.go (route_localnet, fatal), k3s pkg/agent/syssetup/setup.go (warnings only),
 * and container runtimes: runc and containerd read kernel/cap_last_cap (moby/sys/capability LastCap) to learn which
 * capabilities exist; the gVisor measured here (Debian 12's runsc) lacks that file, and crun only gets past it with a fake.
 */

export interface K3sSysctl {
  path: string;
  /** The value wanted; for nf_conntrack_max it depends on the CPU count (see wantedSysctlValue). */
  want: string;
  /** Who touches it and whether a failure kills k3s. */
  component: 'kubelet' | 'kube-proxy' | 'k3s-syssetup' | 'container-runtime';
  fatal: boolean;
  /** Read-only on every kernel (0444): only a missing file needs a fake, never an unwritable one. */
  readOnly?: boolean;
}

const CONNTRACK_MAX_PER_CORE = 32768;
const CONNTRACK_MIN = 131072;
/** CAP_AUDIT_READ, the last capability gVisor knows (its root has bits 0-37); used when the bounding set is unknown. */
const CAP_LAST_CAP_DEFAULT = 37;

export const K3S_SYSCTLS: readonly K3sSysctl[] = [
  { path: 'vm/overcommit_memory', want: '1', component: 'kubelet', fatal: true },
  { path: 'vm/panic_on_oom', want: '0', component: 'kubelet', fatal: true },
  { path: 'kernel/panic', want: '10', component: 'kubelet', fatal: true },
  { path: 'kernel/panic_on_oops', want: '1', component: 'kubelet', fatal: true },
  { path: 'kernel/keys/root_maxkeys', want: '1000000', component: 'kubelet', fatal: true },
  { path: 'kernel/keys/root_maxbytes', want: '25000000', component: 'kubelet', fatal: true },
  { path: 'net/ipv4/conf/all/route_localnet', want: '1', component: 'kube-proxy', fatal: true },
  { path: 'net/ipv4/conf/all/forwarding', want: '1', component: 'k3s-syssetup', fatal: false },
  { path: 'net/ipv4/conf/default/forwarding', want: '1', component: 'k3s-syssetup', fatal: false },
  { path: 'net/bridge/bridge-nf-call-iptables', want: '1', component: 'k3s-syssetup', fatal: false },
  { path: 'net/netfilter/nf_conntrack_max', want: String(CONNTRACK_MIN), component: 'k3s-syssetup', fatal: false },
  { path: 'net/netfilter/nf_conntrack_tcp_timeout_established', want: '86400', component: 'k3s-syssetup', fatal: false },
  { path: 'net/netfilter/nf_conntrack_tcp_timeout_close_wait', want: '3600', component: 'k3s-syssetup', fatal: false },
  { path: 'kernel/cap_last_cap', want: String(CAP_LAST_CAP_DEFAULT), component: 'container-runtime', fatal: false, readOnly: true },
];

/** kubelet's fatal tunables: a full server needs all of them settable. */
export const KUBELET_TUNABLES: readonly string[] = K3S_SYSCTLS.filter((s) => s.component === 'kubelet').map((s) => s.path);

/** kube-proxy exits when it cannot write this one. */
export const ROUTE_LOCALNET = 'net/ipv4/conf/all/route_localnet';

/** What the machine is like, for the values that depend on it. */
export interface SysctlContext {
  cpus: number;
  /** The highest capability number in the bounding set, or null when unknown. */
  lastCap: number | null;
}

/**
 * The value k3s wants in `path`: conntrack max is max(32768 × CPUs, 131072) (kube-proxy's defaults, applied by
 * syssetup); cap_last_cap is the highest capability the sandbox has, so a runtime asks for no capability it lacks.
 */
export function wantedSysctlValue(path: string, machine: SysctlContext): string {
  if (path === 'net/netfilter/nf_conntrack_max') return String(Math.max(CONNTRACK_MAX_PER_CORE * machine.cpus, CONNTRACK_MIN));
  if (path === 'kernel/cap_last_cap') return String(machine.lastCap ?? CAP_LAST_CAP_DEFAULT);
  const sysctl = K3S_SYSCTLS.find((s) => s.path === path);
  if (!sysctl) throw new Error(`${path} is not a sysctl k3s touches`);
  return sysctl.want;
}
