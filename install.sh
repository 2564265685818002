#!/bin/sh
# Installs k3s-sandbox: the devcontainer CLI runs this as root at image build time, with each feature option in an
# upper-cased env var (VERSION, MODE, AUTOSTART, ...). It also runs by hand, or from hooks/session-start.sh, with
# none set (defaults apply). Getting k3s and validating options is TypeScript (`k3s-sandbox install-k3s` and
# `write-config`); this script only places files. Everything is staged first and moved into place at the end, so a
# failure leaves the previous install (or nothing) untouched.
set -eu

FEATURE_DIR="$(cd "$(dirname "$0")" && pwd)"
SHARE_DIR=/usr/local/share/k3s-sandbox
CONFIG_DIR=/usr/local/etc/k3s-sandbox
BIN_DIR=/usr/local/bin
HELPERS="k3s-sandbox-intercept k3s-sandbox-supervise"

say() { echo "k3s-sandbox install: $*" >&2; }
fail() { say "error: $*"; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || fail "must run as root (try: sudo $0)"
}

detect_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) ARCH=amd64 MACHINE=x86_64 ;;
    aarch64 | arm64) ARCH=arm64 MACHINE=aarch64 ;;
    *) fail "unsupported architecture $(uname -m); supported: x86_64 (amd64), aarch64 (arm64)" ;;
  esac
}

require_node() {
  command -v node >/dev/null 2>&1 ||
    fail "Node.js >= 18 is required and was not found on PATH; add the feature ghcr.io/devcontainers/features/node:1, or install Node.js"
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 18 ] || fail "Node.js >= 18 is required, found $(node --version)"
}

# The bootstrapper is its entry, dist/k3s-sandbox.cjs, plus the chunks it loads from beside it.
require_bundle() {
  BUNDLE="$FEATURE_DIR/dist/k3s-sandbox.cjs"
  [ -f "$BUNDLE" ] || fail "$BUNDLE is missing: in a source checkout run 'npm ci && npm run build' first"
  set -- "$FEATURE_DIR"/dist/k3s-sandbox-chunk-*.cjs
  [ -f "$1" ] || fail "the chunks of $BUNDLE are missing: in a source checkout run 'npm run build' again"
}

# Nothing outside the stage directory is created before commit_stage, so a failure leaves no trace.
make_stage() {
  mkdir -p "$(dirname "$SHARE_DIR")"
  STAGE="$(mktemp -d "$SHARE_DIR.stage.XXXXXX")"
  CONFIG_STAGE="$STAGE/config.json"
  trap 'rm -rf "$STAGE"' EXIT
}

# _REMOTE_USER (the user the entrypoint publishes a kubeconfig for) goes into lifecycle.env: plain names only.
check_remote_user() {
  case "${_REMOTE_USER:-root}" in
    "" | -* | *[!A-Za-z0-9._-]*) fail "_REMOTE_USER '${_REMOTE_USER}' is not a plain user name (letters, digits, . _ -)" ;;
  esac
}

# write-config validates every option (VERSION, MODE, ...) and fails naming each bad one, before anything is placed,
# and writes lifecycle.env for the lifecycle scripts (autoStart, the absolute node, the remote user).
write_config() {
  node "$BUNDLE" write-config --output "$CONFIG_STAGE" --lifecycle-env "$STAGE/lifecycle.env"
}

# Prebuilt static helpers for this arch when the package carries them, else built from the bundled C sources.
stage_helpers() {
  mkdir -p "$STAGE/bin"
  if [ -x "$FEATURE_DIR/dist/$MACHINE/k3s-sandbox-intercept" ] && [ -x "$FEATURE_DIR/dist/$MACHINE/k3s-sandbox-supervise" ]; then
    for helper in $HELPERS; do cp "$FEATURE_DIR/dist/$MACHINE/$helper" "$STAGE/bin/$helper"; done
  elif command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1; then
    say "no prebuilt helpers for $MACHINE; building them with cc"
    make -s -C "$FEATURE_DIR/interceptor" OUT="$STAGE/build" CC=cc
    make -s -C "$FEATURE_DIR/supervisor" OUT="$STAGE/build" CC=cc
    for helper in $HELPERS; do mv "$STAGE/build/$helper" "$STAGE/bin/$helper"; done
    rm -rf "$STAGE/build"
  else
    fail "no prebuilt helpers in $FEATURE_DIR/dist/$MACHINE and no cc/make to build them; install a C compiler (e.g. apt-get install gcc make) or use a package built for $MACHINE"
  fi
  chmod 0755 "$STAGE"/bin/*
}

stage_payload() {
  cp "$BUNDLE" "$FEATURE_DIR"/dist/k3s-sandbox-chunk-*.cjs "$STAGE/"
  chmod 0644 "$STAGE"/k3s-sandbox-chunk-*.cjs
  chmod 0755 "$STAGE/k3s-sandbox.cjs"
  mkdir -p "$STAGE/hooks"
  cp "$FEATURE_DIR/hooks/entrypoint.sh" "$FEATURE_DIR/hooks/post-start.sh" "$FEATURE_DIR/hooks/session-start.sh" \
    "$FEATURE_DIR/hooks/lifecycle.sh" "$STAGE/hooks/"
  chmod 0755 "$STAGE"/hooks/*.sh
  chmod 0755 "$STAGE"
}

install_k3s() {
  node "$STAGE/k3s-sandbox.cjs" install-k3s --config "$CONFIG_STAGE" --arch "$ARCH" --bin-dir "$BIN_DIR"
}

# Swap the staged tree in with renames; the old tree (if any) is removed only after the new one is in place.
commit_stage() {
  mkdir -p "$CONFIG_DIR"
  chmod 0644 "$CONFIG_STAGE"
  mv "$CONFIG_STAGE" "$CONFIG_DIR/.config.json.new.$$"
  mv -f "$CONFIG_DIR/.config.json.new.$$" "$CONFIG_DIR/config.json"
  old="$SHARE_DIR.old.$$"
  [ ! -e "$SHARE_DIR" ] || mv "$SHARE_DIR" "$old"
  mv "$STAGE" "$SHARE_DIR"
  rm -rf "$old"
  ln -sfn "$SHARE_DIR/k3s-sandbox.cjs" "$BIN_DIR/.k3s-sandbox.new" && mv -f "$BIN_DIR/.k3s-sandbox.new" "$BIN_DIR/k3s-sandbox"
}

# k3s is a multi-call binary: a `kubectl` symlink to it is kubectl. A kubectl the user already has wins.
link_kubectl() {
  existing="$(command -v kubectl 2>/dev/null || true)"
  if [ -z "$existing" ]; then
    ln -sfn "$BIN_DIR/k3s" "$BIN_DIR/.kubectl.new" && mv -f "$BIN_DIR/.kubectl.new" "$BIN_DIR/kubectl"
    say "linked $BIN_DIR/kubectl to k3s"
  elif [ "$existing" != "$BIN_DIR/kubectl" ] || [ ! -L "$existing" ]; then
    say "kubectl found at $existing; not linking it to k3s"
  fi
}

main() {
  require_root
  detect_arch
  require_node
  require_bundle
  check_remote_user
  make_stage
  write_config
  stage_helpers
  stage_payload
  install_k3s
  commit_stage
  link_kubectl
  say "installed k3s-sandbox for ${_REMOTE_USER:-root}${_REMOTE_USER_HOME:+ (home $_REMOTE_USER_HOME)}: k3s-sandbox up starts the cluster"
}

main "$@"
