#!/usr/bin/env bats
# install-k3s, the TypeScript half of install.sh: every source (binaryPath, GitHub release, OCI registries) against
# real servers on the sandbox's loopback. Each test is one whole scenario inside one gVisor sandbox.

load '../lib/common'
load '../fixtures/install/bats-helpers'

setup_file() {
  require_built "$K3S_SANDBOX_BUNDLE" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
}

@test "GitHub path: stable resolves through the channel redirect, the binary is checked against sha256sum and installed; NO_PROXY is honoured" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture
    start_connect_proxy
    VERSION_SETTING=stable REGISTRIES_SETTING= write_install_config
    HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" NO_PROXY=127.0.0.1 install_k3s
    echo "proxied requests with NO_PROXY=127.0.0.1: $(wc -l <"$W/proxy.log")"
    echo "version: $(/usr/local/bin/k3s --version | head -1)"
    echo "record: $(jq -r ".version + \" \" + .source" /usr/local/etc/k3s-sandbox/installed-k3s.json)"
    cmp /usr/local/bin/k3s "$FIXTURES_BIN/k3s-double" && echo "same bytes as the release"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" | grep . && echo "LEFTOVER" || true
    sed "s/^/served: /" "$W/requests.log"
    echo "without the install record:"
    rm /usr/local/etc/k3s-sandbox/installed-k3s.json
    : >"$W/requests.log"
    install_k3s
    sed "s/^/then served: /" "$W/requests.log"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"channel stable is v1.33.5+k3s1"* ]]
  [[ "$output" == *"release binary: no pinned digest for k3s v1.33.5+k3s1 linux/amd64; it is verified only against the release's own sha256sum-amd64.txt (set the option sha256 to pin it)"* ]]
  [[ "$output" == *"matches only its source's own checksum; not run before it is installed"* ]]
  [[ "$output" == *"proxied requests with NO_PROXY=127.0.0.1: 0"* ]]
  [[ "$output" == *"version: k3s version v1.33.5+k3s1 (double)"* ]]
  [[ "$output" == *"record: v1.33.5+k3s1 GitHub release https://127.0.0.1:8443/"* ]]
  [[ "$output" == *"same bytes as the release"* ]]
  [[ "$output" == *"served: GET /v1-release/channels/stable"* ]]
  [[ "$output" == *"served: GET /k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt"* ]]
  [[ "$output" != *"served: GET /k3s-io/k3s/releases/tag/"* ]]
  [[ "$output" != *LEFTOVER* ]]
  [[ "$output" == *"without the install record:"*"/usr/local/bin/k3s already has the sha256"*"nothing to download"* ]]
  [[ "$output" == *"then served: GET /k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt"* ]]
  [[ "$output" != *"then served: GET /k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s"* ]]
}

@test "checksum path: a wrong sha256 fails the install and installs nothing" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double" "$(printf 1%.0s $(seq 64))"
    start_https_fixture
    REGISTRIES_SETTING= write_install_config
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"
    [ -e /usr/local/etc/k3s-sandbox/installed-k3s.json ] && echo "RECORDED" || echo "no record"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" | grep . && echo "LEFTOVER" || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"sha256 mismatch, expected 1111111111111111111111111111111111111111111111111111111111111111"* ]]
  [[ "$output" == *"no binary"* ]]
  [[ "$output" == *"no record"* ]]
  [[ "$output" != *LEFTOVER* ]]
}

@test "registry path: GitHub answers 403, the image comes from a real registry with token auth, through HTTPS_PROXY; a second run is a no-op" {
  run install_scenario '
    make_tls
    start_https_fixture --forbid-releases
    start_registry
    push_k3s_image "$FIXTURES_BIN/k3s-double"
    start_connect_proxy
    write_install_config
    : >"$W/requests.log"
    HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" install_k3s
    cmp /usr/local/bin/k3s "$FIXTURES_BIN/k3s-double" && echo "same bytes as the image layer"
    sed "s/^/proxied: /" "$W/proxy.log"
    sed "s/^/served: /" "$W/requests.log"
    echo "second run:"
    : >"$W/proxy.log"
    HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" install_k3s
    echo "requests in second run: $(wc -l <"$W/proxy.log")"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"403 from https://127.0.0.1:8443/k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt"* ]]
  [[ "$output" == *"fetching an anonymous token from https://127.0.0.1:8443/token"* ]]
  [[ "$output" == *"rancher/k3s:v1.33.5-k3s1 linux/amd64 is sha256:"* ]]
  [[ "$output" == *"installed /usr/local/bin/k3s from registry 127.0.0.1:5443"* ]]
  [[ "$output" == *"same bytes as the image layer"* ]]
  [[ "$output" == *"proxied: CONNECT 127.0.0.1:5443"* ]]
  [[ "$output" == *"proxied: CONNECT 127.0.0.1:8443"* ]]
  [[ "$output" == *"served: GET /token"* ]]
  [[ "$output" == *"is already installed at /usr/local/bin/k3s"* ]]
  [[ "$output" == *"requests in second run: 0"* ]]
}

