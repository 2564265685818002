#!/usr/bin/env bash
# Benchmark of the simulated node: time from creating a Deployment of N replicas to all N Ready (N = 10, 100, 1000)
# against the real API server (build/fixtures/k3s-upstream) in a private network namespace, and the controller's
# resident memory. With KWOK=/path/to/kwok it runs kwok (kubernetes-sigs/kwok, default fast stages) against the same
# server afterwards, as the anchor. kwok is not part of this repository; build it outside it with
#   GOBIN=/tmp/kwok-bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0
# Usage: bench/simnode/run.sh [N...]     (env KWOK=/tmp/kwok-bin/kwok to add the kwok rows; RUNNERS="kwok" for kwok
# alone; SIMNODE_NODE_FLAGS="--max-semi-space-size=1" to try V8 flags on the controller)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../test/lib/common.bash"
. "$REPO_ROOT/test/e2e/simnode-cluster.bash"

SIZES="${*:-10 100 1000}"
MAX_PODS=1100
KWOK_NODE=kwok-node

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rss_mib() { awk -v f="$2" '$1 == f":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# time_rollout NAME N: seconds from `kubectl create deployment` to readyReplicas == N.
time_rollout() {
  local ns="bench-$1-$2" start end
  kubectl create namespace "$ns" >/dev/null
  start="$(now)"
  kubectl -n "$ns" create deployment web --image=registry.example/app:1 --replicas="$2" >/dev/null
  kubectl -n "$ns" wait deployment/web --for=jsonpath='{.status.readyReplicas}'="$2" --timeout=900s >/dev/null
  end="$(now)"
  elapsed "$start" "$end"
  kubectl delete namespace "$ns" --timeout=900s >/dev/null
}

# bench_runner NAME PID: one row per size, then the runner's memory.
bench_runner() {
  local name="$1" pid="$2" n
  for n in $SIZES; do
    printf '%s\tN=%s\t%s s to all Ready\n' "$name" "$n" "$(time_rollout "$name" "$n")"
  done
  printf '%s\tRSS now %s MiB, peak %s MiB\n' "$name" "$(rss_mib "$pid" VmRSS)" "$(rss_mib "$pid" VmHWM)"
}

wait_node_ready() {
  until kubectl get node "$1" >/dev/null 2>&1; do sleep 0.2; done
  kubectl wait --for=condition=Ready "node/$1" --timeout=120s >/dev/null
}

main() {
  require_built "$DIST/k3s-sandbox.mjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" 'bash test/fixtures/k3s-upstream/build.sh'
  CLUSTER_DIR="$(mktemp -d /tmp/simnode-bench.XXXXXX)"
  KWOK_PID=
  trap 'stop_pid "$KWOK_PID"; stop_cluster; rm -rf "$CLUSTER_DIR"' EXIT
  start_cluster "$CLUSTER_DIR"
  echo "API server ready in ${CLUSTER_START_SECONDS} s; $(nproc) CPUs; $(uname -r)"

  if [[ " ${RUNNERS:-simnode kwok} " == *" simnode "* ]]; then
    start_simnode --max-pods "$MAX_PODS"
    wait_node_ready k3s-sandbox-simulated
    printf 'simnode\tRSS idle %s MiB\n' "$(rss_mib "$SIMNODE_PID" VmRSS)"
    bench_runner simnode "$SIMNODE_PID"
    stop_pid "$SIMNODE_PID"
    kubectl delete node k3s-sandbox-simulated >/dev/null
  fi

  if [ -n "${KWOK:-}" ] && [[ " ${RUNNERS:-simnode kwok} " == *" kwok "* ]]; then
    kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_NODE
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: $KWOK_NODE, kubernetes.io/os: linux, type: kwok}
status:
  allocatable: {cpu: "$(nproc)", memory: 16Gi, pods: "$MAX_PODS"}
  capacity: {cpu: "$(nproc)", memory: 16Gi, pods: "$MAX_PODS"}
YAML
    nsenter -t "$NETNS_PID" -n "$KWOK" --kubeconfig="$CLUSTER_DIR/kubeconfig" --manage-all-nodes=false \
      --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --cidr=10.44.0.1/16 --node-ip=127.0.0.1 \
      --node-lease-duration-seconds=40 \
      >"$CLUSTER_DIR/kwok.log" 2>&1 3>&- &
    KWOK_PID=$!
    wait_node_ready "$KWOK_NODE"
    printf 'kwok\tRSS idle %s MiB\n' "$(rss_mib "$KWOK_PID" VmRSS)"
    bench_runner kwok "$KWOK_PID"
    stop_pid "$KWOK_PID"
  fi
}

main
