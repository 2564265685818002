#!/bin/bash
# The interceptor benchmark (not a test). Columns: native, k3s-sandbox-intercept,
# strace -f --seccomp-bpf -e trace=openat, proot -b FAKE:PATH. Rows: getppid loop, openat+close
# of an unfaked and of a faked file, the Go kubelet fixture repeated, a Go program with busy
# goroutines alone (go-busy, the SIGURG storm) and with 4 goroutines doing open+stat
# (go-busy+io). Tools are interleaved inside every round; pinned means `taskset -c 0` for
# tracer and tracee (in gVisor: for the whole sandbox). Then the tracer's RSS with 100
# threads, and the signal stops of both go-busy rows with and without GODEBUG=asyncpreemptoff=1.
# usage: bench/interceptor/run.sh [ROUNDS]   (default 5; prints markdown on stdout)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds="${1:-5}"
bench="$repo/build/bench/interceptor"
fixtures="$repo/build/fixtures"
intercept="$fixtures/k3s-sandbox-intercept"

bash "$here/build.sh" >&2
work="$(mktemp -d /tmp/intercept-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
raw="$work/raw.tsv"
: >"$raw"

in_gvisor() {
  runsc --network=none --platform=ptrace "do" bash -c "exec 2>/dev/null; $1" >"$work/gvisor.out" || true
  cat "$work/gvisor.out"
}

measure_native_round() {
  N_GETPPID=500000 N_OPEN=5000 N_KUBELET=500 BUSY_WORK=50000000 \
    bash "$here/measure.sh" "$work/native" 1 "pinned unpinned" | sed 's/^/native\t/'
}

measure_gvisor_round() {
  local pin="$1" prefix=""
  [ "$pin" = pinned ] && prefix="taskset -c 0"
  $prefix runsc --network=none --platform=ptrace "do" bash -c \
    "exec 2>/dev/null; N_GETPPID=20000 N_OPEN=300 N_KUBELET=20 BUSY_WORK=50000000 bash '$here/measure.sh' '$work/gvisor' 1 none" \
    >"$work/gvisor.out" || true
  sed "s/^none/$pin/; s/^/gvisor\t/" "$work/gvisor.out"
}

for round in $(seq "$rounds"); do
  {
    measure_native_round
    measure_gvisor_round pinned
    measure_gvisor_round unpinned
  } >>"$raw"
  echo "round $round of $rounds done" >&2
done

# The tracer's peak RSS while tracing 100 threads that redirect constantly: the largest
# VmHWM (VmRSS where gVisor has no VmHWM) seen while it runs.
rss_script="
  mkdir -p '$work/rss/fake$work/rss' && echo fake >'$work/rss/fake$work/rss/f' && echo real >'$work/rss/f'
  '$intercept' --fake-root '$work/rss/fake' -- '$fixtures/intercept-threads' 100 3 '$work/rss/f' 'fake
' '$work/rss/f' 'fake
' >/dev/null &
  pid=\$! peak=0
  while kill -0 \$pid 2>/dev/null; do
    kb=\$(awk '/^(VmHWM|VmRSS):/ { if (\$2 > m) m = \$2 } END { print m + 0 }' /proc/\$pid/status 2>/dev/null || echo 0)
    [ \"\$kb\" -gt \"\$peak\" ] && peak=\$kb
    sleep 0.2
  done
  wait \$pid
  echo \"\$peak kB\""

# go-busy (spinners only) and go-busy+io (plus 4 openers) with and without
# GODEBUG=asyncpreemptoff=1: wall time natively and under the interceptor, and the
# interceptor's signal-delivery stops (SIGURG preemption), from its --stats line.
preempt_script="
  echo real >'$work/busy-file'
  for rep in 1 2 3; do
    for row in go-busy go-busy+io; do
      args='-work 50000000 -openers 0'
      [ \$row = go-busy+io ] && args='-work 50000000 -openers 4 -opens 200 -path $work/busy-file'
      for godebug in none asyncpreemptoff=1; do
        native=\$(env GODEBUG=\$godebug '$bench/go-busy' \$args)
        out=\$(env GODEBUG=\$godebug '$intercept' --fake-root '$work' --stats -- '$bench/go-busy' \$args 2>&1)
        echo \"\$row \$godebug \$native \$(echo \"\$out\" | head -1) \$(echo \"\$out\" | grep -o 'signal=[0-9]*' | cut -d= -f2)\"
      done
    done
  done"

summarize_preempt() {
  awk '{ k = $1 " " $2; n[k]++; nat[k, n[k]] = $3; icp[k, n[k]] = $4; sig[k, n[k]] = $5 }
    function med(a, k, m,    i, j, t, b) { for (i = 1; i <= m; i++) b[i] = a[k, i] + 0
      for (i = 2; i <= m; i++) for (j = i; j > 1 && b[j - 1] > b[j]; j--) { t = b[j]; b[j] = b[j - 1]; b[j - 1] = t }
      return b[int((m + 1) / 2)] }
    END { print "| row | GODEBUG | native ms | intercept ms | intercept÷native | signal stops |"; print "|---|---|---|---|---|---|"
      split("go-busy go-busy+io", rows, " "); split("none asyncpreemptoff=1", settings, " ")
      for (r = 1; r <= 2; r++) for (g = 1; g <= 2; g++) { k = rows[r] " " settings[g]; if (!n[k]) continue
        printf "| %s | %s | %.1f | %.1f | %.2f× | %d |\n", rows[r], settings[g], med(nat, k, n[k]), med(icp, k, n[k]),
          med(icp, k, n[k]) / med(nat, k, n[k]), med(sig, k, n[k]) } }'
}

echo "## Interceptor"
echo
echo "Reproduce: \`bench/interceptor/run.sh $rounds\` ($rounds rounds; measured $(date -u +%Y-%m-%d), load average"
echo "$(cut -d' ' -f1-3 /proc/loadavg) at the end)."
echo
awk -f "$here/summarize.awk" "$raw"
echo
echo "Tracer RSS with 100 threads (native): $(bash -c "$rss_script")"
echo "Tracer RSS with 100 threads (gVisor): $(in_gvisor "$rss_script")"
echo
echo "go-busy (8 spinners) and go-busy+io (8 spinners, 4 openers), unpinned, medians of 3, native:"
echo
bash -c "$preempt_script" | summarize_preempt
echo
echo "Same, in gVisor:"
echo
in_gvisor "$preempt_script" | summarize_preempt
