#!/bin/bash
# One pass of the fakes benchmark: every row under each way of serving /proc/sys, interleaved per round.
# Prints "row<TAB>column<TAB>µs per operation<TAB>round" (columns measured in one round ran back to back: their ratio is paired). Runs inside gVisor (overlays, as k3s-sandbox mounts them) or natively
# inside a private mount namespace (binds, as k3s-sandbox does in k3s's own namespace); never writes a real sysctl.
# Columns: none (the plain copies the fakes are made from), real (natively: the real /proc/sys entry, read only, through
# a bind of /proc/sys saved before the fakes are bound; gVisor lacks these entries), mount, intercept.
# usage: measure.sh WORKDIR ROUNDS   (N_OPEN, N_KUBELET from the environment)
set -eu
repo="$(cd "$(dirname "$0")/../.." && pwd)"
loop="$repo/build/bench/interceptor/loop"
fixtures="$repo/build/fixtures"
w="$1" rounds="$2"
# kubelet's six tunables and the values it wants: the copies hold them, so no column ever writes (kubelet at steady state).
tunables="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"
gvisor=no; grep -q 'Jan 10 15:06:54 PST 2016' /proc/version && gvisor=yes

make_fakes() {
  mkdir -p "$w/fake/proc/sys" "$w/plain" "$w/real"
  local pair
  for pair in $tunables; do mkdir -p "$(dirname "$w/fake/proc/sys/${pair%=*}")"; echo "${pair#*=}" >"$w/fake/proc/sys/${pair%=*}"; done
  echo plain >"$w/plain/file"
  # A plain bind is not recursive: the fakes bound over /proc/sys later do not show through it.
  [ "$gvisor" = yes ] || mount --bind /proc/sys "$w/real"
}

# mount_fakes: what k3s-sandbox's fakes step mounts (gVisor: a tmpfs of layers, an overlay per directory) or what its
# bind wrapper does in k3s's namespace (a real kernel: one bind per file).
mount_fakes() {
  local pair name top
  if [ "$gvisor" = yes ]; then
    mkdir -p "$w/layers" && mount -t tmpfs k3s-sandbox "$w/layers"
    for top in vm kernel; do mkdir -p "$w/layers/$top/upper" "$w/layers/$top/work"; done
    for pair in $tunables; do name="${pair%=*}"; mkdir -p "$(dirname "$w/layers/${name%%/*}/upper/${name#*/}")"; echo "${pair#*=}" >"$w/layers/${name%%/*}/upper/${name#*/}"; done
    for top in vm kernel; do
      mount -t overlay k3s-sandbox -o "lowerdir=/proc/sys/$top,upperdir=$w/layers/$top/upper,workdir=$w/layers/$top/work" "/proc/sys/$top"
    done
  else
    for pair in $tunables; do mount --bind "$w/fake/proc/sys/${pair%=*}" "/proc/sys/${pair%=*}"; done
  fi
}

# run_with COLUMN CMD...: intercept runs CMD under the interceptor, every other column as is.
run_with() {
  local column="$1"; shift
  case "$column" in
    intercept) "$fixtures/k3s-sandbox-intercept" --fake-root "$w/fake" -- "$@" ;;
    *) "$@" ;;
  esac
}

now_us() { echo $(($(date +%s%N) / 1000)); }

# Where a column finds the sysctls: none the plain copies, real the saved bind of the real /proc/sys, the rest /proc/sys.
sysctl_base() {
  case "$1" in
    none) echo "$w/fake/proc/sys" ;;
    real) echo "$w/real" ;;
    *) echo /proc/sys ;;
  esac
}

measure() {
  local row="$1" column="$2" base start
  base="$(sysctl_base "$column")"
  case "$row" in
    go-kubelet)
      start="$(now_us)"
      run_with "$column" "$fixtures/intercept-kubelet-tunables" -repeat "$N_KUBELET" -sysctl-base "$base" $([ "$column" = real ] && echo -read-only) >/dev/null
      awk -v t="$(( $(now_us) - start ))" -v n="$N_KUBELET" 'BEGIN { printf "%.3f\n", t / n }' ;;
    open-faked) run_with "$column" "$loop" openat "$base/kernel/panic_on_oops" "$N_OPEN" ;;
    # Neither is faked: every column opens the same file (the ratios show this machine's noise and order effects).
    open-live-sysctl) run_with "$column" "$loop" openat /proc/sys/kernel/hostname "$N_OPEN" ;;
    open-plain-file) run_with "$column" "$loop" openat "$w/plain/file" "$N_OPEN" ;;
  esac
}

# measure_rounds COLUMN...: each round runs every row under every column, the columns' order rotated each round.
measure_rounds() {
  local round row column label i n=$# columns=("$@")
  for round in $(seq "$rounds"); do
    for row in go-kubelet open-faked open-live-sysctl open-plain-file; do
      for i in $(seq 0 $((n - 1))); do
        column="${columns[$(((i + round) % n))]}"
        # The real entry is a floor only for the rows that read a faked sysctl; the others read one file in every column.
        [ "$column" = real ] && case "$row" in open-live-sysctl|open-plain-file) continue ;; esac
        label="$column$suffix"; [ "$column" = mount ] && label=mount
        printf '%s\t%s\t%s\t%s\n' "$row" "$label" "$(measure "$row" "$column" 2>/dev/null | tail -1)" "$round"
      done
    done
  done
}

real=real; [ "$gvisor" = yes ] && real=
make_fakes
suffix=
measure_rounds none $real intercept
# The mount column last, once the fakes are mounted (gVisor mounts are sandbox-wide; natively this is a private
# namespace), with none and real again beside it in the same conditions, so its ratios are paired with them.
mount_fakes
suffix=-paired
measure_rounds mount none $real
