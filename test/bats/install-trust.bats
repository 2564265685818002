#!/usr/bin/env bats
# install-k3s against hostile mirrors: what it installs is decided by pinned digests, not by whoever answers; the
# install is bounded by the clock and cleans up after itself; plain http is refused unless allowed. Each test is one
# whole scenario inside one gVisor sandbox, with real servers on its loopback.

load '../lib/common'
load '../fixtures/install/bats-helpers'

setup_file() {
  require_built "$K3S_SANDBOX_BUNDLE" 'npm run build'
  require_built "$FIXTURES_BIN/k3s-double" test/fixtures/build-all.sh
}

@test "pinned version: a mirror serving another binary with a matching sha256sum, and a registry serving it under the tag, are refused; nothing is installed or run" {
  run install_scenario '
    make_tls
    make_marker_binary
    make_release "$W/marker-k3s" "" "$PINNED_VERSION"
    start_https_fixture
    start_registry
    push_k3s_image "$W/marker-k3s" "${PINNED_VERSION/+/-}"
    VERSION_SETTING="$PINNED_VERSION" write_install_config
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e "$W/EXECUTED" ] && echo "EXECUTED: $(cat "$W/EXECUTED")" || echo "never executed"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"
    [ -e /usr/local/etc/k3s-sandbox/installed-k3s.json ] && echo "RECORDED" || echo "no record"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" | grep . && echo "LEFTOVER" || true
    sed "s/^/served: /" "$W/requests.log"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"sha256 mismatch, expected 835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f (the feature's pinned digest for k3s v1.36.4+k3s1 linux/amd64)"* ]]
  [[ "$output" == *"registry 127.0.0.1:5443 (rancher/k3s@sha256:edad48e12bf81c3a09ac1c05c0c0ffaaa22145980b989d6fae84543a76b83657, linux/amd64): HTTP 404"* ]]
  [[ "$output" == *"never executed"* ]]
  [[ "$output" == *"no binary"* ]]
  [[ "$output" == *"no record"* ]]
  [[ "$output" != *LEFTOVER* ]]
  # The pin is the reference: the mirror's own checksum file is not even asked for.
  [[ "$output" != *"served: GET /k3s-io/k3s/releases/download/v1.36.4+k3s1/sha256sum-amd64.txt"* ]]
}

@test "option sha256 pins a version outside the table: the right digest installs and runs, a wrong one is refused although the mirror's sha256sum agrees" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture
    REGISTRIES_SETTING= write_install_config "\"sha256\": \"$(sha256sum "$FIXTURES_BIN/k3s-double" | cut -d" " -f1)\""
    install_k3s
    cmp /usr/local/bin/k3s "$FIXTURES_BIN/k3s-double" && echo "same bytes as the release"
    echo "wrong pin:"
    rm /usr/local/bin/k3s /usr/local/etc/k3s-sandbox/installed-k3s.json
    REGISTRIES_SETTING= write_install_config "\"sha256\": \"$(printf a%.0s $(seq 64))\""
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"release binary: must have sha256 "*" (option sha256 for k3s v1.33.5+k3s1 linux/amd64)"* ]]
  [[ "$output" == *"matches option sha256 for k3s v1.33.5+k3s1 linux/amd64; it reports v1.33.5+k3s1"* ]]
  [[ "$output" == *"same bytes as the release"* ]]
  [[ "$output" == *"wrong pin:"*"sha256 mismatch, expected aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (option sha256 for k3s v1.33.5+k3s1 linux/amd64)"* ]]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"no binary"* ]]
}

@test "option imageDigest: the registry is asked for rancher/k3s@sha256:..., so retagging does not change what installs; an unknown digest is refused" {
  run install_scenario '
    make_tls
    start_https_fixture --forbid-releases
    start_registry
    push_k3s_image "$FIXTURES_BIN/k3s-double"
    digest="$(cat "$W/index-digest-$K3S_TAG")"
    make_marker_binary
    push_k3s_image "$W/marker-k3s"
    echo "tag now points at $(cat "$W/index-digest-$K3S_TAG"), pinned $digest"
    write_install_config "\"imageDigest\": \"$digest\""
    install_k3s
    cmp /usr/local/bin/k3s "$FIXTURES_BIN/k3s-double" && echo "same bytes as the pinned image"
    echo "unknown digest:"
    rm /usr/local/bin/k3s /usr/local/etc/k3s-sandbox/installed-k3s.json
    write_install_config "\"imageDigest\": \"sha256:$(printf b%.0s $(seq 64))\""
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"
    [ -e "$W/EXECUTED" ] && echo "EXECUTED" || echo "never executed"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ registry\ image:\ pulled\ by\ digest\ sha256:[0-9a-f]{64}\ \(option\ imageDigest\ for\ k3s\ v1.33.5\+k3s1\) ]]
  [[ "$output" =~ installed\ /usr/local/bin/k3s\ from\ registry\ 127.0.0.1:5443\ \(rancher/k3s@sha256:[0-9a-f]{64},\ linux/amd64\) ]]
  [[ "$output" == *"same bytes as the pinned image"* ]]
  [[ "$output" == *"unknown digest:"*"rancher/k3s@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, linux/amd64): HTTP 404"* ]]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"no binary"* ]]
  [[ "$output" == *"never executed"* ]]
}

