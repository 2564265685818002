#!/usr/bin/env bats
# install.sh, the feature's installer, run from the repo checkout (after `npm run build`) inside gVisor: the layout it
# leaves, idempotence, option validation, and the whole GitHub path up to kubectl working for a non-root user.

load '../lib/common'
load '../fixtures/install/bats-helpers'

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
}

@test "air-gapped binaryPath: install.sh places bundle, helpers, hooks, config, k3s and kubectl; a second run is a no-op" {
  run install_scenario '
    cp "$FIXTURES_BIN/k3s-double" "$W/k3s-airgap"
    mv /usr/bin/kubectl /usr/bin/kubectl.hidden
    # The double stands for a version outside the pinned digest table (the pinned default would refuse it).
    VERSION=v1.33.5+k3s1 BINARYPATH="$W/k3s-airgap" MODE=control-plane AUTOSTART=false "$REPO_ROOT/install.sh"
    find /usr/local/share/k3s-sandbox /usr/local/etc/k3s-sandbox /usr/local/bin/k3s /usr/local/bin/k3s-sandbox /usr/local/bin/kubectl \
      -printf "placed %p %m %l\n"
    find /usr/local/share /usr/local/etc/k3s-sandbox -maxdepth 1 -name "*stage*" -printf "LEFTOVER %p\n"
    echo "config: $(jq -c . /usr/local/etc/k3s-sandbox/config.json)"
    echo "cli: $(k3s-sandbox --help | head -1)"
    echo "k3s: $(k3s --version | head -1)"
    echo "second run:"
    VERSION=v1.33.5+k3s1 BINARYPATH="$W/k3s-airgap" MODE=control-plane AUTOSTART=false "$REPO_ROOT/install.sh"'
  echo "$output"
  [ "$status" -eq 0 ]
  for path in share/k3s-sandbox/k3s-sandbox.cjs share/k3s-sandbox/bin/k3s-sandbox-intercept \
    share/k3s-sandbox/bin/k3s-sandbox-supervise share/k3s-sandbox/hooks/entrypoint.sh \
    share/k3s-sandbox/hooks/post-start.sh share/k3s-sandbox/hooks/session-start.sh; do
    [[ "$output" == *"placed /usr/local/$path 755"* ]]
  done
  [[ "$output" == *"placed /usr/local/etc/k3s-sandbox/config.json 644"* ]]
  [[ "$output" == *"placed /usr/local/bin/k3s 755"* ]]
  [[ "$output" == *"placed /usr/local/bin/k3s-sandbox 777 /usr/local/share/k3s-sandbox/k3s-sandbox.cjs"* ]]
  [[ "$output" == *"placed /usr/local/bin/kubectl 777 /usr/local/bin/k3s"* ]]
  [[ "$output" != *LEFTOVER* ]]
  [[ "$output" == *'config: {"version":"v1.33.5+k3s1","mode":"control-plane","autoStart":false,"binaryPath":"'*'/k3s-airgap"}'* ]]
  [[ "$output" == *"cli: usage: k3s-sandbox"* ]]
  [[ "$output" == *"k3s: k3s version v1.33.5+k3s1 (double)"* ]]
  [[ "$output" == *"second run:"*"already has the sha256"*"installed k3s-sandbox"* ]]
}

@test "injection through every string option is rejected, naming the option, and nothing is installed" {
  run install_scenario '
    for assignment in \
      "VERSION=v1.30.0+k3s1; touch /pwned" \
      "MODE=auto\$(touch /pwned)" \
      "WAITTIMEOUT=120;touch /pwned" \
      "REGISTRIES=docker.io,\`touch /pwned\`" \
      "BINARYPATH=/tmp/k3s; touch /pwned" \
      "DISABLE=traefik --token=x" \
      "DATADIR=/var/lib/k3s\$(touch /pwned)" \
      "HTTPSPORT=6443 --bind-address 0.0.0.0" \
      "RELEASEURL=https://example.com/\$(touch /pwned)" \
      "CHANNELURL=https://example.com/a b" \
      "AUTOSTART=true; touch /pwned" \
      "SHA256=\$(touch /pwned)" \
      "IMAGEDIGEST=sha256:x;touch /pwned" \
      "INSECUREREGISTRIES=host;touch /pwned"; do
      name="${assignment%%=*}"
      rc=0; env "$assignment" "$REPO_ROOT/install.sh" >"$W/out" 2>&1 || rc=$?
      echo "$name exit $rc: $(grep -m1 "invalid value" "$W/out")"
    done
    rc=0; _REMOTE_USER="vscode; touch /pwned" "$REPO_ROOT/install.sh" >"$W/out" 2>&1 || rc=$?
    echo "_REMOTE_USER exit $rc: $(grep -m1 "_REMOTE_USER" "$W/out")"
    [ -e /pwned ] && echo "PWNED" || true
    find /usr/local/share/k3s-sandbox /usr/local/etc/k3s-sandbox/config.json /usr/local/bin/k3s -printf "INSTALLED %p\n" 2>/dev/null || true'
  echo "$output"
  [ "$status" -eq 0 ]
  for pair in VERSION:version MODE:mode WAITTIMEOUT:waitTimeout REGISTRIES:registries BINARYPATH:binaryPath \
    DISABLE:disable DATADIR:dataDir HTTPSPORT:httpsPort RELEASEURL:releaseUrl CHANNELURL:channelUrl AUTOSTART:autoStart \
    SHA256:sha256 IMAGEDIGEST:imageDigest INSECUREREGISTRIES:insecureRegistries; do
    [[ "$output" == *"${pair%%:*} exit 2: k3s-sandbox: invalid value for ${pair#*:}: "*"(from feature option ${pair#*:}, env ${pair%%:*}); allowed: "* ]]
  done
  [[ "$output" == *"_REMOTE_USER exit 1: k3s-sandbox install: error: _REMOTE_USER 'vscode; touch /pwned' is not a plain user name"* ]]
  [[ "$output" != *PWNED* ]]
  [[ "$output" != *INSTALLED* ]]
}

@test "install.sh refuses to run without root, saying so" {
  run install_scenario '
    rc=0; runuser -u nobody -- "$REPO_ROOT/install.sh" || rc=$?
    echo "exit $rc"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"k3s-sandbox install: error: must run as root"* ]]
  [[ "$output" == *"exit 1"* ]]
}

@test "GitHub path end to end: install.sh from a release server, entrypoint + post-start, kubectl works for vscode in a login shell" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture
    useradd -m -s /bin/bash vscode
    VERSION=stable REGISTRIES= RELEASEURL="https://127.0.0.1:$RELEASE_PORT/k3s-io/k3s/releases/download" \
      CHANNELURL="https://127.0.0.1:$RELEASE_PORT/v1-release/channels" _REMOTE_USER=vscode _REMOTE_USER_HOME=/home/vscode \
      "$REPO_ROOT/install.sh"
    /usr/local/share/k3s-sandbox/hooks/entrypoint.sh
    runuser -u vscode -- /usr/local/share/k3s-sandbox/hooks/post-start.sh
    echo "readyz for vscode: $(su - vscode -c "kubectl get --raw /readyz")"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"channel stable is v1.33.5+k3s1"* ]]
  [[ "$output" == *"installed /usr/local/bin/k3s from GitHub release"* ]]
  [[ "$output" == *"installed k3s-sandbox for vscode (home /home/vscode)"* ]]
  [[ "$output" == *"readyz for vscode: ok"* ]]
}
