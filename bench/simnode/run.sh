#!/usr/bin/env bash
# Benchmark of the simulated node: time from creating a Deployment of N replicas to all N Ready (N = 10, 100, 1000)
# against the real API server (build/fixtures/k3s-upstream) in a private network namespace, and the controller's
# resident memory. With KWOK=/path/to/kwok it runs kwok (kubernetes-sigs/kwok, default fast stages) against the same
# server afterwards, as the anchor. kwok is not part of this repository; build it outside it with
#   GOBIN=/tmp/kwok-build/bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0
# Usage: bench/simnode/run.sh [N...]     (env KWOK=/tmp/kwok-build/bin/kwok to add the kwok rows; RUNNERS="kwok" for kwok
# alone; SIMNODE_NODE_FLAGS="--max-semi-space-size=1" to try V8 flags on the controller)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../test/lib/common.bash"
. "$REPO_ROOT/test/e2e/simnode-cluster.bash"

SIZES="${*:-10 100 1000}"
# BENCH_DIST: a copy of dist/ to run (bench/simnode/side-by-side.sh passes one, so a rebuild meanwhile changes nothing).
DIST="${BENCH_DIST:-$DIST}"
# BENCH_FIXTURES_BIN: fixtures whose k3s-upstream may add server flags (side-by-side.sh SERVER_QPS).
FIXTURES_BIN="${BENCH_FIXTURES_BIN:-$FIXTURES_BIN}"
. "$here/measure.bash"

main() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
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
    apply_kwok_node
    nsenter -t "$NETNS_PID" -n "$KWOK" --kubeconfig="$CLUSTER_DIR/kubeconfig" "${KWOK_FLAGS[@]}" \
      >"$CLUSTER_DIR/kwok.log" 2>&1 3>&- &
    KWOK_PID=$!
    wait_node_ready "$KWOK_NODE"
    printf 'kwok\tRSS idle %s MiB\n' "$(rss_mib "$KWOK_PID" VmRSS)"
    bench_runner kwok "$KWOK_PID"
    stop_pid "$KWOK_PID"
  fi
}

main
