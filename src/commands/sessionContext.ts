/**
 * `session-context`: what a session-start hook (hooks/session-start.sh) prints for the agent, built from the result
 * of `k3s-sandbox up --json`, so the hook never re-derives the mode or its limits in shell.
 *
 *   session-context [--format text|claude] [--up-result FILE] [--up-errors FILE] | [--in-background]
 *
 * --up-result holds the stdout of `up --wait --json` (one JSON object), --up-errors its stderr. --in-background
 * (the hook's K3S_SANDBOX_HOOK_ASYNC=1) starts `up --wait` in the background instead and returns at once.
 * `text` is one line (any agent); `claude` is Claude Code's SessionStart JSON (`hookSpecificOutput.additionalContext`,
 * a few lines). It always exits 0 unless its own flags are wrong.
 *
 * This is the one writer of the session's `export KUBECONFIG=...` line in $CLAUDE_ENV_FILE, and the line always names
 * the kubeconfig `up` publishes: the one `up` reported, or, while k3s is still starting (in the background, or after
 * `up` gave up waiting, when a background `up --wait` goes on waiting), the one that `up` will publish for the same
 * user (publish.ts kubeconfigFor). So a resumed session, whichever way each hook run went, has one export line.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONFIG, loadConfig, type Config } from '../config.js';
import type { CommandContext } from '../context.js';
import { resolvePaths, type Paths } from '../paths.js';
import { publishClaudeEnvLine } from '../profile/blocks.js';
import { kubeconfigFor, targetUser } from '../steps/publish.js';
import { reportLine, type UpReport } from '../steps/report.js';
import { createStatusReporter } from '../ui/status.js';
import { collectStatus, type StatusReport } from './status.js';

export type HookFormat = 'text' | 'claude';

export const HOOK_FORMATS: readonly HookFormat[] = ['text', 'claude'];

/** What became of the cluster this session. */
export type Outcome =
  | { kind: 'ready'; report: UpReport }
  | { kind: 'not-ready'; error: string; mode?: string; limits?: string; backgroundLog?: string }
  | { kind: 'starting'; backgroundLog: string }
  | { kind: 'failed'; error: string };

/** Where KUBECONFIG points for the session, or why it could not be exported. */
export interface Export {
  kubeconfig?: string;
  /** `CLAUDE_ENV_FILE=<path>: <code>` when the export line could not be written. */
  problem?: string;
}

/** Claude Code cuts hook output at 10,000 characters; an error message never needs more than this. */
const MAX_ERROR_CHARS = 1500;

const INSPECT = '`k3s-sandbox status`, `k3s-sandbox logs` and `k3s-sandbox doctor` show its state and explain failures.';

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ERROR_CHARS ? `${oneLine.slice(0, MAX_ERROR_CHARS)}…` : oneLine;
}

function exportSentence(exported: Export): string[] {
  if (!exported.kubeconfig) return [];
  if (exported.problem) {
    return [`KUBECONFIG could not be exported for Bash commands (${exported.problem}): prefix commands with \`export KUBECONFIG=${exported.kubeconfig};\`.`];
  }
  return [`KUBECONFIG=${exported.kubeconfig} is exported for Bash commands, so kubectl uses it.`];
}

