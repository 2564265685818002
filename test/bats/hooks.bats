#!/usr/bin/env bats
# The lifecycle scripts and the Claude Code SessionStart hook, run for real inside gVisor.

load '../lib/common'
load '../fixtures/install/bats-helpers'

setup_file() {
  require_built "$DIST/k3s-sandbox.mjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
}

SESSION_JSON='{"session_id":"test-session","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","hook_event_name":"SessionStart","source":"startup"}'

@test "SessionStart hook: installs when missing, starts the cluster, writes the export line once, prints one line; resume is idempotent" {
  run install_scenario "
    cp \"\$FIXTURES_BIN/k3s-double\" \"\$W/k3s-airgap\"
    export CLAUDE_ENV_FILE=\"\$W/claude.env\" K3S_SANDBOX_BINARY_PATH=\"\$W/k3s-airgap\"
    echo 'export FROM_ANOTHER_HOOK=1' >\"\$CLAUDE_ENV_FILE\"
    rc=0; echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"startup exit \$rc, stdout lines \$(wc -l <\"\$W/stdout\"): \$(cat \"\$W/stdout\")\"
    echo '${SESSION_JSON/startup/resume}' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"resume exit \$rc, stdout lines \$(wc -l <\"\$W/stdout\"): \$(cat \"\$W/stdout\")\"
    grep -m1 'session resume' \"\$W/stderr\"
    sed 's/^/env file: /' \"\$CLAUDE_ENV_FILE\"
    . \"\$CLAUDE_ENV_FILE\"
    echo \"readyz: \$(kubectl get --raw /readyz)\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"startup exit 0, stdout lines 1: k3s-sandbox: ready"* ]]
  [[ "$output" == *"resume exit 0, stdout lines 1: k3s-sandbox: "* ]]
  [[ "$output" == *"k3s-sandbox hook: session resume"* ]]
  [[ "$output" == *"env file: export FROM_ANOTHER_HOOK=1"* ]]
  [ "$(grep -c '^env file: export KUBECONFIG=' <<<"$output")" -eq 1 ]
  [[ "$output" == *"readyz: ok"* ]]
}

@test "SessionStart hook: when nothing can be installed it still exits 0 with one line saying why, and leaves CLAUDE_ENV_FILE alone" {
  run install_scenario "
    export CLAUDE_ENV_FILE=\"\$W/claude.env\" K3S_SANDBOX_RELEASE_URL=https://127.0.0.1:9/releases K3S_SANDBOX_REGISTRIES=
    : >\"\$CLAUDE_ENV_FILE\"
    rc=0; echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"exit \$rc, stdout lines \$(wc -l <\"\$W/stdout\"): \$(cat \"\$W/stdout\")\"
    echo \"env file bytes: \$(wc -c <\"\$CLAUDE_ENV_FILE\")\"
    [ -e /usr/local/bin/k3s ] && echo INSTALLED || true"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit 0, stdout lines 1: k3s-sandbox: install failed, no cluster in this session: "*"GitHub release https://127.0.0.1:9/releases/v1.33.5+k3s1: ECONNREFUSED"* ]]
  [[ "$output" == *"env file bytes: 0"* ]]
  [[ "$output" != *INSTALLED* ]]
}

@test "post-start: never fails the lifecycle, even when the cluster cannot start; with autoStart=false neither script starts anything" {
  run install_scenario "
    cp \"\$FIXTURES_BIN/k3s-double\" \"\$W/k3s-airgap\"
    BINARYPATH=\"\$W/k3s-airgap\" AUTOSTART=false \"\$REPO_ROOT/install.sh\" 2>/dev/null
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    rc=0; /usr/local/share/k3s-sandbox/hooks/post-start.sh || rc=\$?
    echo \"autoStart=false post-start exit \$rc\"
    sleep 1
    [ -e /var/log/k3s-sandbox/entrypoint.log ] && echo STARTED || echo 'nothing started'
    BINARYPATH=\"\$W/k3s-airgap\" HTTPSPORT=6443 \"\$REPO_ROOT/install.sh\" 2>/dev/null
    node -e 'require(\"net\").createServer().listen(6443, \"127.0.0.1\")' &
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    sleep 1
    [ -e /var/log/k3s-sandbox/entrypoint.log ] && echo 'autoStart=true entrypoint launched up'
    rc=0; /usr/local/share/k3s-sandbox/hooks/post-start.sh || rc=\$?
    echo \"port taken post-start exit \$rc\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"k3s-sandbox: autoStart is false; run 'k3s-sandbox up' to start the cluster"* ]]
  [[ "$output" == *"autoStart=false post-start exit 0"* ]]
  [[ "$output" == *"nothing started"* ]]
  [[ "$output" == *"autoStart=true entrypoint launched up"* ]]
  [[ "$output" == *"the cluster is not ready (see 'k3s-sandbox status' and 'k3s-sandbox logs'); other lifecycle commands go on"* ]]
  [[ "$output" == *"port taken post-start exit 0"* ]]
}

@test "claude-settings.json: a SessionStart command hook on startup|resume with a timeout that fits a cold install" {
  run jq -r '.hooks.SessionStart[0] | "\(.matcher) \(.hooks[0].type) \(.hooks[0].timeout) \(.hooks[0].command)"' "$REPO_ROOT/hooks/claude-settings.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == 'startup|resume command 600 "$CLAUDE_PROJECT_DIR"/'*'/hooks/session-start.sh' ]]
}
