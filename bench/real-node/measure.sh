#!/bin/bash
# One measurement inside a fresh gVisor sandbox (run.sh starts it): `k3s-sandbox up --mode sandboxed-node --wait-node`
# with the real node (k3s-upstream) and K3S_SANDBOX_FAKES=$1, then CPU seconds of the whole k3s process tree over $2
# seconds of an idle Ready node: utime+stime of every live process under the supervisor, plus cutime+cstime (children
# reaped meanwhile), from /proc/<pid>/stat; the interceptor's own share is shown apart.
# usage: measure.sh FAKES SECONDS FIXTURES_BIN DIST
set -eu
fakes="$1" seconds="$2" fb="$3" dist="$4"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /var/lib/rancher/k3s/agent/images
cp "$fb/images/pause.tar" /var/lib/rancher/k3s/agent/images/
export K3S_SANDBOX_K3S="$fb/k3s-upstream" K3S_SANDBOX_BIN_DIR="$fb" KUBECONFIG=/root/.kube/config
ticks=$(getconf CLK_TCK)

# Ticks used by the tree under pid $1 (itself excluded): live processes' own and their reaped children's.
tree_ticks() {
  local root="$1" total=0 intercept=0 pid comm rest
  for stat in /proc/[0-9]*/stat; do
    pid="${stat#/proc/}"; pid="${pid%/stat}"
    [ "$pid" = "$root" ] && continue
    is_under "$pid" "$root" || continue
    read -r rest <"$stat" 2>/dev/null || continue
    comm="${rest#*(}"; comm="${comm%%)*}"
    # shellcheck disable=SC2086  # fields after "(comm) "
    set -- ${rest##*) }
    total=$((total + ${12} + ${13} + ${14} + ${15}))
    [ "$comm" = k3s-sandbox-int ] && intercept=$((intercept + ${12} + ${13}))
  done
  echo "$total $intercept"
}
is_under() {
  local pid="$1" root="$2" ppid
  while [ "$pid" -gt 1 ]; do
    ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$ppid" = "$root" ] && return 0
    pid="$ppid"
  done
  return 1
}

start=$(date +%s%N)
K3S_SANDBOX_FAKES="$fakes" node "$dist/k3s-sandbox.mjs" up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || { cat /tmp/up.out; exit 1; }
ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 20
supervisor=$(cat /run/k3s-sandbox/supervisor.pid)
read -r t0 i0 <<<"$(tree_ticks "$supervisor")"
sleep "$seconds"
read -r t1 i1 <<<"$(tree_ticks "$supervisor")"
restarts=$(grep -c 'k3s-sandbox-supervise: started' /var/log/k3s-sandbox/k3s.log)
echo "result fakes=$fakes ready_ms=$ready_ms cpu_s=$(echo "scale=2; ($t1 - $t0) / $ticks" | bc) interceptor_cpu_s=$(echo "scale=2; ($i1 - $i0) / $ticks" | bc) seconds=$seconds k3s_starts=$restarts"
