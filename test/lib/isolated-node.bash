# Runs real nodes (containerd, kubelet, kube-proxy, real containers) on this machine as root, isolated: each
# scenario runs in its own network, mount, pid and uts namespaces, with kubelet's cgroups under a parent of its
# own. Load with: load '../lib/isolated-node'. What the scenario leaves inside its namespaces (mounts, links,
# iptables rules, processes) dies with them; isolated_node removes the cgroup parent and checks each.

# Global (not per-namespace) sysctls kubelet's setupKernelTunables writes when they differ, with the values it
# wants: the scenario binds a file holding that value over each, so the machine's own values are never written.
KUBELET_GLOBAL_TUNABLES='vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000'

# The node's address inside the scenario's network namespace.
NODE_ADDRESS=192.168.77.10

# Paths the node and the product write on the host, each hidden under a tmpfs inside the scenario. All of /root, not
# just ~/.kube: up publishes for root into ~/.kube/config and the profile blocks of ~/.bashrc and ~/.zshrc.
ISOLATED_TMPFS='/run /var/lib/kubelet /var/lib/rancher /etc/rancher /var/lib/cni /var/lib/k3s-sandbox /var/log/k3s-sandbox /root /etc/profile.d'

# The bridge network k3s sets up through flannel, written by the scenario since k3s-upstream runs no flannel:
# cni0, host-local IPAM on the node's pod CIDR, portmap.
bridge_conflist() {
  cat <<'JSON'
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "isDefaultGateway": true, "ipMasq": true, "hairpinMode": true, "forceAddress": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.42.0.0/24"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
}

# isolation_prelude CGROUP: shell text that sets up the namespaces' view before the scenario runs.
isolation_prelude() {
  cat <<PRELUDE
set -eu
exec 2>&1
mount --make-rprivate /
ip link set lo up
# A node address and a default route, as a VM has: kubelet refuses a loopback node IP for the node's addresses.
ip link add node0 type veth peer name node0-peer
ip link set node0-peer up
ip addr add $NODE_ADDRESS/24 dev node0
ip link set node0 up
ip route add default dev node0
hostname real-node
for dir in $ISOLATED_TMPFS; do mkdir -p "\$dir"; mount -t tmpfs -o mode=0755 tmpfs "\$dir"; done
tunables=\$(mktemp -d /run/tunables.XXXX)
for pair in $KUBELET_GLOBAL_TUNABLES; do
  file="\$tunables/\$(echo "\${pair%%=*}" | tr / _)"
  echo "\${pair#*=}" >"\$file"
  mount --bind "\$file" "/proc/sys/\${pair%%=*}"
done
export ISOLATED_CGROUP='$1'
$(declare -f bridge_conflist)
# kubelet wants no cgroup v1 refusal here (this machine is cgroup v1) and its cgroups under our parent.
export NODE_KUBELET_ARGS="--kubelet-arg=cgroup-root=/\$ISOLATED_CGROUP --kubelet-arg=fail-cgroupv1=false"
PRELUDE
}

# cgroup_dirs NAME: the cgroup directories named NAME in every mounted hierarchy.
cgroup_dirs() {
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name "$1" 2>/dev/null
}

# make_cgroup NAME: creates the parent NAME in every hierarchy (kubelet's --cgroup-root must exist), with the
# root's CPUs and memory nodes in cpuset so that children can inherit them.
make_cgroup() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -e "$hierarchy/cgroup.procs" ] || continue
    mkdir "$hierarchy$1"
    if [ -e "$hierarchy/cpuset.cpus" ]; then
      cat "$hierarchy/cpuset.cpus" >"$hierarchy$1/cpuset.cpus"
      cat "$hierarchy/cpuset.mems" >"$hierarchy$1/cpuset.mems"
    fi
  done
}

# remove_cgroup NAME: removes the cgroup parent NAME (deepest first) from every hierarchy, retrying while the
# killed processes finish exiting.
remove_cgroup() {
  local tries=0
  while [ -n "$(cgroup_dirs "$1")" ]; do
    cgroup_dirs "$1" | while read -r dir; do find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || { echo "cgroup $1 could not be removed" >&2; return 1; }
    sleep 0.2
  done
}

# isolated_node SCRIPT: runs the bash text SCRIPT in fresh namespaces as root and cleans up after it. The
# exit status is the script's. Every process of the scenario dies with its pid namespace.
isolated_node() {
  local cgroup rc=0 dir created=()
  cgroup="k3s-upstream-test-$$-$RANDOM"
  # Mount points that do not exist yet are made here and removed again afterwards.
  for dir in $ISOLATED_TMPFS; do [ -e "$dir" ] || created+=("$dir"); done
  make_cgroup "$cgroup"
  unshare --net --mount --pid --fork --uts --mount-proc bash -c "$(isolation_prelude "$cgroup")
$1" || rc=$?
  remove_cgroup "$cgroup" || rc=1
  for dir in "${created[@]}"; do rmdir "$dir" 2>/dev/null || true; done
  return "$rc"
}
