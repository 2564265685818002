# Scenarios against the k3s double, each in one fresh gVisor sandbox (runsc do) with the double installed as
# /usr/local/bin/k3s inside it. Load after common: load '../lib/common'; load '../lib/double-scenario'.
# A test file defines prelude(): double_prelude, then the shell helpers of its own; `scenario TEXT` runs that
# prelude and TEXT in one sandbox.

# require_double_built: setup_file's check that the bundle, the double and the supervisor are built.
require_double_built() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
}

# double_prelude: shell text run first in every sandbox: the double as k3s, the helpers from build/fixtures, and
# `ks` running the bundle ($BUNDLE).
double_prelude() {
  cat <<PRELUDE
set -eu
# One open file for both streams: runsc gives the sandbox's stdout and stderr their own offsets in the
# helper's output file, so separate writes to the two would overwrite each other.
exec 2>&1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cp '$FIXTURES_BIN/k3s-double' /usr/local/bin/k3s
export K3S_SANDBOX_BIN_DIR='$FIXTURES_BIN' K3S_DOUBLE_READY_DELAY=300ms
BUNDLE='$DIST/k3s-sandbox.cjs'
PRELUDE
  cat <<'HELPERS'
ks() { node "$BUNDLE" "$@"; }
HELPERS
}

# our_process_helpers: shell text defining our_processes (argv[0] of every process that is ours: the supervisor, the
# interceptor, k3s) and status_field NAME (a field of the instance's status.json).
our_process_helpers() {
  cat <<'HELPERS'
our_processes() {
  for f in /proc/[0-9]*/cmdline; do
    argv0="$(tr '\0' '\n' <"$f" 2>/dev/null | head -n 1)" || continue
    case "$argv0" in *k3s-sandbox-supervise|*k3s-sandbox-intercept|/usr/local/bin/k3s) echo "${f#/proc/} $argv0" ;; esac
  done
}
status_field() { node -e 'const s=JSON.parse(require("fs").readFileSync("/run/k3s-sandbox/status.json","utf8")); console.log(s[process.argv[1]])' "$1"; }
HELPERS
}

# scenario TEXT: the test file's prelude, then TEXT, in one fresh gVisor sandbox.
scenario() {
  gvisor_script "$(prelude)
$1"
}
