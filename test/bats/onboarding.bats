#!/usr/bin/env bats
# Onboarding: this repository's own dev container (.devcontainer/) and the release workflow that publishes the
# feature, checked with the pinned devcontainer CLI as far as a machine without Docker allows. Registry scenarios run
# in gVisor, where a local registry plays ghcr.io (test/fixtures/onboarding/ghcr-standin.bash).

load '../lib/common'

TGZ="$REPO_ROOT/build/package/devcontainer-feature-k3s-sandbox.tgz"
WORKFLOW="$REPO_ROOT/.github/workflows/release.yml"

setup_file() {
  require_built "$DIST/k3s-sandbox.cjs" 'npm run build'
  node "$REPO_ROOT/scripts/package.mjs" --no-build >/dev/null 2>&1 || { echo "npm run package failed" >&2; return 1; }
}

# A scratch workspace holding a copy of .devcontainer/ with the package staged by stage-feature.sh.
staged_workspace() {
  WS="$BATS_TEST_TMPDIR/ws"
  mkdir -p "$WS"
  cp -r "$REPO_ROOT/.devcontainer" "$WS/"
  rm -rf "$WS/.devcontainer/k3s-sandbox"
  K3S_SANDBOX_FEATURE_TGZ="$TGZ" sh "$WS/.devcontainer/stage-feature.sh"
}

# The `run` text of the release workflow's step named $1.
workflow_step() {
  node -e '
    const yaml = require(process.argv[1]);
    const workflow = yaml.load(require("fs").readFileSync(process.argv[2], "utf8"));
    const step = workflow.jobs.publish.steps.find((s) => s.name === process.argv[3]);
    if (!step) { console.error(`no step named ${process.argv[3]}`); process.exit(1); }
    process.stdout.write(step.run);' "$REPO_ROOT/node_modules/js-yaml" "$WORKFLOW" "$1"
}

# Runs a script in gVisor with the ghcr.io stand-in up and the dependency stand-ins published; $W is scratch.
ghcr_scenario() {
  gvisor_script "set -eu
    exec 2>&1
    export REPO_ROOT='$REPO_ROOT'
    W=\$(mktemp -d)
    . '$REPO_ROOT/test/fixtures/onboarding/ghcr-standin.bash'
    start_ghcr_standin
    publish_dependency_standins
    make_docker_stub
    $1"
}

@test "devcontainer.json: the devcontainers CLI reads it (a stub answers docker ps: no Docker here); it names the local feature and Node" {
  printf '#!/bin/sh\n[ "$1" = ps ] && exit 0\nexit 1\n' >"$BATS_TEST_TMPDIR/docker"
  chmod +x "$BATS_TEST_TMPDIR/docker"
  run node "$REPO_ROOT/node_modules/@devcontainers/cli/devcontainer.js" read-configuration \
    --workspace-folder "$REPO_ROOT" --docker-path "$BATS_TEST_TMPDIR/docker"
  [ "$status" -eq 0 ]
  local json
  json="$(grep '^{' <<<"$output")"
  echo "$json" | jq .configuration
  [ "$(jq -c '.configuration.features | keys' <<<"$json")" = '["./k3s-sandbox","ghcr.io/devcontainers/features/node:1"]' ]
  [ "$(jq -r .configuration.initializeCommand <<<"$json")" = 'bash .devcontainer/stage-feature.sh' ]
}

@test "stage-feature.sh: .devcontainer/k3s-sandbox is exactly the packaged layout; a broken package leaves the staged one whole" {
  staged_workspace
  local target="$WS/.devcontainer/k3s-sandbox"
  diff <(tar -tf "$TGZ" | sed 's|^\./||' | grep -v -e '/$' -e '^$' | sort) <(cd "$target" && find . ! -type d | sed 's|^\./||' | sort)
  [ "$(jq -r .id "$target/devcontainer-feature.json")" = k3s-sandbox ]
  [ -x "$target/install.sh" ] && [ -x "$target/hooks/claude-setup.sh" ] && [ -f "$target/dist/k3s-sandbox.cjs" ]
  [ -x "$target/dist/x86_64/k3s-sandbox-supervise" ] && [ -x "$target/dist/aarch64/k3s-sandbox-intercept" ]
  run env K3S_SANDBOX_FEATURE_TGZ="$BATS_TEST_TMPDIR/missing.tgz" sh "$WS/.devcontainer/stage-feature.sh"
  [ "$status" -ne 0 ]
  [ -f "$target/devcontainer-feature.json" ] && [ -f "$target/dist/k3s-sandbox.cjs" ]
  # Staged files take the time of staging, not the package's: a source edited a minute ago, before the staging,
  # does not make a package built last year stale.
  mkdir -p "$BATS_TEST_TMPDIR/old" && tar -xf "$TGZ" -C "$BATS_TEST_TMPDIR/old"
  tar -C "$BATS_TEST_TMPDIR/old" --mtime=2025-01-01 -cf "$BATS_TEST_TMPDIR/old.tgz" .
  mkdir -p "$WS/src" && touch -d '1 minute ago' "$WS/src/edited.ts" "$WS/src"
  K3S_SANDBOX_FEATURE_TGZ="$BATS_TEST_TMPDIR/old.tgz" sh "$WS/.devcontainer/stage-feature.sh"
  run sh "$WS/.devcontainer/stage-feature.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"is up to date"* ]]
}

