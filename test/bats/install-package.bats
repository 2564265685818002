#!/usr/bin/env bats
# The packaged feature (`npm run package`) is self-sufficient: extracted into an empty directory inside gVisor, its
# install.sh installs with the prebuilt helpers, builds them from the bundled C sources when they are missing, and
# says clearly what to do when it can do neither.

load '../lib/common'
load '../fixtures/install/bats-helpers'

TGZ="$REPO_ROOT/build/package/devcontainer-feature-k3s-sandbox.tgz"

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  node "$REPO_ROOT/scripts/package.mjs" --no-build >/dev/null 2>&1 || { echo "npm run package failed" >&2; return 1; }
}

# Extracts the package into an empty dir $PKG inside the sandbox, then runs the scenario.
packaged_scenario() {
  gvisor_script "set -eu
    exec 2>&1
    PKG=\$(mktemp -d)
    tar -xf '$TGZ' -C \"\$PKG\"
    cp '$FIXTURES_BIN/k3s-double' /tmp/k3s-airgap
    cd \"\$PKG\"
    $1"
}

@test "package: the tgz holds the feature, the bundle, both architectures' helpers and their sources, and no build leftovers" {
  run tar -tf "$TGZ"
  [ "$status" -eq 0 ]
  for entry in ./devcontainer-feature.json ./install.sh ./NOTES.md ./hooks/entrypoint.sh ./hooks/post-start.sh \
    ./hooks/session-start.sh ./dist/k3s-sandbox.cjs ./dist/x86_64/k3s-sandbox-intercept ./dist/x86_64/k3s-sandbox-supervise \
    ./dist/aarch64/k3s-sandbox-intercept ./dist/aarch64/k3s-sandbox-supervise ./interceptor/Makefile ./supervisor/Makefile; do
    grep -qxF "$entry" <<<"$output" || { echo "missing $entry"; return 1; }
  done
  ! grep -E '(^|/)build/|\.o$|node_modules|/src/install/' <<<"$output"
}

@test "package: the bootstrapper's chunks travel with its entry, and the interceptor's fuzz target stays out" {
  run tar -tf "$TGZ"
  [ "$status" -eq 0 ]
  grep -qE '^\./dist/k3s-sandbox-chunk-[A-Z0-9]+\.cjs$' <<<"$output"
  [ "$(grep -cE '^\./dist/k3s-sandbox-chunk-' <<<"$output")" -eq "$(find "$DIST" -maxdepth 1 -name 'k3s-sandbox-chunk-*.cjs' | wc -l)" ]
  ! grep -q '^\./interceptor/fuzz' <<<"$output"
}

@test "package: install.sh from the extracted tgz installs in an empty directory (prebuilt helpers)" {
  run packaged_scenario '
    VERSION=v1.33.5+k3s1 BINARYPATH=/tmp/k3s-airgap ./install.sh
    cmp dist/x86_64/k3s-sandbox-supervise /usr/local/share/k3s-sandbox/bin/k3s-sandbox-supervise && echo "prebuilt helpers installed"
    echo "k3s: $(k3s --version | head -1)"
    echo "cli: $(k3s-sandbox --help | head -1)"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"installed /usr/local/bin/k3s from binaryPath /tmp/k3s-airgap"* ]]
  [[ "$output" == *"prebuilt helpers installed"* ]]
  [[ "$output" == *"k3s: k3s version v1.33.5+k3s1 (double)"* ]]
  [[ "$output" == *"cli: usage: k3s-sandbox"* ]]
}

@test "package: without prebuilt helpers install.sh builds them with cc, and without cc it fails clearly and installs nothing" {
  run packaged_scenario '
    rm -rf dist/x86_64 dist/aarch64
    VERSION=v1.33.5+k3s1 BINARYPATH=/tmp/k3s-airgap ./install.sh
    find /usr/local/share/k3s-sandbox/bin -printf "built %p\n"
    rm -rf /usr/local/share/k3s-sandbox /usr/local/etc/k3s-sandbox /usr/local/bin/k3s-sandbox /usr/local/bin/k3s
    # gVisor'"'"'s overlay cannot rename a file back over a name it renamed away, so cc stays hidden from here on.
    mv /usr/bin/cc /usr/bin/cc.hidden
    rc=0; VERSION=v1.33.5+k3s1 BINARYPATH=/tmp/k3s-airgap ./install.sh || rc=$?
    echo "without cc: exit $rc"
    find /usr/local/share/k3s-sandbox /usr/local/bin/k3s /usr/local/bin/k3s-sandbox /usr/local/etc/k3s-sandbox -maxdepth 0 -printf "INSTALLED WITHOUT HELPERS: %p\n" 2>/dev/null || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"error: no prebuilt helpers in "*"/dist/x86_64 and no cc/make to build them"* ]]
  [[ "$output" == *"without cc: exit 1"* ]]
  [[ "$output" != *"INSTALLED WITHOUT HELPERS"* ]]
  [[ "$output" == *"no prebuilt helpers for x86_64; building them with cc"* ]]
  [[ "$output" == *"built /usr/local/share/k3s-sandbox/bin/k3s-sandbox-intercept"* ]]
  [[ "$output" == *"built /usr/local/share/k3s-sandbox/bin/k3s-sandbox-supervise"* ]]
  [[ "$output" != *"obj"* ]]
}
