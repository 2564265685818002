#!/bin/bash
# One pass of the fakes benchmark: every row under each way of serving /proc/sys, interleaved per round.
# Prints "row<TAB>fakes<TAB>µs per operation". Runs inside gVisor (overlays, as k3s-sandbox mounts them) or natively
# inside a private mount namespace (binds, as k3s-sandbox does in k3s's own namespace); never writes a real sysctl.
# usage: measure.sh WORKDIR ROUNDS   (N_OPEN, N_KUBELET from the environment)
set -eu
repo="$(cd "$(dirname "$0")/../.." && pwd)"
loop="$repo/build/bench/interceptor/loop"
fixtures="$repo/build/fixtures"
w="$1" rounds="$2"
tunables="vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes"
gvisor=no; grep -q 'Jan 10 15:06:54 PST 2016' /proc/version && gvisor=yes

make_fakes() {
  mkdir -p "$w/fake/proc/sys" "$w/plain"
  local name
  for name in $tunables; do mkdir -p "$(dirname "$w/fake/proc/sys/$name")"; echo 0 >"$w/fake/proc/sys/$name"; done
  echo plain >"$w/plain/file"
}

# mount_fakes: what k3s-sandbox's fakes step mounts (gVisor: a tmpfs of layers, an overlay per directory) or what its
# bind wrapper does in k3s's namespace (a real kernel: one bind per file).
mount_fakes() {
  local name top
  if [ "$gvisor" = yes ]; then
    mkdir -p "$w/layers" && mount -t tmpfs k3s-sandbox "$w/layers"
    for top in vm kernel; do mkdir -p "$w/layers/$top/upper" "$w/layers/$top/work"; done
    for name in $tunables; do mkdir -p "$(dirname "$w/layers/${name%%/*}/upper/${name#*/}")"; echo 0 >"$w/layers/${name%%/*}/upper/${name#*/}"; done
    for top in vm kernel; do
      mount -t overlay k3s-sandbox -o "lowerdir=/proc/sys/$top,upperdir=$w/layers/$top/upper,workdir=$w/layers/$top/work" "/proc/sys/$top"
    done
  else
    for name in $tunables; do mount --bind "$w/fake/proc/sys/$name" "/proc/sys/$name"; done
  fi
}

# run_with FAKES CMD...: none runs CMD as is, mount runs it with the fakes mounted, intercept under the interceptor.
run_with() {
  local fakes="$1"; shift
  case "$fakes" in
    none|mount) "$@" ;;
    intercept) "$fixtures/k3s-sandbox-intercept" --fake-root "$w/fake" -- "$@" ;;
  esac
}

now_us() { echo $(($(date +%s%N) / 1000)); }

measure() {
  local row="$1" fakes="$2" base=/proc/sys start
  case "$row" in
    go-kubelet)
      # With no fakes the fixture does the same reads and writes on plain copies (no real sysctl is ever written).
      [ "$fakes" = none ] && base="$w/fake/proc/sys"
      start="$(now_us)"
      run_with "$fakes" "$fixtures/intercept-kubelet-tunables" -repeat "$N_KUBELET" -sysctl-base "$base" >/dev/null
      awk -v t="$(( $(now_us) - start ))" -v n="$N_KUBELET" 'BEGIN { printf "%.3f\n", t / n }' ;;
    open-faked)
      local file=/proc/sys/kernel/panic_on_oops
      [ "$fakes" = none ] && file="$w/fake/proc/sys/kernel/panic_on_oops"
      run_with "$fakes" "$loop" openat "$file" "$N_OPEN" ;;
    open-live-sysctl) run_with "$fakes" "$loop" openat /proc/sys/kernel/hostname "$N_OPEN" ;;
    open-plain-file) run_with "$fakes" "$loop" openat "$w/plain/file" "$N_OPEN" ;;
  esac
}

make_fakes
for round in $(seq "$rounds"); do
  for row in go-kubelet open-faked open-live-sysctl open-plain-file; do
    for fakes in none intercept; do printf '%s\t%s\t%s\n' "$row" "$fakes" "$(measure "$row" "$fakes" 2>/dev/null | tail -1)"; done
  done
done
# The mount column last, once the fakes are mounted (gVisor mounts are sandbox-wide; natively this is a private namespace).
mount_fakes
for round in $(seq "$rounds"); do
  for row in go-kubelet open-faked open-live-sysctl open-plain-file; do
    # "none" again beside "mount", in the same conditions, so the mount ratio is paired with it.
    for fakes in mount none; do printf '%s\t%s\t%s\n' "$row" "${fakes/none/none-paired}" "$(measure "$row" "$fakes" 2>/dev/null | tail -1)"; done
  done
done
