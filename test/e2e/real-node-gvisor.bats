#!/usr/bin/env bats
# sandboxed-node in gVisor with the real kubelet, kube-proxy and containerd (build/fixtures/k3s-upstream), under
# `k3s-sandbox up --mode sandboxed-node` in one fresh runsc sandbox per scenario. What gVisor lacks is faked by the
# product: /proc/sys tunables (interceptor or mounts), the mount(2) calls it refuses (the interceptor's
# --fake-propagation and --rbind-as-bind), a CNI network (a conflist in k3s's conf dir). A pod then stops at the real
# runtime's error, asserted below; see README "What a pod needs that gVisor lacks".
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/images/pause.tar" test/fixtures/images/build.sh
  require_built "$FIXTURES_BIN/images/busybox.tar" test/fixtures/images/build.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
}

prelude() {
  cat <<PRELUDE
set -eu
exec 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /var/lib/rancher/k3s/agent/images
cp '$FIXTURES_BIN/images/pause.tar' '$FIXTURES_BIN/images/busybox.tar' /var/lib/rancher/k3s/agent/images/
FB='$FIXTURES_BIN'
export K3S_SANDBOX_K3S='$FIXTURES_BIN/k3s-upstream' K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' KUBECONFIG=/root/.kube/config
ks() { node '$DIST/k3s-sandbox.cjs' "\$@"; }
PRELUDE
  cat <<'HELPERS'
log_line() { grep -m1 -E "$1" /var/log/k3s-sandbox/k3s.log | cut -c1-400; }
k3s_starts() { grep -c 'k3s-sandbox-supervise: started' /var/log/k3s-sandbox/k3s.log; }
# A busybox pod (image imported from agent/images, never pulled), and the kubelet's events for it after 40 s.
pod_attempt() {
  for _ in $(seq 60); do kubectl get serviceaccount default >/dev/null 2>&1 && break; sleep 1; done
  kubectl run p1 --image=docker.io/library/busybox:1.35 --image-pull-policy=Never --restart=Never -- sleep 1000 >/dev/null
  sleep 40
  echo "pod: $(kubectl get pod p1 --no-headers | awk '{print $3}') on $(kubectl get pod p1 -o jsonpath='{.spec.nodeName}')"
  kubectl describe pod p1 | grep -m1 FailedCreatePodSandBox | sed 's/.*kubelet  *//'
}
# The mount(2) fakes and the interceptor's options, from k3s's log and the interceptor's command line.
# When up fails: what it printed, the node's conditions and the kubelet's and runtime's own reasons from k3s's log.
up_failed() {
  cat /tmp/up.out
  echo "node conditions: $(kubectl get node vm -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' 2>&1)"
  grep -E 'NetworkReady|not ready|NotReady|PLEG|Error syncing|ContainerManager|Failed to|Unable to register|k3s-sandbox-supervise' /var/log/k3s-sandbox/k3s.log | grep -v 'nodeIP can.t be loopback' | tail -n 40 | cut -c1-400
  exit 1
}
interceptor_args() { for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' 2>/dev/null <"$f" | grep '^[^ ]*k3s-sandbox-intercept ' | cut -d' ' -f2-6; done | head -n 1; }
HELPERS
}

# runsc as the other e2e tests run it, plus --net-raw: gVisor serves iptables only to CAP_NET_RAW (without it the plan
# disables kube-proxy, which the first scenarios show). With it, the probe finds that this gVisor's netfilter cannot hold
# kube-proxy's rules (-m comment, -m conntrack and the mangle table are refused), and the plan disables kube-proxy
# still: its sync would fail every 30 s while its canary monitor execs iptables.
gvisor_net_raw_script() {
  local out rc=0
  out="$(mktemp)"
  runsc --network=none --net-raw --platform=ptrace do bash -c "$1" >"$out" 2>&1 || rc=$?
  cat "$out"
  rm -f "$out"
  return "$rc"
}

@test "gVisor, real kubelet without /proc/sys fakes (only the interceptor's mount fakes, to get past rshared): it dies with 'Failed to start ContainerManager' on the missing tunables" {
  run gvisor_script "$(prelude)
# What up's fakes step mounts for sandboxed-node, made by hand: no /proc/sys fake anywhere.
mount -t tmpfs cgroup /sys/fs/cgroup
for c in cpu cpuacct cpuset memory pids; do mkdir /sys/fs/cgroup/\$c; mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c; done
touch /dev/kmsg; mount --bind /dev/null /dev/kmsg
rc=0; timeout 240 \$FB/k3s-sandbox-intercept -v --fake-propagation --rbind-as-bind -- \$FB/k3s-upstream server \
  --data-dir=/var/lib/rancher/k3s --flannel-backend=none --snapshotter=native --node-ip=127.0.0.1 \
  --disable-kube-proxy --disable-network-policy --disable=coredns,servicelb,traefik,local-storage,metrics-server \
  --kubelet-arg=local-storage-capacity-isolation=false --kubelet-arg=cgroups-per-qos=false \
  --kubelet-arg=enforce-node-allocatable= --kubelet-arg=fail-cgroupv1=false >/tmp/k3s.log 2>&1 || rc=\$?
echo \"k3s rc: \$rc\"
grep -m1 'propagation change refused' /tmp/k3s.log
grep -m1 'Failed to start ContainerManager' /tmp/k3s.log | cut -c1-600
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s rc: 1" ]]
  [[ "$output" =~ "mount flags 0x104000: propagation change refused (EINVAL), answered 0" ]]
  [[ "$output" =~ "Failed to start ContainerManager" ]]
  [[ "$output" =~ Failed\ to\ start\ ContainerManager\"\ err=.*open\ /proc/sys/kernel/panic:\ no\ such\ file\ or\ directory ]]
}

@test "gVisor, fakes=intercept: the real node registers and is Ready; kube-proxy is disabled without NET_RAW, saying why; a pod stops at the runtime's netns error" {
  run gvisor_script "$(prelude)
K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || up_failed
grep -E 'ready in|interceptor also fakes|--disable-kube-proxy' /tmp/up.out | cut -c1-300
echo \"interceptor: \$(interceptor_args)\"
kubectl get nodes -o wide
kubectl describe node vm | grep -E '^ +Ready +True|Container Runtime Version|Kubelet Version'
pod_attempt
echo \"k3s starts: \$(k3s_starts)\"
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node vm Ready" ]]
  [[ "$output" =~ vm\ +Ready\ .*v1.36.3\ .*containerd://1.6.20 ]]
  [[ "$output" =~ "Ready                True" ]] || [[ "$output" =~ Ready\ +True ]]
  [[ "$output" =~ "the interceptor also fakes the mount(2) calls gVisor refuses" ]]
  [[ "$output" =~ "CAP_NET_RAW is missing (gVisor: runsc without --net-raw)" ]]
  [[ "$output" =~ "interceptor: -v --fake-root /var/lib/k3s-sandbox/fake-root --fake-propagation --rbind-as-bind" ]]
  [[ "$output" =~ "pod: ContainerCreating on vm" ]]
  # The real runtime's error: the CNI network cannot be set up in gVisor. The bridge plugin cannot create its link
  # (no bridge devices: "protocol not available"); on some attempts the loopback plugin fails first, as gVisor has
  # no statfs on the pod's netns file ("function not implemented").
  [[ "$output" =~ failed\ to\ setup\ network\ for\ sandbox\ \"[0-9a-f]+\":\ plugin\ type=\"(bridge|loopback)\"\ failed\ \(add\):\ (failed\ to\ create\ bridge\ \"cni0\":\ could\ not\ add\ \"cni0\":\ protocol\ not\ available|failed\ to\ Statfs\ \"/var/run/netns/cni-[0-9a-f-]+\":\ function\ not\ implemented) ]]
  [[ "$output" =~ "k3s starts: 1" ]]
}

@test "gVisor --net-raw, fakes=mount: /proc/sys by overlays, the interceptor traps only mount(2); kube-proxy is off as gVisor's netfilter lacks -m comment, so nothing fails its sync; route_localnet reads 1 from the overlay; the node is Ready; a pod stops at the bridge plugin" {
  run gvisor_net_raw_script "$(prelude)
K3S_SANDBOX_FAKES=mount ks up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || up_failed
grep -E 'ready in|overlays over|stops only mount' /tmp/up.out | cut -c1-200
grep -F -- '--disable-kube-proxy --disable-network-policy:' /tmp/up.out | cut -c1-400
echo \"interceptor: \$(interceptor_args)\"
echo \"route_localnet: \$(cat /proc/sys/net/ipv4/conf/all/route_localnet)\"
kubectl get nodes -o wide
pod_attempt
echo \"kube-proxy sync failures: \$(grep -cE 'Sync failed|Failed to ensure chain jumps' /var/log/k3s-sandbox/k3s.log || true)\"
echo \"kube-proxy exits: \$(grep -c 'kube-proxy exited' /var/log/k3s-sandbox/k3s.log || true)\"
echo \"k3s starts: \$(k3s_starts)\"
log_line 'recursive bind refused here'
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node vm Ready" ]]
  [[ "$output" =~ "overlays over their /proc/sys directories serve" ]]
  [[ "$output" =~ "k3s runs under the interceptor with a seccomp filter that stops only mount(2)" ]]
  [[ "$output" =~ "interceptor: -v --fake-propagation --rbind-as-bind -- " ]]
  [[ "$output" =~ "route_localnet: 1" ]]
  [[ "$output" =~ "pod: ContainerCreating on vm" ]]
  # With NET_RAW the netns works further: the bridge plugin cannot create its link (gVisor has no bridge devices).
  [[ "$output" =~ failed\ to\ setup\ network\ for\ sandbox\ \"[0-9a-f]+\":\ plugin\ type=\"(bridge|loopback)\"\ failed\ \(add\):\ (failed\ to\ create\ bridge\ \"cni0\":\ could\ not\ add\ \"cni0\":\ protocol\ not\ available|failed\ to\ Statfs\ \"/var/run/netns/cni-[0-9a-f-]+\":\ function\ not\ implemented) ]]
  [[ "$output" =~ "--disable-kube-proxy --disable-network-policy: gVisor's netfilter lacks what kube-proxy's rules use (-m comment: iptables: Invalid argument; -m conntrack --ctstate NEW: iptables: Invalid argument; a chain in mangle: iptables: Invalid argument): kube-proxy's sync would fail every 30 s" ]]
  [[ "$output" =~ "kube-proxy sync failures: 0" ]]
  [[ "$output" =~ "kube-proxy exits: 0" ]]
  [[ "$output" =~ "k3s starts: 1" ]]
  [[ "$output" =~ "mount flags 0x5000: recursive bind refused here, done as a plain bind" ]]
}

@test "gVisor --net-raw, fakes=intercept: kube-proxy is off (gVisor's netfilter lacks -m comment); the real node stays Ready for 5 minutes with no restart and no kube-proxy sync failure; the route_localnet fake reads 1" {
  run gvisor_net_raw_script "$(prelude)
K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || up_failed
grep 'ready in' /tmp/up.out
grep -F -- '--disable-kube-proxy --disable-network-policy:' /tmp/up.out | cut -c1-200
k3s_pid=\$(cat /run/k3s-sandbox/supervisor.pid)
starts=\$(k3s_starts)
notready=0
for i in \$(seq 30); do
  sleep 10
  kubectl get node vm -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True || notready=\$((notready + 1))
done
echo \"polls not Ready: \$notready of 30\"
echo \"k3s starts after 5 min: \$(k3s_starts) (was \$starts)\"
echo \"supervisor alive: \$(kill -0 \$k3s_pid && echo yes)\"
echo \"fatal lines: \$(grep -cE 'level=fatal|Failed to start ContainerManager' /var/log/k3s-sandbox/k3s.log || true)\"
echo \"kube-proxy sync failures: \$(grep -cE 'Sync failed|Failed to ensure chain jumps' /var/log/k3s-sandbox/k3s.log || true)\"
# No kube-proxy, so nothing opens route_localnet in this window; the fake the interceptor would serve is in place.
echo \"fake route_localnet: \$(cat /var/lib/k3s-sandbox/fake-root/proc/sys/net/ipv4/conf/all/route_localnet)\"
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node vm Ready" ]]
  [[ "$output" =~ "polls not Ready: 0 of 30" ]]
  [[ "$output" =~ "k3s starts after 5 min: 1 (was 1)" ]]
  [[ "$output" =~ "supervisor alive: yes" ]]
  [[ "$output" =~ "--disable-kube-proxy --disable-network-policy: gVisor's netfilter lacks what kube-proxy's rules use (-m comment: iptables: Invalid argument" ]]
  [[ "$output" =~ "fatal lines: 0" ]]
  [[ "$output" =~ "kube-proxy sync failures: 0" ]]
  [[ "$output" =~ "fake route_localnet: 1" ]]
}

# Issue 13's "the same three with the real kubelet": without CAP_SYS_ADMIN auto chooses the interceptor. No mount works
# at all; the interceptor's probe sees that (EPERM), and answers 0 to kubelet's bind of its root dir onto itself and to
# the rshared after it (moot where nothing can be mounted). Every other mount keeps its EPERM: containerd's image import.
@test "gVisor without CAP_SYS_ADMIN: auto chooses the interceptor, which answers kubelet's self-bind of /var/lib/kubelet; the node is Ready; image import fails at its mount (EPERM)" {
  run gvisor_script "$(prelude)
drop() { setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \"\$@\"; }
mount -t tmpfs cgroup /sys/fs/cgroup
for c in cpu cpuacct cpuset memory pids; do mkdir /sys/fs/cgroup/\$c; mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c; done
touch /dev/kmsg; mount --bind /dev/null /dev/kmsg
rc=0; drop timeout 300 node \"$DIST/k3s-sandbox.cjs\" up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || rc=\$?
echo \"up rc: \$rc\"
grep -E 'ready in|wait' /tmp/up.out | cut -c1-300
grep -o 'the fakes cannot be mounted here ([^)]*)' /tmp/up.out || true
grep -o 'the interceptor also fakes the mount(2) calls gVisor refuses: [^:]*' /tmp/up.out || true
kubectl get nodes -o wide
log_line 'bind of a directory onto itself refused'
log_line 'propagation change refused'
echo \"kubelet root dir error: \$(grep -c 'error configuring root directory' /var/log/k3s-sandbox/k3s.log || true)\"
log_line 'Error while importing images from .*/pause.tar' | cut -c1-120
grep -m1 -o 'failed to extract layer [^ ]*: [^\\\\\"]*' /var/log/k3s-sandbox/k3s.log | head -n 1 || true
pod_attempt
kubectl describe pod p1 | sed -n '/^Events:/,\$p' | sed 's/  */ /g' | cut -c1-400
echo \"k3s starts: \$(k3s_starts)\"
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "the fakes cannot be mounted here (CAP_SYS_ADMIN is missing" ]]
  [[ "$output" =~ "the interceptor also fakes the mount(2) calls gVisor refuses" ]]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node vm Ready" ]]
  [[ "$output" =~ vm\ +Ready\ .*v1.36.3\ .*containerd://1.6.20 ]]
  [[ "$output" =~ "mount flags 0x1000: bind of a directory onto itself refused (EPERM), answered 0" ]]
  [[ "$output" =~ "mount flags 0x104000: propagation change refused (EPERM), answered 0" ]]
  [[ "$output" =~ "kubelet root dir error: 0" ]]
  # What the real runtime then says. containerd's native snapshotter mounts each layer's snapshot (a bind) to unpack
  # it: EPERM, so no image is imported, pause included.
  [[ "$output" =~ failed\ to\ extract\ layer\ sha256:[0-9a-f]+:\ failed\ to\ unmount\ /var/lib/rancher/k3s/agent/containerd/tmpmounts/containerd-mount[0-9]+:\ operation\ not\ permitted:\ failed\ to\ mount\ /var/lib/rancher/k3s/agent/containerd/tmpmounts/containerd-mount[0-9]+:\ operation\ not\ permitted ]]
  # A pod is scheduled, and kubelet stops before the sandbox, at its service-account token volume (a tmpfs through
  # mount(8): EPERM, which util-linux words "mount point is not a directory" as its statx of the target fails here).
  [[ "$output" =~ "pod: ContainerCreating on vm" ]]
  [[ "$output" =~ FailedMount\ .*kubelet\ MountVolume.SetUp\ failed\ for\ volume\ \"kube-api-access-[a-z0-9]+\"\ :\ mount\ failed:\ exit\ status\ 32 ]]
  [[ "$output" =~ "Mounting arguments: -t tmpfs -o size=" ]]
  [[ "$output" =~ "k3s starts: 1" ]]
}

@test "gVisor: doctor tries each operation a pod needs and says pods cannot run here, naming each refused one" {
  run gvisor_script "$(prelude)
ks doctor >/tmp/doctor.out 2>&1 || true
sed -n '/^pods /,\$p' /tmp/doctor.out
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "pods cannot run here: 6 operation(s) fail" ]]
  for name in recursiveBind sharedPropagation pivotRoot childSubreaper netnsSetns devicesCgroup; do
    [[ "$output" =~ "  $name: " ]]
  done
}
