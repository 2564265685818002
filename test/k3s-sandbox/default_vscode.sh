#!/bin/bash
# Non-root remote user: the post-start script published a kubeconfig the user owns, and kubectl works for them.
set -e

source dev-container-features-test-lib

check "running as vscode" bash -c "[ \"\$(id -un)\" = vscode ]"
check "kubeconfig is the user's, mode 600" bash -c "[ \"\$(stat -c '%U %a' ~/.kube/config)\" = 'vscode 600' ]"
check "kubectl works in a login shell" bash -lc "kubectl get --raw /readyz | grep -qx ok"
check "server mode has a node" bash -lc "kubectl get nodes -o name | grep -q ."
check "status reports running" bash -c "k3s-sandbox status | grep -qi running"

reportResults
