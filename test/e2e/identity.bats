#!/usr/bin/env bats
# `up` and `down` signal only what they started, and a plain user cannot hold the start-up lock: each scenario in
# one fresh gVisor sandbox (runsc do) against the k3s double installed as /usr/local/bin/k3s, with real processes
# standing in for a closed terminal's background job and for a reused pid.
load '../lib/common'
load '../lib/double-scenario'

setup_file() {
  require_double_built
}

prelude() {
  double_prelude
  our_process_helpers
  cat <<'HELPERS'
STATE=/run/k3s-sandbox
# Field N of /proc/PID/stat, counted after the last ")" (the comm may hold spaces and parentheses).
stat_field() { sed -E 's/.*\) //' "/proc/$1/stat" | cut -d' ' -f"$(($2 - 2))"; }
alive() { [ -e "/proc/$1" ] && [ "$(stat_field "$1" 3)" != Z ]; }
# A closed terminal's background job: a sleep left in a session whose leader (pid = session id) has exited.
background_job() {
  setsid sh -c 'sleep 600 </dev/null >/dev/null 2>&1 & echo $! >/tmp/job'
  for _ in $(seq 50); do [ -s /tmp/job ] && break; sleep 0.1; done
  job="$(cat /tmp/job)" job_session="$(stat_field "$(cat /tmp/job)" 6)"
}
# stale_status SUPERVISOR_PID CHILD_PID [IDENTITY_JSON]: the status.json and pidfile a dead instance would leave.
stale_status() {
  mkdir -p "$STATE"
  echo "$1" >"$STATE/supervisor.pid"
  printf '{"state":"running","supervisorPid":%s,"childPid":%s%s,"starts":1,"crashes":0,"backoffMs":0,"lastExit":null,"lastFatal":null,"updated":0}\n' \
    "$1" "$2" "${3:+,$3}" >"$STATE/status.json"
}
HELPERS
}

@test "a stale status.json naming a closed terminal's background job: down and up leave the job alone, down removes the file" {
  run scenario '
    background_job
    echo "job $job in session $job_session, whose leader is gone: $(alive "$job_session" && echo no || echo yes)"
    # As an older status.json has it (no identity), then with identities that no longer match.
    stale_status "$job_session" "$job"
    ks down
    echo "after down: job alive: $(alive "$job" && echo yes || echo no), status.json: $(find "$STATE" -name status.json | wc -l)"
    start="$(stat_field "$job" 22)" boot="$(sed -n "s/^btime //p" /proc/stat)"
    stale_status "$job_session" "$job" "\"supervisorStartTime\":$((start - 1)),\"bootId\":\"btime $boot\",\"childStartTime\":$((start + 1))"
    ks down
    echo "after second down: job alive: $(alive "$job" && echo yes || echo no)"
    stale_status "$job_session" "$job" "\"supervisorStartTime\":$start,\"bootId\":\"btime $boot\",\"childStartTime\":$start"
    ks up >up.out 2>&1 || { cat up.out; exit 1; }
    tail -n 1 up.out
    echo "after up: job alive: $(alive "$job" && echo yes || echo no)"
    ks down
    echo "after real down: job alive: $(alive "$job" && echo yes || echo no), ours left: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "whose leader is gone: yes" ]]
  [[ "$output" =~ "after down: job alive: yes, status.json: 0" ]]
  [[ "$output" =~ "after second down: job alive: yes" ]]
  [[ "$output" =~ "k3s-sandbox: ready in " ]]
  [[ "$output" =~ "after up: job alive: yes" ]]
  [[ "$output" =~ "k3s-sandbox: stopped (supervisor " ]]
  [[ "$output" =~ "after real down: job alive: yes, ours left: 0" ]]
}

@test "a real up then down stops supervisor and k3s; a record whose start times no longer match is not signalled" {
  run scenario '
    ks up >/dev/null 2>&1
    supervisor="$(status_field supervisorPid)" k3s="$(status_field childPid)"
    echo "before: $(our_processes | wc -l)"
    cp "$STATE/status.json" /tmp/recorded.json
    # The same pids, recorded as having started one tick later: what a reused pid looks like.
    node -e "const f=\"$STATE/status.json\", s=JSON.parse(require(\"fs\").readFileSync(f)); s.supervisorStartTime++; s.childStartTime++; require(\"fs\").writeFileSync(f, JSON.stringify(s))"
    ks down
    echo "after mismatched down: supervisor alive: $(alive "$supervisor" && echo yes || echo no), k3s alive: $(alive "$k3s" && echo yes || echo no)"
    cp /tmp/recorded.json "$STATE/status.json"
    ks down
    echo "after down: $(our_processes | wc -l), status.json: $(find "$STATE" -name status.json | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "before: 2" ]]
  [[ "$output" =~ "k3s-sandbox: not running" ]]
  [[ "$output" =~ "after mismatched down: supervisor alive: yes, k3s alive: yes" ]]
  [[ "$output" =~ "k3s-sandbox: stopped (supervisor " ]]
  [[ "$output" =~ "after down: 0, status.json: 0" ]]
}

@test "down finds the k3s of a SIGKILLed supervisor from its record and stops it" {
  run scenario '
    ks up >/dev/null 2>&1
    supervisor="$(status_field supervisorPid)" k3s="$(status_field childPid)"
    kill -9 "$supervisor"
    for _ in $(seq 50); do alive "$supervisor" || break; sleep 0.1; done
    echo "orphaned k3s alive: $(alive "$k3s" && echo yes || echo no)"
    ks down
    for _ in $(seq 50); do alive "$k3s" || break; sleep 0.1; done
    echo "after down: k3s alive: $(alive "$k3s" && echo yes || echo no), ours left: $(our_processes | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "orphaned k3s alive: yes" ]]
  [[ "$output" =~ "k3s-sandbox: stopped (supervisor " ]]
  [[ "$output" =~ "after down: k3s alive: no, ours left: 0" ]]
}

@test "a plain user can neither open nor flock the start-up lock, so root's up is not blocked; status still works for them" {
  run scenario '
    useradd --create-home --shell /bin/bash mallory
    ks up >/dev/null 2>&1
    ks down >/dev/null
    # Whatever the lock file is called, try to hold it (flock(2) locks a read-only descriptor too).
    for lock in "$STATE"/lock "$STATE"/locks/up.lock; do
      su mallory -c "flock -n -E 99 $lock sleep 120 >/dev/null 2>&1 &"
      rc=0; su mallory -c "exec 3<$lock" 2>/dev/null || rc=$?
      echo "mallory opens $lock: rc $rc"
    done
    sleep 1
    begin=$(date +%s)
    rc=0; timeout 60 node "$BUNDLE" up >up.out 2>&1 || rc=$?
    echo "root up rc $rc after $(( $(date +%s) - begin )) s: $(tail -n 1 up.out)"
    echo "waited for another up: $(grep -c "is starting k3s; waiting for it" up.out || true)"
    find "$STATE/locks" -maxdepth 0 -printf "lock dir %m %u\n"
    find "$STATE/locks/up.lock" -printf "lock file %m %u\n"
    su mallory -c "node $BUNDLE status" || true
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "mallory opens /run/k3s-sandbox/locks/up.lock: rc 1" ]]
  [[ "$output" =~ "root up rc 0 after " ]]
  [[ "$output" =~ "k3s-sandbox: ready in " ]]
  [[ "$output" =~ "waited for another up: 0" ]]
  [[ "$output" =~ "lock dir 700 root" ]]
  [[ "$output" =~ "lock file 600 root" ]]
  [[ "$output" =~ "k3s-sandbox: running, " ]]
}
