#!/usr/bin/env bats
# k3s-sandbox-supervise records who it and its child are (start time, field 22 of /proc/<pid>/stat, and the boot id)
# in status.json, so that `down` never signals a later process that got the same pid. Real processes, natively
# (only ones this file starts) and in gVisor, where there is no boot_id and the btime line stands in for it.

load '../lib/common'

setup_file() {
  "$REPO_ROOT/test/fixtures/supervisor/build.sh"
}

setup() {
  # K3S_SANDBOX_TEST_HELPERS: another build of the helpers (build/sanitize in test/run-all.sh).
  SUPERVISE="${K3S_SANDBOX_TEST_HELPERS:-$FIXTURES_BIN}/k3s-sandbox-supervise"
  T="$BATS_TEST_TMPDIR"
  SUP_PID=""
}

teardown() {
  # Only the supervisor this test started, and its child, recorded in its status file.
  local child
  child="$(jq -r '.childPid // empty' "$T/status.json" 2>/dev/null || true)"
  [ -z "$SUP_PID" ] || kill -KILL "$SUP_PID" 2>/dev/null || true
  [ -z "$child" ] || ! grep -qF "$T" "/proc/$child/cmdline" 2>/dev/null || kill -KILL "$child"
}

# Field 22 of /proc/PID/stat, counted after the last ')' as the comm may hold spaces and parentheses.
start_time_of() {
  sed -E 's/.*\) //' "/proc/$1/stat" | cut -d' ' -f20
}

field() { jq -r ".$1" "$T/status.json" 2>/dev/null; }

wait_for_starts() {
  local i
  for i in $(seq 200); do
    [ "$(field state)/$(field starts)" = "running/$1" ] && return 0
    sleep 0.05
  done
  echo "supervisor never reached start $1"; cat "$T/status.json" "$T/k3s.log" 2>/dev/null || true
  return 1
}

@test "status.json records the supervisor's and the child's start times and the boot id, also for a comm with ') ' in it" {
  # Both program names put a ')' and spaces into the comm that /proc/<pid>/stat shows in parentheses.
  cp "$SUPERVISE" "$T/sup) S 1 ("
  printf '#!/bin/bash\ntrap "exit 0" TERM\nwhile :; do sleep 0.1; done\n' >"$T/kid) R 2 ("
  chmod +x "$T/kid) R 2 ("
  "$T/sup) S 1 (" --log "$T/k3s.log" --status "$T/status.json" --pidfile "$T/sup.pid" \
    --backoff-initial-ms 50 -- "$T/kid) R 2 (" 2>"$T/err" 3>&- &
  SUP_PID=$!
  wait_for_starts 1
  [ "$(field supervisorPid)" = "$SUP_PID" ]
  sup_start="$(start_time_of "$SUP_PID")"
  [ "$(field supervisorStartTime)" = "$sup_start" ]
  [ "$(field bootId)" = "$(cat /proc/sys/kernel/random/boot_id)" ]
  first_child="$(field childPid)"
  [ "$(field childStartTime)" = "$(start_time_of "$first_child")" ]

  # A restarted child is recorded with its own start time.
  kill -KILL "$first_child"
  wait_for_starts 2
  [ "$(field childPid)" != "$first_child" ]
  [ "$(field childStartTime)" = "$(start_time_of "$(field childPid)")" ]

  kill -TERM "$SUP_PID"
  wait "$SUP_PID"
  [ "$(field state)" = stopped ]
  [ "$(field childStartTime)" = null ]
  [ "$(field supervisorStartTime)" = "$sup_start" ]
}

@test "gVisor: without a boot_id the boot id is the btime line of /proc/stat, and the start times match /proc" {
  run gvisor_script "
    set -eu
    T='$T'
    start_time_of() { sed -E 's/.*\\) //' \"/proc/\$1/stat\" | cut -d' ' -f20; }
    field() { jq -r \".\$1\" \"\$T/status.json\" 2>/dev/null; }
    '$SUPERVISE' --log \"\$T/k3s.log\" --status \"\$T/status.json\" --pidfile \"\$T/sup.pid\" -- sleep 60 &
    sup=\$!
    for i in \$(seq 200); do [ \"\$(field state)\" = running ] && break; sleep 0.05; done
    echo \"boot_id present: \$([ -e /proc/sys/kernel/random/boot_id ] && echo yes || echo no)\"
    echo \"bootId: \$(field bootId) / \$(grep '^btime ' /proc/stat)\"
    echo \"supervisor start: \$(field supervisorStartTime) / \$(start_time_of \$sup)\"
    echo \"child start: \$(field childStartTime) / \$(start_time_of \$(field childPid))\"
    kill -TERM \$sup
    wait \$sup
  "
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" =~ "boot_id present: no" ]]
  [[ "$output" =~ bootId:\ (btime\ [0-9]+)\ /\ (btime\ [0-9]+) ]]
  [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
  [[ "$output" =~ supervisor\ start:\ ([0-9]+)\ /\ ([0-9]+) ]]
  [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
  [[ "$output" =~ child\ start:\ ([0-9]+)\ /\ ([0-9]+) ]]
  [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}
