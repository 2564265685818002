#!/usr/bin/env bats
# The Claude Code on the web recipe, end to end inside real gVisor: the packaged feature extracted into an empty
# repository's .claude/k3s-sandbox, hooks/claude-setup.sh as the environment's setup script (root, within its
# budget, building nothing), then the SessionStart hook, which only starts the cluster and prints its JSON.

load '../lib/common'
load '../fixtures/install/bats-helpers'

TGZ="$REPO_ROOT/build/package/devcontainer-feature-k3s-sandbox.tgz"
# The setup script must finish well inside Claude Code's five minutes; against local fixtures it has no excuse
# to take more than a minute.
LOCAL_BUDGET_SECONDS=60

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
  node "$REPO_ROOT/scripts/package.mjs" --no-build >/dev/null 2>&1 || { echo "npm run package failed" >&2; return 1; }
}

# An empty repository with the package extracted where the README puts it; cc is hidden, so an install that tried
# to build the helpers would fail.
# gVisor's overlay cannot rename a file back over a name it renamed away, so cc stays hidden for the whole sandbox.
EMPTY_REPO='mkdir -p "$W/repo/.claude/k3s-sandbox"
    tar -xf "'"$TGZ"'" -C "$W/repo/.claude/k3s-sandbox"
    mv /usr/bin/cc /usr/bin/cc.hidden
    cd "$W/repo"'

# Runs the setup script and prints how long it took, in whole seconds.
RUN_SETUP='start=$(date +%s%N)
    rc=0; bash .claude/k3s-sandbox/hooks/claude-setup.sh >"$W/setup.out" 2>"$W/setup.err" || rc=$?
    echo "setup exit $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    sed "s/^/setup: /" "$W/setup.out"'

setup_seconds() {
  local ms
  ms="$(sed -n 's/^setup exit 0 after \([0-9]*\) ms$/\1/p' <<<"$1")"
  [ -n "$ms" ] || return 1
  echo "setup took $ms ms" >&3
  echo $((ms / 1000))
}

@test "claude-setup.sh: GitHub answers 403, so k3s comes from the registry; installed from the package in an empty repo within budget; the hook then only starts" {
  run install_scenario "
    make_tls
    start_https_fixture --forbid-releases
    start_registry
    push_k3s_image \"\$FIXTURES_BIN/k3s-double\"
    $EMPTY_REPO
    export K3S_SANDBOX_VERSION=\$K3S_VERSION K3S_SANDBOX_RELEASE_URL=https://127.0.0.1:\$RELEASE_PORT/k3s-io/k3s/releases/download
    export K3S_SANDBOX_REGISTRIES=127.0.0.1:\$REGISTRY_PORT
    : >\"\$W/requests.log\"
    $RUN_SETUP
    echo \"release requests: \$(grep -c /releases/download/ \"\$W/requests.log\")\"
    grep -E 'trying|installed|release.*failed' \"\$W/setup.err\" | sed 's/^/installer: /'
    cmp /usr/local/bin/k3s \"\$FIXTURES_BIN/k3s-double\" && echo 'k3s is the image layer'
    export CLAUDE_CODE_REMOTE=true CLAUDE_ENV_FILE=\"\$W/claude.env\" K3S_DOUBLE_READY_DELAY=300ms
    start=\$(date +%s%N)
    echo '{\"source\":\"startup\"}' | .claude/k3s-sandbox/hooks/session-start.sh >\"\$W/hook.out\" 2>\"\$W/hook.err\"
    echo \"hook after \$(( (\$(date +%s%N) - start) / 1000000 )) ms\"
    grep -q 'is not installed' \"\$W/hook.err\" && echo 'HOOK INSTALLED' || true
    jq -r .hookSpecificOutput.additionalContext \"\$W/hook.out\" | sed 's/^/context: /'
    . \"\$CLAUDE_ENV_FILE\"
    echo \"kubectl: \$(kubectl get ns default -o name)\""
  echo "$output"
  [ "$status" -eq 0 ]
  local seconds
  seconds="$(setup_seconds "$output")"
  [ "$seconds" -lt "$LOCAL_BUDGET_SECONDS" ]
  [[ "$output" == *"setup: k3s-sandbox setup: installed in "*"s: k3s version v1.33.5+k3s1 (double); the SessionStart hook starts the cluster"* ]]
  [[ "$output" == *"installer: install-k3s: trying GitHub release https://127.0.0.1:8443/"* ]]
  [[ "$output" == *"installer: install-k3s: GitHub release https://127.0.0.1:8443/"*"failed: HTTP 403 from "* ]]
  # A 403 is final: one request, no retries, then the registry.
  [[ "$output" == *"release requests: 1"* ]]
  [[ "$output" == *"installer: install-k3s: installed /usr/local/bin/k3s from registry 127.0.0.1:5443"* ]]
  [[ "$output" == *"k3s is the image layer"* ]]
  [[ "$output" != *"HOOK INSTALLED"* ]]
  [[ "$output" == *"context: k3s-sandbox: a local Kubernetes cluster (k3s) is ready (started in "*"mode control-plane (under gVisor)."* ]]
  [[ "$output" == *"context: KUBECONFIG=/root/.kube/config is exported for Bash commands, so kubectl uses it."* ]]
  [[ "$output" == *"kubectl: namespace/default"* ]]
}

