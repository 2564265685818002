#!/bin/bash
# The fakes benchmark (issue 13; not a test): kubelet's six /proc/sys reads and writes (the kubelet-tunables fixture)
# and open loops (bench/interceptor/loop) of a faked sysctl, a live sysctl and a plain file, with no fakes, with mount
# fakes and under the interceptor; in gVisor (overlays) and natively (binds in a private mount namespace).
# usage: bench/fakes/run.sh [ROUNDS]   (default 5; prints markdown on stdout: medians in µs, each as a multiple of no
# fakes measured in the same phase: intercept beside none before anything is mounted, mount beside none once mounted)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds="${1:-5}"
bash "$repo/bench/interceptor/build.sh" >&2
work="$(mktemp -d /tmp/fakes-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# BENCH_KEEP=DIR keeps the raw rows (row, fakes, µs) there.
keep() { [ -z "${BENCH_KEEP:-}" ] || cp "$work"/*.out "$BENCH_KEEP"/; }

runsc --network=none --platform=ptrace "do" bash -c \
  "N_OPEN=300 N_KUBELET=20 bash '$here/measure.sh' '$work/gvisor' '$rounds' 2>/dev/null" >"$work/gvisor.out" || true
unshare --mount --propagation private bash -c \
  "N_OPEN=20000 N_KUBELET=500 bash '$here/measure.sh' '$work/native' '$rounds'" >"$work/native.out"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

summarize() {
  local file="$1" where="$2" row none mount intercept
  for row in go-kubelet open-faked open-live-sysctl open-plain-file; do
    none="$(awk -F'\t' -v r="$row" '$1 == r && $2 == "none" { print $3 }' "$file" | median)"
    paired="$(awk -F'\t' -v r="$row" '$1 == r && $2 == "none-paired" { print $3 }' "$file" | median)"
    mount="$(awk -F'\t' -v r="$row" '$1 == r && $2 == "mount" { print $3 }' "$file" | median)"
    intercept="$(awk -F'\t' -v r="$row" '$1 == r && $2 == "intercept" { print $3 }' "$file" | median)"
    awk -v w="$where" -v r="$row" -v n="$none" -v m="$mount" -v i="$intercept" -v p="$paired" \
      'BEGIN { printf "| %s | %s | %.2f | %.2f (%.2f×) | %.2f (%.2f×) |\n", w, r, n, m, m / p, i, i / n }'
  done
}

keep
echo "| where | row | none µs | mount µs (× none) | intercept µs (× none) |"
echo "|---|---|---|---|---|"
summarize "$work/gvisor.out" gVisor
summarize "$work/native.out" native
