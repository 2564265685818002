# One gVisor round of the simulated-node benchmark: run inside a sandbox by side-by-side.sh, as
#   runsc --network=none --platform=ptrace do env REPO_ROOT=… FIXTURES_BIN=… DIST=… KWOK=… SIZES=… \
#     SIMNODE_NODE_FLAGS=… bash bench/simnode/gvisor-round.bash simnode|kwok
# (its processes die with the sandbox, so the whole round is this one script). The API server is started as the
# product runs it, `k3s-sandbox up --mode control-plane` with the real API server (build/fixtures/k3s-upstream) as k3s;
# then the runner is pointed at it: the simulated node's controller with up's own V8 flags and argv (src/steps/
# simulatedNode.ts) plus --max-pods, since the node up registers takes the kubelet's default 110 pods and N goes to
# 1000; or kwok on a node of the same size.
set -eu
exec 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export K3S_SANDBOX_K3S="$FIXTURES_BIN/k3s-upstream" K3S_SANDBOX_BIN_DIR="$FIXTURES_BIN"
export KUBECONFIG=/run/k3s-sandbox/k3s.yaml
ln -sfn "$FIXTURES_BIN/k3s-upstream" /usr/local/bin/kubectl
. "$REPO_ROOT/bench/simnode/measure.bash"
NODE=k3s-sandbox-simulated
runner="$1"

start="$(now)"
node "$DIST/k3s-sandbox.cjs" up --mode control-plane >/tmp/up.log
until kubectl get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
echo "API server ready in $(elapsed "$start" "$(now)") s (k3s-sandbox up, then the default ServiceAccount); $(nproc) CPUs"

case "$runner" in
  simnode)
    # shellcheck disable=SC2086 # SIMNODE_NODE_FLAGS: node's own flags, word-split on purpose.
    node $SIMNODE_NODE_FLAGS "$DIST/k3s-sandbox.cjs" simulate-node --kubeconfig "$KUBECONFIG" --node-name "$NODE" \
      --max-pods "$MAX_PODS" >/tmp/simnode.log 2>&1 &
    pid=$!
    wait_node_ready "$NODE"
    ;;
  kwok)
    apply_kwok_node
    "$KWOK" --kubeconfig="$KUBECONFIG" "${KWOK_FLAGS[@]}" >/tmp/kwok.log 2>&1 &
    pid=$!
    wait_node_ready "$KWOK_NODE"
    ;;
  *) echo "gvisor-round.bash: runner ${runner@Q}: allowed: simnode, kwok" >&2; exit 2 ;;
esac
printf '%s\tRSS idle %s MiB\n' "$runner" "$(rss_mib "$pid" VmRSS)"
bench_runner "$runner" "$pid"
