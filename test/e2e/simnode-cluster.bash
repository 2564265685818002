# The real API server (build/fixtures/k3s-upstream: kube-apiserver, controller-manager and scheduler over kine)
# and the simulated node, in a private network namespace so nothing listens on the machine's own loopback.
# Shared by test/e2e/simnode.bats and bench/simnode/run.sh. Needs REPO_ROOT, FIXTURES_BIN and DIST (test/lib/common.bash).

# start_netns: a network namespace with lo up and a default route (over a veth pair that stays inside it: the API
# server picks its advertise address from the default route), held open by a sleeping process (NETNS_PID); killing
# that process ends the namespace.
start_netns() {
  unshare --net --fork --kill-child sh -c 'ip link set lo up && ip link add host0 type veth peer name host1 &&
    ip addr add 192.168.231.2/24 dev host0 && ip link set host1 up && ip link set host0 up &&
    ip route add default via 192.168.231.1 dev host0 && exec sleep 1000000' 3>&- &
  NETNS_PID=$!
  for _ in $(seq 100); do
    # Until unshare has made the namespace, nsenter would enter this shell's own one: compare them first.
    if [ "$(readlink "/proc/$NETNS_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
      in_netns ip route show default 2>/dev/null | grep -q default; then
      return 0
    fi
    sleep 0.05
  done
  echo "the network namespace did not come up" >&2
  return 1
}

in_netns() {
  nsenter -t "$NETNS_PID" -n "$@"
}

kubectl() {
  in_netns env KUBECONFIG="$CLUSTER_DIR/kubeconfig" "$FIXTURES_BIN/k3s-upstream" kubectl "$@"
}

helm() {
  in_netns env KUBECONFIG="$CLUSTER_DIR/kubeconfig" HELM_CACHE_HOME="$CLUSTER_DIR/helm/cache" \
    HELM_CONFIG_HOME="$CLUSTER_DIR/helm/config" HELM_DATA_HOME="$CLUSTER_DIR/helm/data" "$FIXTURES_BIN/helm" "$@"
}

# start_cluster DIR: the API server in its own namespace, data and logs under DIR; waits for /readyz (sets APISERVER_PID).
start_cluster() {
  CLUSTER_DIR="$1"
  mkdir -p "$CLUSTER_DIR/bin"
  # The k3s-shaped server looks up flannel's IPAM plugin on PATH even without an agent; any executable will do.
  printf '#!/bin/sh\nexit 0\n' >"$CLUSTER_DIR/bin/host-local"
  chmod +x "$CLUSTER_DIR/bin/host-local"
  start_netns
  # nsenter execs the command (no fork for a network namespace), so $! is the server itself.
  # K3S_UPSTREAM_GLOBAL_KUBECONFIG: root's default admin kubeconfig link goes here, not into the machine's /etc/rancher.
  PATH="$CLUSTER_DIR/bin:$PATH" K3S_UPSTREAM_GLOBAL_KUBECONFIG="$CLUSTER_DIR/global-k3s.yaml" nsenter -t "$NETNS_PID" -n "$FIXTURES_BIN/k3s-upstream" server --disable-agent --data-dir="$CLUSTER_DIR/data" \
    --write-kubeconfig="$CLUSTER_DIR/kubeconfig" --https-listen-port=6443 --bind-address=127.0.0.1 \
    --egress-selector-mode=disabled >"$CLUSTER_DIR/server.log" 2>&1 3>&- &
  APISERVER_PID=$!
  echo "$APISERVER_PID" >"$CLUSTER_DIR/apiserver.pid"
  local started=$SECONDS
  until [ -s "$CLUSTER_DIR/kubeconfig" ] && kubectl get --raw /readyz >/dev/null 2>&1; do
    if ! kill -0 "$APISERVER_PID" 2>/dev/null || [ $((SECONDS - started)) -gt "${CLUSTER_START_TIMEOUT:-180}" ]; then
      echo "the API server did not become ready; its log ends:" >&2
      tail -n 30 "$CLUSTER_DIR/server.log" >&2
      return 1
    fi
    sleep 0.2
  done
  # The default ServiceAccount appears a moment after /readyz; pods are refused until it exists.
  until kubectl get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
  CLUSTER_START_SECONDS=$((SECONDS - started))
}

# start_simnode [ARGS...]: the controller from the bundle, in the namespace, logging to CLUSTER_DIR/simnode.log;
# its pid goes to SIMNODE_PID and CLUSTER_DIR/simnode.pid (bats runs each test in its own subshell).
start_simnode() {
  # shellcheck disable=SC2086 # SIMNODE_NODE_FLAGS: node's own flags, word-split on purpose (bench only).
  nsenter -t "$NETNS_PID" -n node ${SIMNODE_NODE_FLAGS:-} "$DIST/k3s-sandbox.cjs" simulate-node --kubeconfig "$CLUSTER_DIR/kubeconfig" "$@" \
    >>"$CLUSTER_DIR/simnode.log" 2>&1 3>&- &
  SIMNODE_PID=$!
  echo "$SIMNODE_PID" >"$CLUSTER_DIR/simnode.pid"
}

# wait_gone PID: polls until the process has exited (it need not be a child of this shell).
wait_gone() {
  for _ in $(seq 200); do
    [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.05
  done
  return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s; only for processes this file started.
stop_pid() {
  [ -n "${1:-}" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  wait_gone "$1" || kill -KILL "$1" 2>/dev/null || true
}

stop_cluster() {
  stop_pid "$(cat "$CLUSTER_DIR/simnode.pid" 2>/dev/null)"
  stop_pid "$(cat "$CLUSTER_DIR/apiserver.pid" 2>/dev/null)"
  stop_pid "${NETNS_PID:-}"
}
