#!/usr/bin/env bats
# The upstream-assembled k3s (test/fixtures/k3s-upstream) as a real process: its k3s-shaped CLI, and the real
# kube-apiserver, controller-manager and scheduler over kine, natively (in private net and mount namespaces, so
# ports 6443/10257/10259 never meet the host's) and in gVisor. Measurements are printed, not asserted.

load '../lib/common'

setup_file() {
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/helm" test/fixtures/helm/build.sh
}

setup() {
  K3S="$FIXTURES_BIN/k3s-upstream"
  LIFECYCLE="$REPO_ROOT/test/fixtures/k3s-upstream/lifecycle-test.sh"
  T="$BATS_TEST_TMPDIR"
  export K3S_UPSTREAM_GLOBAL_KUBECONFIG="$T/etc/k3s.yaml" KUBECACHEDIR="$T/kube-cache"
}

# in_private_net CMD...: runs CMD in new network and mount namespaces with loopback up; they vanish with it.
in_private_net() {
  unshare --net --mount -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
}

# show_measurements: prints the key=value lines of the last run as TAP diagnostics.
show_measurements() {
  printf '%s\n' "$output" | grep -E '^[a-z_]+=' | sed "s/^/# $1: /" >&3
}

@test "--version prints the k3s version line and the Go version, like k3s" {
  run "$K3S" --version
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "k3s version v1.36.4+k3s1 (upstream-assembled)" ]
  [[ "${lines[1]}" =~ ^go\ version\ go1\.2[6-9] ]]
}

@test "an unknown server flag is rejected with urfave/cli's text and exit 1, like k3s" {
  run "$K3S" server --disable-agent --xyz
  [ "$status" -eq 1 ]
  [[ "$output" == *"Incorrect Usage: flag provided but not defined: -xyz"* ]]
  [[ "$output" == *'level=fatal msg="Error: flag provided but not defined: -xyz"'* ]]
}

@test "with the agent, a flannel backend other than none or a bad snapshotter is refused by name, creating nothing" {
  run "$K3S" server --data-dir "$T/data"
  [ "$status" -eq 1 ]
  [[ "$output" == *"k3s-upstream runs no flannel: --flannel-backend=vxlan is not built in; pass --flannel-backend=none"* ]]
  run "$K3S" server --data-dir "$T/data" --flannel-backend=host-gw
  [ "$status" -eq 1 ]
  [[ "$output" == *"--flannel-backend=host-gw is not built in"* ]]
  run "$K3S" server --data-dir "$T/data" --flannel-backend=none --snapshotter=zfs
  [ "$status" -eq 1 ]
  [[ "$output" == *'invalid snapshotter \"zfs\": must be one of overlayfs, native, fuse-overlayfs, stargz'* ]]
  [ ! -e "$T/data" ]
}

@test "--log sends the server's log lines to the file instead of stderr" {
  run "$K3S" server --data-dir "$T/data" --log "$T/k3s.log"
  [ "$status" -eq 1 ]
  [[ "$output" != *"Starting k3s"* ]]
  grep -q 'level=info msg="Starting k3s v1.36.4+k3s1' "$T/k3s.log"
  grep -q 'level=fatal msg="Error: k3s-upstream runs no flannel' "$T/k3s.log"
}

@test "k3s flags it cannot honour are errors that name them" {
  run "$K3S" server --disable-agent --data-dir "$T/data" --cluster-init
  [ "$status" -eq 1 ]
  [[ "$output" == *"does not implement --cluster-init"* ]]
  run "$K3S" server --disable-agent --data-dir "$T/data" --egress-selector-mode=pod
  [ "$status" -eq 1 ]
  [[ "$output" == *"does not implement --egress-selector-mode=pod"* ]]
  run "$K3S" server --disable-agent --data-dir "$T/data" --egress-selector-mode=bogus
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid egress-selector-mode bogus"* ]]
}

