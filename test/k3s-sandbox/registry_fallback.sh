#!/bin/bash
# The GitHub release URL answers 404, so k3s came from rancher/k3s on a registry, with every blob digest-checked.
set -e

source dev-container-features-test-lib

check "k3s came from a registry" bash -c "grep -q '\"source\": \"registry ' /usr/local/etc/k3s-sandbox/installed-k3s.json"
check "k3s runs" bash -c "k3s --version | grep -q 'v1.36.4+k3s1'"
check "kubectl works in a login shell" bash -lc "kubectl get --raw /readyz | grep -qx ok"

reportResults
