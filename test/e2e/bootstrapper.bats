#!/usr/bin/env bats
# The bootstrapper end to end: `k3s-sandbox up/status/down` against the k3s double, each scenario in one
# fresh gVisor sandbox (runsc do), with the double installed as /usr/local/bin/k3s inside it.
load '../lib/common'
load '../lib/double-scenario'

setup_file() {
  require_double_built
}

# Shell text run first in every sandbox: the double as k3s, helpers from build/fixtures, and small helpers.
prelude() {
  double_prelude
  our_process_helpers
}

@test "cold up reaches ready in control-plane mode and publishes a private kubeconfig" {
  run scenario '
    ks up >out 2>err || { cat err; exit 1; }
    cat out
    echo "status: $(ks status --json)"
    find /root/.kube/config -printf "kubeconfig mode %m owner %u\n"
    kubectl --kubeconfig /root/.kube/config get --raw /readyz; echo
    echo "current: $(kubectl config current-context)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: ready in "[0-9.]+"s, mode control-plane (gVisor), KUBECONFIG=/root/.kube/config; " ]]
  [[ "$output" =~ '"running":true,"state":"running","ready":true,"mode":"control-plane"' ]]
  [[ "$output" =~ "kubeconfig mode 600 owner root" ]]
  grep -qx ok <<<"$output"
  [[ "$output" =~ "current: k3s-sandbox" ]]
}

@test "sandboxed-node reaches ready, node Ready, through the interceptor" {
  run scenario '
    K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node --wait-node
    echo "interceptor ran: $(grep -c "started .*k3s-sandbox-intercept" /var/log/k3s-sandbox/k3s.log)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: ready in "[0-9.]+"s, mode sandboxed-node (gVisor), node "[a-z0-9-]+" Ready, KUBECONFIG=/root/.kube/config" ]]
  [[ "$output" =~ "interceptor ran: 1" ]]
}

@test "sandboxed-node without the interceptor fails with the ContainerManager diagnosis" {
  run scenario '
    # The same helpers, except an interceptor that intercepts nothing: it runs the program after "--" as is.
    mkdir /tmp/bin
    cp "$K3S_SANDBOX_BIN_DIR/k3s-sandbox-supervise" /tmp/bin/
    printf "%s\n" "#!/bin/sh" "while [ \"\$1\" != -- ]; do shift; done; shift; exec \"\$@\"" >/tmp/bin/k3s-sandbox-intercept
    chmod +x /tmp/bin/k3s-sandbox-intercept
    rc=0; K3S_SANDBOX_FAKES=intercept K3S_SANDBOX_BIN_DIR=/tmp/bin ks up --mode sandboxed-node || rc=$?
    echo "up rc: $rc"
    echo "left running: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1" ]]
  [[ "$output" =~ "k3s cannot run in mode sandboxed-node here: kubelet could not start its container manager" ]]
  [[ "$output" =~ "why: kubelet reads and sets six kernel tunables" ]]
  [[ "$output" =~ "log: ".*"Failed to start ContainerManager" ]]
  [[ "$output" =~ "left running: 0" ]]
}

@test "up --json prints one machine-readable object" {
  run scenario 'ks up --json 2>/dev/null'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" =~ ^\{\"ok\":true,\"state\":\"ready\",\"foundReady\":false,\"mode\":\"control-plane\",\"gvisor\":true ]]
}

@test "a warm up is a no-op: same supervisor, same k3s, no restart, nothing rewritten" {
  run scenario '
    ks up >/dev/null 2>&1
    before="$(status_field supervisorPid) $(status_field childPid) $(find /root/.kube/config -printf %T@)"
    ks up
    after="$(status_field supervisorPid) $(status_field childPid) $(find /root/.kube/config -printf %T@)"
    echo "starts: $(status_field starts)"
    [ "$before" = "$after" ] && echo "unchanged: $after"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: already running, mode control-plane" ]]
  [[ "$output" =~ "starts: 1" ]]
  [[ "$output" =~ "unchanged: " ]]
}

