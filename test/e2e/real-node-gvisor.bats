#!/usr/bin/env bats
# sandboxed-node in gVisor with the real kubelet, kube-proxy and containerd (build/fixtures/k3s-upstream), under
# `k3s-sandbox up --mode sandboxed-node` in one fresh runsc sandbox per scenario. This records how far the real
# components get in this runsc build and the real errors that stop them; see README "What a pod needs that gVisor
# lacks".
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.mjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/images/pause.tar" test/fixtures/images/build.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
}

prelude() {
  cat <<PRELUDE
set -eu
exec 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /var/lib/rancher/k3s/agent/images
cp '$FIXTURES_BIN/images/pause.tar' /var/lib/rancher/k3s/agent/images/
export K3S_SANDBOX_K3S='$FIXTURES_BIN/k3s-upstream' K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' KUBECONFIG=/root/.kube/config
ks() { node '$DIST/k3s-sandbox.mjs' "\$@"; }
log_line() { grep -m1 -E "\$1" /var/log/k3s-sandbox/k3s.log | cut -c1-400; }
PRELUDE
}

@test "gVisor, real kubelet under the interceptor: the plan's flags and fakes carry it to MS_SHARED on its root dir, which this runsc refuses" {
  run gvisor_script "$(prelude)
rc=0; K3S_SANDBOX_FAKES=intercept ks up --mode sandboxed-node --wait-node >/tmp/up.out 2>&1 || rc=\$?
echo \"up rc: \$rc\"
grep -E '^  --kubelet-arg=fail-cgroupv1|^  --node-ip|started k3s' /tmp/up.out
echo \"containerd: \$(log_line 'containerd is now running')\"
echo \"kubelet ran: \$(log_line 'Running kubelet ')\"
echo \"kubelet fatal: \$(log_line 'failed to make /var/lib/kubelet rshared')\"
echo \"image import: \$(grep -m1 -o 'Error while importing images from [^:]*\\|failed to mount [^:]*: invalid argument' /var/log/k3s-sandbox/k3s.log | tr '\\n' ' ')\"
echo \"ContainerManager failures: \$(grep -c 'Failed to start ContainerManager' /var/log/k3s-sandbox/k3s.log || true)\"
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1" ]]
  [[ "$output" =~ "--kubelet-arg=fail-cgroupv1=false" ]]
  [[ "$output" =~ "--node-ip=127.0.0.1" ]]
  [[ "$output" =~ "through k3s-sandbox-intercept" ]]
  [[ "$output" =~ "containerd: time=" ]]
  [[ "$output" =~ "kubelet ran: time=" ]]
  # kubelet's setupDataDirs bind-mounts /var/lib/kubelet on itself and makes it rshared; runsc answers EINVAL.
  [[ "$output" =~ "error configuring root directory: failed to make /var/lib/kubelet rshared: invalid argument" ]]
  # containerd's native snapshotter unpacks through a recursive bind mount; runsc refuses it.
  [[ "$output" =~ image\ import:.*failed\ to\ mount\ /var/lib/rancher/k3s/agent/containerd/tmpmounts/containerd-mount[0-9]+:\ invalid\ argument ]]
  # The tunables come later in kubelet's start-up, so it never reaches them here.
  [[ "$output" =~ "ContainerManager failures: 0" ]]
}

@test "gVisor: doctor tries each operation a pod needs and says pods cannot run here, naming each refused one" {
  run gvisor_script "$(prelude)
ks doctor >/tmp/doctor.out 2>&1 || true
sed -n '/^pods /,\$p' /tmp/doctor.out
"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "pods cannot run here: 6 operation(s) fail" ]]
  for name in recursiveBind sharedPropagation pivotRoot childSubreaper netnsSetns devicesCgroup; do
    [[ "$output" =~ "  $name: " ]]
  done
}
