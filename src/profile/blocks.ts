/**
 * The shell profile lines that make KUBECONFIG point at the published kubeconfig:
 * - a marked block in ~/.bashrc and ~/.zshrc (only when the file exists), replaced in place on every
 *   `up`, never duplicated;
 * - /etc/profile.d/k3s-sandbox.sh for login shells, when we run as root;
 * - one `export KUBECONFIG=...` line in $CLAUDE_ENV_FILE, the file Claude Code sources before each
 *   Bash tool command.
 * The text editing is pure (`upsertBlock`, `removeBlock`) and unit-tested; the file functions add
 * atomic writes that keep each file's mode and owner.
 */
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic, resolveTarget } from './atomicWrite.js';
import type { TargetUser } from './user.js';
import { readIfExists } from '../files.js';

export const BLOCK_START = '# >>> k3s-sandbox >>>';
export const BLOCK_END = '# <<< k3s-sandbox <<<';
export const PROFILE_D_FILE = '/etc/profile.d/k3s-sandbox.sh';
const RC_FILES = ['.bashrc', '.zshrc'];

interface BlockSpan {
  start: number;
  /** Index just past the end marker's line break. */
  end: number;
}

function findBlocks(text: string, fileName: string): BlockSpan[] {
  const spans: BlockSpan[] = [];
  const lines = text.split('\n');
  let offset = 0;
  let openAt: { offset: number; line: number } | undefined;
  lines.forEach((line, index) => {
    const lineEnd = offset + line.length + (index < lines.length - 1 ? 1 : 0);
    if (line.trim() === BLOCK_START) {
      if (openAt) throw new Error(`${fileName} line ${index + 1}: a second "${BLOCK_START}" before "${BLOCK_END}"; remove the broken block by hand`);
      openAt = { offset, line: index + 1 };
    } else if (line.trim() === BLOCK_END) {
      if (!openAt) throw new Error(`${fileName} line ${index + 1}: "${BLOCK_END}" without "${BLOCK_START}"; remove it by hand`);
      spans.push({ start: openAt.offset, end: lineEnd });
      openAt = undefined;
    }
    offset = lineEnd;
  });
  if (openAt) throw new Error(`${fileName} line ${openAt.line}: "${BLOCK_START}" without "${BLOCK_END}"; remove the broken block by hand`);
  return spans;
}

export function renderBlock(bodyLines: string[]): string {
  return [BLOCK_START, ...bodyLines, BLOCK_END].join('\n') + '\n';
}

/** `text` with exactly one block holding `bodyLines`: the first existing block is replaced, extra ones removed, else it is appended. */
export function upsertBlock(text: string, bodyLines: string[], fileName = 'file'): string {
  const block = renderBlock(bodyLines);
  const spans = findBlocks(text, fileName);
  if (spans.length === 0) {
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    return text + separator + block;
  }
  let result = text.slice(0, spans[0].start) + block;
  let cursor = spans[0].end;
  for (const span of spans.slice(1)) {
    result += text.slice(cursor, span.start);
    cursor = span.end;
  }
  return result + text.slice(cursor);
}

/** `text` without any k3s-sandbox block. */
export function removeBlock(text: string, fileName = 'file'): string {
  let result = '';
  let cursor = 0;
  for (const span of findBlocks(text, fileName)) {
    result += text.slice(cursor, span.start);
    cursor = span.end;
  }
  return result + text.slice(cursor);
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function exportLine(kubeconfigPath: string): string {
  return `export KUBECONFIG=${shellQuote(kubeconfigPath)}`;
}

function rewrite(file: string, next: string, current: string, user: TargetUser): boolean {
  if (next === current) return false;
  writeFileAtomic(file, next, { mode: 0o644, uid: user.uid, gid: user.gid }, user.uid);
  return true;
}

const PROFILE_D_TEXT = [
  '# Written by k3s-sandbox; `k3s-sandbox uninstall-profile` removes it.',
  "# Login shells point kubectl at the user's own kubeconfig, which holds the k3s-sandbox context.",
  'if [ -z "${KUBECONFIG:-}" ] && [ -r "$HOME/.kube/config" ]; then',
  '  export KUBECONFIG="$HOME/.kube/config"',
  'fi',
  '',
].join('\n');

/** Where the login-shell snippet goes; tests point it elsewhere. */
export interface ProfileLocations {
  profileDFile: string;
}

const SYSTEM_LOCATIONS: ProfileLocations = { profileDFile: PROFILE_D_FILE };

/** Writes the profile lines for `user`; returns the files it changed. */
export function publishProfileBlocks(user: TargetUser, kubeconfigPath: string, locations: ProfileLocations = SYSTEM_LOCATIONS): string[] {
  const changed: string[] = [];
  const body = ['# Written by k3s-sandbox; `k3s-sandbox uninstall-profile` removes it.', exportLine(kubeconfigPath)];
  for (const name of RC_FILES) {
    const file = join(user.home, name);
    const current = readIfExists(file);
    if (current === undefined) continue;
    if (rewrite(file, upsertBlock(current, body, file), current, user)) changed.push(file);
  }
  const { profileDFile } = locations;
  if (process.getuid?.() === 0 && existsSync(dirname(profileDFile))) {
    const current = readIfExists(profileDFile) ?? '';
    if (current !== PROFILE_D_TEXT) {
      writeFileAtomic(profileDFile, PROFILE_D_TEXT, { mode: 0o644, uid: 0, gid: 0 });
      changed.push(profileDFile);
    }
  }
  return changed;
}

/**
 * Appends the export line to $CLAUDE_ENV_FILE unless it is already there. This one file is appended
 * to (O_APPEND, one write) rather than replaced: other SessionStart hooks append to it at the same
 * time, and a rename would drop their lines.
 */
export function publishClaudeEnvLine(envFile: string | undefined, kubeconfigPath: string): boolean {
  if (!envFile) return false;
  const line = exportLine(kubeconfigPath);
  const current = readIfExists(resolveTarget(envFile)) ?? '';
  if (current.split('\n').some((existing) => existing.trim() === line)) return false;
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  appendFileSync(envFile, `${separator}${line}\n`, { mode: 0o600 });
  return true;
}

/** Removes every profile block k3s-sandbox wrote for `user` (and the /etc/profile.d file as root); returns the files changed. */
export function removeProfileBlocks(user: TargetUser, locations: ProfileLocations = SYSTEM_LOCATIONS): string[] {
  const changed: string[] = [];
  for (const name of RC_FILES) {
    const file = join(user.home, name);
    const current = readIfExists(file);
    if (current === undefined) continue;
    if (rewrite(file, removeBlock(current, file), current, user)) changed.push(file);
  }
  if (process.getuid?.() === 0 && existsSync(locations.profileDFile)) {
    rmSync(locations.profileDFile);
    changed.push(locations.profileDFile);
  }
  return changed;
}
