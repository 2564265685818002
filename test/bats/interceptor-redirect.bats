#!/usr/bin/env bats
# k3s-sandbox-intercept: which paths are redirected, and what the program then observes.
# Each test runs one scenario (test/fixtures/interceptor/scenarios/*.sh) natively or in one
# gVisor sandbox; the scenario prints label=result lines and the assertions are here.
# In the results, "|" stands for a newline.

load '../lib/common'
load '../fixtures/interceptor/bats-helpers'

setup_file() {
  "$REPO_ROOT/test/fixtures/interceptor/build.sh"
}

# The results that are the same natively and in gVisor. T is the scenario's directory:
# T/data holds real files, T/fake/T/data their fakes.
check_path_forms() {
  local T="$BATS_TEST_TMPDIR"
  [ "$status" -eq 0 ]
  expect control-abs 'real-a|'
  expect abs 'fake-a-longer|'
  expect unfaked 'real-b|'
  expect dotted 'fake-a-longer|'
  expect legacy-open 'fake-a-longer|'
  expect long 'fake-long|'
  expect cwd 'fake-a-longer|'
  expect cwd-dotdot 'fake-a-longer|'
  expect cwd-unfaked 'real-b|'
  expect dirfd 'fake-a-longer|'
  expect dirfd-dotdot 'fake-a-longer|'
  # A path in .rodata is read, never written: the program sees its string unchanged.
  expect rodata 'fake-panic|rodata: unchanged|'
  # Every argument register is back to the program's value after the syscall.
  expect regs 'regs: preserved|'
  expect stat 'stat: size=14|'
  expect lstat 'lstat: size=10|'
  expect statx 'statx: size=14|'
  expect control-access 'access: No such file or directory|'
  expect access 'access: ok|'
  expect faccessat2 'faccessat2: ok|'
  expect control-readlink 'readlink: a.txt|'
  expect readlink 'readlink: Invalid argument|'
  expect_like statfs 'statfs: f_type=0x*|'
  expect truncate 'truncate: ok|'
  expect truncated-fake 'fake'
  expect truncated-real 'real-trunc|'
  expect creat 'creat: ok|'
  expect created-fake 'made'
  expect created-real 'no|'
  # A write-only open without O_TRUNC still replaces the value, as a sysctl write does.
  expect write 'write: ok|'
  expect written-fake '1'
  expect written-real 'real-w|'
  # chroot: a root that is not the interceptor's gets no redirect.
  expect_like jail "*not redirected: pid=* openat $T/data/a.txt (its root directory is not ours)|jail-a|"
}

@test "redirect: path forms and syscalls (native)" {
  run_scenario native redirect-paths "$BATS_TEST_TMPDIR"
  check_path_forms
  expect openat2 'fake-a-longer|'
}

@test "redirect: path forms and syscalls (gVisor)" {
  run_scenario gvisor redirect-paths "$BATS_TEST_TMPDIR"
  check_path_forms
  # gVisor has no openat2; the program sees ENOSYS, exactly as without the interceptor.
  expect openat2 'openat2: ENOSYS|'
}

