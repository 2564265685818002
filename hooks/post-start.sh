#!/bin/sh
# The feature's `postStartCommand`: runs as the remote user at every container start. Waits for the cluster the
# entrypoint launched (or starts it), and makes sure the user's kubeconfig is published. It always exits 0: a failing
# lifecycle command would make the devcontainer CLI skip the user's own postStart/postAttach commands.
set -u

. /usr/local/share/k3s-sandbox/hooks/lifecycle.sh

if [ "$K3S_SANDBOX_AUTOSTART" != true ]; then
  echo "k3s-sandbox: autoStart is false; run 'k3s-sandbox up' to start the cluster"
  exit 0
fi

# Without root or sudo, only the entrypoint's root `up` can start the cluster and publish this user's kubeconfig:
# when the entrypoint launched one (its log exists), `up` as this user follows it once it runs, so try again until it
# has, within the time a cold start may take.
FOLLOW_SECONDS=300
follow_root_up() {
  [ -e "$LOG_DIR/entrypoint.log" ] || { up_for "$(id -un)"; return; }
  waited=0
  until up_for "$(id -un)"; do
    [ "$waited" -lt "$FOLLOW_SECONDS" ] || return 1
    sleep 3
    waited=$((waited + 3))
  done
}

# Root publishes kubeconfigs for other users: as root, or with passwordless sudo, ask root to do it for this user.
if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
  as_root up_for "$(id -un)"
else
  follow_root_up
fi ||
  echo "k3s-sandbox: the cluster is not ready (see 'k3s-sandbox status' and 'k3s-sandbox logs'); other lifecycle commands go on" >&2
exit 0