@test "8 concurrent ups start exactly one k3s and all report ready" {
  run scenario '
    for i in 1 2 3 4 5 6 7 8; do (rc=0; ks up >"out.$i" 2>"err.$i" || rc=$?; echo "$rc" >"rc.$i") & done
    wait
    for i in 1 2 3 4 5 6 7 8; do echo "rc $(cat rc.$i): $(cat out.$i)"; done
    # One supervisor ever started: "(start 1)" is its first start of k3s. (It may restart k3s if another
    # up'"'"'s probe, which binds 6443 for an instant, races k3s for the port.)
    echo "supervisors started: $(grep -c "k3s-sandbox-supervise: started .*(start 1)" /var/log/k3s-sandbox/k3s.log)"
    echo "k3s processes: $(our_processes | grep -c /usr/local/bin/k3s)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^rc 0: k3s-sandbox: \(ready in\|already running\)' <<<"$output")" -eq 8 ]
  [ "$(grep -c '^rc 0: k3s-sandbox: ready in' <<<"$output")" -eq 1 ]
  [[ "$output" =~ "supervisors started: 1" ]]
  [[ "$output" =~ "k3s processes: 1" ]]
}

@test "two PostStartHook fatals on start: the supervisor restarts k3s and up still reaches ready" {
  run scenario '
    K3S_DOUBLE_POSTSTARTHOOK_FAILURES=2 ks up
    echo "starts: $(status_field starts) crashes: $(status_field crashes)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "post-start hook start-service-ip-repair-controllers failed, and k3s exited; the supervisor restarts it (restart 2)" ]]
  [[ "$output" =~ "k3s-sandbox: ready in" ]]
  [[ "$output" =~ "starts: 3 crashes: 2" ]]
}

@test "after kill -9 of k3s the supervisor brings it back and up finds it ready" {
  run scenario '
    ks up >/dev/null 2>&1
    first="$(status_field childPid)"
    kill -9 "$first"
    for _ in $(seq 100); do
      next="$(status_field childPid)"
      [ "$next" != "$first" ] && [ "$next" != null ] && break
      sleep 0.1
    done
    ks up
    echo "k3s pid $first -> $(status_field childPid), alive: $(kill -0 "$(status_field childPid)" && echo yes)"
    echo "starts: $(status_field starts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: "(ready in|already running) ]]
  [[ "$output" =~ "alive: yes" ]]
  [[ "$output" =~ "starts: 2" ]]
}

@test "a crash loop stops with a clear status and the last fatal line" {
  run scenario '
    rc=0; K3S_DOUBLE_POSTSTARTHOOK_FAILURES=100 ks up --timeout 120 || rc=$?
    echo "up rc: $rc"
    rc=0; ks status || rc=$?
    echo "status rc: $rc"
    echo "left running: $(our_processes | wc -l)"
    ks down
    rc=0; ks status || rc=$?
    echo "status after down rc: $rc"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1" ]]
  [[ "$output" =~ "crash loop); last fatal line: ".*"PostStartHook" ]]
  [[ "$output" =~ "k3s-sandbox: crash loop: k3s crashed "[0-9]+" times and the supervisor gave up" ]]
  [[ "$output" =~ "status rc: 1" ]]
  [[ "$output" =~ "left running: 0" ]]
  [[ "$output" =~ "status after down rc: 3" ]]
}

@test "port 6443 held by a foreign process: a clear error naming it (plain and --json), and the process lives on" {
  run scenario '
    node -e "require(\"net\").createServer().listen(6443, \"127.0.0.1\", () => console.log(\"listening\"))" >holder.out &
    holder=$!
    for _ in $(seq 100); do grep -q listening holder.out && break; sleep 0.1; done
    rc=0; ks up || rc=$?
    echo "up rc: $rc holder: $holder"
    rc=0; ks up --json 2>/dev/null >json.out || rc=$?
    echo "json rc: $rc $(node -e "const r=JSON.parse(require(\"fs\").readFileSync(\"json.out\",\"utf8\")); console.log(\"json ok=\" + r.ok, r.error)")"
    kill -0 "$holder" && echo "holder alive"
    echo "left running: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1" ]]
  [[ "$output" =~ "json rc: 1 json ok=false port 6443 is already in use" ]]
  holder="$(sed -n 's/.*holder: \([0-9]*\)$/\1/p' <<<"$output")"
  [[ "$output" =~ "port 6443 is already in use (held by $holder (node -e" ]]
  [[ "$output" =~ "holder alive" ]]
  [[ "$output" =~ "left running: 0" ]]
}

