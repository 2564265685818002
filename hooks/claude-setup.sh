#!/usr/bin/env bash
# Claude Code on the web: the cloud environment's setup script. Claude Code runs it as root after cloning the
# repository and before starting, only when no cached environment exists; the files it leaves (not its processes)
# are snapshotted and reused for about a week, and it should finish within five minutes. So this is where
# k3s-sandbox and k3s are installed, from the feature package next to this file (what `npm run package` builds: the
# bundle and prebuilt helpers, nothing to compile), and the SessionStart hook (session-start.sh) only starts the
# cluster and publishes KUBECONFIG. Setup script line: bash <repository>/.claude/k3s-sandbox/hooks/claude-setup.sh
#
# Sources: there, GitHub answers 403 for release assets of repositories not attached to the session. The installer
# takes a 403 as final (no retries), so it goes on to the OCI registries at once; mirror.gcr.io is tried before
# Docker Hub, whose blob downloads are reported to fail through that proxy. K3S_SANDBOX_REGISTRIES,
# K3S_SANDBOX_BINARY_PATH, K3S_SANDBOX_RELEASE_URL and the other K3S_SANDBOX_* settings override these choices.
#
# No `set -e`, on purpose: a failing setup script fails the session start, while the hook can still install, so this
# always exits 0 and says what failed. K3S_SANDBOX_SETUP_BUDGET (seconds, default 240) bounds the install.
set -u

PACKAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALLER="$PACKAGE_DIR/install.sh"
BUDGET_SECONDS="${K3S_SANDBOX_SETUP_BUDGET:-240}"

say() { echo "k3s-sandbox setup: $*"; }

finish() {
  say "$*"
  exit 0
}

check_prerequisites() {
  [ "$EUID" = 0 ] || finish "not root, so nothing was installed; the SessionStart hook installs with sudo if it can"
  [ -f "$INSTALLER" ] || finish "no installer at $INSTALLER: extract the feature package (devcontainer-feature-k3s-sandbox.tgz) into $PACKAGE_DIR"
  case "$BUDGET_SECONDS" in
    '' | *[!0-9]*) finish "K3S_SANDBOX_SETUP_BUDGET=$BUDGET_SECONDS is not a whole number of seconds; nothing was installed" ;;
  esac
}

# Feature option names (VERSION, MODE, ...) are too generic to take from the environment; K3S_SANDBOX_* settings
# are what the installer reads here. write-config lists those names.
run_installer() {
  local bounded=() unset_options=() name
  command -v timeout >/dev/null 2>&1 && bounded=(timeout --kill-after=10 "$BUDGET_SECONDS")
  for name in $(node "$PACKAGE_DIR/dist/k3s-sandbox.cjs" write-config --option-names 2>/dev/null); do
    unset_options+=(-u "$name")
  done
  K3S_SANDBOX_REGISTRIES="${K3S_SANDBOX_REGISTRIES-mirror.gcr.io,docker.io}" "${bounded[@]}" \
    env "${unset_options[@]}" sh "$INSTALLER"
}

main() {
  check_prerequisites
  local started=$SECONDS rc=0
  run_installer || rc=$?
  local took=$((SECONDS - started))
  case "$rc" in
    0) finish "installed in ${took}s: $(/usr/local/bin/k3s --version 2>/dev/null | head -n 1); the SessionStart hook starts the cluster" ;;
    124 | 137) finish "the install did not finish within ${BUDGET_SECONDS}s and was stopped; the SessionStart hook installs instead" ;;
    *) finish "the install failed after ${took}s (exit $rc, see above); the SessionStart hook tries again at session start" ;;
  esac
}

main
