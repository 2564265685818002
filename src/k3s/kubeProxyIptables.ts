/**
 * What kube-proxy's iptables rules need of the kernel's netfilter, beyond a chain and a jump (Kubernetes
 * pkg/proxy/iptables/proxier.go). gVisor's netfilter has tables, chains and jumps but not every match kube-proxy uses;
 * where one is missing, kube-proxy's sync fails every 30 s ("Failed to ensure chain jumps") while its canary monitor
 * keeps exec-ing iptables. The probe tries each check, in order, in a throwaway network namespace.
 */

/** The chain the checks create and append to (in the throwaway namespace only). */
const PROBE_CHAIN = 'K3S-SANDBOX-PROBE';

export interface KubeProxyIptablesCheck {
  /** How the reason names the feature when it is refused. */
  name: string;
  /** iptables arguments (after -w), words without spaces. */
  args: readonly string[];
}

export const KUBE_PROXY_IPTABLES_CHECKS: readonly KubeProxyIptablesCheck[] = [
  // Every kube-proxy rule lives in its own KUBE-* chains (the later checks append to this one).
  { name: 'a chain in filter', args: ['-t', 'filter', '-N', PROBE_CHAIN] },
  // kube-proxy comments every jump and rule it writes: ensureChainJumps appends "-m comment" first.
  { name: '-m comment', args: ['-t', 'filter', '-A', PROBE_CHAIN, '-m', 'comment', '--comment', 'k3s-sandbox-probe', '-j', 'RETURN'] },
  // Its firewall jump (KUBE-PROXY-FIREWALL from INPUT) and KUBE-FORWARD match on connection state.
  { name: '-m conntrack --ctstate NEW', args: ['-t', 'filter', '-A', PROBE_CHAIN, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'RETURN'] },
  // Its canary monitor creates KUBE-PROXY-CANARY in mangle, nat and filter.
  { name: 'a chain in mangle', args: ['-t', 'mangle', '-N', PROBE_CHAIN] },
];

/** What kube-proxy does where a check fails: said by the plan when it turns kube-proxy off. */
export const KUBE_PROXY_WITHOUT_RULES =
  "kube-proxy's sync would fail every 30 s (\"Failed to ensure chain jumps\") while its canary monitor execs iptables ~2.5 times a second";