@test "bad options exit 2, name the problem, and touch nothing" {
  run scenario '
    for args in "up --mode bogus" "up --timeout 0" "up --frobnicate" "up --wait --no-wait"; do
      rc=0; ks $args >/dev/null 2>err || rc=$?
      echo "$args -> $rc: $(head -n 1 err)"
    done
    for path in /run/k3s-sandbox /var/log/k3s-sandbox /var/lib/k3s-sandbox /var/lib/rancher/k3s /etc/profile.d/k3s-sandbox.sh; do
      if [ -e "$path" ]; then echo "created $path"; fi
    done
    if grep -qs k3s-sandbox /root/.kube/config /root/.bashrc; then echo "created a profile entry"; fi
    echo "processes: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up --mode bogus -> 2: "[^$'\n']*"invalid value for mode: \"bogus\" (from flag --mode); allowed: auto, server, sandboxed-node, control-plane" ]]
  [[ "$output" =~ "up --timeout 0 -> 2: "[^$'\n']*"invalid value for waitTimeout: \"0\"" ]]
  [[ "$output" =~ "up --frobnicate -> 2: "[^$'\n']*"--frobnicate" ]]
  [[ "$output" =~ "up --wait --no-wait -> 2: "[^$'\n']*"exclude each other" ]]
  [[ ! "$output" =~ "created " ]]
  [[ "$output" =~ "processes: 0" ]]
}

@test "a non-root user's new login shell runs kubectl against the cluster with no flags" {
  run scenario '
    useradd --create-home --shell /bin/bash vscode
    _REMOTE_USER=vscode ks up
    find /home/vscode/.kube/config -printf "kubeconfig mode %m owner %u\n"
    grep -c ">>> k3s-sandbox >>>" /home/vscode/.bashrc
    su vscode -c "bash -lc \"kubectl get --raw /readyz\""; echo
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "KUBECONFIG=/home/vscode/.kube/config" ]]
  [[ "$output" =~ "kubeconfig mode 600 owner vscode" ]]
  grep -qx 1 <<<"$output"
  grep -qx ok <<<"$output"
}

@test "CLAUDE_ENV_FILE receives the export line once" {
  run scenario '
    printf "export OTHER_HOOK=1\n" >/tmp/claude-env
    CLAUDE_ENV_FILE=/tmp/claude-env ks up >/dev/null 2>&1
    CLAUDE_ENV_FILE=/tmp/claude-env ks up >/dev/null 2>&1
    cat /tmp/claude-env
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = $'export OTHER_HOOK=1\nexport KUBECONFIG=/root/.kube/config' ]
}

@test "down stops everything it started and nothing else" {
  run scenario '
    sleep 300 & bystander=$!
    ks up >/dev/null 2>&1
    echo "before: $(our_processes | wc -l)"
    ks down
    echo "after: $(our_processes | wc -l)"
    kill -0 "$bystander" && echo "bystander alive"
    rc=0; ks status || rc=$?
    echo "status rc: $rc"
    ks down
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "before: 2" ]]
  [[ "$output" =~ "k3s-sandbox: stopped (supervisor " ]]
  [[ "$output" =~ "after: 0" ]]
  [[ "$output" =~ "bystander alive" ]]
  [[ "$output" =~ "status rc: 3" ]]
  [[ "$output" =~ "k3s-sandbox: not running" ]]
}

