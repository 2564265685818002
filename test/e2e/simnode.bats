#!/usr/bin/env bats
# The simulated node (`k3s-sandbox simulate-node`, src/simnode/) against the real API server, controller-manager and
# scheduler (build/fixtures/k3s-upstream), natively in a private network namespace: one cluster for the file, one
# namespace per test. Rollouts, kubectl wait, Jobs, namespace deletion, DaemonSets, a SIGKILLed controller catching up,
# and helm install --wait with a post-install Job hook.
load '../lib/common'
load 'simnode-cluster'

NODE=k3s-sandbox-simulated

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" 'bash test/fixtures/k3s-upstream/build.sh'
  export CLUSTER_DIR NETNS_PID
  start_cluster "$(mktemp -d "${BATS_RUN_TMPDIR:-/tmp}/simnode-cluster.XXXXXX")"
  start_simnode
  until kubectl get node "$NODE" >/dev/null 2>&1; do
    kill -0 "$SIMNODE_PID" || { cat "$CLUSTER_DIR/simnode.log" >&2; return 1; }
    sleep 0.2
  done
  kubectl wait --for=condition=Ready "node/$NODE" --timeout=60s >/dev/null
}

teardown_file() {
  stop_cluster
  [ -z "${CLUSTER_DIR:-}" ] || rm -rf "$CLUSTER_DIR"
}

teardown() {
  if [ -n "${BATS_TEST_COMPLETED:-}" ] || [ -z "${CLUSTER_DIR:-}" ]; then return 0; fi
  echo "--- simulate-node log (last 40 lines)" >&2
  tail -n 40 "$CLUSTER_DIR/simnode.log" >&2 || true
}

ns() {
  echo "t${BATS_TEST_NUMBER}"
}

create_deployment() {
  kubectl -n "$1" create deployment "$2" --image=registry.example/app:1 --replicas="$3" >/dev/null
}

@test "the node is registered Ready, labelled and annotated as simulated, untainted, with host capacity and a renewed lease" {
  run kubectl get node "$NODE" -o json
  [ "$status" -eq 0 ]
  node="$output"
  [ "$(jq -r '.metadata.labels["k3s-sandbox.io/simulated"]' <<<"$node")" = true ]
  jq -e '.metadata.annotations["k3s-sandbox.io/simulated"] | test("no container runs")' <<<"$node"
  [ "$(jq -r '.status.conditions[] | select(.type=="Ready") | .status' <<<"$node")" = True ]
  [ "$(jq -r '.spec.taints // [] | length' <<<"$node")" = 0 ]
  [ "$(jq -r '.spec.unschedulable // false' <<<"$node")" = false ]
  [ "$(jq -r '.status.capacity.cpu' <<<"$node")" = "$(nproc)" ]
  [ "$(jq -r '.status.capacity.pods' <<<"$node")" = 110 ]
  [ "$(jq -r '.status.capacity.memory' <<<"$node")" = "$(awk '/MemTotal/ {print $2 "Ki"}' /proc/meminfo)" ]
  first="$(kubectl -n kube-node-lease get lease "$NODE" -o jsonpath='{.spec.renewTime}')"
  [ -n "$first" ]
  sleep 11
  second="$(kubectl -n kube-node-lease get lease "$NODE" -o jsonpath='{.spec.renewTime}')"
  [ "$second" != "$first" ]
}

@test "a Deployment of 3 rolls out; its pods are Running with unique pod IPs, a hostIP and a startTime" {
  kubectl create namespace "$(ns)" >/dev/null
  create_deployment "$(ns)" web 3
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  run kubectl -n "$(ns)" get pods -l app=web -o json
  [ "$status" -eq 0 ]
  [ "$(jq '[.items[] | select(.status.phase=="Running")] | length' <<<"$output")" = 3 ]
  [ "$(jq '[.items[].status.podIP] | unique | length' <<<"$output")" = 3 ]
  jq -e 'all(.items[]; (.status.podIP | startswith("10.42.")) and .status.hostIP == "127.0.0.1" and .status.startTime != null)' <<<"$output"
  jq -e 'all(.items[].status.containerStatuses[]; .ready and .started and .state.running != null)' <<<"$output"
  jq -e 'all(.items[]; [.status.conditions[] | select(.status=="True") | .type] | contains(["PodScheduled","Initialized","ContainersReady","Ready"]))' <<<"$output"
}

