#!/bin/sh
# The feature's `entrypoint`: runs at every container start as the container user, before any lifecycle command.
# The devcontainer CLI does not wait for it, so it only launches `k3s-sandbox up` in a background process and
# returns at once. That root `up` also publishes the remote user's kubeconfig once the API is ready, so a non-root
# user (post-start.sh, or a terminal on a host that skips postStartCommand) finds the cluster and a kubeconfig.
# Concurrent `up`s need no lock of their own here: `up` serialises on its instance lock (<state>/locks/up.lock).
# The CLI's wrapper has no `set -e` and shows no output, so everything goes to a log file.
set -u

. /usr/local/share/k3s-sandbox/hooks/lifecycle.sh

if [ "$K3S_SANDBOX_AUTOSTART" = true ]; then
  # A non-root container user needs passwordless sudo (as in the devcontainers base images).
  if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
    as_root up_for_remote_user_logged &
  else
    echo "k3s-sandbox entrypoint: not root and no passwordless sudo; the cluster starts on the first 'k3s-sandbox up'" >&2
  fi
fi

# A no-op under the devcontainer CLI (it passes no arguments); lets the script also serve as an image ENTRYPOINT.
exec "$@"
