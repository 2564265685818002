import type { ProbeFacts } from '../../../src/context.js';

/** Probe facts of a privileged Docker container on a real kernel: everything k3s needs is there. */
export function privilegedDockerFacts(): ProbeFacts {
  return {
    gvisor: false,
    gvisorSignals: [],
    kernelRelease: '6.1.0-18-amd64',
    uid: 0,
    capabilities: { source: 'CapEff', mask: '000001ffffffffff', sysPtrace: true, sysAdmin: true, netAdmin: true, netRaw: true, sysModule: true },
    ptrace: { usable: true, scope: 1, reason: 'tracing own children is allowed (ptrace_scope 1)' },
    seccomp: { usable: true, reason: 'seccomp filters available' },
    cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] },
    kmsg: true,
    overlay: { usable: true, reason: 'overlay is available and the data dir is on ext4' },
    vxlan: { usable: true, reason: 'the vxlan module is loaded' },
    iptables: { legacy: '/usr/sbin/iptables-legacy', nft: true, reason: 'iptables-legacy at /usr/sbin/iptables-legacy; nft at /usr/sbin/iptables-nft' },
    kubeProxyIptables: { tested: false, holds: null, reason: 'not tested: a real kernel has the netfilter matches kube-proxy uses' },
    defaultRoute: true,
    sysctls: [],
    lastCap: 40,
    mounts: { tested: false, tmpfs: false, overlay: false, bind: false, namespacesIsolate: false, reason: 'not tested' },
    port: { number: 6443, free: true, reason: '127.0.0.1:6443 is free' },
    dataDir: { path: '/var/lib/rancher/k3s', existingAncestor: '/var/lib', fsType: 'ext4', writable: true, freeBytes: 50 * 2 ** 30 },
    programs: {
      k3s: { path: '/usr/local/bin/k3s', executable: true },
      supervise: { path: '/usr/local/share/k3s-sandbox/bin/k3s-sandbox-supervise', executable: true },
      intercept: { path: '/usr/local/share/k3s-sandbox/bin/k3s-sandbox-intercept', executable: true },
    },
    memory: { totalBytes: 8 * 2 ** 30, availableBytes: 6 * 2 ** 30 },
    cpus: 2,
    rootIs9p: false,
    devShmTmpfs: true,
    durationMs: 3,
  };
}

/** What the probe sees in gVisor: this machine's `runsc do` (overlay root, no /dev/shm mount, gVisor's fixed uname). */
export function gvisorFacts(): ProbeFacts {
  return {
    ...privilegedDockerFacts(),
    gvisor: true,
    gvisorSignals: ['/proc/version is gVisor\'s fixed "4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016"', 'kernel release 4.4.0', '/proc/sys/kernel/panic is missing'],
    kernelRelease: '4.4.0',
    capabilities: { source: 'CapEff', mask: '0000003fffffdfff', sysPtrace: true, sysAdmin: true, netAdmin: true, netRaw: false, sysModule: false },
    ptrace: { usable: true, scope: 1, reason: 'gVisor implements ptrace' },
    seccomp: { usable: true, reason: 'seccomp filters available' },
    cgroup: { version: 1, controllers: ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'] },
    kmsg: false,
    overlay: { usable: false, reason: 'gVisor: containerd overlay snapshots are not supported there' },
    vxlan: { usable: false, reason: 'gVisor has no vxlan netlink support' },
    iptables: { legacy: '/usr/sbin/iptables-legacy', nft: false, reason: 'iptables-legacy at /usr/sbin/iptables-legacy; nft present but gVisor answers "Protocol not supported"' },
    kubeProxyIptables: { tested: false, holds: null, reason: 'not tested: iptables-legacy with CAP_NET_RAW is needed first' },
    defaultRoute: true,
    sysctls: [
      { path: 'vm/overcommit_memory', state: 'unwritable', value: '0' },
      { path: 'vm/panic_on_oom', state: 'missing' },
      { path: 'kernel/panic', state: 'missing' },
      { path: 'kernel/panic_on_oops', state: 'missing' },
      { path: 'kernel/keys/root_maxkeys', state: 'missing' },
      { path: 'kernel/keys/root_maxbytes', state: 'missing' },
      { path: 'net/ipv4/conf/all/route_localnet', state: 'missing' },
      { path: 'net/ipv4/conf/all/forwarding', state: 'missing' },
      { path: 'net/ipv4/conf/default/forwarding', state: 'missing' },
      { path: 'net/bridge/bridge-nf-call-iptables', state: 'missing' },
    ],
    dataDir: { path: '/var/lib/rancher/k3s', existingAncestor: '/var/lib', fsType: 'overlay', writable: true, freeBytes: 30 * 2 ** 30 },
    rootIs9p: false,
    devShmTmpfs: false,
    lastCap: 37,
  };
}

/** This machine's gVisor as root (CAP_SYS_ADMIN): the probe's throwaway mounts work, and are sandbox-wide. */
export function gvisorMountFacts(): ProbeFacts {
  return {
    ...gvisorFacts(),
    mounts: { tested: true, tmpfs: true, overlay: true, bind: true, namespacesIsolate: false, reason: 'a tmpfs mounts; an overlay mounts; a bind mounts; mount namespaces do not isolate (mounts are sandbox-wide)' },
  };
}