@test "scaling up and down completes, and kubectl wait --for=condition=Ready sees every pod" {
  kubectl create namespace "$(ns)" >/dev/null
  create_deployment "$(ns)" web 2
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  kubectl -n "$(ns)" scale deployment/web --replicas=6 >/dev/null
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  kubectl -n "$(ns)" wait --for=condition=Ready pod -l app=web --timeout=60s
  [ "$(kubectl -n "$(ns)" get pods -l app=web --no-headers | wc -l)" -eq 6 ]
  kubectl -n "$(ns)" scale deployment/web --replicas=1 >/dev/null
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  # Terminated pods are deleted (grace period 0) rather than left Terminating.
  for _ in $(seq 100); do
    [ "$(kubectl -n "$(ns)" get pods -l app=web --no-headers 2>/dev/null | wc -l)" -eq 1 ] && break
    sleep 0.2
  done
  [ "$(kubectl -n "$(ns)" get pods -l app=web --no-headers | wc -l)" -eq 1 ]
}

@test "a rolling update replaces the pods" {
  kubectl create namespace "$(ns)" >/dev/null
  create_deployment "$(ns)" web 3
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  kubectl -n "$(ns)" set image deployment/web app=registry.example/app:2 >/dev/null
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  run kubectl -n "$(ns)" get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image} {.status.containerStatuses[0].image}{"\n"}{end}'
  [ "$status" -eq 0 ]
  [ "$(grep -c '^registry.example/app:2 registry.example/app:2$' <<<"$output")" -eq 3 ]
}

@test "a Job runs to completion, with an init container" {
  kubectl create namespace "$(ns)" >/dev/null
  kubectl -n "$(ns)" apply -f - >/dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      initContainers: [{name: setup, image: registry.example/tool:1}]
      containers: [{name: work, image: registry.example/tool:1}]
YAML
  kubectl -n "$(ns)" wait --for=condition=Complete job/once --timeout=60s
  run kubectl -n "$(ns)" get pods -l job-name=once -o json
  jq -e '(.items | length) == 2 and all(.items[]; .status.phase == "Succeeded")' <<<"$output"
  jq -e 'all(.items[].status.containerStatuses[]; .state.terminated.exitCode == 0 and .state.terminated.reason == "Completed")' <<<"$output"
  jq -e 'all(.items[].status.initContainerStatuses[]; .state.terminated.exitCode == 0)' <<<"$output"
}

@test "a DaemonSet's pod lands on the node and is Ready" {
  kubectl create namespace "$(ns)" >/dev/null
  kubectl -n "$(ns)" apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      hostNetwork: true
      containers: [{name: agent, image: registry.example/agent:1}]
YAML
  kubectl -n "$(ns)" rollout status daemonset/agent --timeout=60s
  run kubectl -n "$(ns)" get pods -l app=agent -o jsonpath='{.items[0].spec.nodeName} {.items[0].status.podIP}'
  [ "$output" = "$NODE 127.0.0.1" ]
}

@test "deleting a namespace with pods in it completes" {
  kubectl create namespace "$(ns)" >/dev/null
  create_deployment "$(ns)" web 4
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  kubectl delete namespace "$(ns)" --timeout=90s
  run kubectl get namespace "$(ns)"
  [ "$status" -ne 0 ]
}

@test "a pod with a finalizer stays Terminating until its finalizer is removed, then goes" {
  kubectl create namespace "$(ns)" >/dev/null
  kubectl -n "$(ns)" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: held, finalizers: [example.com/hold]}
spec:
  containers: [{name: app, image: registry.example/app:1}]
