# Sourced by entrypoint.sh and post-start.sh, and by the root shell they start through sudo: the settings install.sh
# recorded (lifecycle.env) and the one `up` command line the lifecycle runs.
SHARE_DIR=/usr/local/share/k3s-sandbox
LOG_DIR=/var/log/k3s-sandbox
. "$SHARE_DIR/lifecycle.env"

# up_for USER: start the cluster (or find it), wait for it, and publish USER's kubeconfig.
up_for() {
  "$K3S_SANDBOX_NODE" "$SHARE_DIR/k3s-sandbox.cjs" up --wait --user "$1"
}

# up_for_remote_user_logged: the entrypoint's `up`, as root, with its output in the entrypoint log (the devcontainer
# CLI shows none).
up_for_remote_user_logged() {
  mkdir -p "$LOG_DIR" && up_for "$K3S_SANDBOX_REMOTE_USER" >>"$LOG_DIR/entrypoint.log" 2>&1 </dev/null
}

# as_root FUNCTION [ARGS...]: runs a function of this file as root: directly, or through passwordless sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  else
    sudo -n sh -c '. "$0" && "$@"' "$SHARE_DIR/hooks/lifecycle.sh" "$@"
  fi
}
