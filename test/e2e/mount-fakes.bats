#!/usr/bin/env bats
# Issue 13 (mount fakes) and issue 12 defect 3 (no half-built mounts): `k3s-sandbox up --mode sandboxed-node` against
# the k3s double, whose sandboxed-node start does kubelet's six reads and writes of /proc/sys
# (test/fixtures/k3s-double/agent.go); in gVisor, and natively in a private mount namespace.
load '../lib/common'
load '../lib/double-scenario'

setup_file() {
  require_double_built
  require_built "$FIXTURES_BIN/intercept-kubelet-tunables" test/fixtures/build-all.sh
}

prelude() {
  double_prelude
  echo "TUNABLES='$FIXTURES_BIN/intercept-kubelet-tunables'"
  cat <<'HELPERS'
interceptors() { for f in /proc/[0-9]*/cmdline; do tr '\0' '\n' <"$f" 2>/dev/null | head -n 1; done | grep -c k3s-sandbox-intercept || true; }
# Every /proc/sys entry (path and type), and the value of each readable file; entries that change by themselves left out.
proc_sys_snapshot() {
  find /proc/sys -printf '%p %y %m\n' | sort
  find /proc/sys -type f | sort | while read -r f; do printf '%s=%s\n' "$f" "$(head -c 200 "$f" 2>/dev/null | tr '\n' ' ')"; done |
    grep -Ev 'random|inode|dentry|file-nr|ns_last_pid|hostname=|uptime'
}
our_mounts() { grep -cE ' /proc/sys/| /sys/fs/cgroup| /dev/kmsg | /var/lib/k3s-sandbox/' /proc/self/mountinfo || true; }
# The tmpfs mounts below /proc/sys (the rebind variant's), by mount point.
proc_sys_tmpfs() { awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($5 ~ /^\/proc\/sys\// && $(i + 1) == "tmpfs") print $5; break } }' /proc/self/mountinfo | sort | tr '\n' ' '; }
# kill_ups_in_fakes ROUNDS MAX_CS: each round starts an up and SIGKILLs it inside its fakes step (0 to MAX_CS hundredths
# of a second after it wrote the mount journal), printing what was left; every other round `down` then meets what the killed up left.
kill_ups_in_fakes() {
  local journal=/run/k3s-sandbox/mounts.json i pid cs
  for i in $(seq "$1"); do
    touch /tmp/round-start
    node "$BUNDLE" up --mode sandboxed-node >/dev/null 2>&1 & pid=$!
    for _ in $(seq 500); do [ -n "$(find "$journal" -newer /tmp/round-start 2>/dev/null)" ] && break; sleep 0.01; done
    cs=$((RANDOM % ($2 + 1))); sleep "$((cs / 100)).$(printf %02d $((cs % 100)))"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "round $i: $(our_mounts) mounts, journal $(grep -o '"complete":[a-z]*' "$journal" 2>/dev/null || echo absent)"
    if [ $((i % 2)) -eq 0 ]; then ks down >/dev/null 2>&1; fi
  done
}
# Interceptors given the fake tree, i.e. serving /proc/sys (one may run for other reasons, without it).
proc_sys_interceptors() {
  for f in /proc/[0-9]*/cmdline; do
    argv="$(tr '\0' '\n' <"$f" 2>/dev/null)" || continue
    case "$(printf '%s\n' "$argv" | head -n 1)" in *k3s-sandbox-intercept) printf '%s\n' "$argv" | grep -qx -- --fake-root && echo serving ;; esac
  done | grep -c serving || true
}
HELPERS
}

@test "gVisor as root: sandboxed-node comes up with mount fakes and no interceptor serving /proc/sys; kubelet's tunables work for any process; down leaves /proc/sys as it found it" {
  run scenario '
    proc_sys_snapshot >/tmp/before
    ks up --mode sandboxed-node --wait-node >out 2>err || { cat out err; exit 1; }
    cat out err
    echo "interceptors serving /proc/sys: $(proc_sys_interceptors)"
    echo "panic: $(cat /proc/sys/kernel/panic)"
    setpriv --reuid 65534 --regid 65534 --clear-groups --bounding-set=-sys_admin "$TUNABLES" >/dev/null && echo "tunables as uid 65534: ok"
    ks doctor --mode sandboxed-node | grep -E "mounts:|sandboxed-node" || true
    ks up >again 2>&1; grep -c "mounted" again | sed "s/^/second up mounts: /" || true
    ks down >/dev/null 2>&1
    proc_sys_snapshot >/tmp/after
    diff /tmp/before /tmp/after && echo "proc/sys unchanged"
    echo "mounts left: $(our_mounts)"
    [ -e /dev/kmsg ] || echo "no kmsg left"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: ready in "[0-9.]+"s, mode sandboxed-node (gVisor), node "[a-z0-9-]+" Ready" ]]
  [[ "$output" =~ "overlays over their /proc/sys directories serve" ]]
  [[ "$output" =~ "the /proc/sys fakes are sandbox-wide" ]]
  [[ "$output" =~ "interceptors serving /proc/sys: 0" ]]
  [[ "$output" =~ "panic: 10" ]]
  [[ "$output" =~ "tunables as uid 65534: ok" ]]
  [[ "$output" =~ "mounts: a tmpfs mounts; an overlay mounts; a bind mounts; mount namespaces do not isolate" ]]
  [[ "$output" =~ "second up mounts: 0" ]]
  [[ "$output" =~ "proc/sys unchanged" ]]
  [[ "$output" =~ "mounts left: 0" ]]
  [[ "$output" =~ "no kmsg left" ]]
}

@test "gVisor, fakes=intercept: sandboxed-node comes up under the interceptor and mounts nothing over /proc/sys" {
  run scenario '
    K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node --wait-node >out 2>err || { cat out err; exit 1; }
    cat out
    grep "interceptor serves" err
    echo "interceptors: $(interceptors)"
    echo "proc/sys mounts: $(grep -c " /proc/sys/" /proc/self/mountinfo || true)"
    ks down >/dev/null 2>&1
    echo "mounts left: $(our_mounts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node "[a-z0-9-]+" Ready" ]]
  [[ "$output" =~ "the interceptor serves" ]]
  [[ "$output" =~ "interceptors: 1" ]]
  [[ "$output" =~ "proc/sys mounts: 0" ]]
  [[ "$output" =~ "mounts left: 0" ]]
}

