# Sourced inside a gVisor sandbox in which the bootstrapper runs the real API server (build/fixtures/k3s-upstream or
# a copy of it), by test/e2e/real-control-plane/prelude.bash and test/e2e/simnode-gvisor/checks.bash. Needs
# FIXTURES_BIN and DIST (the bundle to run).

# real_server_prelude K3S: one open file for both streams (runsc gives the sandbox's stdout and stderr their own
# offsets in the output file), a login's PATH, and K3S (the fixture, or a copy of it) for use_checkout and
# our_processes.
real_server_prelude() {
  exec 2>&1
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  REAL_SERVER_K3S="$1"
}

# The bootstrapper from the checkout runs K3S as k3s, with the helpers from build/fixtures; kubectl and helm are on PATH
# as a user finds them: kubectl a symlink named kubectl to k3s, as install.sh makes it.
use_checkout() {
  export K3S_SANDBOX_K3S="$REAL_SERVER_K3S" K3S_SANDBOX_BIN_DIR="$FIXTURES_BIN"
  ln -sfn "$REAL_SERVER_K3S" /usr/local/bin/kubectl
  ln -sfn "$FIXTURES_BIN/helm" /usr/local/bin/helm
}

ks() { node "$DIST/k3s-sandbox.cjs" "$@"; }

# argv[0] of every process that is ours: the supervisor, the interceptor, k3s (K3S, or installed).
our_processes() {
  local f argv0
  for f in /proc/[0-9]*/cmdline; do
    argv0="$(tr '\0' '\n' <"$f" 2>/dev/null | head -n 1)" || continue
    case "$argv0" in
      *k3s-sandbox-supervise | *k3s-sandbox-intercept | "$REAL_SERVER_K3S" | /usr/local/bin/k3s) echo "${f#/proc/} $argv0" ;;
    esac
  done
}
