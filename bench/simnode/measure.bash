# The measures of the simulated-node benchmark, shared by the native runner (run.sh) and the gVisor round
# (gvisor-round.bash). The caller defines `kubectl` (for the cluster under test) and SIZES; needs /proc only.

MAX_PODS=1100
KWOK_NODE=kwok-node

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rss_mib() { awk -v f="$2" '$1 == f":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# rss_split PID: its resident set from /proc/PID/smaps, split into pages of mapped files (mostly the runtime's own
# executable: gVisor counts far more of it resident than Linux does) and the rest (heap, stacks, anonymous memory).
rss_split() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { file = ($6 ~ /^\//) } /^Rss:/ { if (file) f += $2; else a += $2 }
    END { printf "files %.1f MiB + anonymous %.1f MiB", f / 1024, a / 1024 }' "/proc/$1/smaps" 2>/dev/null
}

# cpu_seconds PID: user + system CPU time the process has used (fields 14 and 15 of /proc/PID/stat, in clock ticks).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# start_rss_sampler PID: the highest VmRSS seen every 0.5 s goes to RSS_PEAK_FILE (gVisor has no VmHWM).
start_rss_sampler() {
  RSS_PEAK_FILE="$(mktemp)"
  (
    peak=0
    while kill -0 "$1" 2>/dev/null; do
      kib="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || true)"
      if [ -n "$kib" ] && [ "$kib" -gt "$peak" ]; then peak=$kib && echo "$peak" >"$RSS_PEAK_FILE"; fi
      sleep 0.5
    done
  ) 3>&- &
  RSS_SAMPLER_PID=$!
}

sampled_peak_mib() {
  awk '{ printf "%.1f", $1 / 1024 }' "$RSS_PEAK_FILE"
}

# time_rollout NAME N: seconds from `kubectl create deployment` to readyReplicas == N.
time_rollout() {
  local ns="bench-$1-$2" start end
  kubectl create namespace "$ns" >/dev/null
  start="$(now)"
  kubectl -n "$ns" create deployment web --image=registry.example/app:1 --replicas="$2" >/dev/null
  kubectl -n "$ns" wait deployment/web --for=jsonpath='{.status.readyReplicas}'="$2" --timeout=900s >/dev/null
  end="$(now)"
  elapsed "$start" "$end"
  kubectl delete namespace "$ns" --timeout=900s >/dev/null
}

# bench_runner NAME PID: one row per size, then the runner's memory: VmRSS now (after the last namespace is deleted),
# the kernel's VmHWM where there is one (not in gVisor), and the peak VmRSS sampled every 0.5 s.
bench_runner() {
  local name="$1" pid="$2" n
  start_rss_sampler "$pid"
  for n in $SIZES; do
    printf '%s\tN=%s\t%s s to all Ready\n' "$name" "$n" "$(time_rollout "$name" "$n")"
  done
  local hwm
  hwm="$(rss_mib "$pid" VmHWM)"
  printf '%s\tRSS now %s MiB, peak %s MiB, sampled peak %s MiB\n' "$name" "$(rss_mib "$pid" VmRSS)" "${hwm:-(no VmHWM)}" \
    "$(sampled_peak_mib)"
  printf '%s\tRSS now by kind: %s\n' "$name" "$(rss_split "$pid")"
  printf '%s\tCPU used since start %s s\n' "$name" "$(cpu_seconds "$pid")"
  kill "$RSS_SAMPLER_PID" 2>/dev/null || true
  rm -f "$RSS_PEAK_FILE"
}

wait_node_ready() {
  until kubectl get node "$1" >/dev/null 2>&1; do sleep 0.2; done
  kubectl wait --for=condition=Ready "node/$1" --timeout=120s >/dev/null
}

# apply_kwok_node: the Node kwok manages (by annotation), with room for the largest size.
apply_kwok_node() {
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_NODE
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: $KWOK_NODE, kubernetes.io/os: linux, type: kwok}
status:
  allocatable: {cpu: "$(nproc)", memory: 16Gi, pods: "$MAX_PODS"}
  capacity: {cpu: "$(nproc)", memory: 16Gi, pods: "$MAX_PODS"}
YAML
}

# kwok's flags after --kubeconfig: only the node above, default (fast) stages.
KWOK_FLAGS=(--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake
  --cidr=10.44.0.1/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40)
