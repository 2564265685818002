#!/usr/bin/env bats
# What a user gets from control-plane mode, on the real Kubernetes API server: k3s-sandbox runs
# build/fixtures/k3s-upstream (kine + kube-apiserver, controller-manager and scheduler, see its README) in real gVisor
# (runsc --platform=ptrace, --network=none). kubectl (a symlink named kubectl to the fixture, as install.sh links k3s)
# and Helm run for a non-root user in a login shell, with no flags. The k3s double (bootstrapper.bats) keeps the fault
# scenarios.
#
# Processes die with their sandbox, so one sandbox runs many checks: setup_file runs the main one once, each check
# between markers (test/e2e/real-control-plane/checks.sh), and each test below reads its own check's section.
load '../lib/common'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-upstream" test/fixtures/k3s-upstream/build.sh
  require_built "$FIXTURES_BIN/helm" test/fixtures/helm/build.sh
  require_built "$FIXTURES_BIN/k3s-sandbox-supervise" test/fixtures/build-all.sh
  MAIN_OUT="$BATS_FILE_TMPDIR/main.out"
  # The feature as packaged (install.sh, hooks/, dist/), copied: a rebuild of dist/ meanwhile cannot swap its chunks.
  # Readable by the non-root user, which bats' own temporary directories are not.
  COPIES="$(mktemp -d /tmp/k3s-sandbox-real-control-plane.XXXXXX)"
  chmod 755 "$COPIES"
  FEATURE="$COPIES/feature"
  mkdir -p "$FEATURE"
  cp -R "$REPO_ROOT/install.sh" "$REPO_ROOT/hooks" "$DIST" "$FEATURE/"
  # The fixture, copied (a rebuild meanwhile cannot change it): the k3s every sandbox runs, and the installer's
  # air-gapped binary, pinned by its own sha256 since install.sh pins the real k3s's (as test/bats/install-sh.bats).
  K3S_COPY="$COPIES/k3s"
  cp "$FIXTURES_BIN/k3s-upstream" "$K3S_COPY"
  K3S_COPY_SHA256="$(sha256sum "$K3S_COPY" | cut -d' ' -f1)"
  export MAIN_OUT COPIES FEATURE K3S_COPY K3S_COPY_SHA256
  local started=$SECONDS
  scenario '
    use_checkout
    add_user vscode
    echo "=== check up"
    rc=0; _REMOTE_USER=vscode ks up || rc=$?
    echo "mode: $(ks status --json | jq -r .mode)"
    echo "=== end up rc=$rc"
    check user_kubectl vscode
    check crd vscode
    check rbac vscode
    check dry_run vscode
    check deployment vscode
    check namespace_deletion vscode
    check helm vscode
    check before_down vscode
    echo "=== check lifecycle"
    rc=0
    before="$(ks status --json | jq -c "[.supervisorPid, .childPid, .starts]")"
    started_ns=$(date +%s%N)
    ks up 2>/dev/null || rc=$?
    echo "warm up ms: $((($(date +%s%N) - started_ns) / 1000000))"
    echo "warm up kept the instance: $([ "$(ks status --json | jq -c "[.supervisorPid, .childPid, .starts]")" = "$before" ] && echo yes || echo no)"
    ks down || rc=$?
    echo "after down: $(our_processes | wc -l) processes of ours"
    our_processes
    echo "port 6443 after down: $(node -e "require(\"net\").connect(6443, \"127.0.0.1\").on(\"connect\", () => { console.log(\"open\"); process.exit(0) }).on(\"error\", (e) => console.log(e.code))")"
    status_rc=0; ks status >/dev/null 2>&1 || status_rc=$?
    echo "status rc after down: $status_rc"
    _REMOTE_USER=vscode ks up 2>/dev/null || rc=$?
    echo "=== end lifecycle rc=$rc"
    check after_restart vscode
    echo "=== k3s log"
    k3s_log_tail 30
  ' >"$MAIN_OUT" || true
  echo "main sandbox: $((SECONDS - started))s" >"$BATS_FILE_TMPDIR/main.seconds"
}

teardown_file() {
  rm -rf "$COPIES"
}

