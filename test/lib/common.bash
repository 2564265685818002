# Shared bats helpers. Load with: load '../lib/common'
REPO_ROOT="$(cd "$(dirname "${BATS_TEST_FILENAME:-${BASH_SOURCE[0]}}")/../.." && pwd)"
FIXTURES_BIN="$REPO_ROOT/build/fixtures"
DIST="$REPO_ROOT/dist"
export REPO_ROOT FIXTURES_BIN DIST

# require_built FILE HOW: fails setup_file when the build output FILE is missing, naming the command HOW that builds it.
require_built() {
  [ -e "$1" ] || { echo "missing $1: run $2" >&2; return 1; }
}

# Runs a command in a fresh gVisor sandbox over this machine's root (writes stay inside it).
# runsc loses output written straight to a terminal or pipe as the sandbox ends, so the
# output goes through a file and is printed afterwards; the exit status is the command's.
gvisor() {
  local out rc=0
  out="$(mktemp)"
  runsc --network=none --platform=ptrace do "$@" >"$out" 2>&1 || rc=$?
  cat "$out"
  rm -f "$out"
  return "$rc"
}

# Runs a bash script text inside gVisor: gvisor_script 'set -e; ...'
gvisor_script() {
  gvisor bash -c "$1"
}
