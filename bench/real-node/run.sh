#!/bin/bash
# Real node in gVisor (issue 10): time from `up` to a Ready node and the k3s process tree's CPU over an idle window,
# fakes=intercept (interceptor serving /proc/sys and the mount fakes) versus fakes=mount (overlays; the interceptor
# traps only mount(2)), interleaved, one fresh `runsc --network=none --net-raw` sandbox per measurement; with the
# interceptor's stops and intercepted syscalls per second over the same window, by kind.
# usage: bench/real-node/run.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds, 300 s)
set -eu
rounds="${1:-3}" seconds="${2:-300}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp)"
for round in $(seq "$rounds"); do
  for fakes in intercept mount; do
    runsc --network=none --net-raw --platform=ptrace do bash "$repo/bench/real-node/measure.sh" "$fakes" "$seconds" \
      "$repo/build/fixtures" "$repo/dist" >"$out" 2>&1 || true
    echo "round $round: $(grep '^result ' "$out" || tail -5 "$out")"
    grep '^intercepted ' "$out" | sed "s/^/round $round: /" || true
  done
done
rm -f "$out"
