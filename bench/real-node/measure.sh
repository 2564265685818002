#!/bin/bash
# One measurement inside a fresh gVisor sandbox (run.sh starts it): `k3s-sandbox up --mode sandboxed-node --wait-node`
# with the real node (k3s-upstream) and K3S_SANDBOX_FAKES=$1, then CPU seconds of the whole k3s process tree over $2
# seconds of an idle Ready node: utime+stime of every live process under the supervisor, plus cutime+cstime (children
# reaped meanwhile), from /proc/<pid>/stat; the interceptor's own share is shown apart. The interceptor keeps its
# counters in a file while it runs (K3S_SANDBOX_INTERCEPT_STATS_FILE, rewritten once a second): two snapshots, at the
# start and the end of the window, give its stops and intercepted syscalls per second, by kind.
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

# Per second between two stats snapshots (elapsed-ms dates each): stops, redirects, then each syscall kind.
stats_rates() {
  awk '
    FNR == 1 { file++ }
    { sub(/^k3s-sandbox-intercept: stats: /, "") }
    /^elapsed-ms=/ { split($0, kv, "="); ms[file] = kv[2]; next }
    /^stops=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "stops" || kv[1] == "redirects") v[file, kv[1]] = kv[2] }; next }
    { split($2, kv, "="); v[file, $1] = kv[2]; if (!($1 in seen)) { seen[$1] = 1; kinds[++n] = $1 } }
    END {
      s = (ms[2] - ms[1]) / 1000; if (s <= 0) { print "no-window"; exit }
      printf "stops/s=%.1f redirects/s=%.2f", (v[2, "stops"] - v[1, "stops"]) / s, (v[2, "redirects"] - v[1, "redirects"]) / s
      for (i = 1; i <= n; i++) printf " %s/s=%.2f", kinds[i], (v[2, kinds[i]] - v[1, kinds[i]]) / s
      printf " window_s=%.1f\n", s
    }' "$1" "$2"
}

start=$(date +%s%N)
K3S_SANDBOX_INTERCEPT_STATS_FILE=/tmp/intercept.stats K3S_SANDBOX_FAKES="$fakes" node "$dist/k3s-sandbox.cjs" up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || { cat /tmp/up.out; exit 1; }
ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 20
supervisor=$(cat /run/k3s-sandbox/supervisor.pid)
read -r t0 i0 <<<"$(tree_ticks "$supervisor")"
cp /tmp/intercept.stats /tmp/intercept.stats.start
sleep "$seconds"
read -r t1 i1 <<<"$(tree_ticks "$supervisor")"
cp /tmp/intercept.stats /tmp/intercept.stats.end
restarts=$(grep -c 'k3s-sandbox-supervise: started' /var/log/k3s-sandbox/k3s.log)
echo "result fakes=$fakes ready_ms=$ready_ms cpu_s=$(echo "scale=2; ($t1 - $t0) / $ticks" | bc) interceptor_cpu_s=$(echo "scale=2; ($i1 - $i0) / $ticks" | bc) seconds=$seconds k3s_starts=$restarts"
echo "intercepted fakes=$fakes $(stats_rates /tmp/intercept.stats.start /tmp/intercept.stats.end)"
# Since the interceptor started (up's start-up included): which kinds ever served a fake.
echo "intercepted fakes=$fakes since start (traced/redirected): $(sed -n 's/^k3s-sandbox-intercept: stats: \([a-z0-9]*\) traced=\([0-9]*\) redirected=\([0-9]*\)$/\1=\2\/\3/p' /tmp/intercept.stats.end | tr '\n' ' ')"