/** The agent-facing lines: the mode, what works in it, the KUBECONFIG path, and where to look next. */
export function contextLines(outcome: Outcome, exported: Export): string[] {
  switch (outcome.kind) {
    case 'ready': {
      const { report } = outcome;
      const where = [report.gvisor ? 'under gVisor' : '', ...report.fallbacks.map((f) => `after falling back from ${f.from}: ${f.reason}`)]
        .filter(Boolean)
        .join(', ');
      const state = report.foundReady ? 'is running' : `is ready (started in ${report.secondsUntilReady?.toFixed(1)}s)`;
      return [
        `k3s-sandbox: a local Kubernetes cluster (k3s) ${state}, mode ${report.mode}${where ? ` (${where})` : ''}.`,
        ...(report.simulatedNode
          ? [`Pods are simulated: node ${report.simulatedNode.name} is not a real kubelet, so pods report Running and Ready but none of their containers runs.`]
          : []),
        ...(report.limits ? [`What works in this mode: ${report.limits}.`] : []),
        ...exportSentence(exported),
        INSPECT,
      ];
    }
    case 'not-ready':
      return [
        `k3s-sandbox: a local Kubernetes cluster (k3s) is running, but \`k3s-sandbox up\` did not finish: ${clip(outcome.error)}`,
        `k3s is left running${outcome.mode ? ` in mode ${outcome.mode}` : ''}; \`k3s-sandbox up --wait\` waits for it again.`,
        ...(outcome.backgroundLog
          ? [`A background \`k3s-sandbox up --wait\` publishes the kubeconfig once k3s answers (log ${outcome.backgroundLog}).`]
          : []),
        ...(outcome.limits ? [`What works in this mode: ${outcome.limits}.`] : []),
        ...exportSentence(exported),
        INSPECT,
      ];
    case 'starting':
      return [
        `k3s-sandbox: a local Kubernetes cluster (k3s) is starting in the background (log ${outcome.backgroundLog}).`,
        '`k3s-sandbox up --wait` waits until it is ready, then prints its mode and what works in that mode.',
        ...(exported.kubeconfig && !exported.problem
          ? [`KUBECONFIG=${exported.kubeconfig} is exported for Bash commands, so kubectl uses it once the cluster is ready.`]
          : exportSentence(exported)),
      ];
    case 'failed':
      return [
        `k3s-sandbox: no Kubernetes cluster in this session: ${clip(outcome.error)}`,
        '`k3s-sandbox doctor` explains what this sandbox allows and what to change; `k3s-sandbox logs` shows the k3s log.',
      ];
  }
}

/** The hook's stdout: one line for any agent, or Claude Code's SessionStart JSON. */
export function renderHookOutput(outcome: Outcome, exported: Export, format: HookFormat): string {
  const lines = contextLines(outcome, exported);
  if (format === 'claude') {
    return JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: lines.join('\n') } });
  }
  // The plain line for a ready cluster is up's own report line, which the README shows.
  if (outcome.kind === 'ready') {
    return reportLine(outcome.report) + (exported.problem ? `; KUBECONFIG not exported (${exported.problem})` : '');
  }
  return lines.join(' ');
}

/** up's result: the last stdout line that is a JSON object. */
export function parseUpResult(stdout: string): { ok: boolean; error?: string; report?: UpReport } | undefined {
  const lines = stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const parsed = JSON.parse(line) as { ok?: unknown; error?: unknown };
      if (parsed.ok === true) return { ok: true, report: parsed as unknown as UpReport };
      if (parsed.ok === false) return { ok: false, error: typeof parsed.error === 'string' ? parsed.error : 'k3s-sandbox up failed' };
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}

function lastLineOf(text: string): string | undefined {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).pop();
}

function readText(file: string | undefined): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a failed `up` left k3s running (e.g. a wait timeout), and in what mode. */
export function outcomeOfFailure(error: string, status: StatusReport | undefined): Outcome {
  if (status?.running) return { kind: 'not-ready', error, mode: status.mode ?? undefined, limits: status.limits ?? undefined };
  return { kind: 'failed', error };
}

/**
 * The kubeconfig a background `up --wait` publishes once the cluster answers: the same `up` would publish for the
 * same user (no --user: $_REMOTE_USER, $SUDO_USER, or the caller), so it is the path a finished `up` reports.
 */
function pendingKubeconfig(): string | undefined {
  try {
    return kubeconfigFor(targetUser(undefined));
  } catch {
    return undefined; // no such user: the background `up` fails the same way, and its log says so
  }
}

/** session-start.log in the log dir when we may write there, else in the temp dir. */
function backgroundLogFile(paths: Paths): string {
  try {
    mkdirSync(paths.logDir, { recursive: true });
    accessSync(paths.logDir, constants.W_OK);
    return join(paths.logDir, 'session-start.log');
  } catch {
    return join(tmpdir(), 'k3s-sandbox-session-start.log');
  }
}