@test "--timeout is a wall-clock limit: a release server dripping one byte every 2 s ends the install after about 5 s, leaving nothing" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture --drip-seconds 2
    REGISTRIES_SETTING= write_install_config
    start=$(date +%s%N)
    rc=0; install_k3s --timeout 5 || rc=$?
    echo "exit: $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" | grep . && echo "LEFTOVER" || true'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"the install did not finish within --timeout 5 s (a limit on the whole install, downloads included)"* ]]
  [[ "$output" == *"exit: 1 after "* ]]
  ms="$(sed -n 's/.*exit: 1 after \([0-9]*\) ms.*/\1/p' <<<"$output")"
  [ "$ms" -ge 4900 ] && [ "$ms" -lt 8000 ]
  [[ "$output" == *"no binary"* ]]
  [[ "$output" != *LEFTOVER* ]]
}

@test "SIGTERM mid-download removes the work dir; the next run removes any leftover of ours whatever its pid, and nothing else" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture --drip-seconds 2
    REGISTRIES_SETTING= write_install_config
    node "$K3S_SANDBOX_BUNDLE" install-k3s --config "$W/config.json" --timeout 60 >"$W/install.log" 2>&1 &
    pid=$!
    wait_until grep -q "GET /k3s-io/k3s/releases/download/$K3S_VERSION/$ASSET" "$W/requests.log"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" -printf "during: %f\n"
    kill -TERM "$pid"
    rc=0; wait "$pid" || rc=$?
    echo "exit after SIGTERM: $rc"
    cat "$W/install.log"
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" -printf "LEFTOVER %f\n"
    # Leftovers of killed installs: pid 1 is alive, pid 99999 is not; neither matters. A symlink of our shape and a
    # name not of our shape are not ours to remove.
    mkdir /usr/local/bin/.k3s-sandbox-install-1-AbC123 && echo x >/usr/local/bin/.k3s-sandbox-install-1-AbC123/layer-0
    echo x >/usr/local/bin/.k3s-sandbox-install-99999-zZ9zZ9
    mkdir "$W/victim" && echo keep >"$W/victim/file"
    ln -s "$W/victim" /usr/local/bin/.k3s-sandbox-install-2-LnK123
    echo keep >/usr/local/bin/.k3s-sandbox-install-notours
    cp "$FIXTURES_BIN/k3s-double" "$W/k3s-airgap"
    write_install_config "\"binaryPath\": \"$W/k3s-airgap\""
    install_k3s
    find /usr/local/bin -maxdepth 1 -name ".k3s-sandbox-install-*" -printf "after: %f %y\n"
    echo "victim: $(cat "$W/victim/file")"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ during:\ \.k3s-sandbox-install-[0-9]+- ]]
  [[ "$output" == *"exit after SIGTERM: 143"* ]]
  [[ "$output" == *"SIGTERM: stopping the install and removing its partial download"* ]]
  [[ "$output" == *"interrupted by SIGTERM; nothing was installed"* ]]
  [[ "$output" != *LEFTOVER* ]]
  [[ "$output" == *"removed /usr/local/bin/.k3s-sandbox-install-1-AbC123, left by an install that did not finish"* ]]
  [[ "$output" == *"removed /usr/local/bin/.k3s-sandbox-install-99999-zZ9zZ9, left by an install that did not finish"* ]]
  [[ "$output" == *"after: .k3s-sandbox-install-2-LnK123 l"* ]]
  [[ "$output" == *"after: .k3s-sandbox-install-notours f"* ]]
  [[ "$output" != *"after: .k3s-sandbox-install-1-"* ]]
  [[ "$output" != *"after: .k3s-sandbox-install-99999-"* ]]
  [[ "$output" == *"victim: keep"* ]]
  [[ "$output" == *"installed /usr/local/bin/k3s from binaryPath"* ]]
}

@test "plain http: an https-to-http redirect and an http token realm are refused, naming insecureRegistries; listing the host allows the realm" {
  run install_scenario '
    make_tls
    make_release "$FIXTURES_BIN/k3s-double"
    start_https_fixture --redirect-releases-to "http://127.0.0.1:$PLAIN_HTTP_PORT" --http-port "$PLAIN_HTTP_PORT"
    TOKEN_REALM="http://127.0.0.1:$PLAIN_HTTP_PORT/token" start_registry
    push_k3s_image "$FIXTURES_BIN/k3s-double"
    : >"$W/requests.log"
    write_install_config
    rc=0; install_k3s || rc=$?
    echo "exit: $rc"
    [ -e /usr/local/bin/k3s ] && echo "INSTALLED" || echo "no binary"
    grep "^plain-http" "$W/requests.log" | sed "s/^/REACHED /" || true
    echo "allowed, with the release server out of the way:"
    RELEASE_URL_SETTING="https://127.0.0.1:9/releases" write_install_config "\"insecureRegistries\": \"127.0.0.1:$PLAIN_HTTP_PORT\""
    install_k3s
    sed "s/^/then served: /" "$W/requests.log"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"refusing plain http http://127.0.0.1:8080/k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt (a redirect from https://127.0.0.1:8443/k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt): only https is used unless the host is listed in the insecureRegistries option"* ]]
  [[ "$output" == *"refusing plain http http://127.0.0.1:8080/token?"*"only https is used unless the host is listed in the insecureRegistries option (K3S_SANDBOX_INSECURE_REGISTRIES), e.g. insecureRegistries=127.0.0.1:8080"* ]]
  [[ "$output" == *"exit: 1"* ]]
  [[ "$output" == *"no binary"* ]]
  [[ "$output" != *REACHED* ]]
  [[ "$output" == *"allowed, with the release server out of the way:"*"installed /usr/local/bin/k3s from registry 127.0.0.1:5443"* ]]
  [[ "$output" == *"then served: plain-http GET /token"* ]]
}
