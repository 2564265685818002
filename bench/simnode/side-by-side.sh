#!/usr/bin/env bash
# The simulated-node benchmark in gVisor and natively, side by side (issue 14): per round, for each runner (the
# simulated node, then kwok as the anchor; the order alternates between rounds), one gVisor round
# (gvisor-round.bash in one `runsc --network=none --platform=ptrace do`) and one native round (run.sh), each on a fresh
# API server, with the machine's load average before and after each. Rows go to stdout and to $OUT/rows.tsv.
# Usage: bash bench/simnode/side-by-side.sh [N...]   (default 10 100 1000; env ROUNDS (1), KWOK (/tmp/kwok-build/bin/kwok,
# built with GOBIN=/tmp/kwok-build/bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0), WHERE ("gvisor native"), OUT,
# SERVER_QPS: raise the client rate limits of kube-controller-manager (20/s by default: the ReplicaSet controller
# creates 1000 pods in ~50 s whoever runs them) and kube-scheduler (50/s) to this, to see the runners' own pace)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../test/lib/common.bash"

SIZES="${*:-10 100 1000}"
ROUNDS="${ROUNDS:-1}"
KWOK="${KWOK:-/tmp/kwok-build/bin/kwok}"
WHERE="${WHERE:-gvisor native}"
# The controller's V8 flags as `up` starts it (CONTROLLER_NODE_FLAGS in src/steps/simulatedNode.ts).
SIMNODE_NODE_FLAGS="${SIMNODE_NODE_FLAGS:---max-semi-space-size=1 --lite-mode}"
OUT="${OUT:-$(mktemp -d /tmp/simnode-side-by-side.XXXXXX)}"

# fixtures_with_qps QPS DIR: the fixtures, with a k3s-upstream whose `server` raises the rate limits to QPS.
fixtures_with_qps() {
  mkdir -p "$2"
  find "$FIXTURES_BIN" -maxdepth 1 -type f -perm -u+x ! -name k3s-upstream -exec ln -sfn {} "$2/" \;
  cat >"$2/k3s-upstream" <<SH
#!/bin/bash
[ "\$1" = server ] && set -- "\$@" --kube-controller-manager-arg=kube-api-qps=$1 --kube-controller-manager-arg=kube-api-burst=$1 \
  --kube-scheduler-arg=kube-api-qps=$1 --kube-scheduler-arg=kube-api-burst=$1
exec -a "\$0" "$FIXTURES_BIN/k3s-upstream" "\$@"
SH
  chmod +x "$2/k3s-upstream"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run_round WHERE RUNNER LOG
run_round() {
  case "$1" in
    gvisor)
      runsc --network=none --platform=ptrace do env REPO_ROOT="$REPO_ROOT" FIXTURES_BIN="$ROUND_FIXTURES" DIST="$OUT/dist" \
        KWOK="$KWOK" SIZES="$SIZES" SIMNODE_NODE_FLAGS="$SIMNODE_NODE_FLAGS" bash "$here/gvisor-round.bash" "$2" >"$3" 2>&1
      ;;
    native)
      RUNNERS="$2" KWOK="$KWOK" BENCH_DIST="$OUT/dist" BENCH_FIXTURES_BIN="$ROUND_FIXTURES" SIMNODE_NODE_FLAGS="$SIMNODE_NODE_FLAGS" \
        bash "$here/run.sh" $SIZES >"$3" 2>&1
      ;;
  esac
}

main() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" 'bash test/fixtures/k3s-upstream/build.sh'
  require_built "$KWOK" 'GOBIN=/tmp/kwok-build/bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0'
  # A round runs this snapshot of the bundle, so a rebuild meanwhile cannot swap files under it.
  rm -rf "$OUT/dist" && cp -a "$DIST" "$OUT/dist"
  ROUND_FIXTURES="$FIXTURES_BIN"
  if [ -n "${SERVER_QPS:-}" ]; then
    [[ "$SERVER_QPS" =~ ^[1-9][0-9]*$ ]] || { echo "SERVER_QPS=${SERVER_QPS@Q}: a whole number above 0" >&2; exit 2; }
    ROUND_FIXTURES="$OUT/fixtures"
    fixtures_with_qps "$SERVER_QPS" "$ROUND_FIXTURES"
  fi
  echo "results in $OUT; $(nproc) CPUs; $(uname -r); sizes $SIZES; controller flags $SIMNODE_NODE_FLAGS; server QPS ${SERVER_QPS:-default}"
  local round runner where order log before rc
  for round in $(seq "$ROUNDS"); do
    order="simnode kwok"
    [ $((round % 2)) -eq 1 ] || order="kwok simnode"
    for runner in $order; do
      for where in $WHERE; do
        log="$OUT/round$round-$where-$runner.log"
        before="$(loadavg)"
        rc=0
        run_round "$where" "$runner" "$log" || rc=$?
        printf 'round %s\t%s\t%s\tload before %s, after %s; exit %s\n' "$round" "$where" "$runner" "$before" "$(loadavg)" "$rc" |
          tee -a "$OUT/rows.tsv"
        grep -E "^(API server|$runner	)" "$log" | sed "s/^/round $round	$where	/" | tee -a "$OUT/rows.tsv"
        [ "$rc" -eq 0 ] || tail -n 20 "$log"
      done
    done
  done
}

main