@test "k3s kubectl and a kubectl symlink to k3s are the real kubectl" {
  run "$K3S" kubectl version --client -o json
  [ "$status" -eq 0 ]
  [ "$(printf '%s' "$output" | jq -r .clientVersion.gitVersion)" = v1.36.3 ]
  ln -s "$K3S" "$T/kubectl"
  run "$T/kubectl" create configmap probe --from-literal=a=b --dry-run=client -o jsonpath='{.data.a}'
  [ "$status" -eq 0 ]
  [ "$output" = b ]
}

@test "without host-local on PATH the server logs k3s's agent-configuration wait" {
  run in_private_net timeout --foreground -s TERM 20 env PATH=/usr/bin:/bin "$K3S" server --disable-agent --data-dir "$T/data" \
    --write-kubeconfig "$T/k3s.yaml" --bind-address 127.0.0.1 --node-ip 127.0.0.1 --egress-selector-mode=disabled
  # GNU timeout signals the whole process group unless --foreground, which k3s would take as a second signal.
  [ "$status" -eq 124 ] # timeout's own status once its TERM ended the server
  [[ "$output" == *'msg="k3s stopped"'* ]] || { printf "%s\n" "$output" | grep -v "^[IW][0-9]" | tail -20; false; }
  [[ "$output" == *'Waiting to retrieve agent configuration; server is not ready: failed to find host-local: exec: \"host-local\": executable file not found in $PATH'* ]]
}

@test "without a default route or --node-ip the apiserver cannot choose an advertise address and the server exits 1" {
  run in_private_net timeout --foreground -s TERM 60 "$K3S" server --disable-agent --data-dir "$T/data" --write-kubeconfig "$T/k3s.yaml" \
    --bind-address 127.0.0.1 --egress-selector-mode=disabled
  [ "$status" -eq 1 ]
  [[ "$output" == *'level=fatal msg="apiserver exited: Unable to find suitable network address'* ]]
}

@test "a second SIGTERM during the graceful stop exits 1 at once, like k3s" {
  mkdir -p "$T/cni" && printf '#!/bin/sh\n' >"$T/cni/host-local" && chmod +x "$T/cni/host-local"
  run in_private_net bash -c '
    PATH="$1:$PATH" "$2" server --disable-agent --node-ip 127.0.0.1 --data-dir "$3/data" --write-kubeconfig "$3/k3s.yaml" \
      --bind-address 127.0.0.1 --egress-selector-mode=disabled 2>"$3/log" &
    pid=$!
    for i in $(seq 600); do grep -q "k3s is up and running" "$3/log" && break; sleep 0.1; done
    kill -TERM "$pid"; sleep 0.2; kill -TERM "$pid"
    rc=0; wait "$pid" || rc=$?
    echo "rc=$rc"' sh "$T/cni" "$K3S" "$T"
  [ "$output" = rc=1 ]
  grep -q 'level=error msg="Received second signal, exiting immediately"' "$T/log"
}

@test "native: the plan's control-plane flags give a ready API that keeps a ConfigMap across a SIGTERM restart" {
  run in_private_net bash "$LIFECYCLE" "$K3S" "$T/work" 180
  show_measurements native
  [ "$status" -eq 0 ]
  [[ "$output" == *"namespaces="*default*kube-node-lease*kube-public*kube-system* ]]
  [[ "$output" == *"lifecycle=ok"* ]]
}

@test "gVisor: the same lifecycle on the real API server under runsc ptrace" {
  run gvisor bash "$LIFECYCLE" "$K3S" /tmp/k3s-upstream-lifecycle 600
  show_measurements gvisor
  [ "$status" -eq 0 ]
  [[ "$output" == *"lifecycle=ok"* ]]
}

@test "helm version works" {
  run "$FIXTURES_BIN/helm" version --short
  [ "$status" -eq 0 ]
  [[ "$output" == v3.22.0* ]]
}
