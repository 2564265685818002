#!/bin/sh
# The feature's `entrypoint`: runs at every container start as the container user, before any lifecycle command.
# The devcontainer CLI does not wait for it, so it only launches `k3s-sandbox up` in a background process and
# returns at once. That root `up` also publishes the remote user's kubeconfig once the API is ready, so a non-root
# user (post-start.sh, or a terminal on a host that skips postStartCommand) finds the cluster and a kubeconfig.
# While it runs it holds STARTUP_LOCK, which post-start.sh waits on when it cannot become root itself.
# The CLI's wrapper has no `set -e` and shows no output, so everything goes to a log file.
set -u

SHARE_DIR=/usr/local/share/k3s-sandbox
LOG_DIR=/var/log/k3s-sandbox
STARTUP_LOCK=/run/k3s-sandbox-startup.lock
. "$SHARE_DIR/lifecycle.env"

up_for_remote_user() {
  mkdir -p "$LOG_DIR"
  # fd 9 (the lock) stays with this subshell only: k3s and its supervisor outlive `up` and must not keep it.
  "$K3S_SANDBOX_NODE" "$SHARE_DIR/k3s-sandbox.mjs" up --wait --user "$K3S_SANDBOX_REMOTE_USER" \
    >>"$LOG_DIR/entrypoint.log" 2>&1 9>&- </dev/null
}

# The lock is taken before returning, so a post-start.sh that runs right after cannot slip in ahead of it.
start_as_root() {
  if command -v flock >/dev/null 2>&1 && exec 9>"$STARTUP_LOCK" && chmod 0644 "$STARTUP_LOCK" && flock -x 9; then
    up_for_remote_user &
    exec 9>&-
  else
    up_for_remote_user &
  fi
}

# A non-root container user needs passwordless sudo (as in the devcontainers base images).
start_through_sudo() {
  sudo -n sh -c "exec 9>'$STARTUP_LOCK' && chmod 0644 '$STARTUP_LOCK' && flock -x 9 && mkdir -p '$LOG_DIR' &&
    exec '$K3S_SANDBOX_NODE' '$SHARE_DIR/k3s-sandbox.mjs' up --wait --user '$K3S_SANDBOX_REMOTE_USER' \
      >>'$LOG_DIR/entrypoint.log' 2>&1 9>&- </dev/null" &
}

if [ "$K3S_SANDBOX_AUTOSTART" = true ]; then
  if [ "$(id -u)" = 0 ]; then
    start_as_root
  elif sudo -n true 2>/dev/null; then
    start_through_sudo
  else
    echo "k3s-sandbox entrypoint: not root and no passwordless sudo; the cluster starts on the first 'k3s-sandbox up'" >&2
  fi
fi

# A no-op under the devcontainer CLI (it passes no arguments); lets the script also serve as an image ENTRYPOINT.
exec "$@"
