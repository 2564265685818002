# Sourced first in every gVisor sandbox of test/e2e/real-control-plane.bats (needs REPO_ROOT, FIXTURES_BIN, DIST: the
# bundle to run, a copy of dist/).
# The real API server (build/fixtures/k3s-upstream) is the k3s the bootstrapper runs (use_checkout), or the one
# install.sh installs (use_installer).
set -eu
# A copy of build/fixtures/k3s-upstream (the bats file makes it).
FIXTURE_K3S="${FIXTURE_K3S:?}"
. "$REPO_ROOT/test/lib/real-server-sandbox.bash"
real_server_prelude "$FIXTURE_K3S"
CHECKS="$REPO_ROOT/test/e2e/real-control-plane/checks.sh"

# For install.sh: the fixture is the air-gapped binary, and this machine's own kubectl is hidden, so the kubectl a
# user finds is the link install.sh makes to k3s.
use_installer() {
  mv /usr/bin/kubectl /usr/bin/kubectl.hidden
  ln -sfn "$FIXTURES_BIN/helm" /usr/local/bin/helm
}

add_user() {
  useradd --create-home --shell /bin/bash "$1"
}

# check NAME USER: runs `checks.sh NAME` as USER in a new login shell, between the markers the bats file reads
# (`=== check NAME` … `=== end NAME rc=N`); a failing check does not stop the ones after it.
check() {
  local rc=0
  echo "=== check $1"
  if [ "$2" = root ]; then
    bash -l "$CHECKS" "$1" </dev/null || rc=$?
  else
    su "$2" -c "bash -l '$CHECKS' '$1'" </dev/null || rc=$?
  fi
  echo "=== end $1 rc=$rc"
}

# The k3s log's own lines (not the components' klog lines), for a failure's context.
k3s_log_tail() {
  grep -v '^[IWE][0-9]' /var/log/k3s-sandbox/k3s.log 2>/dev/null | tail -n "${1:-20}" || true
}