@test "tampered blob: a registry layer whose bytes do not match its digest is rejected and nothing is installed" {
  run install_scenario '
    make_tls
    start_https_fixture --forbid-releases
    start_registry
    push_k3s_image "$FIXTURES_BIN/k3s-double"
    for blob in $(find "$W/registry" -path "*/blobs/sha256/*/data" -size +100k); do
      printf X | dd of="$blob" bs=1 seek=5000 conv=notrunc status=none
      echo "tampered $blob"
    done
    write_install_config
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"tampered "* ]]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" =~ blob\ sha256:[0-9a-f]{64}:\ sha256\ mismatch ]]
  [[ "$output" == *"no binary"* ]]
}

# Issue 12: a mistyped binaryPath used to fall through to every download (22 s) and hide behind the last source's error.
@test "a binaryPath that does not exist fails at once (exit 2), naming it, and downloads nothing" {
  run install_scenario '
    RELEASE_PORT=9 REGISTRY_PORT=9 write_install_config "\"binaryPath\": \"/opt/missing/k3s\""
    start=$(date +%s)
    rc=0; install_k3s >"$W/out" 2>&1 || rc=$?
    echo "exit: $rc after $(( $(date +%s) - start )) s"
    cat "$W/out"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ "exit: 2 after "[0-2]" s" ]]
  [[ "$output" == *"k3s-sandbox: binaryPath /opt/missing/k3s: no such file; give the path of a k3s binary (option binaryPath, K3S_SANDBOX_BINARY_PATH), or leave it empty to download k3s"* ]]
  [[ "$output" != *"trying "* ]]
  [[ "$output" == *"no binary"* ]]
}

@test "every source failing: the error lists each source and why" {
  run install_scenario '
    make_tls
    start_https_fixture --forbid-releases
    printf "not k3s\n" >"$W/not-k3s"
    REGISTRIES_SETTING="127.0.0.1:$REGISTRY_PORT,127.0.0.1:$RELEASE_PORT" write_install_config "\"binaryPath\": \"$W/not-k3s\""
    rc=0; install_k3s 2>"$W/err" || rc=$?
    echo "exit: $rc"
    sed -n "/could not install/,\$p" "$W/err"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"could not install k3s v1.33.5+k3s1 for linux/amd64 from any source:"* ]]
  [[ "$output" == *"  - binaryPath /"*"/not-k3s: "* ]]
  [[ "$output" == *"  - GitHub release https://127.0.0.1:8443/k3s-io/k3s/releases/download/v1.33.5+k3s1: HTTP 403"* ]]
  [[ "$output" == *"  - registry 127.0.0.1:5443 (rancher/k3s:v1.33.5-k3s1, linux/amd64): ECONNREFUSED"* ]]
  [[ "$output" == *"  - registry 127.0.0.1:8443 (rancher/k3s:v1.33.5-k3s1, linux/amd64): HTTP 404"* ]]
}

@test "binaryPath, air-gapped: installs with no server at all; stable falls back to the pinned release with a warning; a second run is a no-op" {
  # The pinned release's digest is in the feature's table, so the double installs in its place only when the
  # option sha256 names it; the double reports another version, which is a warning for a binaryPath.
  run install_scenario '
    cp "$FIXTURES_BIN/k3s-double" "$W/k3s-airgap"
    VERSION_SETTING=stable write_install_config "\"binaryPath\": \"$W/k3s-airgap\", \"sha256\": \"$(sha256sum "$W/k3s-airgap" | cut -d" " -f1)\""
    install_k3s
    cmp /usr/local/bin/k3s "$W/k3s-airgap" && echo "same bytes as binaryPath"
    echo "second run:"
    install_k3s 2>&1 | grep -E "already|installed"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"warning: cannot resolve channel stable"*"using the pinned v1.36.4+k3s1"* ]]
  [[ "$output" == *"warning: binaryPath "*" reports v1.33.5+k3s1, not the configured version v1.36.4+k3s1; installing it because binaryPath is your own choice"* ]]
  [[ "$output" == *"installed /usr/local/bin/k3s from binaryPath"* ]]
  [[ "$output" == *"same bytes as binaryPath"* ]]
  [[ "$output" == *"second run:"*"already has the sha256"* ]]
}
