#!/usr/bin/env bats
# simulateNode as a user gets it: `k3s-sandbox up` in control-plane mode on the real API server
# (build/fixtures/k3s-upstream) in real gVisor (runsc --platform=ptrace, --network=none), with the controller under its
# own k3s-sandbox-supervise (issue 14). One sandbox runs every check in order (processes die with their sandbox):
# off first (nothing of it runs), then turned on for the running cluster, a warm up, Helm, workloads, a SIGKILLed
# controller, down. test/e2e/simnode.bats keeps the controller's own scenarios natively (faster).
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/helm" test/fixtures/helm/build.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
  MAIN_OUT="$BATS_FILE_TMPDIR/main.out"
  export MAIN_OUT
  gvisor_script "export REPO_ROOT='$REPO_ROOT' FIXTURES_BIN='$FIXTURES_BIN' DIST='$DIST'
exec 2>&1
for name in off on warm_up max_pods helm workloads sigkill down; do
  rc=0
  echo \"=== check \$name\"
  bash -eu -c \". '$REPO_ROOT/test/e2e/simnode-gvisor/checks.bash'; check_\$name\" </dev/null || rc=\$?
  echo \"=== end \$name rc=\$rc\"
done
echo '=== simnode log'
tail -n 40 /var/log/k3s-sandbox/simnode.log 2>/dev/null || true
" >"$MAIN_OUT" || true
}

# passed NAME: the output of check NAME in $output; fails (showing it and the controller's log) unless it exited 0.
passed() {
  run awk -v start="=== check $1" -v stop="=== end $1 rc=" '
    $0 == start { on = 1; next }
    on && index($0, stop) == 1 { print "rc=" substr($0, length(stop) + 1); exit }
    on' "$MAIN_OUT"
  if [ -z "$output" ]; then
    echo "check $1 never ran; the sandbox printed:"
    cat "$MAIN_OUT"
    return 1
  fi
  echo "$output"
  [ "${lines[-1]}" = rc=0 ] || { sed -n '/^=== simnode log$/,$p' "$MAIN_OUT"; return 1; }
}

@test "with simulateNode off, nothing of the simulated node runs and there is no node" {
  passed off
  [[ "$output" == *"mode control-plane (gVisor)"* ]]
  [[ "$output" != *"pods are simulated"* ]]
  [[ "$output" == *"simnode processes: 0"* ]]
  [[ "$output" == *"simnode files: []"* ]]
  [[ "$output" == *"status simulatedNode: null"* ]]
  [[ "$output" == *"nodes: 0"* ]]
}

@test "K3S_SANDBOX_SIMULATE_NODE=true on a running cluster: up starts the controller under its supervisor; the node is Ready; up and status say pods are simulated" {
  passed on
  [[ "$output" == *"started the simulated node k3s-sandbox-simulated under k3s-sandbox-supervise"* ]]
  [[ "$output" =~ "k3s-sandbox: already running, mode control-plane (gVisor), simulated node k3s-sandbox-simulated, KUBECONFIG="[^\;]*"; pods are simulated: they schedule and report Running, but containers do not run" ]]
  [[ "$output" == *"connection refused"* ]]
  [[ "$output" == *"node/k3s-sandbox-simulated condition met"* ]]
  [[ "$output" == *"simulated node k3s-sandbox-simulated: Ready; pods are simulated; controller running"* ]]
  [[ "$output" == *'{"name":"k3s-sandbox-simulated","state":"running","nodeReady":true,"starts":1}'* ]]
  [[ "$output" == *"simnode processes: 2"* ]] # its supervisor and the controller
  [[ "$output" == *"$FIXTURES_BIN/k3s-sandbox-supervise --log /var/log/k3s-sandbox/simnode.log --status /run/k3s-sandbox/simnode.status.json --pidfile /run/k3s-sandbox/simnode.pid"* ]]
  [[ "$output" == *"--max-semi-space-size=1 --lite-mode $DIST/k3s-sandbox.cjs simulate-node --kubeconfig /run/k3s-sandbox/k3s.yaml --node-name k3s-sandbox-simulated"* ]]
  [[ "$output" == *"simnode files: [simnode.json simnode.pid simnode.status.json ]"* ]]
}

@test "a warm up keeps the controller; up --json and the SessionStart context say pods are simulated" {
  passed warm_up
  [[ "$output" == *"warm up kept the controller: yes"* ]]
  [[ "$output" =~ '{"name":"k3s-sandbox-simulated","supervisorPid":'[0-9]+'}' ]]
  [[ "$output" == *"session context: k3s-sandbox: already running, mode control-plane (gVisor), simulated node k3s-sandbox-simulated"*"pods are simulated"* ]]
  [[ "$output" == *"Pods are simulated: node k3s-sandbox-simulated is not a real kubelet"* ]]
}

@test "K3S_SANDBOX_SIMULATE_NODE_MAX_PODS=250: up keeps k3s, restarts the controller with --max-pods 250, and the node's pod capacity is 250" {
  passed max_pods
  [[ "$output" == *"already running, mode control-plane"* ]]
  [[ "$output" == *"stopping the simulated node k3s-sandbox-simulated"*"to start it as configured"* ]]
  [[ "$output" == *"capacity pods: 250/250"* ]]
  [[ "$output" == *"controller: --max-pods 250 "* ]]
}

@test "helm install --wait of a chart with a Deployment, a Service, a ConfigMap and a post-install Job hook completes; helm uninstall completes" {
  passed helm
  [[ "$output" == *"STATUS: deployed"* ]]
  [[ "$output" == *"job succeeded: 1"* ]]
  [[ "$output" == *"ready replicas: 2"* ]]
  [[ "$output" == *"endpoints: 2"* ]]
  [[ "$output" == *'release "demo" uninstalled'* ]]
  [[ "$output" == *'deployments.apps "demo-web" not found'* ]]
}

@test "rollout status, scale up and down, kubectl wait --for=condition=Ready, a Job to completion, and deleting a namespace with pods in it" {
  passed workloads
  [[ "$output" == *'deployment "web" successfully rolled out'* ]]
  [[ "$output" == *"condition met"* ]]
  [[ "$output" == *"running after scale down: 1/1"* ]]
  [[ "$output" == *"job.batch/once condition met"* ]]
  [[ "$output" == *"job pods: Succeeded"* ]]
  [[ "$output" == *"logs: "*"dial tcp 127.0.0.1:10250: connect: connection refused"* ]]
  [[ "$output" == *'namespace "work" deleted'* ]]
  [[ "$output" == *'namespaces "work" not found'* ]]
}

@test "the controller killed with SIGKILL is restarted by its supervisor and catches up: pods created meanwhile become Running" {
  passed sigkill
  [[ "$output" == *'deployment "web" successfully rolled out'* ]]
  [[ "$output" =~ '"state":"running","starts":2,"crashes":1,"lastExit":"signal 9","nodeReady":true' ]]
  before="$(sed -n 's/^controller pid before: //p' <<<"$output")"
  after="$(sed -n 's/^controller pid after: //p' <<<"$output")"
  [ -n "$after" ] && [ "$after" != "$before" ] && [ "$after" != null ]
}

@test "down stops the controller and leaves no simnode file" {
  passed down
  [[ "$output" == *"stop the simulated node"* ]]
  [[ "$output" == *"simnode processes: 0"* ]]
  [[ "$output" == *"simnode files: []"* ]]
  [[ "$output" == *"our processes: 0"* ]]
}