@test "gVisor without CAP_SYS_ADMIN: auto chooses the interceptor and says why; fakes=mount is refused naming the remedy" {
  run scenario '
    drop() { setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$@"; }
    # What a container runtime gives such a sandbox: cgroup v1 hierarchies and a /dev/kmsg (without CAP_SYS_ADMIN
    # k3s-sandbox can mount neither, and sandboxed-node would be blocked before the fakes matter).
    mount -t tmpfs cgroup /sys/fs/cgroup
    for c in cpu cpuacct cpuset memory pids; do mkdir /sys/fs/cgroup/$c; mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c; done
    touch /dev/kmsg; mount --bind /dev/null /dev/kmsg
    rc=0; K3S_SANDBOX_FAKES=mount drop node "$BUNDLE" up --mode sandboxed-node >out 2>&1 || rc=$?
    echo "mount rc: $rc"; cat out
    drop node "$BUNDLE" up --mode sandboxed-node >out 2>err || { cat out err; exit 1; }
    cat out; grep "interceptor serves" err
    echo "interceptors: $(interceptors)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mount rc: 1" ]]
  [[ "$output" =~ "fakes=mount, but the fakes cannot be mounted here: CAP_SYS_ADMIN is missing" ]]
  [[ "$output" =~ "the interceptor serves" ]]
  [[ "$output" =~ "the fakes cannot be mounted here (CAP_SYS_ADMIN is missing" ]]
  [[ "$output" =~ "mode sandboxed-node (gVisor)" ]]
  [[ "$output" =~ "interceptors: 1" ]]
}

# Issue 12, defect 3: whatever point an `up` is killed at, the next `up` finds no half-built tree in its way.
@test "gVisor: up killed with SIGKILL at random points 20 times never leaves a half-mounted tree; the next up comes up and down removes everything" {
  run scenario '
    proc_sys_snapshot >/tmp/before
    # The overlay set is 11 mounts, well under a second here: kill 0-0.4 s into it.
    kill_ups_in_fakes 20 40
    ks up --mode sandboxed-node --wait-node >out 2>err || { cat out err; exit 1; }
    cat out
    echo "cgroup controllers: $(grep -c " /sys/fs/cgroup/" /proc/self/mountinfo)"
    ks down >/dev/null 2>&1
    proc_sys_snapshot >/tmp/after
    diff /tmp/before /tmp/after && echo "proc/sys unchanged"
    echo "mounts left: $(our_mounts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  # Some kills did land halfway through the mounts.
  [[ "$output" =~ "mounts, journal \"complete\":false" ]]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node "[a-z0-9-]+" Ready" ]]
  [[ "$output" =~ "cgroup controllers: 5" ]]
  [[ "$output" =~ "proc/sys unchanged" ]]
  [[ "$output" =~ "mounts left: 0" ]]
}

