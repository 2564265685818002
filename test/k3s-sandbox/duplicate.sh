#!/bin/bash
# The feature installed twice (once with the declared options, once with defaults): the second install.sh run must
# be a clean no-op or upgrade, never a broken mix. VERSION/VERSION__DEFAULT etc. hold the two copies' options.
set -e

source dev-container-features-test-lib

check "k3s runs" bash -c "k3s --version | grep -q '^k3s version'"
check "one k3s-sandbox install" bash -c "[ \"\$(readlink /usr/local/bin/k3s-sandbox)\" = /usr/local/share/k3s-sandbox/k3s-sandbox.cjs ]"
check "no staging leftovers" bash -c "[ -z \"\$(find /usr/local/share /usr/local/etc/k3s-sandbox -maxdepth 1 -name '*stage*' -o -maxdepth 1 -name '*.old.*')\" ]"
check "kubectl works in a login shell" bash -lc "kubectl get --raw /readyz | grep -qx ok"

reportResults