@test "down after sandboxed-node stops k3s and the interceptor, and runs the agent clean-up" {
  run scenario '
    K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node >/dev/null 2>&1
    echo "before: $(our_processes | wc -l)"
    ks down
    echo "after: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "before: 3" ]]
  [[ "$output" =~ "clean up agent leftovers" ]]
  [[ "$output" =~ "after: 0" ]]
}

@test "logs prints the k3s log and the supervisor's lines; logs -f follows new lines until stopped" {
  run scenario '
    ks up >/dev/null 2>&1
    ks logs | grep -E "k3s is up and running|k3s-sandbox-supervise: started"
    # node itself in the background (a backgrounded shell function would be a subshell in between), and
    # SIGTERM, since a non-interactive shell starts background jobs with SIGINT ignored.
    node "$BUNDLE" logs -f >followed & follower=$!
    sleep 1
    ks down >/dev/null 2>&1
    sleep 1
    kill -TERM "$follower"
    rc=0; wait "$follower" || rc=$?
    echo "follower rc: $rc"
    grep "k3s stopped" followed
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox-supervise: started" ]]
  [[ "$output" =~ "k3s is up and running" ]]
  [[ "$output" =~ "follower rc: 0" ]]
  [[ "$output" =~ 'msg="k3s stopped"' ]]
}

@test "stale state: after kill -9 of the supervisor, up stops the orphaned k3s and starts one fresh instance" {
  run scenario '
    ks up >/dev/null 2>&1
    old_supervisor="$(status_field supervisorPid)" old_k3s="$(status_field childPid)"
    kill -9 "$old_supervisor"
    ks up
    echo "old k3s gone: $(kill -0 "$old_k3s" 2>/dev/null && echo no || echo yes)"
    echo "new supervisor differs: $([ "$(status_field supervisorPid)" != "$old_supervisor" ] && echo yes)"
    echo "k3s processes: $(our_processes | grep -c /usr/local/bin/k3s)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "is gone but its k3s still runs; stopping it" ]]
  [[ "$output" =~ "k3s-sandbox: ready in " ]]
  [[ "$output" =~ "old k3s gone: yes" ]]
  [[ "$output" =~ "new supervisor differs: yes" ]]
  [[ "$output" =~ "k3s processes: 1" ]]
}

@test "concurrent ups that fail all report the one failure, from one attempt" {
  run scenario '
    node -e "require(\"net\").createServer().listen(6443, \"127.0.0.1\", () => console.log(\"listening\"))" >holder.out &
    for _ in $(seq 100); do grep -q listening holder.out && break; sleep 0.1; done
    ups=""
    for i in 1 2 3; do (rc=0; ks up >"out.$i" 2>"err.$i" || rc=$?; echo "$rc" >"rc.$i") & ups="$ups $!"; done
    wait $ups
    for i in 1 2 3; do echo "rc $(cat rc.$i): $(cat out.$i)"; done
    # Since issue 12 (defect 2) a held port is refused before k3s starts: the one attempt is one launch step.
    echo "k3s starts in log: $(cat /var/log/k3s-sandbox/k3s.log 2>/dev/null | grep -c "Starting k3s" || true)"
    echo "launch attempts: $(cat err.1 err.2 err.3 | grep -c "✗ launch")"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^rc 1: k3s-sandbox: failed: port 6443 is already in use (held by ' <<<"$output")" -eq 3 ]
  [[ "$output" =~ "k3s starts in log: 0" ]]
  [[ "$output" =~ "launch attempts: 1" ]]
}

@test "non-root up: waits for the root instance and uses its own published copy, or says what root must run" {
  run scenario '
    useradd --create-home --shell /bin/bash vscode
    useradd --create-home --shell /bin/bash other
    rc=0; su vscode -c "node $BUNDLE up 2>/dev/null" || rc=$?
    echo "vscode before root rc: $rc"
    _REMOTE_USER=vscode ks up >/dev/null 2>&1
    su vscode -c "node $BUNDLE up 2>/dev/null"
    su vscode -c "node $BUNDLE status"
    rc=0; su other -c "node $BUNDLE up 2>/dev/null" || rc=$?
    echo "other rc: $rc"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: already running, mode control-plane (gVisor), KUBECONFIG=/home/vscode/.kube/config" ]]
  [[ "$output" =~ "k3s-sandbox: running, ready, mode control-plane" ]]
  [[ "$output" =~ "k3s-sandbox: failed: k3s runs as root and other has no kubeconfig for it yet (/home/other/.kube/config has no k3s-sandbox context): run \`sudo k3s-sandbox up --user other\` once" ]]
  [[ "$output" =~ "other rc: 1" ]]
  [[ "$output" =~ "k3s-sandbox: failed: starting k3s needs root, and \`sudo -n\` is not allowed for vscode: run \`sudo k3s-sandbox up --user vscode\`" ]]
  [[ "$output" =~ "vscode before root rc: 1" ]]
}

@test "up --no-wait returns once k3s is launched; a later up waits for it and publishes" {
  run scenario '
    K3S_DOUBLE_READY_DELAY=2s ks up --no-wait 2>/dev/null
    ks up 2>/dev/null
    echo "starts: $(status_field starts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: starting (not waited for), mode control-plane (gVisor), log /var/log/k3s-sandbox/k3s.log" ]]
  [[ "$output" =~ "k3s-sandbox: "(ready in|already running)[^$'\n']*"KUBECONFIG=/root/.kube/config" ]]
  [[ "$output" =~ "starts: 1" ]]
}

