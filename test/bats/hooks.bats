#!/usr/bin/env bats
# The lifecycle scripts and the Claude Code SessionStart hook, run for real inside gVisor.

load '../lib/common'
load '../fixtures/install/bats-helpers'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
}

# The k3s double as the air-gapped binary, with its own digest (the default version pins the real k3s's sha256).
USE_DOUBLE='cp "$FIXTURES_BIN/k3s-double" "$W/k3s-airgap"
    export K3S_SANDBOX_BINARY_PATH="$W/k3s-airgap" K3S_SANDBOX_SHA256="$(sha256sum "$W/k3s-airgap" | cut -d" " -f1)"'

# Installed for the remote user dev, the entrypoint run, while another root up holds the instance lock for SECONDS: the
# entrypoint's up cannot launch k3s meanwhile, so a user's `up` finds no root instance to follow.
entrypoint_held_for() {
  echo "$USE_DOUBLE
    useradd --create-home dev
    _REMOTE_USER=dev BINARYPATH=\"\$K3S_SANDBOX_BINARY_PATH\" SHA256=\"\$K3S_SANDBOX_SHA256\" \"\$REPO_ROOT/install.sh\" 2>/dev/null
    install -d -m 0755 /run/k3s-sandbox && install -d -m 0700 /run/k3s-sandbox/locks
    flock /run/k3s-sandbox/locks/up.lock sleep $1 &
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    wait_until test -e /var/log/k3s-sandbox/entrypoint.log # its background root up creates it"
}

SESSION_JSON='{"session_id":"test-session","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","hook_event_name":"SessionStart","source":"startup"}'

@test "SessionStart hook: installs when missing, starts the cluster, writes the export line once, prints one line; resume is idempotent" {
  run install_scenario "
    $USE_DOUBLE
    export CLAUDE_ENV_FILE=\"\$W/claude.env\"
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
    [ -e /usr/local/bin/k3s ] && echo INSTALLED || true
    start=\$(date +%s)
    echo '$SESSION_JSON' | K3S_SANDBOX_BINARY_PATH=/nonexistent/k3s \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null | sed 's/^/mistyped binaryPath: /'
    echo \"mistyped binaryPath took \$(( \$(date +%s) - start )) s\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit 0, stdout lines 1: k3s-sandbox: install failed, no cluster in this session: could not install k3s v"*" from any source: - GitHub release https://127.0.0.1:9/releases/v"*"+k3s1: ECONNREFUSED"* ]]
  [[ "$output" == *"mistyped binaryPath: k3s-sandbox: install failed, no cluster in this session: binaryPath /nonexistent/k3s: no such file; "* ]]
  [[ "$output" =~ "mistyped binaryPath took "[0-5]" s" ]]
  [[ "$output" == *"env file bytes: 0"* ]]
  [[ "$output" != *INSTALLED* ]]
}

