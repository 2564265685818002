#!/usr/bin/env bash
# The simulated-node benchmark in gVisor and natively, side by side (issue 14): per round, for each runner (the
# simulated node, then kwok as the anchor; the order alternates between rounds), one gVisor round
# (gvisor-round.bash in one `runsc --network=none --platform=ptrace do`) and one native round (run.sh), each on a fresh
# API server, with the machine's load average before and after each. Rows go to stdout and to $OUT/rows.tsv.
# Usage: bash bench/simnode/side-by-side.sh [N...]   (default 10 100 1000; env ROUNDS (1), KWOK (/tmp/kwok-build/bin/kwok,
# built with GOBIN=/tmp/kwok-build/bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0), WHERE ("gvisor native"), OUT)
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

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# run_round WHERE RUNNER LOG
run_round() {
  case "$1" in
    gvisor)
      runsc --network=none --platform=ptrace do env REPO_ROOT="$REPO_ROOT" FIXTURES_BIN="$FIXTURES_BIN" DIST="$OUT/dist" \
        KWOK="$KWOK" SIZES="$SIZES" SIMNODE_NODE_FLAGS="$SIMNODE_NODE_FLAGS" bash "$here/gvisor-round.bash" "$2" >"$3" 2>&1
      ;;
    native)
      RUNNERS="$2" KWOK="$KWOK" BENCH_DIST="$OUT/dist" SIMNODE_NODE_FLAGS="$SIMNODE_NODE_FLAGS" \
        bash "$here/run.sh" $SIZES >"$3" 2>&1
      ;;
  esac
}

main() {
  require_built "$DIST/k3s-sandbox.mjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" 'bash test/fixtures/k3s-upstream/build.sh'
  require_built "$KWOK" 'GOBIN=/tmp/kwok-build/bin go install sigs.k8s.io/kwok/cmd/kwok@v0.7.0'
  # A round runs this snapshot of the bundle, so a rebuild meanwhile cannot swap files under it.
  rm -rf "$OUT/dist" && cp -a "$DIST" "$OUT/dist"
  echo "results in $OUT; $(nproc) CPUs; $(uname -r); sizes $SIZES; controller flags $SIMNODE_NODE_FLAGS"
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
