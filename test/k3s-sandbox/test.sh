#!/bin/bash
# `devcontainer features test` auto-generated test: the feature with default options on the --base-image, checked
# as the remote user after the container started (entrypoint and postStartCommand have run).
set -e

source dev-container-features-test-lib

check "k3s is installed" bash -c "k3s --version | grep -E '^k3s version v1\.36\.4\+k3s1'"
check "k3s-sandbox is on PATH" bash -c "k3s-sandbox --help | grep -q '^usage: k3s-sandbox'"
check "the baked config exists" test -f /usr/local/etc/k3s-sandbox/config.json
check "up --wait is idempotent and ready" k3s-sandbox up --wait
check "kubectl works in a login shell" bash -lc "kubectl get --raw /readyz | grep -qx ok"
check "the default namespace exists" bash -lc "kubectl get namespace default"

reportResults