@test "claude-setup.sh: air-gapped from a local k3s binary (BINARYPATH), from the package in an empty repo, within budget; stray VERSION/SHA256 variables are not options" {
  run install_scenario "
    cp \"\$FIXTURES_BIN/k3s-double\" \"\$W/k3s-airgap\"
    export K3S_SANDBOX_BINARY_PATH=\"\$W/k3s-airgap\" K3S_SANDBOX_SHA256=\"\$(sha256sum \"\$W/k3s-airgap\" | cut -d' ' -f1)\"
    export VERSION=whatever-some-tool-set SHA256=not-a-digest INSECUREREGISTRIES=bogus
    $EMPTY_REPO
    $RUN_SETUP
    find /usr/local/share/k3s-sandbox/bin -type f -printf 'helper: %f\n'
    rc=0; k3s-sandbox status >/dev/null 2>&1 || rc=\$?
    echo \"status after setup: exit \$rc\""
  echo "$output"
  [ "$status" -eq 0 ]
  local seconds
  seconds="$(setup_seconds "$output")"
  [ "$seconds" -lt "$LOCAL_BUDGET_SECONDS" ]
  [[ "$output" == *"setup: k3s-sandbox setup: installed in "*"s: k3s version v1.33.5+k3s1 (double)"* ]]
  [[ "$output" == *"helper: k3s-sandbox-supervise"* ]]
  [[ "$output" == *"helper: k3s-sandbox-intercept"* ]]
  # The setup snapshot holds files, not processes: nothing is started.
  [[ "$output" == *"status after setup: exit 3"* ]]
}

@test "claude-setup.sh: when no source works, or the budget is not a number, it still exits 0 and says so, installing nothing" {
  run install_scenario "
    $EMPTY_REPO
    export K3S_SANDBOX_RELEASE_URL=https://127.0.0.1:9/releases K3S_SANDBOX_REGISTRIES=
    rc=0; bash .claude/k3s-sandbox/hooks/claude-setup.sh >\"\$W/out\" 2>/dev/null || rc=\$?
    echo \"no source: exit \$rc: \$(cat \"\$W/out\")\"
    [ -e /usr/local/bin/k3s ] && echo 'INSTALLED' || true
    rc=0; K3S_SANDBOX_SETUP_BUDGET=soon bash .claude/k3s-sandbox/hooks/claude-setup.sh >\"\$W/out\" 2>/dev/null || rc=\$?
    echo \"bad budget: exit \$rc: \$(cat \"\$W/out\")\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"no source: exit 0: k3s-sandbox setup: the install failed after "*"s (exit 1, see above); the SessionStart hook tries again at session start"* ]]
  [[ "$output" != *INSTALLED* ]]
  [[ "$output" == *"bad budget: exit 0: k3s-sandbox setup: K3S_SANDBOX_SETUP_BUDGET=soon is not a whole number of seconds; nothing was installed"* ]]
}
