#!/usr/bin/env bats
# The agent half of test/fixtures/k3s-upstream natively: containerd (Debian's, as a child process), the real kubelet
# and kube-proxy in-process, and real containers from the images test/fixtures/images builds. Each scenario runs as
# root in its own network, mount, pid and uts namespaces with kubelet's cgroups under a parent of its own
# (test/lib/isolated-node.bash), and the last checks that nothing is left on the machine.

load '../lib/common'
load '../lib/isolated-node'

setup_file() {
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/images/busybox.tar" test/fixtures/images/build.sh
  command -v containerd runc >/dev/null || { echo "containerd and runc are missing: run test/deps.sh" >&2; return 1; }
}

setup() {
  T="$BATS_TEST_TMPDIR"
}

# node_scenario SCRIPT: starts k3s-upstream with its agent in an isolated node (data dir $T/data, the test images
# and the bridge network in place), waits for the node to be Ready, runs SCRIPT, then stops k3s with one SIGTERM.
node_scenario() {
  isolated_node "
K3S='$FIXTURES_BIN/k3s-upstream' D='$T/data' IMAGES='$FIXTURES_BIN/images'
export KUBECONFIG=/run/k3s.yaml K3S_UPSTREAM_GLOBAL_KUBECONFIG=/run/global-k3s.yaml
mkdir -p \$D/agent/images \$D/agent/etc/cni/net.d
cp \$IMAGES/busybox.tar \$IMAGES/pause.tar \$D/agent/images/
bridge_conflist >\$D/agent/etc/cni/net.d/10-bridge.conflist
start=\$(date +%s.%N)
\$K3S server --data-dir=\$D --flannel-backend=none --write-kubeconfig=\$KUBECONFIG \$NODE_KUBELET_ARGS >'$T/k3s.log' 2>&1 &
k3s_pid=\$!
until kubectl get nodes 2>/dev/null | grep -q ' Ready'; do
  kill -0 \$k3s_pid || { echo 'k3s exited; the end of its log:'; tail -n 30 '$T/k3s.log'; exit 1; }
  sleep 0.5
done
echo \"node_ready_seconds=\$(awk \"BEGIN { print \$(date +%s.%N) - \$start }\")\"
until kubectl get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done
$1
stop_start=\$(date +%s.%N); kill -TERM \$k3s_pid
wait \$k3s_pid && echo 'k3s stopped: 0'
echo \"stop_seconds=\$(awk \"BEGIN { print \$(date +%s.%N) - \$stop_start }\")\"
"
}

@test "native: a busybox pod runs on the real node; logs, exec, a ClusterIP Service through kube-proxy and a Job work" {
  run node_scenario '
    kubectl get nodes -o wide
    kubectl create deployment web --image=docker.io/library/busybox:1.35 -- sh -c "echo hello-from-pod; mkdir -p /www; echo served-by-pod >/www/index.html; exec httpd -f -p 8080 -h /www"
    kubectl expose deployment web --port=80 --target-port=8080
    start=$(date +%s.%N)
    kubectl rollout status deployment/web --timeout=120s
    echo "pod_running_seconds=$(awk "BEGIN { print $(date +%s.%N) - $start }")"
    kubectl get pods -o wide
    echo "logs: $(kubectl logs deployment/web)"
    echo "exec: $(kubectl exec deployment/web -- cat /www/index.html)"
    ip=$(kubectl get service web -o jsonpath="{.spec.clusterIP}")
    # kube-proxy programs the Service a moment after its endpoints appear.
    for attempt in $(seq 20); do reply="$(curl -sS -m 3 "http://$ip/" 2>/dev/null)" && break; sleep 0.5; done
    echo "service: $reply"
    echo "kube-proxy rules: $(iptables-save | grep -c "default/web")"
    kubectl create job done --image=docker.io/library/busybox:1.35 -- sh -c "echo job-ran"
    kubectl wait --for=condition=complete job/done --timeout=120s
    echo "job: $(kubectl logs job/done)"
    echo "sandbox image: $(ctr --address /run/k3s/containerd/containerd.sock -n k8s.io images ls -q | grep -c mirrored-pause)"
  '
  echo "$output"
  grep -E '^(node_ready|pod_running)_seconds=' <<<"$output" | sed 's/^/# /' >&3
  [ "$status" -eq 0 ]
  [[ "$output" =~ "real-node   Ready" ]]
  [[ "$output" =~ "containerd://1." ]]
  [[ "$output" =~ 'successfully rolled out' ]]
  [[ "$output" =~ "logs: hello-from-pod" ]]
  [[ "$output" =~ "exec: served-by-pod" ]]
  [[ "$output" =~ "service: served-by-pod" ]]
  [[ "$output" =~ "kube-proxy rules: "[1-9] ]]
  [[ "$output" =~ "job: job-ran" ]]
  [[ "$output" =~ "k3s stopped: 0" ]]
  grep -q 'level=info msg="containerd is now running"' "$T/k3s.log"
  grep -q 'level=info msg="Imported images from .*/agent/images/pause.tar' "$T/k3s.log"
  grep -q 'level=info msg="Running kubelet .*--cgroup-root=' "$T/k3s.log"
  grep -q 'level=info msg="Running kube-proxy .*--proxy-mode=iptables' "$T/k3s.log"
}

@test "native: a node scenario leaves no process, mount, interface, iptables rule or cgroup on the machine" {
  rules_before="$(iptables-save 2>/dev/null | grep -c -E 'KUBE-|CNI-' || true)"
  run node_scenario '
    kubectl run sleeper --image=docker.io/library/busybox:1.35 -- sleep 3600
    kubectl wait --for=condition=Ready pod/sleeper --timeout=120s
    echo "shims: $(pgrep -c -f containerd-shim-runc-v2)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "shims: "[1-9] ]]
  # Processes: nothing runs from the data dir (containerd, the shims) or as the pod's pause/sleep.
  [ -z "$(find /proc -maxdepth 2 -name exe -lname "$T/*" 2>/dev/null)" ]
  # Mounts: none under the data dir, /run/k3s or kubelet's dir in the machine's mount table.
  ! grep -qE " ($T|/run/k3s|/var/lib/kubelet)" /proc/self/mountinfo
  # Interfaces: the bridge and the pods' veths lived in the scenario's network namespace.
  ! ip link show cni0 2>/dev/null
  # iptables: no KUBE- or CNI- rule was added to the machine's tables.
  [ "$(iptables-save 2>/dev/null | grep -c -E 'KUBE-|CNI-' || true)" = "$rules_before" ]
  # cgroups: the scenario's parent is gone from every hierarchy.
  [ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -name 'k3s-upstream-test-*' 2>/dev/null)" ]
}
