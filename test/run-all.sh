#!/usr/bin/env bash
# The one test command behind `npm test`: Debian packages, build, fixtures, then every suite.
# Each suite runs even when an earlier one fails, so one run shows everything; the last line sums them up.
set -eu
cd "$(dirname "$0")/.."

# A ceiling per bats test: a hang fails that one test (bats reports "timeout after") instead of the whole CI run.
# The slowest scenarios (real nodes, Helm --wait in gVisor) take about two minutes.
export BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-600}"

passed=0
failed=0
skipped=0
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

count() { grep -cE "$1" "$2" || true; }

run_node_suite() {
  local log="$logs/unit.tap"
  echo "== unit (node:test)"
  set +e
  node --import tsx --test --test-reporter=tap test/unit/*.test.ts >"$log" 2>&1
  set -e
  grep -E '^(not ok|# (tests|suites|pass|fail|skipped|todo|duration_ms))' "$log" || true
  grep -B2 -A30 -E '^\s*not ok' "$log" | head -200 || true
  passed=$((passed + $(awk '/^# pass /{print $3}' "$log" | tail -1)))
  failed=$((failed + $(awk '/^# fail /{print $3}' "$log" | tail -1)))
  skipped=$((skipped + $(awk '/^# skipped /{print $3}' "$log" | tail -1)))
}

run_bats_suite() {
  local name="$1" log="$logs/$1.tap"
  shift
  echo "== $name (bats)"
  set +e
  bats --tap --timing "$@" >"$log" 2>&1
  set -e
  grep -vE '^ok ' "$log" | head -300 || true
  local ok notok skip
  ok="$(count '^ok ' "$log")"
  notok="$(count '^not ok ' "$log")"
  skip="$(count '^ok .* # skip' "$log")"
  echo "$name: $((ok - skip)) passed, $notok failed, $skip skipped"
  passed=$((passed + ok - skip))
  failed=$((failed + notok))
  skipped=$((skipped + skip))
  if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then
    echo "$name: no test ran" >&2
    failed=$((failed + 1))
  fi
}

# The C helpers' suites once more, with the ASan+UBSan builds in build/sanitize.
run_sanitized_suites() {
  make -s -C interceptor SANITIZE=1
  make -s -C supervisor SANITIZE=1
  K3S_SANDBOX_TEST_HELPERS="$PWD/build/sanitize" run_bats_suite sanitized test/bats/interceptor-*.bats test/bats/supervisor*.bats
}

# A short libFuzzer run of the interceptor's path decisions (interceptor/fuzz/README.md has the long one).
run_fuzz() {
  local log="$logs/fuzz.log"
  echo "== fuzz (libFuzzer)"
  if make -s -C interceptor/fuzz run RUNS=200000 >"$log" 2>&1; then
    grep -E '^Done' "$log" || true
    echo "fuzz: 1 passed, 0 failed"
    passed=$((passed + 1))
  else
    tail -60 "$log"
    echo "fuzz: 0 passed, 1 failed"
    failed=$((failed + 1))
  fi
}

bash test/deps.sh
npm run --silent build
npm run --silent lint
bash test/fixtures/build-all.sh

run_node_suite
run_bats_suite bats test/bats
run_bats_suite e2e test/e2e
run_sanitized_suites
run_fuzz

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
