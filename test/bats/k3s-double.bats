#!/usr/bin/env bats
# The k3s test double itself, as a real process: natively on loopback ports, and in gVisor for the
# sandbox failures that only a real gVisor kernel produces. Waits poll with generous bounds; they are
# not timing targets.

load '../lib/common'

setup_file() {
  "$REPO_ROOT/test/fixtures/k3s-double/build.sh"
}

setup() {
  DOUBLE="$FIXTURES_BIN/k3s-double"
  T="$BATS_TEST_TMPDIR"
  PORT="$(free_port)"
  DOUBLE_PID=""
  # Root's default kubeconfig is /etc/rancher/k3s/k3s.yaml: keep the host's /etc out of native tests.
  export K3S_DOUBLE_GLOBAL_KUBECONFIG="$T/etc/k3s.yaml" K3S_DOUBLE_READY_DELAY=300ms
  # kubectl keeps a discovery cache under ~/.kube/cache: keep it in the test's own directory too.
  export KUBECACHEDIR="$T/kube-cache"
  mkdir -p "$T/cni"
  printf '#!/bin/sh\necho "{\\"cniVersion\\": \\"1.0.0\\"}"\n' >"$T/cni/host-local"
  chmod +x "$T/cni/host-local"
}

teardown() {
  if [ -n "$DOUBLE_PID" ] && kill -0 "$DOUBLE_PID" 2>/dev/null; then
    kill -KILL "$DOUBLE_PID"
    wait "$DOUBLE_PID" 2>/dev/null || true
  fi
}

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

# start_double ARGS...: k3s server in the background, control-plane flags unless the test gives others.
start_double() {
  "$DOUBLE" server -d "$T/data" --https-listen-port "$PORT" --bind-address 127.0.0.1 "$@" 2>"$T/log" &
  DOUBLE_PID=$!
}

# wait_for_log TEXT [FILE]: until FILE (default $T/log) has TEXT, the double exits, or 20 s pass.
wait_for_log() {
  local i log="${2:-$T/log}"
  for i in $(seq 200); do
    grep -q -- "$1" "$log" 2>/dev/null && return 0
    kill -0 "$DOUBLE_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q -- "$1" "$log" || { echo "no '$1' in $log:"; cat "$log"; return 1; }
}

# wait_for_exit: waits for the double and leaves its exit status in EXIT.
wait_for_exit() {
  EXIT=0
  wait "$DOUBLE_PID" || EXIT=$?
  DOUBLE_PID=""
}

# extract_certs KUBECONFIG: ca.pem, cert.pem and key.pem in $T from the embedded data.
extract_certs() {
  local key file
  for key in certificate-authority-data:ca client-certificate-data:cert client-key-data:key; do
    file="$T/${key#*:}.pem"
    sed -n "s/^ *${key%:*}: //p" "$1" | base64 -d >"$file"
  done
}

# in_log_order TEXT...: each text appears in the log, each first occurrence after the previous one.
in_log_order() {
  local text at last=0
  for text in "$@"; do
    at="$(grep -n -F -m1 -- "$text" "$T/log" | cut -d: -f1)"
    [ -n "$at" ] && [ "$at" -gt "$last" ] || { echo "'$text' missing or out of order:"; cat "$T/log"; return 1; }
    last="$at"
  done
}

authed_curl() {
  curl -sS --cacert "$T/ca.pem" --cert "$T/cert.pem" --key "$T/key.pem" "$@"
}

@test "--version prints the k3s version line and a go version line; K3S_DOUBLE_VERSION overrides it" {
  run "$DOUBLE" --version
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "k3s version v1.33.5+k3s1 (double)" ]
  [[ "${lines[1]}" == "go version go1."* ]]
  K3S_DOUBLE_VERSION=v1.31.2+k3s1 run "$DOUBLE" -v
  [ "${lines[0]}" = "k3s version v1.31.2+k3s1 (double)" ]
}

@test "unknown flags, unknown subcommands and bad values exit 1 with an error naming them" {
  run "$DOUBLE" server --xyz
  [ "$status" -eq 1 ]
  [[ "$output" == *"Incorrect Usage: flag provided but not defined: -xyz"* ]]
  run "$DOUBLE" server --disable-agent --data-dir
  [ "$status" -eq 1 ]
  [[ "$output" == *"flag needs an argument: -data-dir"* ]]
  run "$DOUBLE" agent
  [ "$status" -eq 1 ]
  [[ "$output" == *'unknown command "agent"'* ]]
  run "$DOUBLE" server -d "$T/data" --flannel-backend=ipsec
  [ "$status" -eq 1 ]
  [[ "$output" == *'level=fatal msg="Error: invalid flannel-backend \"ipsec\": must be one of none, vxlan, host-gw, wireguard-native"'* ]]
  run "$DOUBLE" server -d "$T/data" --snapshotter zfs
  [ "$status" -eq 1 ]
  [[ "$output" == *'invalid snapshotter \"zfs\"'* ]]
  [ ! -e "$T/data/server/tls" ]
}

