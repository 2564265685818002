#!/usr/bin/env bats
# k3s-sandbox-supervise with real processes: children are small bash scripts written per
# test. Waits poll the status file with a generous bound; they are not timing targets.

load '../lib/common'

setup_file() {
  "$REPO_ROOT/test/fixtures/supervisor/build.sh"
}

setup() {
  # K3S_SANDBOX_TEST_HELPERS: another build of the helpers (build/sanitize in test/run-all.sh).
  SUPERVISE="${K3S_SANDBOX_TEST_HELPERS:-$FIXTURES_BIN}/k3s-sandbox-supervise"
  T="$BATS_TEST_TMPDIR"
  export T
  SUP_PID=""
}

# Every process a test started has $T in its command line, so leftovers can be found
# (and cleaned up) without touching anything else on the machine.
teardown() {
  local pid leftovers=""
  for pid in $SUP_PID $(cat "$T/child.pids" 2>/dev/null); do
    if started_by_this_test "$pid"; then
      leftovers="$leftovers $pid"
      kill -KILL "$pid"
    fi
  done
  if [ -n "$leftovers" ]; then
    echo "processes left behind:$leftovers"
    return 1
  fi
}

started_by_this_test() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$T"
}

# write_child NAME: the script body comes on stdin. The prelude records the child's pid
# and offers idle(), which sleeps inside bash itself so a killed child leaves no orphan
# `sleep` behind and signal traps run at once.
write_child() {
  {
    printf '#!/bin/bash\necho $$ >>"$T/child.pids"\n'
    printf 'idle() { local f="$T/idle.$$"; mkfifo "$f"; exec 9<>"$f"; rm "$f"; '
    printf 'while :; do read -t "${1:-600}" -u 9 || true; [ -z "${1:-}" ] || return 0; done; }\n'
    cat
  } >"$T/$1"
  chmod +x "$T/$1"
}

start_supervisor() {
  # 3>&-: bats waits for every holder of its fd 3 before finishing a test.
  "$SUPERVISE" --log "$T/k3s.log" --status "$T/status.json" --pidfile "$T/supervise.pid" "$@" \
    2>"$T/supervise.err" 3>&- &
  SUP_PID=$!
}

status_field() {
  jq -r ".$1" "$T/status.json" 2>/dev/null
}

wait_for() {
  local i
  for i in $(seq 200); do
    if "$@"; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for: $*"
  cat "$T/status.json" "$T/k3s.log" 2>/dev/null || true
  return 1
}

# status_snapshot_matches JQ: takes one snapshot of the status file as $T/seen.json and
# tests the jq condition on it.
status_snapshot_matches() {
  cp "$T/status.json" "$T/seen.json" 2>/dev/null && jq -e "$1" "$T/seen.json" >/dev/null 2>&1
}

# Polls until the jq condition holds for one snapshot of the status file and keeps that
# snapshot in $T/seen.json, so the checks that follow all look at the same moment.
wait_for_status() {
  wait_for status_snapshot_matches "$1"
}

seen() {
  jq -r ".$1" "$T/seen.json"
}

running_with_starts() {
  wait_for_status ".state == \"running\" and .starts == $1"
}

state_becomes() {
  wait_for_status ".state == \"$1\""
}
file_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