/**
 * Starts `up --wait` in its own session, holding none of the hook's pipes (Claude Code waits for those to close), so
 * the hook returns at once; a later `up --wait` joins it through the instance lock. It never writes $CLAUDE_ENV_FILE:
 * this command did. Returns its log.
 */
function startUpInBackground(paths: Paths, timeoutSeconds?: number): string {
  const log = backgroundLogFile(paths);
  const out = openSync(log, 'a', 0o644);
  try {
    const [file, ...args] = paths.selfCommand;
    const env = { ...process.env };
    delete env.CLAUDE_ENV_FILE;
    const timeout = timeoutSeconds === undefined ? [] : ['--timeout', String(timeoutSeconds)];
    const child = spawn(file, [...args, 'up', '--wait', ...timeout], { detached: true, stdio: ['ignore', out, out], env });
    child.unref();
    process.stderr.write(`k3s-sandbox hook: started 'k3s-sandbox up --wait' in the background (pid ${child.pid}, log ${log})\n`);
  } finally {
    closeSync(out);
  }
  return log;
}

/** After `up` gave up waiting, the background `up` waits at least as long as the default does. */
function backgroundWaitSeconds(config: Config): number {
  return Math.max(config.waitTimeout, DEFAULT_CONFIG.waitTimeout);
}

/** The errno name (ENOENT, EACCES, ...), also when a wrapper put it only in its message. */
export function errnoCode(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return (error as NodeJS.ErrnoException).code ?? /\bE[A-Z]{2,}\b/.exec(message)?.[0] ?? message;
}

function exportToClaudeEnv(kubeconfig: string | undefined): Export {
  const envFile = process.env.CLAUDE_ENV_FILE || undefined;
  if (!kubeconfig) return {};
  try {
    publishClaudeEnvLine(envFile, kubeconfig);
    return { kubeconfig };
  } catch (error) {
    return { kubeconfig, problem: `CLAUDE_ENV_FILE=${envFile}: ${errnoCode(error)}` };
  }
}

/**
 * A broken setting must not hide the cluster's state (the hook's `up` has already reported it): each bad value gives
 * way to the one below it, silently.
 */
function contextIgnoringBadConfig(): CommandContext {
  const { config, sources } = loadConfig({ lenient: true });
  return { config, configSources: sources, paths: resolvePaths(config), status: createStatusReporter() };
}

async function statusOf(ctx: CommandContext): Promise<StatusReport | undefined> {
  try {
    return await collectStatus(ctx);
  } catch {
    return undefined;
  }
}

export type SessionContextValues = Record<string, string | boolean | undefined>;

function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Runs with the option values src/cli/sessionContext.ts parsed. */
export async function main(values: SessionContextValues): Promise<number> {
  const format = stringOption(values.format) ?? 'text';
  if (!(HOOK_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`session-context: invalid value for --format: ${JSON.stringify(format)}; allowed: ${HOOK_FORMATS.join(', ')}`);
  }
  const ctx = contextIgnoringBadConfig();
  let outcome: Outcome;
  if (values['in-background'] === true) {
    outcome = { kind: 'starting', backgroundLog: startUpInBackground(ctx.paths) };
  } else {
    const result = parseUpResult(readText(stringOption(values['up-result'])));
    if (result?.ok && result.report) {
      outcome = { kind: 'ready', report: result.report };
    } else {
      const error = result?.error ?? lastLineOf(readText(stringOption(values['up-errors']))) ?? 'k3s-sandbox up printed no result';
      outcome = outcomeOfFailure(error.replace(/^k3s-sandbox:\s*/, ''), await statusOf(ctx));
      if (outcome.kind === 'not-ready') outcome.backgroundLog = startUpInBackground(ctx.paths, backgroundWaitSeconds(ctx.config));
    }
  }
  const kubeconfig = outcome.kind === 'ready' ? outcome.report.kubeconfig : outcome.kind === 'failed' ? undefined : pendingKubeconfig();
  process.stdout.write(renderHookOutput(outcome, exportToClaudeEnv(kubeconfig), format as HookFormat) + '\n');
  return 0;
}