@test "post-start: never fails the lifecycle, even when the cluster cannot start; with autoStart=false neither script starts anything" {
  run install_scenario "
    $USE_DOUBLE
    BINARYPATH=\"\$W/k3s-airgap\" SHA256=\"\$K3S_SANDBOX_SHA256\" AUTOSTART=false \"\$REPO_ROOT/install.sh\" 2>/dev/null
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    rc=0; /usr/local/share/k3s-sandbox/hooks/post-start.sh || rc=\$?
    echo \"autoStart=false post-start exit \$rc\"
    sleep 1
    [ -e /var/log/k3s-sandbox/entrypoint.log ] && echo STARTED || echo 'nothing started'
    BINARYPATH=\"\$W/k3s-airgap\" SHA256=\"\$K3S_SANDBOX_SHA256\" HTTPSPORT=6443 \"\$REPO_ROOT/install.sh\" 2>/dev/null
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

@test "SessionStart hook in Claude Code on the web: valid SessionStart JSON naming the mode, what works in it and the KUBECONFIG path" {
  run install_scenario "
    $USE_DOUBLE
    export CLAUDE_ENV_FILE=\"\$W/claude.env\" CLAUDE_CODE_REMOTE=true
    rc=0; echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"exit \$rc\"
    jq -e -r '.hookSpecificOutput | select(.hookEventName == \"SessionStart\") | .additionalContext' \"\$W/stdout\" | sed 's/^/context: /'
    echo \"keys: \$(jq -c keys \"\$W/stdout\")\"
    sed 's/^/env file: /' \"\$CLAUDE_ENV_FILE\"
    echo '$SESSION_JSON' | CLAUDE_ENV_FILE=/nonexistent/claude.env \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null |
      jq -r .hookSpecificOutput.additionalContext | sed 's/^/unusable env file: /'
    unset CLAUDE_CODE_REMOTE
    echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null | sed 's/^/other agent: /'"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit 0"* ]]
  [[ "$output" == *'keys: ["hookSpecificOutput"]'* ]]
  [[ "$output" == *"context: k3s-sandbox: a local Kubernetes cluster (k3s) is ready (started in "*"s), mode control-plane (under gVisor)."* ]]
  [[ "$output" == *"context: What works in this mode: the API, CRDs, RBAC, server-side dry-run and Helm template/dry-run work; pods are never scheduled (there is no node)."* ]]
  [[ "$output" == *"context: KUBECONFIG=/root/.kube/config is exported for Bash commands, so kubectl uses it."* ]]
  [ "$(grep -c '^context: ' <<<"$output")" -le 5 ]
  [[ "$output" == *"env file: export KUBECONFIG=/root/.kube/config"* ]]
  [[ "$output" == *"unusable env file: k3s-sandbox: a local Kubernetes cluster (k3s) is running, mode control-plane (under gVisor)."* ]]
  [[ "$output" == *"unusable env file: KUBECONFIG could not be exported for Bash commands (CLAUDE_ENV_FILE=/nonexistent/claude.env: ENOENT): prefix commands with \`export KUBECONFIG=/root/.kube/config;\`."* ]]
  [[ "$output" == *"other agent: k3s-sandbox: already running, mode control-plane (gVisor), KUBECONFIG=/root/.kube/config; "* ]]
}

