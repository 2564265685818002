#!/usr/bin/env bats
# k3s-sandbox-intercept's mount(2) fakes (--fake-propagation, --rbind-as-bind) on the calls
# a node makes at start: kubelet's rshared root dir and containerd's recursive-bind unpack.
# In gVisor the kernel refuses them with EINVAL and the fakes answer; on a real kernel the
# start-up probe finds no refusal and the fakes stay off (with no fake root the program then
# runs untraced). Without CAP_SYS_ADMIN every mount is refused with EPERM; there the probe
# turns on one more fake, a bind of a directory onto itself (and the propagation change after
# it) answers 0, and every other mount keeps its EPERM. Scenarios:
# test/fixtures/interceptor/scenarios/mounts.sh and mounts-unpermitted.sh.

load '../lib/common'
load '../fixtures/interceptor/bats-helpers'

setup_file() {
  "$REPO_ROOT/test/fixtures/interceptor/build.sh"
}

@test "mount fakes (gVisor): refused propagation changes answer 0, a refused rbind is done as a bind, nothing else changes; only mount(2) stops without a fake root" {
  run_scenario gvisor mounts "$BATS_TEST_TMPDIR"
  [ "$status" -eq 0 ]
  # What this runsc says without the fakes: the seeds' and the real kubelet's failure.
  expect kernel:self-bind ok
  expect kernel:rshared EINVAL
  expect kernel:rbind EINVAL
  expect kernel:rbind-shows-source no
  for case in fakes with-root; do
    expect "$case:self-bind" ok
    for op in rshared rslave unbindable rprivate; do expect "$case:$op" ok; done
    # Not a pure propagation change: the kernel's answer stands.
    expect "$case:shared-with-rdonly" EINVAL
    expect "$case:rbind" ok
    expect "$case:rbind-shows-source" yes
    expect "$case:umount-rbind" ok
    expect "$case:umount-self-bind" ok
    # With CAP_SYS_ADMIN the self-bind fake is off: binds are done by the kernel.
    for op in self-bind-relative self-bind-symlink self-rbind bind-other self-bind-rdonly self-bind-file tmpfs; do
      expect "$case:$op" ok
    done
  done
  expect kernel:self-rbind EINVAL
  expect_like "fakes:k3s-sandbox-intercept: stats: stops" "*self-bind-fakes=0 propagation-fakes=5 rbinds-as-bind=2"
  # Without a fake root, mount(2) is the only syscall that stops.
  [ "$(scenario_line 'fakes:k3s-sandbox-intercept: stats: openat traced')" = "" ]
  expect "fakes:k3s-sandbox-intercept: stats: mount traced" "15 redirected=0"
  expect_like "with-root:k3s-sandbox-intercept: stats: openat traced" "*"
  expect_like fakes-log "*mount flags 0x104000: propagation change refused (EINVAL), answered 0*recursive bind refused here, done as a plain bind*"
  # Each fake only when asked for.
  expect propagation-only:rshared ok
  expect propagation-only:rbind EINVAL
  expect panic-through-both 10
}

@test "mount fakes (native, own mount namespace): the kernel refuses nothing, the fakes stay off, and without a fake root the program runs untraced" {
  run unshare --mount --propagation private bash "$SCENARIOS/mounts.sh" "$BATS_TEST_TMPDIR"
  printf '%s\n' "$output"
  [ "$status" -eq 0 ]
  for case in kernel fakes with-root propagation-only; do
    expect "$case:rshared" ok
    expect "$case:rbind" ok
    expect "$case:rbind-shows-source" yes
    # A real kernel's EINVAL is never answered 0.
    expect "$case:shared-with-rdonly" EINVAL
    expect "$case:rshared-missing" ENOENT
  done
  expect fakes-log "k3s-sandbox-intercept: the kernel refuses none of the faked mounts: running $REPO_ROOT/build/fixtures/intercept-mounts untraced|"
  [ "$(scenario_line 'with-root:k3s-sandbox-intercept: stats: mount traced')" = "" ]
  expect_like "with-root:k3s-sandbox-intercept: stats: stops" "*propagation-fakes=0 rbinds-as-bind=0"
  expect panic-through-both 10
}

# What the kernel says without CAP_SYS_ADMIN, and what the fakes answer, for both kernels: only
# a directory bound onto itself (however spelt) and propagation changes answer 0.
expect_unpermitted_answers() {
  local case op
  for op in self-bind rshared rslave unbindable rprivate shared-with-rdonly rbind umount-rbind umount-self-bind \
    self-bind-relative self-bind-symlink self-rbind bind-other self-bind-rdonly self-bind-file tmpfs; do
    expect "kernel:$op" EPERM
    expect "rbind-only:$op" EPERM
  done
  for case in fakes with-root; do
    for op in self-bind self-bind-relative self-bind-symlink self-rbind rshared rslave unbindable rprivate; do
      expect "$case:$op" ok
    done
    # Not a bind of a directory onto itself, nor a pure propagation change: EPERM stands.
    for op in bind-other self-bind-rdonly self-bind-file tmpfs rbind shared-with-rdonly umount-rbind umount-self-bind; do
      expect "$case:$op" EPERM
    done
    expect "$case:rbind-shows-source" no
  done
  expect "fakes:k3s-sandbox-intercept: stats: mount traced" "15 redirected=0"
  expect_like fakes-log "*mount flags 0x1000: bind of a directory onto itself refused (EPERM), answered 0*mount flags 0x104000: propagation change refused (EPERM), answered 0*mount flags 0x5000: bind of a directory onto itself refused (EPERM), answered 0|"
  expect_like sys-admin-left "CapBnd:*"
}

@test "mount fakes without CAP_SYS_ADMIN (gVisor): every mount is EPERM; a directory bound onto itself and propagation changes answer 0, every other mount keeps EPERM" {
  run_scenario gvisor mounts-unpermitted "$BATS_TEST_TMPDIR"
  [ "$status" -eq 0 ]
  expect_unpermitted_answers
  # gVisor checks the capability before the path: a missing one is answered too (a documented limit).
  expect kernel:rshared-missing EPERM
  expect fakes:rshared-missing ok
  expect_like "fakes:k3s-sandbox-intercept: stats: stops" "*self-bind-fakes=4 propagation-fakes=5 rbinds-as-bind=0"
}

@test "mount fakes without CAP_SYS_ADMIN (native, own mount namespace): the same answers, and nothing is mounted" {
  run unshare --mount --propagation private bash -c '
    bash "$1/mounts-unpermitted.sh" "$2"
    echo "mounts-under-dir=$(grep -c " $2/" /proc/self/mountinfo)"' _ "$SCENARIOS" "$BATS_TEST_TMPDIR"
  printf '%s\n' "$output"
  [ "$status" -eq 0 ]
  expect_unpermitted_answers
  # Linux looks the path up first: ENOENT, which no fake changes.
  expect fakes:rshared-missing ENOENT
  expect_like "fakes:k3s-sandbox-intercept: stats: stops" "*self-bind-fakes=4 propagation-fakes=4 rbinds-as-bind=0"
  expect mounts-under-dir 0
}
