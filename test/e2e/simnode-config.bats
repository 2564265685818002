#!/usr/bin/env bats
# simulateNode's place in the config (issue 14), natively and without starting anything: refused outside control-plane.
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
}

@test "simulateNode outside control-plane is refused before anything starts (natively: mode server and sandboxed-node, and doctor)" {
  local dir
  dir="$(mktemp -d "${BATS_TEST_TMPDIR}/refuse.XXXXXX")"
  echo '{}' >"$dir/none.json"
  for mode in server sandboxed-node; do
    run env K3S_SANDBOX_STATE_DIR="$dir/run" K3S_SANDBOX_LOG_DIR="$dir/log" K3S_SANDBOX_LIB_DIR="$dir/lib" K3S_SANDBOX_CONFIG="$dir/none.json" \
      K3S_SANDBOX_K3S=/bin/true K3S_SANDBOX_DATA_DIR="$dir/data" K3S_SANDBOX_HTTPS_PORT=16443 \
      node "$DIST/k3s-sandbox.cjs" up --mode "$mode" --simulate-node --json
    echo "$mode: $output"
    [ "$status" -eq 2 ]
    [[ "$output" == *"simulateNode=true needs mode control-plane, but mode is $mode, which runs a real kubelet; allowed: simulateNode=false, or mode=control-plane"* ]]
    [ ! -e "$dir/run/supervisor.pid" ] && [ ! -e "$dir/run/simnode.pid" ]
  done
  run env K3S_SANDBOX_STATE_DIR="$dir/run" K3S_SANDBOX_LOG_DIR="$dir/log" K3S_SANDBOX_LIB_DIR="$dir/lib" K3S_SANDBOX_SIMULATE_NODE=true K3S_SANDBOX_K3S=/bin/true K3S_SANDBOX_CONFIG="$dir/none.json" node "$DIST/k3s-sandbox.cjs" doctor --mode server
  [[ "$output" == *"up would fail: simulateNode=true needs mode control-plane, but mode is server"* ]]
}

@test "a bad simulateNodeMaxPods (flag or env) is refused before anything starts, naming the input and the range" {
  local dir
  dir="$(mktemp -d "${BATS_TEST_TMPDIR}/maxpods.XXXXXX")"
  echo '{}' >"$dir/none.json"
  run env K3S_SANDBOX_STATE_DIR="$dir/run" K3S_SANDBOX_LOG_DIR="$dir/log" K3S_SANDBOX_LIB_DIR="$dir/lib" K3S_SANDBOX_CONFIG="$dir/none.json" \
    K3S_SANDBOX_K3S=/bin/true K3S_SANDBOX_DATA_DIR="$dir/data" \
    node "$DIST/k3s-sandbox.cjs" up --mode control-plane --simulate-node --simulate-node-max-pods 0 --json
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "$output" == *'invalid value for simulateNodeMaxPods: \"0\" (from flag --simulate-node-max-pods); allowed: a whole number of pods from 1 to 65000'* ]]
  run env K3S_SANDBOX_STATE_DIR="$dir/run" K3S_SANDBOX_LOG_DIR="$dir/log" K3S_SANDBOX_LIB_DIR="$dir/lib" K3S_SANDBOX_CONFIG="$dir/none.json" \
    K3S_SANDBOX_K3S=/bin/true K3S_SANDBOX_DATA_DIR="$dir/data" K3S_SANDBOX_SIMULATE_NODE_MAX_PODS=70000 \
    node "$DIST/k3s-sandbox.cjs" up --mode control-plane --simulate-node
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "$output" == *'invalid value for simulateNodeMaxPods: "70000" (from env K3S_SANDBOX_SIMULATE_NODE_MAX_PODS); allowed: a whole number of pods from 1 to 65000'* ]]
  [ ! -e "$dir/run/supervisor.pid" ] && [ ! -e "$dir/run/simnode.pid" ]
}
