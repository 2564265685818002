#!/usr/bin/env bash
# Claude Code SessionStart hook: makes sure k3s-sandbox is installed (running this repo's install.sh when it is not),
# brings the cluster up, and puts `export KUBECONFIG=...` into $CLAUDE_ENV_FILE for the session's Bash commands.
# stdout is ONE short factual line (Claude Code adds it to the model's context); progress goes to stderr. It exits 0
# even when the cluster fails, describing the failure in that line. Safe to rerun on resume, clear and compact.
# Settings come from K3S_SANDBOX_* env vars (K3S_SANDBOX_MODE, K3S_SANDBOX_REGISTRIES, K3S_SANDBOX_BINARY_PATH, ...).
set -u

HOOK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INSTALLER="${K3S_SANDBOX_INSTALLER:-$HOOK_DIR/../install.sh}"
CLI=/usr/local/bin/k3s-sandbox
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

progress() { echo "k3s-sandbox hook: $*" >&2; }

# The one stdout line, capped well under Claude Code's 10,000-character limit.
report() {
  local line="$1"
  printf '%s\n' "${line:0:2000}"
  exit 0
}

last_line_of() { grep -v '^[[:space:]]*$' "$1" | tail -n 1; }

# The hook JSON names why the session started (startup, resume, clear, compact); only used for the log line.
read_session_source() {
  local input
  input="$(cat)"
  SESSION_SOURCE="$(printf '%s' "$input" | grep -o '"source"[[:space:]]*:[[:space:]]*"[a-z]*"' | grep -o '"[a-z]*"$' | tr -d '"')"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n -E "$@"; fi
}

# Feature option names (VERSION, MODE, ...) are too generic to take from a hook's environment: unset them so the
# installer uses its defaults plus any K3S_SANDBOX_* settings.
install_when_missing() {
  [ -x /usr/local/bin/k3s ] && [ -e "$CLI" ] && return 0
  [ -f "$INSTALLER" ] || report "k3s-sandbox: not installed, and no installer at $INSTALLER; no cluster in this session"
  progress "k3s-sandbox is not installed; running $INSTALLER"
  if ! as_root env -u VERSION -u MODE -u AUTOSTART -u WAITTIMEOUT -u REGISTRIES -u BINARYPATH -u DISABLE \
    -u DATADIR -u HTTPSPORT -u RELEASEURL -u CHANNELURL sh "$INSTALLER" 2>"$SCRATCH/install.err" >&2; then
    cat "$SCRATCH/install.err" >&2
    report "k3s-sandbox: install failed, no cluster in this session: $(last_line_of "$SCRATCH/install.err")"
  fi
  cat "$SCRATCH/install.err" >&2
}

start_cluster() {
  if ! "$CLI" up --wait >"$SCRATCH/up.out" 2>"$SCRATCH/up.err"; then
    cat "$SCRATCH/up.err" >&2
    report "k3s-sandbox: the cluster did not start: $(last_line_of "$SCRATCH/up.err")"
  fi
  cat "$SCRATCH/up.err" >&2
}

# `up` already appends the line when CLAUDE_ENV_FILE is set; this makes sure it is there exactly once.
publish_to_claude_env() {
  [ -n "${CLAUDE_ENV_FILE:-}" ] || return 0
  local line
  line="$("$CLI" env 2>/dev/null | grep '^export KUBECONFIG=')" || return 0
  grep -qxF "$line" "$CLAUDE_ENV_FILE" 2>/dev/null || printf '%s\n' "$line" >>"$CLAUDE_ENV_FILE"
}

main() {
  read_session_source
  progress "session ${SESSION_SOURCE:-start}"
  install_when_missing
  start_cluster
  publish_to_claude_env
  local summary
  summary="$(last_line_of "$SCRATCH/up.out")"
  report "${summary:-k3s-sandbox: the cluster is up}"
}

main
