#!/usr/bin/env bash
# Claude Code SessionStart hook, and the session-start command for any other agent: brings the cluster up and puts
# `export KUBECONFIG=...` into $CLAUDE_ENV_FILE for the session's Bash commands. Installing (this repo's install.sh)
# is only the fallback when k3s-sandbox is missing: in Claude Code on the web, hooks/claude-setup.sh installs it in
# the environment's cached setup script, so a session only starts and publishes.
# stdout is what the agent reads: Claude Code's SessionStart JSON (hookSpecificOutput.additionalContext, a few lines)
# when CLAUDE_CODE_REMOTE=true or K3S_SANDBOX_HOOK_FORMAT=claude, else ONE short factual line; progress goes to
# stderr. The words come from `k3s-sandbox session-context`, which reads `up --json`, so the mode and its limits
# are never re-derived here. Safe to rerun on resume, clear and compact.
# Settings: K3S_SANDBOX_* env vars (K3S_SANDBOX_MODE, K3S_SANDBOX_AUTO_START, K3S_SANDBOX_BINARY_PATH, ...);
# K3S_SANDBOX_HOOK_ASYNC=1 returns at once while `up --wait` runs in the background.
# `session-context` is the one writer of the KUBECONFIG line in $CLAUDE_ENV_FILE, on every path (see its header).
# No `set -e`, on purpose: the hook exits 0 even when the cluster fails, describing the failure in its output.
set -u

HOOK_DIR=.
[[ "${BASH_SOURCE[0]}" != */* ]] || HOOK_DIR="${BASH_SOURCE[0]%/*}"
INSTALLER="${K3S_SANDBOX_INSTALLER:-$HOOK_DIR/../install.sh}"
CLI=/usr/local/bin/k3s-sandbox
LIFECYCLE_ENV=/usr/local/share/k3s-sandbox/lifecycle.env
UP_RAN=
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

progress() { echo "k3s-sandbox hook: $*" >&2; }

# A JSON string literal of $1 in JSON_STRING (builtins only): the text is ours plus paths and error lines.
json_string() {
  local text="${1//\\/\\\\}"
  text="${text//\"/\\\"}"
  JSON_STRING="\"${text//$'\n'/\\n}\""
}

# The hook's output, for what the shell words itself: Claude Code's JSON, or the text as one line; capped well under
# Claude Code's 10,000-character limit. Ends the hook.
report() {
  local text="${1:0:3000}"
  if [ "${FORMAT:-text}" = claude ]; then
    json_string "$text"
    printf '{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":%s}}\n' "$JSON_STRING"
  else
    printf '%s\n' "${text//$'\n'/ }"
  fi
  exit 0
}

last_line_of() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | sed 's/^[[:space:]]*//'; }

# Why an install failed, in one line: when every source failed, each source and its cause (the first may be the real
# one), else the last line.
install_failure_of() {
  local causes
  causes="$(sed -n '/could not install/,$p' "$1" 2>/dev/null | sed 's/^[[:space:]]*//' | tr '\n' ' ')"
  [ -n "$causes" ] || causes="$(last_line_of "$1")"
  printf '%s\n' "${causes% }" | sed -E 's/^(k3s-sandbox|install-k3s): //'
}

# The hook JSON names why the session started (startup, resume, clear, compact); only used for the log line.
# Builtins only here: every process costs tens of ms in gVisor, and the async path must be quick (one Node run).
read_session_source() {
  local input
  IFS= read -r -d '' input
  SESSION_SOURCE=
  [[ "$input" =~ \"source\"[[:space:]]*:[[:space:]]*\"([a-z]*)\" ]] && SESSION_SOURCE="${BASH_REMATCH[1]}"
}

# Claude Code on the web (CLAUDE_CODE_REMOTE=true) gets its JSON; other agents get the plain line.
choose_output_format() {
  FORMAT=text
  [ "${CLAUDE_CODE_REMOTE:-}" = true ] && FORMAT=claude
  case "${K3S_SANDBOX_HOOK_FORMAT:-}" in
    "") ;;
    text | claude) FORMAT="$K3S_SANDBOX_HOOK_FORMAT" ;;
    *) progress "ignoring K3S_SANDBOX_HOOK_FORMAT=${K3S_SANDBOX_HOOK_FORMAT}; allowed: text, claude" ;;
  esac
}

# autoStart: K3S_SANDBOX_AUTO_START wins, else the feature option install.sh recorded. `up` validates the value.
auto_start_is_off() {
  local setting="${K3S_SANDBOX_AUTO_START:-}" line
  if [ -z "$setting" ] && [ -r "$LIFECYCLE_ENV" ]; then
    while IFS= read -r line; do
      [[ "$line" == K3S_SANDBOX_AUTOSTART=* ]] && setting="${line#*=}"
    done <"$LIFECYCLE_ENV"
  fi
  case "${setting,,}" in
    false | 0 | no) return 0 ;;
    *) return 1 ;;
  esac
}