@test "a missing helper binary is named before anything starts" {
  run scenario '
    mkdir /tmp/empty
    rc=0; K3S_SANDBOX_BIN_DIR=/tmp/empty ks up 2>/dev/null || rc=$?
    echo "up rc: $rc, processes: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "k3s-sandbox: failed: /tmp/empty/k3s-sandbox-supervise is missing or not executable: set K3S_SANDBOX_BIN_DIR" ]]
  [[ "$output" =~ "up rc: 1, processes: 0" ]]
}

# Issue 12, defect 1: an `up` that finds a healthy instance changes nothing on disk, whatever mode auto would plan.
@test "a plain up while sandboxed-node runs keeps it: no fake removed, nothing on disk changed" {
  run scenario '
    ks up --mode sandboxed-node >/dev/null 2>&1
    snapshot() { find /var/lib/k3s-sandbox /sys/fs/cgroup -maxdepth 4 -printf "%p %T@ %s\n" 2>/dev/null | sort | md5sum; }
    before="$(snapshot)"
    rc=0; ks up >out 2>err || rc=$?
    echo "up rc: $rc"; cat out
    echo "removals: $(grep -c "removed" err || true)"
    [ "$before" = "$(snapshot)" ] && echo "disk unchanged"
    echo "fake panic: $(cat /var/lib/k3s-sandbox/fake-root/proc/sys/kernel/panic)"
    echo "starts: $(status_field starts)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 0" ]]
  [[ "$output" =~ "k3s-sandbox: already running, mode sandboxed-node" ]]
  [[ "$output" =~ "removals: 0" ]]
  [[ "$output" =~ "disk unchanged" ]]
  [[ "$output" =~ "fake panic: 10" ]]
  [[ "$output" =~ "starts: 1" ]]
}

# Issue 12, defect 2: a foreign holder of the port is refused before launch in every mode, naming it.
@test "port 6443 held by a foreign process: sandboxed-node refuses at once, naming the holder" {
  run scenario '
    node -e "require(\"net\").createServer().listen(6443, \"127.0.0.1\", () => console.log(\"listening\"))" >holder.out &
    holder=$!
    for _ in $(seq 100); do grep -q listening holder.out && break; sleep 0.1; done
    start=$(date +%s)
    rc=0; ks up --mode sandboxed-node >out 2>err || rc=$?
    echo "up rc: $rc after $(( $(date +%s) - start )) s holder: $holder"
    cat out
    echo "left running: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1 after "[0-9]" s" ]]
  holder="$(sed -n 's/.*holder: \([0-9]*\)$/\1/p' <<<"$output")"
  [[ "$output" =~ "k3s-sandbox: failed: port 6443 is already in use (held by $holder (node -e" ]]
  [[ "$output" =~ "left running: 0" ]]
}

