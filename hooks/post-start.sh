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

NOT_READY="the cluster is not ready (see 'k3s-sandbox status' and 'k3s-sandbox logs'); other lifecycle commands go on"

# Without root or sudo, only the entrypoint's root `up` can start the cluster and publish this user's kubeconfig:
# when the entrypoint launched one (its log exists), `up` as this user follows it once it runs, so try again until it
# has, within the time a cold start may take (K3S_SANDBOX_FOLLOW_SECONDS, for tests). Until then every attempt fails
# the same expected way, so the attempts are quiet: one line says what is awaited, then the successful attempt's
# output, or one line saying it gave up and why.
FOLLOW_SECONDS="${K3S_SANDBOX_FOLLOW_SECONDS:-300}"
follow_root_up() {
  [ -e "$LOG_DIR/entrypoint.log" ] || { up_for "$(id -un)" || echo "k3s-sandbox: $NOT_READY" >&2; return; }
  echo "k3s-sandbox: waiting up to $FOLLOW_SECONDS s for the entrypoint's root \`up\` to start the cluster and publish the kubeconfig for $(id -un) (its log: $LOG_DIR/entrypoint.log)"
  attempt="$(mktemp)"
  waited=0
  until up_for "$(id -un)" >"$attempt" 2>&1 </dev/null; do
    if [ "$waited" -ge "$FOLLOW_SECONDS" ]; then
      echo "k3s-sandbox: gave up after $waited s waiting for the entrypoint's root \`up\` (see $LOG_DIR/entrypoint.log); the last attempt said: $(last_reason "$attempt"); $NOT_READY" >&2
      rm -f "$attempt"
      return
    fi
    sleep 3
    waited=$((waited + 3))
  done
  cat "$attempt"
  rm -f "$attempt"
}

# last_reason FILE: the reason an `up` gave in its output FILE: its `failed:` line without the prefix, else its last line.
last_reason() {
  sed -n 's/^k3s-sandbox: failed: //p' "$1" | tail -n 1 | grep . || tail -n 1 "$1"
}

# Root publishes kubeconfigs for other users: as root, or with passwordless sudo, ask root to do it for this user.
if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
  as_root up_for "$(id -un)" || echo "k3s-sandbox: $NOT_READY" >&2
else
  follow_root_up
fi
exit 0