scenario() {
  gvisor_script "REPO_ROOT='$REPO_ROOT' FIXTURES_BIN='$FIXTURES_BIN' DIST='$FEATURE/dist' FEATURE='$FEATURE' FIXTURE_K3S='$K3S_COPY' FIXTURE_SHA256='$K3S_COPY_SHA256'
. '$REPO_ROOT/test/e2e/real-control-plane/prelude.bash'
$1"
}

# section NAME: the main sandbox's output of one check, then its status as "rc=N" (nothing: the check never ran).
section() {
  awk -v start="=== check $1" -v stop="=== end $1 rc=" '
    $0 == start { on = 1; next }
    on && index($0, stop) == 1 { print "rc=" substr($0, length(stop) + 1); exit }
    on' "$MAIN_OUT"
}

# passed NAME: runs `section NAME` into $output and fails, showing that section, unless the check exited 0. On a
# failure before the check (the sandbox), it shows the whole output.
passed() {
  run section "$1"
  if [ -z "$output" ]; then
    echo "check $1 never ran; the sandbox printed:"
    cat "$MAIN_OUT"
    return 1
  fi
  echo "$output"
  [ "${lines[-1]}" = rc=0 ] || { echo "--- the server's log ends:"; sed -n '/^=== k3s log$/,$p' "$MAIN_OUT"; return 1; }
}

@test "up (mode auto) in gVisor reaches ready in control-plane mode on the real API server" {
  passed up
  [[ "$output" =~ "k3s-sandbox: ready in "[0-9.]+"s, mode control-plane (gVisor), KUBECONFIG=/home/vscode/.kube/config" ]]
  [[ "$output" == *"--node-ip=127.0.0.1: no default route"* ]]
  [[ "$output" == *"mode: control-plane"* ]]
}

@test "a non-root user's login shell: kubectl get ns, version and auth can-i with no flags" {
  passed user_kubectl
  [[ "$output" == *"whoami: vscode"* ]]
  [[ "$output" == *"context: k3s-sandbox"* ]]
  for ns in default kube-node-lease kube-public kube-system; do
    [[ "$output" =~ $'\n'"$ns "+Active ]]
  done
  [[ "$output" == *"Client Version: v1.36."* ]]
  [[ "$output" == *"Server Version: v1.36."* ]]
  [[ "$output" == *"can-i: yes"* ]]
}

@test "CRDs, as operators use them: a custom resource applied, listed, patched (spec and status), validated, watched and deleted; kubectl explain" {
  passed crd
  [[ "$output" == *"customresourcedefinition.apiextensions.k8s.io/widgets.e2e.k3s-sandbox.test created"* ]]
  [[ "$output" == *"widget.e2e.k3s-sandbox.test/sprocket created"* ]]
  [[ "$output" == *"listed: sprocket=3"* ]]
  [[ "$output" == *"patched size: 5"* ]]
  [[ "$output" == *"status: ready=true generation=2"* ]] # the status subresource does not bump the generation
  [[ "$output" =~ "watch: ADDED "+"sprocket "+"3 " ]]
  [[ "$output" =~ "watch: MODIFIED "+"sprocket "+"5 "+"<none>" ]]
  [[ "$output" =~ "watch: MODIFIED "+"sprocket "+"5 "+"true" ]]
  [[ "$output" =~ "watch: DELETED "+"sprocket " ]]
  [[ "$output" == *'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1'* ]]
  [[ "$output" == *"KIND:       Widget"* ]]
  [[ "$output" == *"How big the widget is."* ]]
  [[ "$output" == *'widgets.e2e.k3s-sandbox.test "sprocket" not found'* ]]
}

@test "RBAC: a ServiceAccount bound to a Role is allowed what the Role grants and denied the rest" {
  passed rbac
  [[ "$output" == *"list configmaps in team: yes"* ]]
  [[ "$output" == *"delete configmaps in team: no"* ]]
  [[ "$output" == *"list secrets in team: no"* ]]
  [[ "$output" == *"list configmaps in default: no"* ]]
  [[ "$output" == *"configmap/visible"* ]]
  [[ "$output" == *'User "system:serviceaccount:team:reader" cannot delete resource "configmaps" in API group "" in the namespace "team"'* ]]
}