# Issue 12, defect 6: every --json run prints exactly one JSON object, success or failure.
@test "up --json prints one JSON object on a plan failure, a bad setting and a bad command line" {
  run scenario '
    for args in "up --mode server --json" "up --json --mode x" "up --json --frobnicate"; do
      rc=0; ks $args >json.out 2>/dev/null || rc=$?
      echo "$args -> rc $rc, lines $(wc -l <json.out): $(node -e "const r=JSON.parse(require(\"fs\").readFileSync(\"json.out\",\"utf8\")); console.log(\"ok=\" + r.ok, r.error.split(\"\n\")[0])")"
    done
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up --mode server --json -> rc 1, lines 1: ok=false mode server cannot run in this sandbox" ]]
  [[ "$output" =~ "up --json --mode x -> rc 2, lines 1: ok=false invalid value for mode: \"x\"" ]]
  [[ "$output" =~ "up --json --frobnicate -> rc 2, lines 1: ok=false Unknown option '--frobnicate'" ]]
}

# Issue 12, defect 8: doctor and up read one plan; an installation blocker fails up at once with its remedy.
@test "no k3s installed: doctor and up agree, and up fails at once with the remedy" {
  run scenario '
    rm /usr/local/bin/k3s
    rc=0; ks doctor >doctor.out 2>&1 || rc=$?
    echo "doctor rc: $rc"; grep -E "^up would|no mode can run" doctor.out
    start=$(date +%s)
    rc=0; ks up >out 2>err || rc=$?
    echo "up rc: $rc after $(( $(date +%s) - start )) s"; cat out
    echo "processes: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "doctor rc: 1" ]]
  [[ "$output" =~ "up would fail: /usr/local/bin/k3s is missing or not executable: install k3s" ]]
  [[ ! "$output" =~ "up would run" ]]
  [[ "$output" =~ "up rc: 1 after "[0-3]" s" ]]
  [[ "$output" =~ "k3s-sandbox: failed: /usr/local/bin/k3s is missing or not executable: install k3s" ]]
  [[ "$output" =~ "processes: 0" ]]
}

@test "a read-only data dir: doctor and up agree, and up fails at once naming the data dir" {
  run scenario '
    mkdir -p /var/lib/rancher && mount -t tmpfs -o ro tmpfs /var/lib/rancher
    rc=0; ks doctor >doctor.out 2>&1 || rc=$?
    echo "doctor rc: $rc"; grep -E "^up would" doctor.out
    start=$(date +%s)
    rc=0; ks up >out 2>err || rc=$?
    echo "up rc: $rc after $(( $(date +%s) - start )) s"; cat out
    echo "processes: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up would fail: no mode can run in this sandbox" ]]
  [[ "$output" =~ "up rc: 1 after "[0-3]" s" ]]
  [[ "$output" =~ "k3s-sandbox: failed: no mode can run in this sandbox" ]]
  [[ "$output" =~ "the data dir /var/lib/rancher/k3s cannot be created or written" ]]
  [[ "$output" =~ "processes: 0" ]]
}

# Issue 12, frictions.
@test "up --user with a bad or empty name exits 2 before anything starts" {
  run scenario '
    for user in "a;b" ""; do
      rc=0; ks up --user "$user" >/dev/null 2>err || rc=$?
      echo "user [$user] -> $rc: $(tail -n 1 err)"
    done
    echo "processes: $(our_processes | wc -l)"
    [ -e /var/log/k3s-sandbox/k3s.log ] && echo "k3s was started"
    true
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "user [a;b] -> 2: k3s-sandbox: --user \"a;b\" is not a user name" ]]
  [[ "$output" =~ "user [] -> 2: k3s-sandbox: --user \"\" is not a user name" ]]
  [[ "$output" =~ "processes: 0" ]]
  [[ ! "$output" =~ "k3s was started" ]]
}