@test "control plane: kubeconfigs before ready, 503 then 401/200, kubectl works, READY=1, k3s log order" {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20); open(sys.argv[2], "wb").write(s.recv(64))' \
    "$T/notify.sock" "$T/notified" &
  local listener=$!
  while [ ! -S "$T/notify.sock" ]; do sleep 0.05; done
  K3S_DOUBLE_READY_DELAY=2s NOTIFY_SOCKET="$T/notify.sock" PATH="$PATH:$T/cni" \
    start_double --disable-agent --write-kubeconfig "$T/out/k3s.yaml" --write-kubeconfig-mode 644 --write-kubeconfig-group daemon \
    --disable traefik,servicelb --disable=coredns --kube-apiserver-arg=v=2 --kube-apiserver-arg feature-gates=A=true
  wait_for_log "Wrote kubeconfig $T/out/k3s.yaml"
  extract_certs "$T/out/k3s.yaml"

  run curl -sS --cacert "$T/ca.pem" "https://127.0.0.1:$PORT/ping"
  [ "$output" = "pong" ]
  run authed_curl -w '%{http_code}' "https://127.0.0.1:$PORT/readyz"
  [ "${lines[0]}" = "apiserver not ready" ]
  [ "${lines[1]}" = 503 ]
  wait_for_log "k3s is up and running"
  run curl -sS --cacert "$T/ca.pem" -w '\n%{http_code}' "https://127.0.0.1:$PORT/readyz"
  [ "${lines[0]}" = '{"apiVersion":"v1","code":401,"kind":"Status","message":"Unauthorized","metadata":{},"reason":"Unauthorized","status":"Failure"}' ]
  [ "${lines[1]}" = 401 ]
  run authed_curl "https://127.0.0.1:$PORT/readyz"
  [ "$output" = "ok" ]
  run kubectl --kubeconfig "$T/out/k3s.yaml" get --raw /readyz
  [ "$output" = "ok" ]
  run kubectl --kubeconfig "$T/out/k3s.yaml" get ns -o name
  [ "$output" = "$(printf 'namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system')" ]
  run kubectl --kubeconfig "$T/data/server/cred/admin.kubeconfig" get --raw /api/v1/nodes
  [[ "$output" == *'"items":[]'* ]]
  run authed_curl "https://127.0.0.1:$PORT/version"
  [[ "$output" == *'"gitVersion":"v1.33.5+k3s1"'*'"major":"1","minor":"33"'* ]]

  [ "$(find "$T/out/k3s.yaml" -printf '%m %g')" = "644 daemon" ]
  [ "$(find "$T/data/server/cred/admin.kubeconfig" -printf '%m')" = 600 ]
  [ "$(readlink "$K3S_DOUBLE_GLOBAL_KUBECONFIG")" = "$T/out/k3s.yaml" ]
  grep -q "server: https://127.0.0.1:$PORT" "$T/out/k3s.yaml"
  grep -q 'current-context: default' "$T/out/k3s.yaml"
  grep -q "client-certificate: $T/data/server/tls/client-admin.crt" "$T/data/server/cred/admin.kubeconfig"
  openssl x509 -in "$T/cert.pem" -noout -subject | grep -q 'O = system:masters, CN = system:admin'
  openssl x509 -in "$T/data/server/tls/serving-kube-apiserver.crt" -noout -ext subjectAltName |
    grep -q 'DNS:localhost.*IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'

  wait "$listener"
  [ "$(cat "$T/notified")" = "READY=1" ]
  in_log_order 'msg="Starting k3s v1.33.5+k3s1' 'msg="Running kube-apiserver ' 'msg="Waiting for API server to become available"' \
    "msg=\"Wrote kubeconfig $T/out/k3s.yaml\"" 'msg="Kube API server is now running"' 'msg="k3s is up and running"'
  grep -q 'kube-apiserver .*--v=2 --feature-gates=A=true"$' "$T/log"
  [[ "$(tail -n1 "$T/log")" =~ ^time=\"[0-9T:.-]+Z\"\ level=info\ msg=\"k3s\ is\ up\ and\ running\"$ ]]
}

@test "@kubernetes/client-node 1.4 lists namespaces and nodes, reads one, and sees /readyz and /version" {
  PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_log "k3s is up and running"
  run node --input-type=module -e "
    import * as k8s from '$REPO_ROOT/node_modules/@kubernetes/client-node/dist/index.js';
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(process.argv[1]);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    console.log((await core.listNamespace()).items.map((n) => n.metadata.name).join(','));
    console.log((await core.readNamespace({ name: 'kube-system' })).status.phase);
    console.log((await core.listNode()).items.length);
    console.log(await new k8s.Health(kc).readyz({}));
    console.log((await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion);
    await core.readNamespace({ name: 'absent' }).catch((e) => console.log(e.code));" "$K3S_DOUBLE_GLOBAL_KUBECONFIG"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'default,kube-node-lease,kube-public,kube-system\nActive\n0\ntrue\nv1.33.5+k3s1\n404')" ]
}

@test "restarts reuse the CAs and admin cert; a new bind address gets a new serving cert" {
  PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_log "k3s is up and running"
  kill -TERM "$DOUBLE_PID"
  wait_for_exit
  [ "$EXIT" -eq 0 ]
  local before after
  before="$(cat "$T/data/server/tls/server-ca.crt" "$T/data/server/tls/client-admin.crt" | sha256sum)"
  PATH="$PATH:$T/cni" "$DOUBLE" server -d "$T/data" --https-listen-port "$PORT" --bind-address 127.0.0.2 \
    --disable-agent 2>"$T/log" &
  DOUBLE_PID=$!
  wait_for_log "k3s is up and running"
  after="$(cat "$T/data/server/tls/server-ca.crt" "$T/data/server/tls/client-admin.crt" | sha256sum)"
  [ "$before" = "$after" ]
  openssl x509 -in "$T/data/server/tls/serving-kube-apiserver.crt" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.2'
  grep -q "server: https://127.0.0.2:$PORT" "$K3S_DOUBLE_GLOBAL_KUBECONFIG"
  extract_certs "$K3S_DOUBLE_GLOBAL_KUBECONFIG"
  run authed_curl "https://127.0.0.2:$PORT/readyz"
  [ "$output" = "ok" ]
}

@test "--disable-agent without host-local loops on agent configuration and stays 503 until one appears" {
  mkdir "$T/later"
  PATH="$PATH:$T/later" start_double --disable-agent
  wait_for_log "Wrote kubeconfig"
  sleep 1.5
  [ "$(grep -c 'level=info msg="Waiting to retrieve agent configuration; server is not ready: failed to find host-local: exec: \\"host-local\\": executable file not found in $PATH"' "$T/log")" -ge 2 ]
  extract_certs "$K3S_DOUBLE_GLOBAL_KUBECONFIG"
  run authed_curl "https://127.0.0.1:$PORT/readyz"
  [ "$output" = "apiserver not ready" ]
  ! grep -q "up and running" "$T/log"
  cp "$T/cni/host-local" "$T/later/"
  wait_for_log "k3s is up and running"
  run authed_curl "https://127.0.0.1:$PORT/readyz"
  [ "$output" = "ok" ]
}

@test "a port held by another process is a fatal 'address already in use', exit 1; the holder lives" {
  python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$PORT" &
  local holder=$!
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.05; done
  PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -q "level=fatal msg=\"Error: starting kubernetes: preparing server: init cluster datastore and https: listen tcp 127.0.0.1:$PORT: bind: address already in use\"" "$T/log"
  kill -0 "$holder"
  kill "$holder"
}

@test "SIGTERM shuts down gracefully with exit 0; a second signal exits 1 at once" {
  PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_log "k3s is up and running"
  kill -TERM "$DOUBLE_PID"
  wait_for_exit
  [ "$EXIT" -eq 0 ]
  grep -q 'msg="Received SIGTERM, shutting down"' "$T/log"
  ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null

  K3S_DOUBLE_SHUTDOWN_DELAY=60s PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_log "k3s is up and running"
  kill -INT "$DOUBLE_PID"
  wait_for_log "Received SIGINT"
  kill -TERM "$DOUBLE_PID"
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -q 'level=fatal msg="Received second signal, exiting immediately"' "$T/log"
}

@test "K3S_DOUBLE_POSTSTARTHOOK_FAILURES=2: two starts die with exit 255, the third is ready" {
  export K3S_DOUBLE_POSTSTARTHOOK_FAILURES=2
  local attempt
  for attempt in 1 2; do
    PATH="$PATH:$T/cni" start_double --disable-agent
    wait_for_exit
  [ "$EXIT" -eq 255 ]
    grep -q 'level=fatal msg="PostStartHook \\"start-service-ip-repair-controllers\\" failed: ' "$T/log"
    grep -q 'Wrote kubeconfig' "$T/log"
  done
  PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_log "k3s is up and running"
}

@test "K3S_DOUBLE_CRASH_AFTER exits 1 with a fatal line that long after ready; bad knobs are fatal" {
  K3S_DOUBLE_CRASH_AFTER=500ms PATH="$PATH:$T/cni" start_double --disable-agent
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -A1 'k3s is up and running' "$T/log" | grep -q 'level=fatal msg="apiserver exited: crash requested by K3S_DOUBLE_CRASH_AFTER=500ms"'
  K3S_DOUBLE_READY_DELAY=soon run "$DOUBLE" server -d "$T/data" --disable-agent
  [ "$status" -eq 1 ]
  [[ "$output" == *'K3S_DOUBLE_READY_DELAY=\"soon\" is not a non-negative Go duration'* ]]
}

# A fake /proc/sys tree lets the agent path run natively without touching the host kernel.
make_sysctl_tree() {
  local f
  for f in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys \
    kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet; do
    mkdir -p "$T/sys/$(dirname "$f")"
    echo 0 >"$T/sys/$f"
  done
  export K3S_DOUBLE_SYSCTL_ROOT="$T/sys"
}

@test "agent: tunables are written, the node is Ready under --node-name, overlayfs check passes" {
  make_sysctl_tree
  start_double --flannel-backend=none --node-name=sandbox-node --kubelet-arg=cgroups-per-qos=false
  wait_for_log "k3s is up and running"
  [ "$(cat "$T/sys/vm/overcommit_memory") $(cat "$T/sys/vm/panic_on_oom") $(cat "$T/sys/kernel/panic")" = "1 0 10" ]
  [ "$(cat "$T/sys/kernel/keys/root_maxbytes")" = 25000000 ]
  [ "$(cat "$T/sys/net/ipv4/conf/all/route_localnet")" = 1 ]
  grep -q 'Running kubelet .*--cgroups-per-qos=false"' "$T/log"
  [ -d "$T/data/agent/containerd" ]
  run kubectl --kubeconfig "$K3S_DOUBLE_GLOBAL_KUBECONFIG" get nodes --no-headers
  [[ "$output" =~ ^sandbox-node\ +Ready\ + ]]
  extract_certs "$K3S_DOUBLE_GLOBAL_KUBECONFIG"
  run authed_curl "https://127.0.0.1:$PORT/api/v1/nodes/sandbox-node"
  [[ "$output" == *'"type":"Ready","status":"True"'* || "$output" == *'"status":"True","type":"Ready"'* ]]
}

@test "--log writes the log to a file, --alsologtostderr copies it to stderr, --debug adds debug lines" {
  make_sysctl_tree
  "$DOUBLE" server -d "$T/data" --https-listen-port "$PORT" --bind-address 127.0.0.1 --flannel-backend=none \
    --debug --log "$T/k3s.log" 2>"$T/log" &
  DOUBLE_PID=$!
  wait_for_log "k3s is up and running" "$T/k3s.log"
  [ ! -s "$T/log" ]
  grep -q 'level=debug msg="Updating kernel flag: kernel/panic, expected value: 10, actual value: 0"' "$T/k3s.log"
  teardown
  start_double --flannel-backend=none --log "$T/k3s2.log" --alsologtostderr
  wait_for_log "k3s is up and running"
  grep -q "k3s is up and running" "$T/k3s2.log"
  ! grep -q "level=debug" "$T/k3s2.log"
}

@test "without root the agent is refused, as k3s does" {
  run runuser -u nobody -- "$DOUBLE" server -d "$T/nobody"
  [ "$status" -eq 1 ]
  [[ "$output" == *'level=fatal msg="Error: server must run as root, or with --rootless and/or --disable-agent"'* ]]
}

@test "agent: missing or unwritable tunables are 'Failed to start ContainerManager', exit 1" {
  make_sysctl_tree
  rm "$T/sys/vm/panic_on_oom" "$T/sys/kernel/panic"
  echo 1 >"$T/sys/vm/overcommit_memory"
  start_double --snapshotter=native
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -q "level=fatal msg=\"Failed to start ContainerManager\" err=\"\\[open $T/sys/vm/panic_on_oom: no such file or directory, open $T/sys/kernel/panic: no such file or directory\\]\"" "$T/log"
  ! grep -q "up and running" "$T/log"

  make_sysctl_tree
  start_double --snapshotter=native --protect-kernel-defaults
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -q 'err="\[invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0, invalid kernel flag: kernel/panic, ' "$T/log"
  [ "$(cat "$T/sys/kernel/panic")" = 0 ]
}

@test "agent: kube-proxy needs route_localnet unless --disable-kube-proxy" {
  make_sysctl_tree
  rm "$T/sys/net/ipv4/conf/all/route_localnet"
  start_double --snapshotter=native --flannel-backend=host-gw
  wait_for_exit
  [ "$EXIT" -eq 1 ]
  grep -q "level=fatal msg=\"kube-proxy exited: can't get sysctl net/ipv4/conf/all/route_localnet: open $T/sys/net/ipv4/conf/all/route_localnet: no such file or directory\"" "$T/log"
  start_double --snapshotter=native --flannel-backend=host-gw --disable-kube-proxy
  wait_for_log "k3s is up and running"
}

@test "agent: an overlay mount that fails is the k3s snapshotter error, retried, never ready" {
  make_sysctl_tree
  # overlayfs refuses an overlayfs upper dir: put the data dir inside one, in a private mount namespace.
  mkdir -p "$T/lower" "$T/upper" "$T/work" "$T/merged"
  run unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=$1/lower,upperdir=$1/upper,workdir=$1/work" "$1/merged" &&
    K3S_DOUBLE_READY_DELAY=0s timeout 3 "$2" server -d "$1/merged/data" --https-listen-port "$3" --bind-address 127.0.0.1 --flannel-backend=none' \
    sh "$T" "$DOUBLE" "$PORT"
  [ "$status" -eq 124 ]
  [[ "$output" == *"Waiting to retrieve agent configuration; server is not ready: \\\"overlayfs\\\" snapshotter cannot be enabled for \\\"$T/merged/data/agent/containerd\\\", try using \\\"fuse-overlayfs\\\" or \\\"native\\\": failed to mount overlay: "* ]]
  [[ "$output" != *"up and running"* ]]
}

@test "agent: flannel vxlan creates and removes its link (in a private network namespace)" {
  make_sysctl_tree
  run unshare -n sh -c 'K3S_DOUBLE_READY_DELAY=0s timeout 3 "$1" server -d "$2/data" --https-listen-port "$3" --bind-address 127.0.0.1; ip link show flannel.1' \
    sh "$DOUBLE" "$T" "$PORT"
  [[ "$output" == *"Starting flannel with backend vxlan"*"k3s is up and running"* ]]
  [[ "$output" == *'Device "flannel.1" does not exist.'* ]]
}

@test "gVisor: --disable-agent with host-local on PATH reaches ready; kubectl works" {
  run gvisor_script "
    unset K3S_DOUBLE_GLOBAL_KUBECONFIG
    export PATH=\"\$PATH:$T/cni\" K3S_DOUBLE_READY_DELAY=300ms
    '$DOUBLE' server --disable-agent --bind-address 127.0.0.1 2>/tmp/log &
    for i in \$(seq 100); do grep -q 'up and running' /tmp/log && break; sleep 0.1; done
    kubectl get --raw /readyz --kubeconfig /etc/rancher/k3s/k3s.yaml && echo
    kubectl get ns --no-headers --kubeconfig /etc/rancher/k3s/k3s.yaml | wc -l
    kill -TERM \$! && wait \$!; echo exit=\$?
    cat /tmp/log"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "ok" ]
  [ "${lines[1]}" = "4" ]
  [ "${lines[2]}" = "exit=0" ]
  [[ "$output" == *'msg="k3s is up and running"'* ]]
}

@test "gVisor: the agent dies on the kubelet tunables, and on vxlan with 'operation not supported'" {
  run gvisor_script "
    unset K3S_DOUBLE_GLOBAL_KUBECONFIG
    export K3S_DOUBLE_READY_DELAY=0s
    '$DOUBLE' server --snapshotter=native; echo exit=\$?
    mkdir -p /tmp/sys/vm /tmp/sys/kernel/keys /tmp/sys/net/ipv4/conf/all
    for f in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys \
      kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet; do echo 0 >/tmp/sys/\$f; done
    K3S_DOUBLE_SYSCTL_ROOT=/tmp/sys '$DOUBLE' server --snapshotter=native; echo exit=\$?"
  [[ "$output" == *'level=fatal msg="Failed to start ContainerManager" err="[write /proc/sys/vm/overcommit_memory: input/output error, open /proc/sys/vm/panic_on_oom: no such file or directory, '*'open /proc/sys/kernel/keys/root_maxbytes: no such file or directory]"'* ]]
  [[ "$output" == *'level=fatal msg="flannel exited: operation not supported"'* ]]
  [ "$(grep -c '^exit=1$' <<<"$output")" -eq 2 ]
}
