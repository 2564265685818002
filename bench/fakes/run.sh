#!/bin/bash
# The fakes benchmark (issue 13; not a test): kubelet's six /proc/sys reads (the kubelet-tunables fixture, at steady
# state: the values are already the wanted ones, so nothing is written) and open loops (bench/interceptor/loop) of a
# faked sysctl, a live sysctl and a plain file, with no fakes, with mount fakes and under the interceptor; in gVisor
# (overlays) and natively (binds in a private mount namespace), where the real /proc/sys entry, read only, is the floor.
# usage: bench/fakes/run.sh [ROUNDS] [gvisor|native|both]   (default 5 both; prints markdown on stdout: medians in µs,
# and ratios taken per round between columns measured back to back, as median [quartiles]: intercept against none
# before anything is mounted; mount against none and the floor measured beside it once mounted)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds="${1:-5}" where="${2:-both}"
case "$where" in gvisor|native|both) ;; *) echo "usage: $0 [ROUNDS] [gvisor|native|both]" >&2; exit 2 ;; esac
bash "$repo/bench/interceptor/build.sh" >&2
work="$(mktemp -d /tmp/fakes-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# BENCH_KEEP=DIR keeps the raw rows (row, column, µs) there.
keep() { [ -z "${BENCH_KEEP:-}" ] || cp "$work"/*.out "$BENCH_KEEP"/; }

if [ "$where" != native ]; then
  runsc --network=none --platform=ptrace "do" bash -c \
    "N_OPEN=300 N_KUBELET=20 bash '$here/measure.sh' '$work/gvisor' '$rounds' 2>/dev/null" >"$work/gvisor.out" || true
fi
if [ "$where" != gvisor ]; then
  unshare --mount --propagation private bash -c \
    "N_OPEN=${N_OPEN:-100000} N_KUBELET=${N_KUBELET:-2000} bash '$here/measure.sh' '$work/native' '$rounds'" >"$work/native.out"
fi

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
column() { awk -F'\t' -v r="$1" -v c="$2" '$1 == r && $2 == c { print $3 }' "$3" | median; }
# paired ROW A B FILE: A/B per round (measured back to back), as "median [first quartile–third quartile]", or — without B.
paired() {
  awk -F'\t' -v r="$1" -v a="$2" -v b="$3" '
    $1 == r && $2 == a { x[$4] = $3 } $1 == r && $2 == b { y[$4] = $3 }
    END { for (k in x) if (y[k] > 0) print x[k] / y[k] }' "$4" | sort -g | awk '
    { v[NR] = $1 }
    function q(p,   i) { i = 1 + (NR - 1) * p; return v[int(i)] + (v[int(i) + (i > int(i))] - v[int(i)]) * (i - int(i)) }
    END { if (NR == 0) print "—"; else printf "%.2f× [%.2f–%.2f]\n", q(0.5), q(0.25), q(0.75) }'
}
us() { awk -v v="$1" 'BEGIN { if (v > 0) printf "%.2f", v; else printf "—" }'; }

summarize() {
  local file="$1" where="$2" row floor
  [ -s "$file" ] || return 0
  for row in go-kubelet open-faked open-live-sysctl open-plain-file; do
    # The floor: the real entry where the row reads a faked sysctl and it exists (natively); else no fakes.
    floor=none-paired
    case "$row" in go-kubelet|open-faked) grep -q "^$row	real-paired	" "$file" && floor=real-paired ;; esac
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$where" "$row" \
      "$(us "$(column "$row" none "$file")")" "$(us "$(column "$row" real "$file")")" "$(us "$(column "$row" mount "$file")")" \
      "$(paired "$row" mount none-paired "$file")" "$(paired "$row" mount "$floor" "$file")" \
      "$(us "$(column "$row" intercept "$file")")" "$(paired "$row" intercept none "$file")"
  done
}

keep
echo "| where | row | none µs | real /proc/sys µs | mount µs | mount × none | mount × floor | intercept µs | intercept × none |"
echo "|---|---|---|---|---|---|---|---|---|"
summarize "$work/gvisor.out" gVisor
summarize "$work/native.out" native
