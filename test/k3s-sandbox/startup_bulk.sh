#!/bin/bash
# One cold start of many (the bulk workflow runs this scenario repeatedly to catch flaky startup).
set -e

source dev-container-features-test-lib

check "ready after a cold start" bash -lc "kubectl get --raw /readyz | grep -qx ok"
check "the API serves namespaces" bash -lc "kubectl get namespace kube-system"

reportResults