@test "server-side dry run: a valid Deployment passes without being created; an invalid one gets the API server's own error" {
  passed dry_run
  [[ "$output" == *"deployment.apps/web created (server dry run)"* ]]
  [[ "$output" == *'deployments.apps "web" not found'* ]]
  [[ "$output" == *'The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: '*'`selector` does not match template `labels`'* ]]
}

@test "a real Deployment: the controllers create its ReplicaSet and Pods, which stay Pending with no node to run on" {
  passed deployment
  [[ "$output" =~ "replicaset: Deployment/web owns web-"[a-z0-9]+ ]]
  [ "$(grep -c '^pod ReplicaSet Pending PodScheduled=False Unschedulable: ' <<<"$output")" -eq 2 ]
  [[ "$output" == *"no nodes available to schedule pods"* ]]
  [[ "$output" == *"nodes: 0"* ]]
}

@test "deleting a namespace completes: the namespace controller empties it" {
  passed namespace_deletion
  [[ "$output" == *'namespace "shop" deleted'* ]]
  [[ "$output" == *'namespaces "shop" not found'* ]]
}

@test "Helm: template, install --dry-run=server, then a real install, upgrade and uninstall of a chart without pods" {
  passed helm
  [[ "$output" == *"template:"*"kind: ConfigMap"*"name: demo-greeting"*'greeting: "hi"'*"kind: CustomResourceDefinition"* ]]
  [[ "$output" == *"server dry run:"*"STATUS: pending-install"* ]]
  [[ "$output" == *'configmaps "demo-greeting" not found'*"install:"* ]]
  [[ "$output" == *"STATUS: deployed"* ]]
  [[ "$output" == *"installed greeting: hello revision 1"* ]]
  [[ "$output" == *'installed features: {"export":"off","search":"on"}'* ]]
  [[ "$output" == *"upgraded greeting: bonjour revision 2"* ]]
  [[ "$output" == *'history: [{"revision":1,"status":"superseded"},{"revision":2,"status":"deployed"}]'* ]]
  [[ "$output" == *'release "demo" uninstalled'* ]]
  [[ "$output" == *'customresourcedefinitions.apiextensions.k8s.io "notes.settings.k3s-sandbox.test" not found'* ]]
  [[ "$output" == *"releases left: 0"* ]]
}

@test "a warm up keeps the instance; down leaves no process and a closed port; up again keeps the data" {
  passed before_down
  passed lifecycle
  [[ "$output" == *"k3s-sandbox: already running, mode control-plane"* ]]
  [[ "$output" == *"warm up kept the instance: yes"* ]]
  [[ "$output" == *"k3s-sandbox: stopped (supervisor "* ]]
  [[ "$output" == *"after down: 0 processes of ours"* ]]
  [[ "$output" == *"port 6443 after down: ECONNREFUSED"* ]]
  [[ "$output" == *"status rc after down: 3"* ]]
  [[ "$output" =~ "k3s-sandbox: ready in "[0-9.]+"s, mode control-plane" ]]
  sed -n 's/^warm up ms: /# warm up (ms, gVisor, node included): /p' <<<"$output" >&3
  passed after_restart
  [[ "$output" == *"survivor: yes"* ]]
  [[ "$output" == *"widgets CRD: customresourcedefinition.apiextensions.k8s.io/widgets.e2e.k3s-sandbox.test"* ]]
  sed 's/^/# /' "$BATS_FILE_TMPDIR/main.seconds" >&3
}

SESSION_JSON='{"session_id":"e2e","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","hook_event_name":"SessionStart","source":"startup"}'