# Issue 11 start-up cost: an up with the settings the healthy instance was launched with keeps it without probing.
@test "progress: a step's detail lines come after its own line; an unchanged up prints one plan line and does not probe" {
  run scenario '
    ks up 2>first.err >/dev/null
    echo "after probe: $(grep -A1 "✓ probe" first.err | tail -n 1)"
    ks up 2>second.err >/dev/null
    echo "remedy lines: $(grep -c -e "--disable-agent" -e "host-local CNI stand-in" second.err || true)"
    echo "probe lines: $(grep -c "probe" second.err || true)"
    grep -A1 "✓ plan" second.err | tail -n 1
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "after probe:   gVisor, uid 0" ]]
  [[ "$output" =~ "remedy lines: 0" ]]
  [[ "$output" =~ "probe lines: 0" ]]
  [[ "$output" =~ "unchanged: the running instance has this plan (mode control-plane" ]]
}

@test "a running cluster that differs from the config: said plainly; an explicitly asked mode fails" {
  run scenario '
    ks up --mode sandboxed-node >/dev/null 2>&1
    rc=0; ks up --mode control-plane >out 2>err || rc=$?
    echo "explicit rc: $rc"; cat out
    rc=0; K3S_SANDBOX_HTTPS_PORT=7443 ks up --mode sandboxed-node >out 2>err || rc=$?
    echo "port rc: $rc"; grep "differs" err
    echo "mode now: $(ks status --json | node -e "console.log(JSON.parse(require(\"fs\").readFileSync(0,\"utf8\")).mode)")"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "explicit rc: 4" ]]
  [[ "$output" =~ "k3s-sandbox: failed: the running cluster differs from the config (mode sandboxed-node runs, the config gives control-plane): it keeps running as it is; \`k3s-sandbox down\` then \`k3s-sandbox up\` applies the config" ]]
  [[ "$output" =~ "port rc: 0" ]]
  [[ "$output" =~ "https port 6443 is in use, the config gives 7443" ]]
  [[ "$output" =~ "mode now: sandboxed-node" ]]
}

@test "publish failures: an unusable CLAUDE_ENV_FILE is named; a read-only root home falls back to the admin kubeconfig" {
  run scenario '
    rc=0; CLAUDE_ENV_FILE=/nonexistent/env ks up --json >out 2>err || rc=$?
    echo "env rc: $rc"; grep "CLAUDE_ENV_FILE" err
    ks down >/dev/null 2>&1
    mount -t tmpfs -o ro tmpfs /root
    rc=0; ks up >out 2>err || rc=$?
    echo "ro home rc: $rc"; cat out; grep "could not publish" err
    KUBECONFIG=/run/k3s-sandbox/k3s.yaml kubectl get --raw /readyz; echo
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "env rc: 0" ]]
  [[ "$output" =~ "CLAUDE_ENV_FILE=/nonexistent/env: "[^$'\n']*"ENOENT" ]]
  [[ "$output" =~ "ro home rc: 0" ]]
  [[ "$output" =~ "KUBECONFIG=/run/k3s-sandbox/k3s.yaml" ]]
  [[ "$output" =~ "could not publish into /root" ]]
  grep -qx ok <<<"$output"
}

@test "Ctrl-C during up says what it leaves running" {
  run scenario '
    # Job control, so that the background up gets SIGINT as a foreground one does on Ctrl-C (not ignored).
    set -m
    K3S_DOUBLE_READY_DELAY=20s node "$BUNDLE" up >out 2>err &
    up=$!
    for _ in $(seq 200); do grep -q "✓ launch" err && break; sleep 0.1; done
    kill -INT "$up"
    rc=0; wait "$up" || rc=$?
    echo "up rc: $rc"; grep "interrupted" err
    echo "left running: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 130" ]]
  [[ "$output" =~ "k3s-sandbox: interrupted by SIGINT: k3s keeps starting under supervisor "[0-9]+" (mode control-plane): \`k3s-sandbox status\` shows it" ]]
  [[ "$output" =~ "left running: 2" ]]
}
