#!/bin/sh
# The feature's `postStartCommand`: runs as the remote user at every container start. Waits for the cluster the
# entrypoint launched (or starts it), and makes sure the user's kubeconfig is published. It always exits 0: a failing
# lifecycle command would make the devcontainer CLI skip the user's own postStart/postAttach commands.
set -u

SHARE_DIR=/usr/local/share/k3s-sandbox
. "$SHARE_DIR/lifecycle.env"

if [ "$K3S_SANDBOX_AUTOSTART" != true ]; then
  echo "k3s-sandbox: autoStart is false; run 'k3s-sandbox up' to start the cluster"
  exit 0
fi

STARTUP_LOCK=/run/k3s-sandbox-startup.lock
LOCK_WAIT_SECONDS=900

# Root publishes kubeconfigs for other users: with passwordless sudo, ask root to do it for this user directly.
# Without it, first let the entrypoint's root `up` (which publishes for the remote user) finish: it holds the lock.
if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then
  set -- sudo -n "$K3S_SANDBOX_NODE" "$SHARE_DIR/k3s-sandbox.mjs" up --wait --user "$(id -un)"
else
  if [ -e "$STARTUP_LOCK" ] && command -v flock >/dev/null 2>&1; then
    flock -s -w "$LOCK_WAIT_SECONDS" "$STARTUP_LOCK" true 2>/dev/null || true
  fi
  set -- "$K3S_SANDBOX_NODE" "$SHARE_DIR/k3s-sandbox.mjs" up --wait
fi
"$@" ||
  echo "k3s-sandbox: the cluster is not ready (see 'k3s-sandbox status' and 'k3s-sandbox logs'); other lifecycle commands go on" >&2
exit 0
