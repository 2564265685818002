#!/usr/bin/env bats
# 50 cold starts, each in its own fresh gVisor sandbox, all of which must reach ready. Slow (a few
# minutes), so it runs only with K3S_SANDBOX_BULK=1: `K3S_SANDBOX_BULK=1 bats test/e2e/bulk.bats`.
load '../lib/common'

COLD_STARTS=50

setup_file() {
  [ "${K3S_SANDBOX_BULK:-}" = 1 ] || return 0
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
}

@test "50 cold starts in gVisor all reach ready" {
  [ "${K3S_SANDBOX_BULK:-}" = 1 ] || skip "set K3S_SANDBOX_BULK=1 to run the bulk test"
  local script failures=0 i
  script="set -eu
exec 2>&1
cp '$FIXTURES_BIN/k3s-double' /usr/local/bin/k3s
export K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' K3S_DOUBLE_READY_DELAY=300ms
node '$DIST/k3s-sandbox.cjs' up 2>/dev/null
kubectl --kubeconfig /root/.kube/config get --raw /readyz"
  for i in $(seq "$COLD_STARTS"); do
    run gvisor_script "$script"
    if [ "$status" -ne 0 ] || ! grep -qx ok <<<"$output" || [[ ! "$output" =~ "k3s-sandbox: ready in " ]]; then
      failures=$((failures + 1))
      echo "start $i failed (exit $status):" >&3
      echo "$output" >&3
    fi
  done
  echo "$((COLD_STARTS - failures))/$COLD_STARTS cold starts ready" >&3
  [ "$failures" -eq 0 ]
}