@test "devcontainer.json: the CLI resolves ./k3s-sandbox to the staged package, with Node and its other dependencies from (a stand-in) ghcr.io" {
  staged_workspace
  run ghcr_scenario "
    \"\${DEVCONTAINER[@]}\" read-configuration --workspace-folder '$WS' --docker-path \"\$W/docker\" --include-features-configuration \
      >\"\$W/config.json\" 2>\"\$W/config.err\" || { tail -5 \"\$W/config.err\"; exit 1; }
    jq -r '.featuresConfiguration.featureSets[] | \"\(.sourceInformation.type) \(.sourceInformation.resolvedFilePath // .sourceInformation.userFeatureId) \(.features[0].id) \(.features[0].version)\"' \"\$W/config.json\" | sed 's/^/feature set: /'"
  echo "$output"
  [ "$status" -eq 0 ]
  local version
  version="$(jq -r .version "$REPO_ROOT/devcontainer-feature.json")"
  [[ "$output" == *"feature set: file-path $WS/.devcontainer/k3s-sandbox k3s-sandbox $version"* ]]
  [[ "$output" == *"feature set: oci ghcr.io/devcontainers/features/node:1 node 1.6.0"* ]]
}

@test "release.yml: runs on vX.Y.Z tags, may write packages, publishes the packaged folder to ghcr.io with the pinned devcontainer CLI" {
  run node -e '
    const yaml = require(process.argv[1]);
    const w = yaml.load(require("fs").readFileSync(process.argv[2], "utf8"));
    const steps = w.jobs.publish.steps;
    console.log(`tags ${JSON.stringify(w.on.push.tags)} packages ${w.permissions.packages}`);
    console.log(`first check ${steps.findIndex((s) => /tag matches/.test(s.name ?? ""))} of ${steps.length}`);
    console.log(`publish ${steps.at(-1).run}`);
    console.log(`registry ${steps.at(-1).env.REGISTRY}`);' "$REPO_ROOT/node_modules/js-yaml" "$WORKFLOW"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *'tags ["v[0-9]+.[0-9]+.[0-9]+"] packages write'* ]]
  [[ "$output" == *"first check 1 of "* ]]
  [[ "$output" == *'publish npx --no-install devcontainer features publish features/src --registry "$REGISTRY"'* ]]
  [[ "$output" == *"registry ghcr.io"* ]]
}

@test "release.yml: the tag check passes for v<devcontainer-feature.json version> and fails, naming both, for any other tag" {
  local check version
  check="$(workflow_step "Check that the tag matches devcontainer-feature.json's version")"
  version="$(jq -r .version "$REPO_ROOT/devcontainer-feature.json")"
  cd "$REPO_ROOT"
  run env TAG="v$version" bash -e -c "$check"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"publishing k3s-sandbox $version"* ]]
  run env TAG=v99.0.0 bash -e -c "$check"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"::error file=devcontainer-feature.json::tag v99.0.0 does not match devcontainer-feature.json's version $version"* ]]
}

@test "release.yml: its lay-out and publish steps push the package; a dev container naming ghcr.io/k3s-sandbox/features/k3s-sandbox:0 (the README's line) resolves it" {
  local layout publish
  layout="$(workflow_step 'Lay out a features collection (src/<id>)')"
  publish="$(workflow_step 'Publish to GHCR')"
  printf '%s\n' "$layout" >"$BATS_TEST_TMPDIR/layout.sh"
  printf '%s\n' "$publish" >"$BATS_TEST_TMPDIR/publish.sh"
  run ghcr_scenario "
    cd '$REPO_ROOT'
    bash -e '$BATS_TEST_TMPDIR/layout.sh'
    REGISTRY=ghcr.io NAMESPACE=K3s-Sandbox/features bash -e '$BATS_TEST_TMPDIR/publish.sh' >\"\$W/publish.json\" 2>\"\$W/publish.err\" ||
      { tail -5 \"\$W/publish.err\"; exit 1; }
    jq -c . \"\$W/publish.json\" | sed 's/^/published: /'
    mkdir -p \"\$W/user/.devcontainer\"
    printf '{\"image\":\"mcr.microsoft.com/devcontainers/base:bookworm\",\"features\":{\"ghcr.io/k3s-sandbox/features/k3s-sandbox:0\":{}}}' \
      >\"\$W/user/.devcontainer/devcontainer.json\"
    \"\${DEVCONTAINER[@]}\" read-configuration --workspace-folder \"\$W/user\" --docker-path \"\$W/docker\" --include-features-configuration \
      >\"\$W/config.json\" 2>\"\$W/config.err\" || { tail -5 \"\$W/config.err\"; exit 1; }
    jq -r '.featuresConfiguration.featureSets[] | \"\(.sourceInformation.type) \(.sourceInformation.userFeatureId) \(.features[0].id) \(.features[0].version) entrypoint \(.features[0].entrypoint)\"' \"\$W/config.json\" | sed 's/^/feature set: /'"
  echo "$output"
  [ "$status" -eq 0 ]
  local version
  version="$(jq -r .version "$REPO_ROOT/devcontainer-feature.json")"
  [[ "$output" == *"published: {\"k3s-sandbox\":{\"publishedTags\":[\"${version%%.*}\",\"${version%.*}\",\"$version\",\"latest\"]"* ]]
  [[ "$output" == *"feature set: oci ghcr.io/k3s-sandbox/features/k3s-sandbox:0 k3s-sandbox $version entrypoint /usr/local/share/k3s-sandbox/hooks/entrypoint.sh"* ]]
}