# Natively: a private mount and network namespace plays an unprivileged container whose /proc/sys is read-only.
@test "native, read-only /proc/sys in a private mount namespace: binds serve the tunables to k3s alone; the host's values unchanged; nothing left mounted" {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  work="$(mktemp -d)"
  values() { for f in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet; do echo "$f=$(cat /proc/sys/$f)"; done; }
  host_before="$(values)"
  mounts_before="$(wc -l </proc/self/mountinfo)"
  port=$((20000 + RANDOM % 20000))
  run unshare --mount --net --propagation private bash -c "
    set -eu
    exec 2>&1
    ip link set lo up
    mount --bind /proc/sys /proc/sys && mount -o remount,ro,bind /proc/sys
    export K3S_SANDBOX_K3S='$FIXTURES_BIN/k3s-double' K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' K3S_DOUBLE_READY_DELAY=300ms
    # k3s links its default kubeconfig, /etc/rancher/k3s/k3s.yaml, to the written one: keep that link out of this machine's /etc.
    export K3S_DOUBLE_GLOBAL_KUBECONFIG='$work/etc/k3s.yaml'
    export K3S_SANDBOX_STATE_DIR='$work/run' K3S_SANDBOX_LIB_DIR='$work/lib' K3S_SANDBOX_LOG_DIR='$work/log'
    export K3S_SANDBOX_DATA_DIR='$work/data' K3S_SANDBOX_HTTPS_PORT=$port HOME='$work/home' K3S_SANDBOX_CONFIG='$work/none.json'
    echo '{}' >'$work/none.json'
    # --no-wait: nothing is published, so no home directory of this machine is written.
    node '$DIST/k3s-sandbox.cjs' up --mode sandboxed-node --no-wait >'$work/out' 2>'$work/err' || { cat '$work/out' '$work/err'; exit 1; }
    cat '$work/out'; grep -E 'binds in|fakes' '$work/err' || true
    for i in \$(seq 100); do grep -q 'k3s is up and running' '$work/log/k3s.log' 2>/dev/null && break; sleep 0.1; done
    grep -E 'k3s is up and running|Failed to start ContainerManager' '$work/log/k3s.log'
    pid=\$(node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(process.argv[1],\"utf8\")).childPid)' '$work/run/status.json')
    echo \"k3s sees panic: \$(cat /proc/\$pid/root/proc/sys/kernel/panic 2>&1)\"
    echo \"k3s namespace differs: \$([ \"\$(readlink /proc/\$pid/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ] && echo yes)\"
    echo \"this namespace sees panic: \$(cat /proc/sys/kernel/panic)\"
    echo \"interceptors: \$(for p in /proc/[0-9]*; do readlink \$p/exe; done 2>/dev/null | grep -c 'k3s-sandbox-intercept\$' || true)\"
    node '$DIST/k3s-sandbox.cjs' down >/dev/null 2>&1
  "
  echo "$output"
  rm -rf "$work"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s is up and running" ]]
  [[ "$output" =~ "binds in k3s's own mount namespace serve" ]]
  [[ "$output" =~ "k3s namespace differs: yes" ]]
  [[ ! "$output" =~ "this namespace sees panic: 10" ]]
  [[ "$output" =~ "k3s sees panic: 10" ]]
  [[ "$output" =~ "interceptors: 0" ]]
  [ "$(values)" = "$host_before" ]
  [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
}

# The rebind variant, which auto picks in a gVisor that refuses overlays but mounts a tmpfs and binds. This runsc accepts
# overlays and no runsc flag refuses them, so fakes=rebind (documented: forces the variant) makes the real mechanism run.
@test "gVisor, fakes=rebind: after 10 ups SIGKILLed at random points, sandboxed-node comes up on tmpfs mounts with the real entries bound back; live entries stay live; a second up reuses them; down leaves /proc/sys as it found it" {
  run scenario '
    export K3S_SANDBOX_FAKES=rebind
    proc_sys_snapshot >/tmp/before
    # The rebind set is some 60 mounts, about 2.5 s here: kill 0-2 s into it.
    kill_ups_in_fakes 10 200
    ks up --mode sandboxed-node --wait-node >out 2>err || { cat out err; exit 1; }
    cat out err
    echo "interceptors serving /proc/sys: $(proc_sys_interceptors)"
    echo "tmpfs over /proc/sys: $(proc_sys_tmpfs)"
    echo "panic: $(cat /proc/sys/kernel/panic) root_maxkeys: $(cat /proc/sys/kernel/keys/root_maxkeys) route_localnet: $(cat /proc/sys/net/ipv4/conf/all/route_localnet)"
    proc_sys_snapshot >/tmp/mounted
    comm -23 <(sort /tmp/before) <(sort /tmp/mounted)
    echo "entries or values lost while mounted: $(comm -23 <(sort /tmp/before) <(sort /tmp/mounted) | grep -vc overcommit_memory || true)"
    hostname rebind-live; echo "hostname: $(cat /proc/sys/kernel/hostname)"
    setpriv --reuid 65534 --regid 65534 --clear-groups --bounding-set=-sys_admin "$TUNABLES" >/dev/null && echo "tunables as uid 65534: ok"
    ks up --mode sandboxed-node >again 2>&1; echo "second up mounts: $(grep -c "mounted" again || true)"
    ks down >/dev/null 2>&1
    proc_sys_snapshot >/tmp/after
    diff /tmp/before /tmp/after && echo "proc/sys unchanged"
    echo "mounts left: $(our_mounts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  # Some kills did land halfway through the mounts.
  [[ "$output" =~ "mounts, journal \"complete\":false" ]]
  [[ "$output" =~ "mode sandboxed-node (gVisor), node "[a-z0-9-]+" Ready" ]]
  [[ "$output" =~ "tmpfs mounts over their /proc/sys directories, the real entries bound back, serve" ]]
  [[ "$output" =~ "asked for (fakes=rebind)" ]]
  [[ "$output" =~ "the /proc/sys fakes are sandbox-wide" ]]
  [[ "$output" =~ "interceptors serving /proc/sys: 0" ]]
  [[ "$output" =~ "tmpfs over /proc/sys: /proc/sys/kernel /proc/sys/net /proc/sys/net/ipv4 /proc/sys/vm " ]]
  [[ "$output" =~ "panic: 10 root_maxkeys: 1000000 route_localnet: 1" ]]
  [[ "$output" =~ "entries or values lost while mounted: 0" ]]
  [[ "$output" =~ "hostname: rebind-live" ]]
  [[ "$output" =~ "tunables as uid 65534: ok" ]]
  [[ "$output" =~ "second up mounts: 0" ]]
  [[ "$output" =~ "proc/sys unchanged" ]]
  [[ "$output" =~ "mounts left: 0" ]]
}

# Only root mounts: as another user the mount probe does not run, and doctor says the choice is unknown rather than
# naming the interceptor (which a root `up`, through sudo, would not use here).
@test "gVisor, doctor as uid 65534: says the mount probe needs root and which fakes a root up would use is unknown; as root it names the overlays" {
  run scenario '
    nonroot() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    cd /tmp
    nonroot node "$BUNDLE" doctor --mode sandboxed-node >nonroot.out 2>&1 || true
    grep -E "^  mounts:|sandboxed-node|/proc/sys fakes|interceptor serves|fakes: intercept" nonroot.out | sed "s/^/uid 65534: /"
    ks doctor --mode sandboxed-node >root.out 2>&1 || true
    grep -E "^  mounts:|sandboxed-node \(fakes" root.out | sed "s/^/root: /"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "uid 65534:   mounts: not tested: the mount probe needs root" ]]
  [[ "$output" =~ "uid 65534:       /proc/sys fakes: unknown as uid 65534: the mount probe needs root, so whether a root \`up\` mounts the /proc/sys fakes or runs the interceptor is not known here" ]]
  [[ ! "$output" =~ "uid 65534:"[^$'\n']*"interceptor serves" ]]
  [[ ! "$output" =~ "uid 65534:"[^$'\n']*"fakes: intercept" ]]
  [[ "$output" =~ "root:   ✓ sandboxed-node (fakes: overlay, gVisor accepts an overlay over a /proc/sys directory" ]]
}
