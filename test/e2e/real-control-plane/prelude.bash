# Sourced first in every gVisor sandbox of test/e2e/real-control-plane.bats (needs REPO_ROOT, FIXTURES_BIN, DIST: the
# bundle to run, a copy of dist/).
# The real API server (build/fixtures/k3s-upstream) is the k3s the bootstrapper runs; kubectl and helm are on PATH
# as a user finds them: kubectl a symlink named kubectl to k3s, as install.sh makes it.
set -eu
# One open file for both streams: runsc gives the sandbox's stdout and stderr their own offsets in the output file.
exec 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# A copy of build/fixtures/k3s-upstream (the bats file makes it).
FIXTURE_K3S="${FIXTURE_K3S:?}"
BUNDLE="$DIST/k3s-sandbox.mjs"
CHECKS="$REPO_ROOT/test/e2e/real-control-plane/checks.sh"

# The bootstrapper from the checkout runs the fixture as k3s, with the helpers from build/fixtures.
use_checkout() {
  export K3S_SANDBOX_K3S="$FIXTURE_K3S" K3S_SANDBOX_BIN_DIR="$FIXTURES_BIN"
  ln -sfn "$FIXTURE_K3S" /usr/local/bin/kubectl
  ln -sfn "$FIXTURES_BIN/helm" /usr/local/bin/helm
}

# For install.sh: the fixture is the air-gapped binary, and this machine's own kubectl is hidden, so the kubectl a
# user finds is the link install.sh makes to k3s.
use_installer() {
  mv /usr/bin/kubectl /usr/bin/kubectl.hidden
  ln -sfn "$FIXTURES_BIN/helm" /usr/local/bin/helm
}

ks() { node "$BUNDLE" "$@"; }

# argv[0] of every process that is ours: the supervisor, the interceptor, k3s (the fixture, or installed).
our_processes() {
  local f argv0
  for f in /proc/[0-9]*/cmdline; do
    argv0="$(tr '\0' '\n' <"$f" 2>/dev/null | head -n 1)" || continue
    case "$argv0" in
      *k3s-sandbox-supervise | *k3s-sandbox-intercept | "$FIXTURE_K3S" | /usr/local/bin/k3s) echo "${f#/proc/} $argv0" ;;
    esac
  done
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