check_observability() {
  local T="$BATS_TEST_TMPDIR"
  [ "$status" -eq 0 ]
  expect_like verbose "k3s-sandbox-intercept: redirect pid=* openat $T/data/a.txt -> $T/fake$T/data/a.txt|fake-a-longer|"
  expect_like log "k3s-sandbox-intercept: redirect pid=* openat a.txt -> $T/fake$T/data/a.txt|k3s-sandbox-intercept: redirect pid=* newfstatat $T/data/a.txt -> $T/fake$T/data/a.txt|"
  expect_like stats "fake-a-longer|k3s-sandbox-intercept: stats: stops=* seccomp=* redirects=1 *|*k3s-sandbox-intercept: stats: openat traced=* redirected=1|*"
  # Without a 9p filesystem the spoof changes nothing, but statfs is watched at its exit.
  local plain
  plain="$(scenario_line statfs-plain)"
  expect_like statfs-spoof "${plain#statfs-plain=}k3s-sandbox-intercept: stats: *statfs-spoofs=0 *|*statfs traced=1 redirected=0|*"
  expect_like fallback "k3s-sandbox-intercept: K3S_SANDBOX_INTERCEPT_NO_SECCOMP=1: using PTRACE_SYSCALL, every syscall of every thread stops twice|fake-a-longer|*seccomp=0 *redirects=1 *"
  # While the program runs, the file holds the counts of a second or less ago, dated by elapsed-ms.
  expect_like stats-file-live "k3s-sandbox-intercept: stats: elapsed-ms=1[0-9][0-9][0-9]|k3s-sandbox-intercept: stats: stops=* redirects=[12] *|*openat traced=* redirected=[12]|*"
  expect stats-file-tracer-alive ""
  expect_like stats-file-final "k3s-sandbox-intercept: stats: elapsed-ms=[3-9][0-9][0-9][0-9]|k3s-sandbox-intercept: stats: stops=* redirects=2 *|*openat traced=* redirected=2|*"
  expect_like stats-file-env "k3s-sandbox-intercept: stats: elapsed-ms=*|k3s-sandbox-intercept: stats: stops=* redirects=1 *"
}

@test "observability: -v, --log, --stats, --stats-file, --statfs-spoof, PTRACE_SYSCALL fallback (native)" {
  run_scenario native observe "$BATS_TEST_TMPDIR"
  check_observability
}

@test "observability: -v, --log, --stats, --stats-file, --statfs-spoof, PTRACE_SYSCALL fallback (gVisor)" {
  run_scenario gvisor observe "$BATS_TEST_TMPDIR"
  check_observability
}

# A `runsc do` over the host root is an overlay; only with -force-overlay=false does the
# root become a gofer (9p) mount. Its root here is a private directory that holds nothing
# but two static binaries and a fake, so no host file is exposed to writes.
@test "statfs spoof: 9p reads as ext4 with --statfs-spoof only (gVisor, 9p root)" {
  local root="$BATS_TEST_TMPDIR/root"
  mkdir -p "$root/fake/etc"
  cp "$FIXTURES_BIN/k3s-sandbox-intercept" "$FIXTURES_BIN/intercept-paths" "$root/"
  printf 'x\n' >"$root/fake/etc/faked"

  run gvisor -force-overlay=false -root="$root" -cwd=/ \
    /k3s-sandbox-intercept --fake-root /fake -- /intercept-paths statfs-both /
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'statfs: f_type=0x1021997\nfstatfs: f_type=0x1021997')" ]

  run gvisor -force-overlay=false -root="$root" -cwd=/ \
    /k3s-sandbox-intercept --fake-root /fake --statfs-spoof -- /intercept-paths statfs-both /
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'statfs: f_type=0xef53\nfstatfs: f_type=0xef53')" ]
}

# ".." after a symlink: the kernel climbs from the link's target, so a lexical match on
# /proc/sys/kernel/panic must not be served the fake (issue 8).
check_symlink_dotdot() {
  [ "$status" -eq 0 ]
  expect control-symlink-dotdot 'kernel-view|'
  expect symlink-dotdot 'kernel-view|'
  expect cwd-symlink-dotdot 'kernel-view|'
  expect dirfd-symlink-dotdot 'kernel-view|'
  expect relative-link 'kernel-view|'
  expect chained-link 'kernel-view|'
  expect proc-self 'kernel-view|'
  expect proc-thread-self 'kernel-view|'
  expect real-dotdot 'fake-panic|'
  expect cwd-real-dotdot 'fake-panic|'
  expect link-into-proc 'fake-panic|'
  expect missing-dir 'read: No such file or directory|'
  expect file-dir 'read: Not a directory|'
  expect loop 'read: Too many levels of symbolic links|'
}

@test "redirect: '..' after a symlink opens what the kernel would open (native)" {
  run_scenario native redirect-symlinks "$BATS_TEST_TMPDIR"
  check_symlink_dotdot
}

@test "redirect: '..' after a symlink opens what the kernel would open (gVisor)" {
  run_scenario gvisor redirect-symlinks "$BATS_TEST_TMPDIR"
  check_symlink_dotdot
}
