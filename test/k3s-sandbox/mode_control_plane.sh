#!/bin/bash
# mode=control-plane: the API server alone, without kubelet or containerd.
set -e

source dev-container-features-test-lib

check "config says control-plane" bash -c "grep -q '\"mode\": \"control-plane\"' /usr/local/etc/k3s-sandbox/config.json"
check "kubectl works in a login shell" bash -lc "kubectl get --raw /readyz | grep -qx ok"
check "no node registers" bash -lc "[ -z \"\$(kubectl get nodes -o name)\" ]"
check "CRDs can be created" bash -lc "kubectl get crd"

reportResults