YAML
  kubectl -n "$(ns)" wait --for=condition=Ready pod/held --timeout=60s
  kubectl -n "$(ns)" delete pod held --wait=false >/dev/null
  sleep 2
  [ "$(kubectl -n "$(ns)" get pod held -o jsonpath='{.metadata.finalizers[0]}')" = example.com/hold ]
  kubectl -n "$(ns)" patch pod held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
  kubectl -n "$(ns)" wait --for=delete pod/held --timeout=30s
}

@test "kubectl logs fails: no kubelet answers for the simulated node" {
  kubectl create namespace "$(ns)" >/dev/null
  kubectl -n "$(ns)" run solo --image=registry.example/app:1 >/dev/null
  kubectl -n "$(ns)" wait --for=condition=Ready pod/solo --timeout=60s
  run kubectl -n "$(ns)" logs solo --request-timeout=20s
  echo "$output" >"$CLUSTER_DIR/logs-error.txt"
  [ "$status" -ne 0 ]
  [[ "$output" == *"127.0.0.1:10250"* ]]
}

@test "the controller SIGKILLed and restarted catches up: pods created meanwhile become Running" {
  kubectl create namespace "$(ns)" >/dev/null
  pid="$(cat "$CLUSTER_DIR/simnode.pid")"
  kill -KILL "$pid"
  wait_gone "$pid"
  create_deployment "$(ns)" web 3
  sleep 2
  [ "$(kubectl -n "$(ns)" get pods -l app=web --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l)" -eq 0 ]
  start_simnode
  kubectl -n "$(ns)" rollout status deployment/web --timeout=60s
  # Pods that were already Running keep their addresses; no address is handed out twice.
  run kubectl get pods -A -o jsonpath='{range .items[?(@.spec.hostNetwork!=true)]}{.status.podIP}{"\n"}{end}'
  [ "$(grep -c . <<<"$output")" -eq "$(sort -u <<<"$output" | grep -c .)" ]
}

@test "helm install --wait of a chart with a post-install Job hook completes, and helm uninstall completes" {
  [ -x "$FIXTURES_BIN/helm" ] || skip "build/fixtures/helm is not built (bash test/fixtures/helm/build.sh)"
  kubectl create namespace "$(ns)" >/dev/null
  helm install demo "$REPO_ROOT/test/fixtures/charts/simnode-app" --namespace "$(ns)" --wait --timeout 90s
  [ "$(kubectl -n "$(ns)" get job demo-migrate -o jsonpath='{.status.succeeded}')" = 1 ]
  [ "$(kubectl -n "$(ns)" get deployment demo-web -o jsonpath='{.status.readyReplicas}')" = 2 ]
  # Services get endpoints from the simulated pod IPs.
  [ "$(kubectl -n "$(ns)" get endpointslices -l kubernetes.io/service-name=demo-web -o json | jq '[.items[].endpoints[]?] | length')" = 2 ]
  helm uninstall demo --namespace "$(ns)" --wait --timeout 90s
  run kubectl -n "$(ns)" get deployment demo-web
  [ "$status" -ne 0 ]
}

@test "SIGTERM stops the controller cleanly with exit 0" {
  stop_pid "$(cat "$CLUSTER_DIR/simnode.pid")"
  start_simnode
  local lines_before
  lines_before=$(wc -l <"$CLUSTER_DIR/simnode.log")
  for _ in $(seq 600); do
    tail -n +"$((lines_before + 1))" "$CLUSTER_DIR/simnode.log" | grep -q 'watching pods' && break
    sleep 0.1
  done
  tail -n +"$((lines_before + 1))" "$CLUSTER_DIR/simnode.log" | grep -q 'watching pods'
  kill -TERM "$SIMNODE_PID"
  # Bounded: a controller that hangs after SIGTERM fails the test instead of holding the suite.
  wait_gone "$SIMNODE_PID" || { kill -KILL "$SIMNODE_PID"; echo "the controller was still running 10 s after SIGTERM" >&2; false; }
  rc=0
  wait "$SIMNODE_PID" || rc=$?
  [ "$rc" -eq 0 ]
  tail -n 1 "$CLUSTER_DIR/simnode.log" | grep -q 'stopped'
}
