#!/usr/bin/env bats
# k3s-sandbox-intercept on bad input, and when ptrace is refused: a clear message naming
# the input and what is allowed, and a distinct exit status.
# Scenario: test/fixtures/interceptor/scenarios/errors.sh ("|" is a newline).

load '../lib/common'
load '../fixtures/interceptor/bats-helpers'

setup_file() {
  "$REPO_ROOT/test/fixtures/interceptor/build.sh"
}

check_errors() {
  local T="$BATS_TEST_TMPDIR" usage='usage: k3s-sandbox-intercept --fake-root DIR [--log FILE] [-v] [--stats] [--stats-file FILE] [--statfs-spoof] [--fake-propagation] [--rbind-as-bind] -- PROGRAM [ARGS...]|'
  [ "$status" -eq 0 ]
  expect_prefix no-args "2|k3s-sandbox-intercept: --fake-root DIR is required (unless --fake-propagation or --rbind-as-bind is given)|$usage"
  expect_prefix bad-option "2|k3s-sandbox-intercept: unknown option '--bogus'|$usage"
  expect_prefix missing-optarg "2|k3s-sandbox-intercept: option --fake-root needs an argument|$usage"
  expect missing-root "2|k3s-sandbox-intercept: --fake-root '$T/no-such-dir' (expected an existing readable directory): No such file or directory"
  expect root-is-file "2|k3s-sandbox-intercept: --fake-root '$T/data/a.txt' is not a directory (expected an existing readable directory)"
  expect root-is-slash "2|k3s-sandbox-intercept: --fake-root '/' is '/': every file would fake itself (expected a directory holding only the fakes)"
  expect_like unreadable-root "2|k3s-sandbox-intercept: --fake-root '/tmp/intercept-locked.*/closed' is not readable (expected an existing readable directory): Permission denied"
  expect_like unreadable-subdir "2|k3s-sandbox-intercept: --fake-root '/tmp/intercept-locked.*/root': cannot read '/tmp/intercept-locked.*/root/sub': Permission denied"
  expect missing-program "127|k3s-sandbox-intercept: cannot run PROGRAM '$T/no-such-program': No such file or directory"
  expect_prefix no-program "127|k3s-sandbox-intercept: missing PROGRAM after the options|$usage"
  expect bad-log "2|k3s-sandbox-intercept: --log '$T/no-such-dir/x.log' (expected a writable file path): No such file or directory"
  expect bad-stats-file "2|k3s-sandbox-intercept: --stats-file '$T/no-such-dir/x.stats' (expected a writable file path): No such file or directory"
  expect ptrace-refused "1|k3s-sandbox-intercept: ptrace is refused: this process may not trace its own child (a container without CAP_SYS_PTRACE, or a seccomp profile that blocks ptrace): Operation not permitted|k3s-sandbox-intercept: remedy: allow ptrace of child processes: sysctl kernel.yama.ptrace_scope=1 (3 needs a reboot), or run the container with --cap-add=SYS_PTRACE and a seccomp profile that permits ptrace"
}

@test "errors: bad options, fake root, program, log file; ptrace refused (native)" {
  run_scenario native errors "$BATS_TEST_TMPDIR"
  check_errors
}

@test "errors: bad options, fake root, program, log file; ptrace refused (gVisor)" {
  run_scenario gvisor errors "$BATS_TEST_TMPDIR"
  check_errors
}
