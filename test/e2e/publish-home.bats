#!/usr/bin/env bats
# A remote user's home is hostile: root's `up --user U` and `uninstall-profile --user U` must never write through
# the user's links, hang on the user's FIFOs, or leave anything owned by the user outside the home. Each attack
# runs in one fresh gVisor sandbox: the user `u` prepares the trap with setpriv, then root runs the command under a
# timeout, and the target outside the home is compared (content, owner, mode) before and after.
load '../lib/common'
load '../lib/double-scenario'

setup_file() {
  require_double_built
}

prelude() {
  double_prelude
  cat <<'HELPERS'
useradd --create-home --shell /bin/bash u
as_u() { setpriv --reuid=u --regid=u --init-groups "$@"; }
# Content, owner and mode of each file under a path (coreutils stat needs statx, which gVisor lacks).
fingerprint() {
  find "$@" -printf '%p %y %m %u %g %s\n' | sort
  find "$@" -type f -exec md5sum {} + | sort
}
HELPERS
}

@test "~/.kube linked to /etc/apt/apt.conf.d: root's up --user leaves the directory untouched and says why" {
  run scenario '
    as_u ln -s /etc/apt/apt.conf.d /home/u/.kube
    before="$(fingerprint /etc/apt/apt.conf.d)"
    rc=0; timeout 120 node "$BUNDLE" up --user u >out 2>&1 || rc=$?
    cat out
    echo "up rc: $rc"
    [ "$before" = "$(fingerprint /etc/apt/apt.conf.d)" ] && echo "apt.conf.d untouched"
    [ -e /etc/apt/apt.conf.d/config ] && echo "apt.conf.d/config exists"
    true
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "apt.conf.d untouched" ]]
  [[ ! "$output" =~ "apt.conf.d/config exists" ]]
  [[ "$output" =~ "up rc: 1" ]]
  # One line names the file, the user whose rights the write had, and the reason.
  grep -E "publish.*/home/u/\.kube/config.*as u: .*permission denied" <<<"$output"
}

@test "temp names sprayed as links to /etc/passwd and /etc/shadow: root's up --user publishes and both stay untouched" {
  run scenario '
    as_u mkdir -m 700 /home/u/.kube
    as_u node -e "
      const fs = require(\"fs\");
      for (let pid = 1; pid < 20000; pid++) {
        fs.symlinkSync(\"/etc/passwd\", \"/home/u/..bashrc.k3s-sandbox.\" + pid + \".tmp\");
        fs.symlinkSync(\"/etc/shadow\", \"/home/u/.kube/.config.k3s-sandbox.\" + pid + \".tmp\");
      }"
    before="$(fingerprint /etc/passwd /etc/shadow)"
    rc=0; timeout 120 node "$BUNDLE" up --user u >out 2>&1 || rc=$?
    cat out
    echo "up rc: $rc"
    [ "$before" = "$(fingerprint /etc/passwd /etc/shadow)" ] && echo "passwd and shadow untouched"
    echo "blocks: $(grep -c ">>> k3s-sandbox >>>" /home/u/.bashrc)"
    find /home/u/.bashrc /home/u/.kube/config -printf "%p %y %m %u\n"
    echo "temp files left: $(find /home/u -name "*.tmp" ! -type l | wc -l)"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "passwd and shadow untouched" ]]
  [[ "$output" =~ "up rc: 0" ]]
  [[ "$output" =~ "KUBECONFIG=/home/u/.kube/config" ]]
  [[ "$output" =~ "blocks: 1" ]]
  [[ "$output" =~ "/home/u/.bashrc f 644 u" ]]
  [[ "$output" =~ "/home/u/.kube/config f 600 u" ]]
  [[ "$output" =~ "temp files left: 0" ]]
}

@test "~/.bashrc a FIFO: root's up --user does not hang, refuses it in one line, and releases the lock" {
  run scenario '
    as_u rm /home/u/.bashrc
    as_u mkfifo /home/u/.bashrc
    rc=0; timeout 60 node "$BUNDLE" up --user u >out 2>&1 || rc=$?
    cat out
    echo "up rc: $rc"
    rc=0; timeout 60 node "$BUNDLE" up >/dev/null 2>&1 || rc=$?
    echo "next up rc: $rc"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "up rc: 1" ]]
  grep -E "publish.*/home/u/\.bashrc is a FIFO, not a regular file" <<<"$output"
  [[ "$output" =~ "next up rc: 0" ]]
}

@test "uninstall-profile --user with sprayed temp names leaves /etc/passwd untouched and removes the block" {
  run scenario '
    as_u sh -c "printf \"%s\n\" \"# >>> k3s-sandbox >>>\" \"export KUBECONFIG=/home/u/.kube/config\" \"# <<< k3s-sandbox <<<\" >>/home/u/.bashrc"
    as_u node -e "
      const fs = require(\"fs\");
      for (let pid = 1; pid < 20000; pid++) fs.symlinkSync(\"/etc/passwd\", \"/home/u/..bashrc.k3s-sandbox.\" + pid + \".tmp\");"
    before="$(fingerprint /etc/passwd)"
    rc=0; timeout 60 node "$BUNDLE" uninstall-profile --user u >out 2>&1 || rc=$?
    cat out
    echo "uninstall rc: $rc"
    [ "$before" = "$(fingerprint /etc/passwd)" ] && echo "passwd untouched"
    echo "blocks: $(grep -c ">>> k3s-sandbox >>>" /home/u/.bashrc || true)"
    find /home/u/.bashrc -printf "%p %y %m %u\n"
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "passwd untouched" ]]
  [[ "$output" =~ "uninstall rc: 0" ]]
  [[ "$output" =~ "blocks: 0" ]]
  [[ "$output" =~ "/home/u/.bashrc f 644 u" ]]
}

@test "CLAUDE_ENV_FILE linked to /etc/passwd: root's up --user appends nothing there and says why" {
  run scenario '
    as_u ln -s /etc/passwd /home/u/claude-env
    before="$(fingerprint /etc/passwd)"
    rc=0; CLAUDE_ENV_FILE=/home/u/claude-env timeout 120 node "$BUNDLE" up --user u >out 2>&1 || rc=$?
    cat out
    echo "up rc: $rc"
    [ "$before" = "$(fingerprint /etc/passwd)" ] && echo "passwd untouched"
    true
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "passwd untouched" ]]
  [[ "$output" =~ "up rc: 0" ]]
  grep -E "/home/u/claude-env.*as u: .*permission denied" <<<"$output"
}

@test "a ~/.kube the user links to a directory of their own is followed: the kubeconfig lands there, private and theirs" {
  run scenario '
    as_u mkdir -p /home/u/persist/kube
    as_u ln -s /home/u/persist/kube /home/u/.kube
    timeout 120 node "$BUNDLE" up --user u >out 2>&1 || { cat out; exit 1; }
    find /home/u/persist/kube/config -printf "%p %y %m %u %g\n"
    su u -c "kubectl --kubeconfig /home/u/.kube/config get --raw /readyz"; echo
  '
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "/home/u/persist/kube/config f 600 u u" ]]
  grep -qx ok <<<"$output"
}