as_root() {
  if [ "$EUID" = 0 ]; then "$@"; else sudo -n -E "$@"; fi
}

# Feature option variables (VERSION, MODE, ...) are too generic to take from a hook's environment: the installer runs
# without them (its defaults plus any K3S_SANDBOX_* settings). Their names come from the bundle next to the installer.
unset_feature_options() {
  local name
  UNSET_OPTIONS=()
  for name in $(node "${INSTALLER%/*}/dist/k3s-sandbox.cjs" write-config --option-names 2>/dev/null); do
    UNSET_OPTIONS+=(-u "$name")
  done
}

install_when_missing() {
  [ -x /usr/local/bin/k3s ] && [ -e "$CLI" ] && return 0
  [ -f "$INSTALLER" ] || report "k3s-sandbox: not installed, and no installer at $INSTALLER; no cluster in this session"
  progress "k3s-sandbox is not installed; running $INSTALLER"
  [ "${CLAUDE_CODE_REMOTE:-}" != true ] || progress "hooks/claude-setup.sh as the cloud environment's setup script installs it once, in the cached snapshot"
  unset_feature_options
  if ! as_root env "${UNSET_OPTIONS[@]}" sh "$INSTALLER" 2>"$SCRATCH/install.err" >&2; then
    cat "$SCRATCH/install.err" >&2
    report "k3s-sandbox: install failed, no cluster in this session: $(install_failure_of "$SCRATCH/install.err")"
  fi
  cat "$SCRATCH/install.err" >&2
}

# session-context, not `up`, writes $CLAUDE_ENV_FILE here: it can still export a kubeconfig when `up` fails, and it
# names that file when writing to it fails.
start_and_wait() {
  env -u CLAUDE_ENV_FILE "$CLI" up --wait --json >"$SCRATCH/up.out" 2>"$SCRATCH/up.err"
  cat "$SCRATCH/up.err" >&2
}

# session-context also appends the export line to $CLAUDE_ENV_FILE; with --in-background it starts `up --wait` in the
# background (its own session, none of our pipes) and returns at once. When it fails (an installed CLI too old to know
# it), the hook passes on what `up` printed.
describe_session() {
  if "$CLI" session-context --format "$FORMAT" "$@" >"$SCRATCH/context" 2>"$SCRATCH/context.err"; then
    cat "$SCRATCH/context.err" >&2
    cat "$SCRATCH/context"
    exit 0
  fi
  cat "$SCRATCH/context.err" >&2
  report "k3s-sandbox: session-context failed ($(last_line_of "$SCRATCH/context.err"))${UP_RAN:+; up reported: $(last_line_of "$SCRATCH/up.out")}"
}

main() {
  read_session_source
  progress "session ${SESSION_SOURCE:-start}"
  choose_output_format
  if auto_start_is_off; then
    report "k3s-sandbox: autoStart is false, so no cluster was started; \`k3s-sandbox up\` starts one"
  fi
  install_when_missing
  case "${K3S_SANDBOX_HOOK_ASYNC:-}" in
    1 | true | yes)
      describe_session --in-background
      ;;
    *)
      start_and_wait
      UP_RAN=1
      describe_session --up-result "$SCRATCH/up.out" --up-errors "$SCRATCH/up.err"
      ;;
  esac
}

main
