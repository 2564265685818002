#!/usr/bin/env bats
# The reason the interceptor exists: kubelet's setupKernelTunables (reproduced by the Go
# fixture test/fixtures/interceptor/kubelet-tunables) is fatal in gVisor, where five of its
# six sysctls are missing and vm/overcommit_memory is read-only. With fakes it passes, and
# the values it writes land in the fake files.

load '../lib/common'
load '../fixtures/interceptor/bats-helpers'

setup_file() {
  "$REPO_ROOT/test/fixtures/interceptor/build.sh"
}

check_tunables_written_to_fakes() {
  expect intercepted '0|updating vm/overcommit_memory from 0 to 1|updating kernel/panic from 0 to 10|updating kernel/panic_on_oops from 0 to 1|updating kernel/keys/root_maxkeys from 200 to 1000000|updating kernel/keys/root_maxbytes from 20000 to 25000000|kernel tunables ok'
  expect fake:vm/overcommit_memory '1'
  expect fake:vm/panic_on_oom '0'
  expect fake:kernel/panic '10'
  expect fake:kernel/panic_on_oops '1'
  expect fake:kernel/keys/root_maxkeys '1000000'
  expect fake:kernel/keys/root_maxbytes '25000000'
}

# Natively the fixture never runs without the interceptor: it would set the host's sysctls.
@test "kubelet tunables: pass with fakes, writes land in the fakes (native)" {
  run_scenario native kubelet "$BATS_TEST_TMPDIR"
  [ "$status" -eq 0 ]
  check_tunables_written_to_fakes
}

@test "kubelet tunables: fail in gVisor without the interceptor, pass with it (gVisor)" {
  run_scenario gvisor kubelet "$BATS_TEST_TMPDIR" control
  [ "$status" -eq 0 ]
  expect control '1|updating vm/overcommit_memory from 0 to 1|Failed to start ContainerManager: [write /proc/sys/vm/overcommit_memory: input/output error, open /proc/sys/vm/panic_on_oom: no such file or directory, open /proc/sys/kernel/panic: no such file or directory, open /proc/sys/kernel/panic_on_oops: no such file or directory, open /proc/sys/kernel/keys/root_maxkeys: no such file or directory, open /proc/sys/kernel/keys/root_maxbytes: no such file or directory]'
  check_tunables_written_to_fakes
}
