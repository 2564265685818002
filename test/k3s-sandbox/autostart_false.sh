#!/bin/bash
# autoStart=false: neither the entrypoint nor the post-start script starts anything; `up` still works on demand.
set -e

source dev-container-features-test-lib

check "no cluster was started" bash -c "k3s-sandbox status --json | grep -q '\"running\": *false'"
check "no kubeconfig was published" bash -c "[ ! -e ~/.kube/config ]"
check "up on demand works (through sudo -n for vscode)" k3s-sandbox up --wait
check "kubectl works afterwards" bash -lc "kubectl get --raw /readyz | grep -qx ok"

reportResults