running_process() {
  [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Not a $(...) helper: only the shell that started the supervisor can wait for it. The
# bound turns a supervisor that never exits into a failure instead of a hung suite.
wait_supervisor_exit() {
  local i
  for i in $(seq 600); do
    running_process "$SUP_PID" || break
    sleep 0.05
  done
  if running_process "$SUP_PID"; then
    echo "supervisor $SUP_PID did not exit"
    cat "$T/status.json" "$T/k3s.log" 2>/dev/null || true
    return 1
  fi
  SUP_RC=0
  wait "$SUP_PID" || SUP_RC=$?
}

# SIGTERM to the supervisor, which must then exit 0.
stop_supervisor_cleanly() {
  kill -TERM "$SUP_PID"
  wait_supervisor_exit
  [ "$SUP_RC" = 0 ]
}

supervisor_zombies() {
  local stat
  for stat in /proc/[0-9]*/stat; do
    awk -v p="$SUP_PID" '$4 == p && $3 == "Z" { print $1 }' "$stat" 2>/dev/null
  done
}

child_started() {
  [ "$(cat "$T/child.pids" 2>/dev/null | wc -l)" -ge "$1" ]
}

# The pid the Nth child recorded itself (it may still be starting up).
child_pid_number() {
  wait_for child_started "$1" >&2
  sed -n "${1}p" "$T/child.pids"
}

@test "clean run and stop: running, then stopped with exit 0 and the pidfile removed" {
  write_child child.sh <<'EOF'
trap 'echo "child got TERM"; exit 0' TERM
echo "child says hello"
idle
EOF
  start_supervisor -- "$T/child.sh"
  running_with_starts 1
  [ "$(cat "$T/supervise.pid")" = "$SUP_PID" ]
  [ "$(seen supervisorPid)" = "$SUP_PID" ]
  [ "$(seen childPid)" = "$(child_pid_number 1)" ]
  [ "$(seen crashes)" = 0 ]
  [ "$(seen lastExit)" = null ]
  wait_for file_has "$T/k3s.log" "child says hello"
  [ "$(find "$T/k3s.log" -printf '%m')" = 640 ]
  [ "$(find "$T/status.json" -printf '%m')" = 644 ]
  # The caller must be able to read stdout/stderr to EOF once the supervisor is up.
  [ "$(find /proc/"$SUP_PID"/fd/2 -printf '%l')" = /dev/null ]
  [ "$(find /proc/"$SUP_PID"/fd/0 -printf '%l')" = /dev/null ]
  # It made itself a session leader: the caller's session dying cannot reach k3s.
  [ "$(awk '{ print $6 }' /proc/"$SUP_PID"/stat)" = "$SUP_PID" ]

  stop_supervisor_cleanly
  [ "$(status_field state)" = stopped ]
  [ "$(status_field childPid)" = null ]
  [ "$(status_field lastExit)" = "exit 0" ]
  [ ! -e "$T/supervise.pid" ]
  grep -q "child got TERM" "$T/k3s.log"
  grep -q 'level=info msg="k3s-sandbox-supervise: stop requested' "$T/k3s.log"
}

@test "a crashed child is restarted with doubling backoff, and the old one is reaped" {
  write_child child.sh <<'EOF'
runs=$(( $(cat "$T/runs" 2>/dev/null || echo 0) + 1 ))
echo "$runs" >"$T/runs"
if [ "$runs" -le 2 ]; then echo "run $runs failing"; exit 3; fi
idle
EOF
  start_supervisor --backoff-initial-ms 800 --backoff-max-ms 5000 -- "$T/child.sh"
  wait_for_status '.state == "backoff" and .crashes == 1'
  [ "$(seen backoffMs)" = 800 ]
  [ "$(seen lastExit)" = "exit 3" ]
  [ "$(seen lastFatal)" = "run 1 failing" ]
  [ "$(seen childPid)" = null ]
  wait_for_status '.state == "backoff" and .crashes == 2'
  [ "$(seen backoffMs)" = 1600 ]
  [ "$(seen lastFatal)" = "run 2 failing" ]
  running_with_starts 3
  [ "$(seen childPid)" = "$(child_pid_number 3)" ]
  [ -z "$(supervisor_zombies)" ]

  stop_supervisor_cleanly
  [ "$(status_field crashes)" = 2 ]
}

@test "a crash loop gives up with state crashloop, exit 4 and the last fatal line" {
  write_child child.sh <<'EOF'
echo 'time="2026-01-01T00:00:00Z" level=info msg="Starting k3s"'
echo 'time="2026-01-01T00:00:01Z" level=fatal msg="PostStartHook \"start-service-ip-repair-controllers\" failed: timeout"'
echo "a line after the fatal one"
exit 1
EOF
  start_supervisor --max-crashes 2 --crash-window 60 --backoff-initial-ms 50 -- "$T/child.sh"
  wait_supervisor_exit
  [ "$SUP_RC" = 4 ]
  [ "$(status_field state)" = crashloop ]
  [ "$(status_field starts)" = 3 ]
  [ "$(status_field crashes)" = 3 ]
  [ "$(status_field lastExit)" = "exit 1" ]
  [ "$(status_field lastFatal)" = 'time="2026-01-01T00:00:01Z" level=fatal msg="PostStartHook \"start-service-ip-repair-controllers\" failed: timeout"' ]
  [ ! -e "$T/supervise.pid" ]
  grep -q 'level=error msg="k3s-sandbox-supervise: crash loop: 3 crashes within 60 s' "$T/k3s.log"
}

@test "lastFatal keeps a Go panic line and is cut to 1000 bytes" {
  write_child child.sh <<'EOF'
printf 'panic: %s\n' "$(head -c 3000 /dev/zero | tr '\0' x)"
echo "goroutine 1 [running]:"
exit 2
EOF
  start_supervisor --max-crashes 0 -- "$T/child.sh"
  wait_supervisor_exit
  [ "$SUP_RC" = 4 ]
  fatal="$(status_field lastFatal)"
  [ "${#fatal}" = 1000 ]
  [ "${fatal:0:10}" = "panic: xxx" ]
}

@test "a program that cannot be executed ends in crashloop saying why" {
  start_supervisor --max-crashes 0 -- "$T/does-not-exist"
  wait_supervisor_exit
  [ "$SUP_RC" = 4 ]
  [ "$(status_field lastExit)" = "exit 127" ]
  [[ "$(status_field lastFatal)" == *"cannot execute $T/does-not-exist: No such file or directory"* ]]
}

@test "kill -9 of the child gets it restarted" {
  write_child child.sh <<'EOF'
trap 'exit 0' TERM
idle
EOF
  start_supervisor --backoff-initial-ms 50 -- "$T/child.sh"
  running_with_starts 1
  kill -KILL "$(seen childPid)"
  running_with_starts 2
  [ "$(seen lastExit)" = "signal 9" ]
  [ "$(seen crashes)" = 1 ]
  [ "$(seen childPid)" = "$(child_pid_number 2)" ]
  [ -z "$(supervisor_zombies)" ]

  stop_supervisor_cleanly
}

@test "the log rotates at --log-max-bytes keeping --log-keep files, with whole lines" {
  write_child child.sh <<'EOF'
trap 'exit 0' TERM
for i in $(seq 10 69); do echo "line $i of the child output"; done
echo "all lines written"
idle
EOF
  start_supervisor --log-max-bytes 300 --log-keep 2 -- "$T/child.sh"
  wait_for file_has "$T/k3s.log" "all lines written"
  stop_supervisor_cleanly

  [ -e "$T/k3s.log.1" ]
  [ -e "$T/k3s.log.2" ]
  [ ! -e "$T/k3s.log.3" ]
  for f in "$T/k3s.log" "$T/k3s.log.1" "$T/k3s.log.2"; do
    [ "$(find "$f" -printf '%s')" -le 300 ]
    [ "$(find "$f" -printf '%m')" = 640 ]
    [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ]
  done
  # The kept files hold the newest output, oldest first, with nothing lost between them.
  cat "$T/k3s.log.2" "$T/k3s.log.1" "$T/k3s.log" | grep -o 'line [0-9]*' | awk '{ print $2 }' >"$T/kept"
  [ "$(tail -n 1 "$T/kept")" = 69 ]
  [ "$(head -n 1 "$T/kept")" -gt 10 ]
  seq "$(head -n 1 "$T/kept")" 69 | diff - "$T/kept"
}

@test "SIGTERM is forwarded to the child exactly once, and the supervisor waits for it" {
  write_child child.sh <<'EOF'
on_term() {
  echo term >>"$T/terms"
  until [ -e "$T/release" ]; do idle 0.05; done
  exit 0
}
trap on_term TERM
idle
EOF
  start_supervisor -- "$T/child.sh"
  running_with_starts 1
  kill -TERM "$SUP_PID"
  state_becomes stopping
  wait_for file_has "$T/terms" term
  kill -INT "$SUP_PID"
  kill -TERM "$SUP_PID"
  sleep 0.3
  [ "$(status_field state)" = stopping ]
  [ "$(wc -l <"$T/terms")" = 1 ]
  touch "$T/release"
  wait_supervisor_exit
  [ "$SUP_RC" = 0 ]
  [ "$(status_field state)" = stopped ]
  [ "$(status_field lastExit)" = "exit 0" ]
  [ ! -e "$T/supervise.pid" ]
}

@test "a child that ignores SIGTERM is killed after --stop-timeout" {
  write_child child.sh <<'EOF'
trap '' TERM
idle
EOF
  start_supervisor --stop-timeout 1 -- "$T/child.sh"
  running_with_starts 1
  kill -TERM "$SUP_PID"
  state_becomes stopping
  wait_supervisor_exit
  [ "$SUP_RC" = 0 ]
  [ "$(status_field state)" = stopped ]
  [ "$(status_field lastExit)" = "signal 9" ]
  grep -q 'still running 1 s after SIGTERM; sending SIGKILL' "$T/k3s.log"
  [ ! -e "$T/supervise.pid" ]
}

@test "a pidfile naming a live supervisor is refused with exit 3" {
  write_child child.sh <<'EOF'
trap 'exit 0' TERM
idle
EOF
  start_supervisor -- "$T/child.sh"
  running_with_starts 1
  first_child="$(status_field childPid)"
  run "$SUPERVISE" --log "$T/second.log" --status "$T/second.json" --pidfile "$T/supervise.pid" -- "$T/child.sh"
  [ "$status" = 3 ]
  [[ "$output" == *"already running as pid $SUP_PID (pidfile $T/supervise.pid)"* ]]
  [ ! -e "$T/second.json" ]
  [ "$(cat "$T/supervise.pid")" = "$SUP_PID" ]
  [ "$(status_field childPid)" = "$first_child" ]

  stop_supervisor_cleanly
}

@test "a stale pidfile (dead pid, or a live pid of another program) is replaced" {
  write_child child.sh <<'EOF'
trap 'exit 0' TERM
idle
EOF
  # The supervisor starts over the pidfile as it stands, takes it over, and stops cleanly.
  replaces_pidfile() {
    start_supervisor -- "$T/child.sh"
    running_with_starts 1
    [ "$(cat "$T/supervise.pid")" = "$SUP_PID" ]
    stop_supervisor_cleanly
  }
  bash -c 'exit 0' &
  dead_pid=$!
  wait "$dead_pid"
  echo "$dead_pid" >"$T/supervise.pid"
  replaces_pidfile

  # The test's own shell is alive but is no supervisor; it must be neither refused nor signalled.
  echo "$$" >"$T/supervise.pid"
  rm -f "$T/status.json"
  replaces_pidfile
}

@test "bad options exit 2 naming the option and what is allowed, creating nothing" {
  refused() {
    local expected="$1"
    shift
    run "$SUPERVISE" "$@"
    echo "args: $* -> status $status: $output"
    [ "$status" = 2 ]
    [[ "$output" == *"$expected"* ]]
  }
  bad() {
    refused "$@"
    [[ "$output" == *"usage: k3s-sandbox-supervise"* ]]
  }
  local files=(--log "$T/k.log" --status "$T/s.json" --pidfile "$T/p.pid")
  bad "missing '-- PROGRAM'"
  bad "unknown option '--frobnicate'; allowed: --log, --status" --frobnicate 1 "${files[@]}" -- /bin/true
  bad "--log-keep: '-1' is not allowed; allowed: an integer 0..99" --log-keep -1 "${files[@]}" -- /bin/true
  bad "--log-max-bytes: '10M' is not allowed; allowed: an integer 1.." --log-max-bytes 10M "${files[@]}" -- /bin/true
  bad "--max-crashes: '1001' is not allowed; allowed: an integer 0..1000" --max-crashes=1001 "${files[@]}" -- /bin/true
  bad "--crash-window: '' is not allowed" --crash-window "" "${files[@]}" -- /bin/true
  bad "--stop-timeout needs a value" "${files[@]}" --stop-timeout
  bad "--backoff-max-ms 100 is below --backoff-initial-ms 200" \
    --backoff-initial-ms 200 --backoff-max-ms 100 "${files[@]}" -- /bin/true
  bad "--pidfile is required" --log "$T/k.log" --status "$T/s.json" -- /bin/true
  refused "cannot open log file (its directory must exist) $T/missing/k.log: No such file or directory" \
    --log "$T/missing/k.log" --status "$T/s.json" --pidfile "$T/p.pid" -- /bin/true
  refused "cannot write pidfile (its directory must exist) $T/missing/p.pid" \
    --log "$T/k.log" --status "$T/s.json" --pidfile "$T/missing/p.pid" -- /bin/true
  # Any other error names itself, without the missing-directory hint (issue 12: EROFS and ENOSPC got that hint too).
  refused "cannot write pidfile /sys/p.pid: Permission denied" \
    --log "$T/k.log" --status "$T/s.json" --pidfile /sys/p.pid -- /bin/true
  [[ "$output" != *"must exist"* ]]
  [ ! -e "$T/s.json" ]
  [ ! -e "$T/p.pid" ]
  [ -z "$(find "$T" -name '*.tmp.*')" ]
}

@test "gVisor: crash, restart after kill -9, and a clean stop inside runsc" {
  write_child child.sh <<'EOF'
trap 'echo "child got TERM"; exit 0' TERM
runs=$(( $(cat "$T/runs" 2>/dev/null || echo 0) + 1 ))
echo "$runs" >"$T/runs"
if [ "$runs" = 1 ]; then echo 'level=fatal msg="first run fails"'; exit 1; fi
idle
EOF
  run gvisor_script "
    set -eu
    export T='$T'
    field() { jq -r \".\$1\" \"\$T/status.json\" 2>/dev/null; }
    wait_starts() { for i in \$(seq 200); do [ \"\$(field state)/\$(field starts)\" = running/\$1 ] && return 0; sleep 0.05; done; return 1; }
    '$SUPERVISE' --log \"\$T/k3s.log\" --status \"\$T/status.json\" --pidfile \"\$T/supervise.pid\" \
      --backoff-initial-ms 50 -- \"\$T/child.sh\" &
    sup=\$!
    wait_starts 2
    echo \"after crash: \$(field lastExit) / \$(field lastFatal)\"
    kill -KILL \"\$(field childPid)\"
    wait_starts 3
    echo \"after kill: \$(field lastExit) crashes=\$(field crashes)\"
    kill -TERM \$sup
    rc=0; wait \$sup || rc=\$?
    echo \"stopped: rc=\$rc state=\$(field state) pidfile=\$(find \"\$T\" -name supervise.pid | wc -l)\"
    grep -c 'child got TERM' \"\$T/k3s.log\"
  "
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *'after crash: exit 1 / level=fatal msg="first run fails"'* ]]
  [[ "$output" == *"after kill: signal 9 crashes=2"* ]]
  [[ "$output" == *"stopped: rc=0 state=stopped pidfile=0"* ]]
  # Writes inside runsc stay in its overlay, so nothing of this run is left on the host.
  [ ! -e "$T/status.json" ]
}
