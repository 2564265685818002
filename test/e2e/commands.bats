#!/usr/bin/env bats
# Commands other than up, end to end in one fresh gVisor sandbox each, against the k3s double: status of an orphaned
# k3s, and uninstall after a real install.sh, up and publish.
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
}

@test "status reports k3s whose supervisor was killed as running (orphaned) while it serves, exit 1; down stops it" {
  run gvisor_script "set -eu
    exec 2>&1
    cp '$FIXTURES_BIN/k3s-double' /usr/local/bin/k3s
    export K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' K3S_DOUBLE_READY_DELAY=100ms
    ks() { node '$DIST/k3s-sandbox.cjs' \"\$@\"; }
    ks up >/dev/null
    kill -9 \"\$(cat /run/k3s-sandbox/supervisor.pid)\"
    sleep 0.5
    rc=0; ks status --json >out || rc=\$?
    echo \"status: \$(cat out) rc \$rc\"
    rc=0; ks status || rc=\$?
    echo \"rc \$rc\"
    kubectl --kubeconfig /root/.kube/config get --raw /readyz; echo
    ks down
    rc=0; ks status || rc=\$?
    echo \"after down rc \$rc\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ '"running":true,"state":"orphaned","ready":true,"mode":"control-plane","supervisorPid":null,"k3sPid":'[0-9]+ ]]
  [[ "$output" =~ "rc 1"$'\n'"k3s-sandbox: orphaned, ready, mode control-plane: k3s pid "[0-9]+" runs, but its supervisor is gone" ]]
  [[ "$output" =~ "rc 1"$'\n'"ok" ]]
  [[ "$output" =~ "k3s-sandbox: not running"$'\n'"after down rc 3" ]]
}

@test "uninstall after install.sh, up and publish for a user removes everything k3s-sandbox created, and again is a no-op" {
  run gvisor_script "set -eu
    exec 2>&1
    useradd --create-home --shell /bin/bash dev
    mv /usr/bin/kubectl /usr/bin/kubectl.hidden 2>/dev/null || true
    cp '$FIXTURES_BIN/k3s-double' /tmp/k3s-airgap
    VERSION=v1.33.5+k3s1 BINARYPATH=/tmp/k3s-airgap MODE=control-plane AUTOSTART=false '$REPO_ROOT/install.sh' >/dev/null
    export K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' K3S_DOUBLE_READY_DELAY=100ms
    k3s-sandbox up --user dev >/dev/null
    k3s-sandbox up >/dev/null
    printf 'export EDITOR=vi\n' >>/home/dev/.bashrc
    echo \"before: \$(grep -c k3s-sandbox /home/dev/.bashrc) \$(grep -c k3s-sandbox /home/dev/.kube/config)\"
    k3s-sandbox uninstall --user dev
    echo '--- left'
    for p in /usr/local/share/k3s-sandbox /usr/local/etc/k3s-sandbox /usr/local/bin/k3s-sandbox /usr/local/bin/k3s \
      /usr/local/bin/kubectl /run/k3s-sandbox /var/log/k3s-sandbox /var/lib/k3s-sandbox /var/lib/rancher/k3s \
      /etc/profile.d/k3s-sandbox.sh; do [ ! -e \"\$p\" ] && [ ! -L \"\$p\" ] || echo \"LEFT \$p\"; done
    grep -l k3s-sandbox /root/.bashrc /home/dev/.bashrc /root/.kube/config /home/dev/.kube/config 2>/dev/null | sed 's/^/MENTION /' || true
    echo \"dev bashrc keeps: \$(tail -n 1 /home/dev/.bashrc)\"
    echo '--- again'
    node '$DIST/k3s-sandbox.cjs' uninstall --user dev"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"before: "[1-9]" "[1-9]* ]]
  [[ "$output" == *"k3s-sandbox: stopped (supervisor"* ]]
  [[ "$output" == *"removed k3s-sandbox's entries from /home/dev/.kube/config"* ]]
  [[ "$output" == *"removed k3s-sandbox's entries from /root/.kube/config"* ]]
  [[ "$output" == *"removed /usr/local/bin/kubectl"* ]]
  [[ "$output" == *"k3s-sandbox: uninstalled"*"--- left"* ]]
  [[ "$output" != *LEFT* ]]
  [[ "$output" != *MENTION* ]]
  [[ "$output" == *"dev bashrc keeps: export EDITOR=vi"* ]]
  [[ "$output" == *"--- again"*"k3s-sandbox: not running"*"k3s-sandbox: uninstalled" ]]
}
