#!/bin/bash
# Builds the benchmark programs (and, through the test fixtures, the interceptor and the
# kubelet fixture) into $REPO/build/bench/interceptor.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/build/bench/interceptor"
mkdir -p "$out"
bash "$repo/test/fixtures/interceptor/build.sh"
cc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$out/loop" "$here/loop.c"
(cd "$here/go-busy" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$repo/build/go-cache" \
  /usr/lib/go-1.19/bin/go build -trimpath -o "$out/go-busy" .)
