#!/bin/sh
# devcontainer.json's initializeCommand: runs on the host (your machine, or the Codespaces VM) before the image is
# built, and puts the feature from this working tree, in its packaged layout, at .devcontainer/k3s-sandbox, which
# devcontainer.json references as "./k3s-sandbox". That folder is the extracted `npm run package` tgz: the feature
# JSON, install.sh, the hooks, the bundle and both architectures' prebuilt helpers, the same files users get from
# ghcr.io. It is rebuilt only when a source is newer than it (extracted files take the time of staging).
# The package is built with this machine's Node and C compilers when it has them all, else in a throwaway Node
# container (the host has Docker anyway, to build the dev container). K3S_SANDBOX_FEATURE_TGZ=<tgz> stages an
# existing package instead of building one.
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$ROOT/.devcontainer/k3s-sandbox"
OUTPUT="$ROOT/build/package"
BUILD_IMAGE=node:20-bookworm

say() { echo "stage-feature: $*" >&2; }

is_stale() {
  [ -f "$TARGET/devcontainer-feature.json" ] || return 0
  [ -n "$(cd "$ROOT" && find src hooks interceptor supervisor install.sh devcontainer-feature.json package-lock.json \
    -newer "$TARGET/devcontainer-feature.json" -print 2>/dev/null | head -n 1)" ]
}

can_package_here() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) other=aarch64-linux-gnu-gcc ;;
    Linux-aarch64) other=x86_64-linux-gnu-gcc ;;
    *) return 1 ;;
  esac
  for tool in node npm make cc "$other"; do command -v "$tool" >/dev/null 2>&1 || return 1; done
}

package_here() {
  say "building the package with this machine's Node and compilers"
  cd "$ROOT"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  node scripts/package.mjs
}

# The sources are copied inside the container, so the working tree gets only the tgz (owned by the caller).
package_in_container() {
  command -v docker >/dev/null 2>&1 ||
    { say "error: no Node, C compilers or Docker here to build the feature; run 'npm run package' and retry"; exit 1; }
  say "building the package in a $BUILD_IMAGE container"
  mkdir -p "$OUTPUT"
  docker run --rm -v "$ROOT:/src:ro" -v "$OUTPUT:/out" -e OWNER="$(id -u):$(id -g)" "$BUILD_IMAGE" bash -euc '
    case "$(uname -m)" in x86_64) cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;; *) cross="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;; esac
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $cross make >/dev/null
    work="$(mktemp -d)"
    tar -C /src --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.devcontainer/k3s-sandbox -cf - . | tar -C "$work" -xf -
    cd "$work" && npm ci --no-audit --no-fund && node scripts/package.mjs
    cp build/package/devcontainer-feature-k3s-sandbox.tgz /out/ && chown "$OWNER" /out/devcontainer-feature-k3s-sandbox.tgz'
}

# Extracted beside the target and swapped in, so a failure leaves the previous staged feature whole.
stage() {
  rm -rf "$TARGET.new"
  mkdir -p "$TARGET.new"
  tar -m -xf "$1" -C "$TARGET.new"
  rm -rf "$TARGET"
  mv "$TARGET.new" "$TARGET"
  say "staged $1 at $TARGET"
}

main() {
  if [ -n "${K3S_SANDBOX_FEATURE_TGZ:-}" ]; then
    stage "$K3S_SANDBOX_FEATURE_TGZ"
    return
  fi
  if ! is_stale; then
    say "$TARGET is up to date"
    return
  fi
  if can_package_here; then package_here; else package_in_container; fi
  stage "$OUTPUT/devcontainer-feature-k3s-sandbox.tgz"
}

main