@test "SessionStart hook in Claude Code on the web: installs, starts the real API server, exports KUBECONFIG for Bash commands; resume is quick" {
  run scenario "
    use_installer
    export CLAUDE_CODE_REMOTE=true CLAUDE_ENV_FILE=/tmp/claude.env
    export K3S_SANDBOX_BINARY_PATH=\"\$FIXTURE_K3S\" K3S_SANDBOX_SHA256=\"\$FIXTURE_SHA256\"
    rc=0; echo '$SESSION_JSON' | \"\$FEATURE/hooks/session-start.sh\" >/tmp/hook.out 2>/tmp/hook.err || rc=\$?
    echo \"startup exit \$rc\"
    jq -r .hookSpecificOutput.additionalContext /tmp/hook.out | sed 's/^/context: /' || { cat /tmp/hook.out /tmp/hook.err; exit 1; }
    echo \"installed: \$(/usr/local/bin/k3s --version | head -n 1)\"
    sed 's/^/env file: /' \"\$CLAUDE_ENV_FILE\"
    # What the agent's Bash tool runs: the env file, then plain kubectl and helm.
    bash -c '. /tmp/claude.env && kubectl get ns -o name && kubectl auth can-i create customresourcedefinitions && helm list -A'
    started_ns=\$(date +%s%N)
    echo '${SESSION_JSON/startup/resume}' | \"\$FEATURE/hooks/session-start.sh\" >/tmp/resume.out 2>/dev/null || rc=\$?
    echo \"resume exit \$rc in \$(((\$(date +%s%N) - started_ns) / 1000000)) ms\"
    jq -r .hookSpecificOutput.additionalContext /tmp/resume.out | sed 's/^/resume context: /'
    echo \"export lines: \$(grep -c '^export KUBECONFIG=' \"\$CLAUDE_ENV_FILE\")\"
  "
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"startup exit 0"* ]]
  [[ "$output" == *"context: k3s-sandbox: a local Kubernetes cluster (k3s) is ready (started in "*"s), mode control-plane (under gVisor)."* ]]
  [[ "$output" == *"installed: k3s version v1.36.4+k3s1 (upstream-assembled)"* ]]
  [[ "$output" == *"env file: export KUBECONFIG=/root/.kube/config"* ]]
  [[ "$output" == *"namespace/kube-system"* ]]
  [[ "$output" =~ $'\n'yes$'\n' ]]
  [[ "$output" == *"NAME"*"NAMESPACE"*"REVISION"* ]]
  [[ "$output" =~ "resume exit 0 in "[0-9]+" ms" ]]
  [[ "$output" == *"resume context: k3s-sandbox: a local Kubernetes cluster (k3s) is running, mode control-plane (under gVisor)."* ]]
  [[ "$output" == *"export lines: 1"* ]]
  sed -n 's/^resume exit 0 in /# SessionStart on resume (gVisor): /p' <<<"$output" >&3
}

@test "devcontainer lifecycle: install.sh, the entrypoint (root) and post-start (the non-root remote user) bring up the real API server" {
  run scenario "
    use_installer
    add_user vscode
    _REMOTE_USER=vscode BINARYPATH=\"\$FIXTURE_K3S\" SHA256=\"\$FIXTURE_SHA256\" \"\$FEATURE/install.sh\" 2>&1 | tail -n 2
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    rc=0; su vscode -c /usr/local/share/k3s-sandbox/hooks/post-start.sh || rc=\$?
    echo \"post-start exit \$rc\"
    sed 's/^/entrypoint log: /' /var/log/k3s-sandbox/entrypoint.log
    echo \"kubectl: \$(readlink /usr/local/bin/kubectl)\"
    su vscode -c \"bash -lc 'kubectl get ns -o name && kubectl auth can-i \\\"*\\\" \\\"*\\\" && kubectl create configmap from-vscode --from-literal=a=b'\"
  "
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"installed k3s-sandbox for vscode"* ]]
  [[ "$output" == *"post-start exit 0"* ]]
  [[ "$output" =~ "entrypoint log: k3s-sandbox: ready in "[0-9.]+"s, mode control-plane (gVisor), KUBECONFIG=/home/vscode/.kube/config" ]]
  [[ "$output" == *"kubectl: /usr/local/bin/k3s"* ]]
  [[ "$output" == *"namespace/kube-system"* ]]
  [[ "$output" =~ $'\n'yes$'\n' ]]
  [[ "$output" == *"configmap/from-vscode created"* ]]
}
