#!/usr/bin/env bats
# Real pods under the bootstrapper, natively: `k3s-sandbox up` in server mode (and auto, which picks server on this VM)
# runs build/fixtures/k3s-upstream with its agent half (containerd, the real kubelet and kube-proxy) and real
# containers. Each scenario runs in its own network, mount, pid and uts namespaces with tmpfs over the paths the
# product and the node write (test/lib/isolated-node.bash), so the machine is untouched.
load '../lib/common'
load '../lib/isolated-node'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/images/busybox.tar" test/fixtures/images/build.sh
  require_built "$FIXTURES_BIN/helm" test/fixtures/helm/build.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
}

# The product's k3s is the fixture, through a wrapper that adds only what this test environment needs:
# --flannel-backend=none (no flannel is built; the bridge conflist stands in for it) and kubelet's cgroup parent of
# the scenario's own. (fail-cgroupv1=false on this cgroup v1 machine comes from the plan itself.)
server_prelude() {
  cat <<PRELUDE
D=/var/lib/rancher/k3s
mkdir -p \$D/agent/images \$D/agent/etc/cni/net.d
cp '$FIXTURES_BIN/images/busybox.tar' '$FIXTURES_BIN/images/pause.tar' \$D/agent/images/
bridge_conflist >\$D/agent/etc/cni/net.d/10-bridge.conflist
printf '#!/bin/sh\nexec %s "\$@" --flannel-backend=none --kubelet-arg=cgroup-root=/%s\n' '$FIXTURES_BIN/k3s-upstream' "\$ISOLATED_CGROUP" >/run/k3s-wrapper
chmod +x /run/k3s-wrapper
export K3S_SANDBOX_K3S=/run/k3s-wrapper K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' KUBECONFIG=/root/.kube/config
ks() { node '$DIST/k3s-sandbox.cjs' "\$@"; }
helm() { '$FIXTURES_BIN/helm' "\$@"; }
CHART='$REPO_ROOT/test/fixtures/charts/busybox-web'
seconds_since() { awk "BEGIN { print \$(date +%s.%N) - \$1 }"; }
# The node's processes in this pid namespace, by command name (comm: at most 15 characters): containerd, its
# shims, the pods' pause and the test containers' httpd.
node_processes() { ps -eo comm= | grep -cxE 'containerd|containerd-shim|pause|httpd' || true; }
PRELUDE
}

@test "server mode natively: auto picks server, real pods run (Deployment, logs, exec, ClusterIP, Job, helm --wait), down stops them, up brings them back" {
  host_log_before="$(find /var/log/k3s-sandbox -name k3s.log -printf '%T@' 2>/dev/null || true)"
  run isolated_node "$(server_prelude)
start=\$(date +%s.%N)
ks up --wait-node
echo \"up_to_ready_seconds=\$(seconds_since \$start)\"
ks status | head -1
kubectl get nodes -o wide
until kubectl get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done
kubectl create deployment web --image=docker.io/library/busybox:1.35 -- sh -c 'echo hello-from-pod; mkdir -p /www; echo served-by-pod >/www/index.html; exec httpd -f -p 8080 -h /www'
kubectl expose deployment web --port=80 --target-port=8080
kubectl rollout status deployment/web --timeout=120s
echo \"up_to_first_running_pod_seconds=\$(seconds_since \$start)\"
echo \"logs: \$(kubectl logs deployment/web)\"
echo \"exec: \$(kubectl exec deployment/web -- cat /www/index.html)\"
ip=\$(kubectl get service web -o jsonpath='{.spec.clusterIP}')
for attempt in \$(seq 20); do reply=\$(curl -sS -m 3 http://\$ip/ 2>/dev/null) && break; sleep 0.5; done
echo \"service: \$reply\"
kubectl create job done --image=docker.io/library/busybox:1.35 -- sh -c 'echo job-ran'
kubectl wait --for=condition=complete job/done --timeout=120s
echo \"job: \$(kubectl logs job/done)\"
helm install demo \$CHART --wait --timeout 120s >/dev/null && echo 'helm: deployed'
ip=\$(kubectl get service demo-web -o jsonpath='{.spec.clusterIP}')
for attempt in \$(seq 20); do reply=\$(curl -sS -m 3 http://\$ip/ 2>/dev/null) && break; sleep 0.5; done
echo \"chart service: \$reply\"
echo \"node processes before down: \$(node_processes)\"
ks down
echo \"node processes after down: \$(node_processes)\"
ps -eo pid,ppid,comm,args | grep -E 'shim|pause|httpd' | grep -v grep | cut -c1-150
second_up=\$(date -u +%Y-%m-%dT%H:%M:%SZ)
ks up --mode server --wait-node
# The pods' status is stale until kubelet has restarted them: count containers started since this up.
restarted() { kubectl get pods -o jsonpath='{range .items[*]}{.status.containerStatuses[0].state.running.startedAt}{\"\\n\"}{end}' | awk -v since=\$second_up '\$1 >= since' | wc -l; }
for attempt in \$(seq 240); do [ \"\$(restarted)\" -ge 2 ] && break; sleep 0.5; done
echo \"after second up: \$(restarted) pods running again\"
ks down >/dev/null
"
  echo "$output"
  grep -E '^up_to_(ready|first_running_pod)_seconds=' <<<"$output" | sed 's/^/# /' >&3
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mode server: the kernel allows a full server" ]]
  [[ "$output" =~ "k3s-sandbox: running, ready, mode server" ]]
  [[ "$output" =~ "real-node   Ready" ]]
  [[ "$output" =~ "--kubelet-arg=fail-cgroupv1=false: this sandbox has cgroup v1" ]]
  [[ "$output" =~ "logs: hello-from-pod" ]]
  [[ "$output" =~ "exec: served-by-pod" ]]
  [[ "$output" =~ "service: served-by-pod" ]]
  [[ "$output" =~ "job: job-ran" ]]
  [[ "$output" =~ "helm: deployed" ]]
  [[ "$output" =~ "chart service: served-by-chart" ]]
  # containerd, 4 shims, 4 pause, 2 httpd (the Job's pod has completed)
  [[ "$output" =~ "node processes before down: "[1-9] ]]
  [[ "$output" =~ "node processes after down: 0" ]]
  [[ "$output" =~ "after second up: 2 pods running again" ]]
  # The product's log went to the scenario's tmpfs, not the machine's /var/log.
  [ "$(find /var/log/k3s-sandbox -name k3s.log -printf '%T@' 2>/dev/null || true)" = "$host_log_before" ]
}
