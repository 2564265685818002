#!/bin/bash
# One benchmark pass: every row with every tool, tools interleaved inside each round.
# Prints "pin<TAB>row<TAB>tool<TAB>value" lines (value: µs per operation, or wall ms for
# go-busy and go-busy+io). Runs natively or inside gVisor unchanged.
# usage: measure.sh WORKDIR ROUNDS PINS   (PINS: "pinned unpinned", "pinned" or "none")
# Iteration counts come from the environment (see run.sh): N_GETPPID N_OPEN N_KUBELET
# BUSY_WORK.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bench="$repo/build/bench/interceptor"
fixtures="$repo/build/fixtures"
w="$1" rounds="$2" pins="$3"
data="$w/data" fake="$w/fake"
sysctls="vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes"

make_files() {
  mkdir -p "$data" "$fake$data" "$fake/proc/sys/vm" "$fake/proc/sys/kernel/keys"
  echo real >"$data/unfaked"
  echo real >"$data/faked"
  echo fake >"$fake$data/faked"
  local name
  for name in $sysctls; do echo 0 >"$fake/proc/sys/$name"; done
}

# with_tool TOOL CMD...: runs CMD under TOOL, pinned to CPU 0 when $pin is "pinned" (the
# tracer and everything it starts inherit the affinity); proot binds every fake over its path.
with_tool() {
  local tool="$1" binds=() name runner=()
  shift
  [ "$pin" = pinned ] && runner=(taskset -c 0)
  case "$tool" in
    native) "${runner[@]}" "$@" ;;
    intercept) "${runner[@]}" "$fixtures/k3s-sandbox-intercept" --fake-root "$fake" -- "$@" ;;
    strace) "${runner[@]}" strace -f --seccomp-bpf -e trace=openat -o /dev/null "$@" ;;
    proot)
      binds=(-b "$fake$data/faked:$data/faked")
      for name in $sysctls; do binds+=(-b "$fake/proc/sys/$name:/proc/sys/$name"); done
      "${runner[@]}" proot "${binds[@]}" "$@" ;;
  esac
}

now_us() { echo $(($(date +%s%N) / 1000)); }

# measure_row ROW TOOL: prints the row's value for TOOL
measure_row() {
  local row="$1" tool="$2" start base
  case "$row" in
    getppid) with_tool "$tool" "$bench/loop" getppid "$N_GETPPID" ;;
    open-unfaked) with_tool "$tool" "$bench/loop" openat "$data/unfaked" "$N_OPEN" ;;
    open-faked) with_tool "$tool" "$bench/loop" openat "$data/faked" "$N_OPEN" ;;
    go-kubelet)
      # Without a redirecting tool the fixture reads the fake copies directly: the same file
      # work, and no host sysctl is ever written.
      base=/proc/sys
      case "$tool" in native|strace) base="$fake/proc/sys" ;; esac
      start="$(now_us)"
      with_tool "$tool" "$fixtures/intercept-kubelet-tunables" -repeat "$N_KUBELET" -sysctl-base "$base" >/dev/null
      awk -v t="$(( $(now_us) - start ))" -v n="$N_KUBELET" 'BEGIN { printf "%.3f\n", t / n }' ;;
    # go-busy is the SIGURG storm alone; go-busy+io adds 4 goroutines doing 200 open+stat each,
    # so the traced path syscalls show up separately from the signals.
    go-busy) with_tool "$tool" "$bench/go-busy" -work "$BUSY_WORK" -openers 0 ;;
    go-busy+io) with_tool "$tool" "$bench/go-busy" -work "$BUSY_WORK" -openers 4 -opens 200 -path "$data/unfaked" ;;
  esac
}

make_files
for round in $(seq "$rounds"); do
  for row in getppid open-unfaked open-faked go-kubelet go-busy go-busy+io; do
    for pin in $pins; do
      for tool in native intercept strace proot; do
        value="$(measure_row "$row" "$tool" 2>/dev/null | tail -1)"
        printf '%s\t%s\t%s\t%s\n' "$pin" "$row" "$tool" "${value:-fail}"
      done
    done
  done
  echo "round $round done" >&2
done
