#!/usr/bin/env bats
# k3s-sandbox-intercept keeps the semantics of running the program directly: children of
# every shape are traced and redirected, exit status and signals pass through, nothing is
# left behind; and many threads redirecting at once corrupt nothing.
# Scenarios: test/fixtures/interceptor/scenarios/{process,stress}.sh ("|" is a newline).

load '../lib/common'
load '../fixtures/interceptor/bats-helpers'

setup_file() {
  "$REPO_ROOT/test/fixtures/interceptor/build.sh"
}

check_process_semantics() {
  [ "$status" -eq 0 ]
  # Each shape ends in `cat` of a faked file, in a new program.
  expect fork-exec 'fake-a-longer|'
  expect spawn 'fake-a-longer|'
  expect thread-exec 'fake-a-longer|'
  expect grandchild 'fake-a-longer|'
  # Only SIGURG can let main run again on GOMAXPROCS=1 while a goroutine spins.
  expect_like go-preempt 'preempted|*stats: stops=* signal=[1-9]* *'
  expect exit-0 'exited 0|'
  expect exit-1 'exited 1|'
  expect exit-42 'exited 42|'
  expect exit-255 'exited 255|'
  expect signal-KILL 'killed by signal 9|'
  expect signal-SEGV 'killed by signal 11|'
  expect signal-TERM 'killed by signal 15|'
  # SIGTERM sent to the interceptor runs the program's handler, which exits 7.
  expect term-forwarded '7|ready|SIGTERM handler ran|'
  # SIGSTOP froze the program (a traced stop), SIGCONT resumed it, SIGTERM then ended it.
  expect stop-cont 'frozen:yes state:t resumed:yes rc:143'
  expect_like orphan '* gone:yes'
  expect forkstorm 'forked=1000 reaped=1000|'
  expect forkstorm-left '0'
}

@test "process: children, exit status, signals (Go SIGURG too), group-stop, cleanup, fork storm (native)" {
  run_scenario native process "$BATS_TEST_TMPDIR"
  check_process_semantics
}

@test "process: children, exit status, signals (Go SIGURG too), group-stop, cleanup, fork storm (gVisor)" {
  run_scenario gvisor process "$BATS_TEST_TMPDIR"
  check_process_semantics
}

check_stress() {
  [ "$status" -eq 0 ]
  expect_like threads 'threads=64 reads=* failures=0|'
  expect_like go 'threads=64 reads=* failures=0|'
}

@test "stress: 64 C threads and 64 Go threads reading faked and unfaked files for 3 s (native)" {
  run_scenario native stress "$BATS_TEST_TMPDIR" 3
  check_stress
}

@test "stress: 64 C threads and 64 Go threads reading faked and unfaked files for 3 s (gVisor)" {
  run_scenario gvisor stress "$BATS_TEST_TMPDIR" 3
  check_stress
}
