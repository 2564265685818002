#!/usr/bin/env bash
# Makes sure the Debian packages the test suites need are present, installing the missing ones as root.
set -eu

# command that proves the package is there, then the Debian package providing it
required_tools() {
  cat <<'LIST'
runsc runsc
/usr/lib/go-1.19/bin/go golang-1.19
bats bats
docker-registry docker-registry
skopeo skopeo
strace strace
proot proot
iptables-legacy iptables
aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
/usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross
openssl openssl
flock util-linux
ip iproute2
curl curl
kubectl kubernetes-client
jq jq
make make
cc gcc
clang clang
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
containerd containerd
runc runc
/usr/lib/cni/bridge containernetworking-plugins
/bin/busybox busybox-static
LIST
}

is_present() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing_packages() {
  required_tools | while read -r tool package; do
    is_present "$tool" || echo "$package"
  done
}

install_packages() {
  echo "test/deps.sh: installing Debian packages: $*" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Go >= 1.26 comes with the machine image (Debian 12 has no such package); it builds the fixtures assembled from
# upstream modules (test/fixtures/k3s-upstream, test/fixtures/helm).
require_modern_go() {
  local version minor
  version="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null)" || {
    echo "test/deps.sh: go is not on PATH; test/fixtures/k3s-upstream and helm need Go >= 1.26 (https://go.dev/dl/)" >&2
    exit 1
  }
  minor="$(echo "$version" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  if [ -z "$minor" ] || [ "$minor" -lt 26 ]; then
    echo "test/deps.sh: test/fixtures/k3s-upstream and helm need Go >= 1.26; $(command -v go) is $version" >&2
    exit 1
  fi
}

main() {
  local missing
  require_modern_go
  missing="$(missing_packages | tr '\n' ' ')"
  [ -n "${missing// /}" ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "test/deps.sh: these Debian packages are missing and installing them needs root: $missing" >&2
    echo "test/deps.sh: run as root, or: sudo apt-get install -y $missing" >&2
    exit 1
  fi
  # shellcheck disable=SC2086 # one word per package
  install_packages $missing
  missing="$(missing_packages | tr '\n' ' ')"
  if [ -n "${missing// /}" ]; then
    echo "test/deps.sh: still missing after apt-get install: $missing" >&2
    exit 1
  fi
}

main "$@"