@test "SessionStart hook: autoStart=false, from K3S_SANDBOX_AUTO_START or from the feature option, starts nothing; the env setting overrides the option" {
  run install_scenario "
    $USE_DOUBLE
    export CLAUDE_ENV_FILE=\"\$W/claude.env\"
    : >\"\$CLAUDE_ENV_FILE\"
    rc=0; echo '$SESSION_JSON' | K3S_SANDBOX_AUTO_START=false \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>/dev/null || rc=\$?
    echo \"env false: exit \$rc, stdout lines \$(wc -l <\"\$W/stdout\"): \$(cat \"\$W/stdout\")\"
    [ -e /usr/local/bin/k3s-sandbox ] && echo 'env false: INSTALLED' || true
    echo '$SESSION_JSON' | CLAUDE_CODE_REMOTE=true K3S_SANDBOX_AUTO_START=false \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null |
      jq -r .hookSpecificOutput.additionalContext | sed 's/^/claude, env false: /'
    BINARYPATH=\"\$W/k3s-airgap\" SHA256=\"\$K3S_SANDBOX_SHA256\" AUTOSTART=false \"\$REPO_ROOT/install.sh\" 2>/dev/null
    echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null | sed 's/^/option false: /'
    rc=0; k3s-sandbox status >/dev/null 2>&1 || rc=\$?
    echo \"option false: status exit \$rc\"
    echo \"env file bytes: \$(wc -c <\"\$CLAUDE_ENV_FILE\")\"
    echo '$SESSION_JSON' | K3S_SANDBOX_AUTO_START=true \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null | sed 's/^/env true over option false: /'"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"env false: exit 0, stdout lines 1: k3s-sandbox: autoStart is false, so no cluster was started; \`k3s-sandbox up\` starts one"* ]]
  [[ "$output" != *"env false: INSTALLED"* ]]
  [[ "$output" == *"claude, env false: k3s-sandbox: autoStart is false, so no cluster was started"* ]]
  [[ "$output" == *"option false: k3s-sandbox: autoStart is false, so no cluster was started"* ]]
  [[ "$output" == *"option false: status exit 3"* ]]
  [[ "$output" == *"env file bytes: 0"* ]]
  [[ "$output" == *"env true over option false: k3s-sandbox: ready in "* ]]
}

@test "SessionStart hook: after a wait timeout k3s is left running and KUBECONFIG is still exported (the path up publishes); a background up publishes it once k3s is ready" {
  run install_scenario "
    $USE_DOUBLE
    export CLAUDE_ENV_FILE=\"\$W/claude.env\" CLAUDE_CODE_REMOTE=true K3S_SANDBOX_WAIT_TIMEOUT=1 K3S_DOUBLE_READY_DELAY=6s
    : >\"\$CLAUDE_ENV_FILE\"
    rc=0; echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"exit \$rc\"
    jq -r .hookSpecificOutput.additionalContext \"\$W/stdout\" | sed 's/^/context: /'
    sed 's/^/env file: /' \"\$CLAUDE_ENV_FILE\"
    . \"\$CLAUDE_ENV_FILE\"
    wait_until kubectl get --raw /readyz
    echo \"later readyz: \$(kubectl get --raw /readyz)\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit 0"* ]]
  [[ "$output" == *"context: k3s-sandbox: a local Kubernetes cluster (k3s) is running, but \`k3s-sandbox up\` did not finish: waited 1 s for "* ]]
  [[ "$output" == *"context: k3s is left running in mode control-plane; \`k3s-sandbox up --wait\` waits for it again."* ]]
  [[ "$output" == *"context: A background \`k3s-sandbox up --wait\` publishes the kubeconfig once k3s answers (log /var/log/k3s-sandbox/session-start.log)."* ]]
  [[ "$output" == *"context: KUBECONFIG=/root/.kube/config is exported for Bash commands, so kubectl uses it."* ]]
  [ "$(grep -c '^env file: export KUBECONFIG=' <<<"$output")" -eq 1 ]
  [[ "$output" == *"env file: export KUBECONFIG=/root/.kube/config"* ]]
  [[ "$output" == *"later readyz: ok"* ]]
}

@test "SessionStart hook with K3S_SANDBOX_HOOK_ASYNC=1: returns in under a second, says how to wait; a later up --wait succeeds and the exported KUBECONFIG works" {
  run install_scenario "
    $USE_DOUBLE
    BINARYPATH=\"\$W/k3s-airgap\" SHA256=\"\$K3S_SANDBOX_SHA256\" \"\$REPO_ROOT/install.sh\" 2>/dev/null
    export CLAUDE_ENV_FILE=\"\$W/claude.env\" CLAUDE_CODE_REMOTE=true K3S_SANDBOX_HOOK_ASYNC=1
    : >\"\$CLAUDE_ENV_FILE\"
    start=\$(date +%s%N)
    rc=0; echo '$SESSION_JSON' | \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"exit \$rc after \$(( (\$(date +%s%N) - start) / 1000000 )) ms\"
    jq -r .hookSpecificOutput.additionalContext \"\$W/stdout\" | sed 's/^/context: /'
    rc=0; k3s-sandbox up --wait >\"\$W/up.out\" 2>/dev/null || rc=\$?
    echo \"later up --wait: exit \$rc: \$(cat \"\$W/up.out\")\"
    . \"\$CLAUDE_ENV_FILE\"
    echo \"readyz: \$(kubectl get --raw /readyz)\"
    echo \"supervisors: \$(pgrep -c -f k3s-sandbox-supervi[s]e)\""
  echo "$output"
  [ "$status" -eq 0 ]
  local ms
  ms="$(sed -n 's/^exit 0 after \([0-9]*\) ms$/\1/p' <<<"$output")"
  echo "async hook returned after $ms ms" >&3
  [ -n "$ms" ] && [ "$ms" -lt 1000 ]
  [[ "$output" == *"context: k3s-sandbox: a local Kubernetes cluster (k3s) is starting in the background (log /var/log/k3s-sandbox/session-start.log)."* ]]
  [[ "$output" == *"context: \`k3s-sandbox up --wait\` waits until it is ready, then prints its mode and what works in that mode."* ]]
  [[ "$output" == *"context: KUBECONFIG=/root/.kube/config is exported for Bash commands, so kubectl uses it once the cluster is ready."* ]]
  [[ "$output" == *"later up --wait: exit 0: k3s-sandbox: "*"mode control-plane"* ]]
  [[ "$output" == *"readyz: ok"* ]]
  [[ "$output" == *"supervisors: 1"* ]]
}

# Issue 11: session-context is the one writer of the export line, on the sync and the async path alike, and it names
# what `up` publishes. Before, the async path wrote the admin kubeconfig from shell, so a resumed session had two.
@test "SessionStart hook resumed: sync then async, and async then sync, leave exactly one KUBECONFIG export, the path up published" {
  run install_scenario "
    $USE_DOUBLE
    BINARYPATH=\"\$W/k3s-airgap\" SHA256=\"\$K3S_SANDBOX_SHA256\" \"\$REPO_ROOT/install.sh\" 2>/dev/null
    hook() { echo '${SESSION_JSON/startup/resume}' | \"\$REPO_ROOT/hooks/session-start.sh\" 2>/dev/null; }
    export CLAUDE_ENV_FILE=\"\$W/sync-first.env\"
    hook >/dev/null
    K3S_SANDBOX_HOOK_ASYNC=1 hook >/dev/null
    sed 's/^/sync, async: /' \"\$CLAUDE_ENV_FILE\"
    k3s-sandbox down >/dev/null 2>&1
    export CLAUDE_ENV_FILE=\"\$W/async-first.env\"
    K3S_SANDBOX_HOOK_ASYNC=1 hook >/dev/null
    hook >\"\$W/sync.out\"
    sed 's/^/async, sync: /' \"\$CLAUDE_ENV_FILE\"
    echo \"published: \$(k3s-sandbox up --json 2>/dev/null | jq -r .kubeconfig)\"
    . \"\$CLAUDE_ENV_FILE\"
    echo \"readyz: \$(kubectl get --raw /readyz)\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"published: /root/.kube/config"* ]]
  [ "$(grep -c '^sync, async: ' <<<"$output")" -eq 1 ]
  [[ "$output" == *"sync, async: export KUBECONFIG=/root/.kube/config"* ]]
  [ "$(grep -c '^async, sync: ' <<<"$output")" -eq 1 ]
  [[ "$output" == *"async, sync: export KUBECONFIG=/root/.kube/config"* ]]
  [[ "$output" == *"readyz: ok"* ]]
}

@test "SessionStart hook: every feature option variable in the hook's environment (SHA256, INSECUREREGISTRIES, ...) is kept from the installer" {
  run install_scenario "
    $USE_DOUBLE
    rc=0; echo '$SESSION_JSON' | SHA256=not-a-digest INSECUREREGISTRIES='bad host' IMAGEDIGEST=x MODE=bogus \"\$REPO_ROOT/hooks/session-start.sh\" >\"\$W/stdout\" 2>\"\$W/stderr\" || rc=\$?
    echo \"exit \$rc: \$(cat \"\$W/stdout\")\"
    grep -h 'invalid value' \"\$W/stderr\" || echo 'no option complaint'"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit 0: k3s-sandbox: ready"* ]]
  [[ "$output" == *"no option complaint"* ]]
}

@test "lifecycle: the entrypoint takes no lock a plain user could hold; post-start as a user without sudo follows the entrypoint's root up and gets a kubeconfig" {
  run install_scenario "
    $USE_DOUBLE
    useradd --create-home dev
    _REMOTE_USER=dev BINARYPATH=\"\$K3S_SANDBOX_BINARY_PATH\" SHA256=\"\$K3S_SANDBOX_SHA256\" \"\$REPO_ROOT/install.sh\" 2>/dev/null
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    rc=0; setpriv --reuid dev --regid dev --init-groups env HOME=/home/dev /usr/local/share/k3s-sandbox/hooks/post-start.sh >\"\$W/post\" 2>&1 || rc=\$?
    echo \"post-start exit \$rc\"
    cat \"\$W/post\"
    [ -e /run/k3s-sandbox-startup.lock ] && echo 'STARTUP LOCK' || echo 'no startup lock'
    echo \"dev: \$(setpriv --reuid dev --regid dev --init-groups env HOME=/home/dev kubectl --kubeconfig /home/dev/.kube/config get --raw /readyz)\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"post-start exit 0"* ]]
  [[ "$output" != *"the cluster is not ready"* ]]
  [[ "$output" == *"no startup lock"* ]]
  [[ "$output" == *"dev: ok"* ]]
}

@test "post-start as a user without sudo, while root's up is held up: one line says what it waits for, no attempt prints a failed line, then the kubeconfig" {
  run install_scenario "
    $(entrypoint_held_for 6)
    started=\$(date +%s)
    rc=0; setpriv --reuid dev --regid dev --init-groups env HOME=/home/dev /usr/local/share/k3s-sandbox/hooks/post-start.sh >\"\$W/post\" 2>&1 || rc=\$?
    echo \"post-start exit \$rc after \$((\$(date +%s) - started)) s\"
    sed 's/^/post: /' \"\$W/post\"
    echo \"dev: \$(setpriv --reuid dev --regid dev --init-groups env HOME=/home/dev kubectl --kubeconfig /home/dev/.kube/config get --raw /readyz)\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "post-start exit 0 after "([6-9]|[1-9][0-9])" s" ]]
  [ "$(grep -c '^post: k3s-sandbox: waiting up to 300 s for the entrypoint'"'"'s root `up` to start the cluster and publish the kubeconfig for dev (its log: /var/log/k3s-sandbox/entrypoint.log)$' <<<"$output")" -eq 1 ]
  # No attempt's failure line (a plan detail may quote k3s's own "failed to find host-local" wait: that is no failure).
  ! grep -E '^post: (k3s-sandbox: failed|✗ )' <<<"$output"
  [[ "$output" =~ "post: k3s-sandbox: "(ready in|already running)[^$'\n']*"KUBECONFIG=/home/dev/.kube/config" ]]
  [[ "$output" == *"dev: ok"* ]]
}

@test "post-start as a user without sudo when root's up never comes: one line says it gave up and why, and it exits 0" {
  run install_scenario "
    $(entrypoint_held_for 60)
    rc=0; setpriv --reuid dev --regid dev --init-groups env HOME=/home/dev K3S_SANDBOX_FOLLOW_SECONDS=3 /usr/local/share/k3s-sandbox/hooks/post-start.sh >\"\$W/post\" 2>&1 || rc=\$?
    echo \"post-start exit \$rc\"
    sed 's/^/post: /' \"\$W/post\""
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"post-start exit 0"* ]]
  [ "$(grep -c '^post: ' <<<"$output")" -eq 2 ]
  [[ "$output" == *"post: k3s-sandbox: waiting up to 3 s for the entrypoint's root \`up\`"* ]]
  [[ "$output" =~ "post: k3s-sandbox: gave up after 3 s waiting for the entrypoint's root \`up\` (see /var/log/k3s-sandbox/entrypoint.log); the last attempt said: starting k3s needs root, and \`sudo -n\` is not allowed for dev: run "[^$'\n']*"; the cluster is not ready (see 'k3s-sandbox status' and 'k3s-sandbox logs'); other lifecycle commands go on" ]]
}
