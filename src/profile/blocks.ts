/**
 * The shell profile lines that make KUBECONFIG point at the published kubeconfig:
 * - a marked block in ~/.bashrc and ~/.zshrc (only when the file exists), replaced in place on every
 *   `up`, never duplicated;
 * - /etc/profile.d/k3s-sandbox.sh for login shells, when we run as root;
 * - one `export KUBECONFIG=...` line in $CLAUDE_ENV_FILE, the file Claude Code sources before each
 *   Bash tool command.
 * The text editing is pure (`upsertBlock`, `removeBlock`) and unit-tested. The functions on a home's files run
 * with the home owner's identity (see asUser.ts) and go through homeFile.ts; only the /etc/profile.d file is root's.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readIfExists, replaceFile } from '../files.js';
import { appendLineOnce, readRegularFile, replaceRegularFile, updating } from './homeFile.js';

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

/** Rewrites an rc file that exists in `home` with `edit`; true when it changed. */
function editRcFile(file: string, edit: (current: string) => string): boolean {
  return updating(file, () => {
    const current = readRegularFile(file);
    if (current === undefined) return false;
    const next = edit(current);
    if (next === current) return false;
    replaceRegularFile(file, next, 0o644);
    return true;
  });
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

/** Writes the profile block into the rc files that exist in `home`; returns the files it changed. */
export function publishProfileBlocks(home: string, kubeconfigPath: string): string[] {
  const changed: string[] = [];
  const body = ['# Written by k3s-sandbox; `k3s-sandbox uninstall-profile` removes it.', exportLine(kubeconfigPath)];
  for (const file of RC_FILES.map((name) => join(home, name))) {
    if (editRcFile(file, (current) => upsertBlock(current, body, file))) changed.push(file);
  }
  return changed;
}

/** Removes every k3s-sandbox block from the rc files in `home`; returns the files changed. */
export function removeProfileBlocks(home: string): string[] {
  const changed: string[] = [];
  for (const file of RC_FILES.map((name) => join(home, name))) {
    if (editRcFile(file, (current) => removeBlock(current, file))) changed.push(file);
  }
  return changed;
}

/** Root only: the /etc/profile.d snippet for login shells (when the directory exists); true when it changed. */
export function publishProfileD(locations: ProfileLocations = SYSTEM_LOCATIONS): boolean {
  const { profileDFile } = locations;
  if (process.getuid?.() !== 0 || !existsSync(dirname(profileDFile))) return false;
  if (readIfExists(profileDFile) === PROFILE_D_TEXT) return false;
  replaceFile(profileDFile, PROFILE_D_TEXT, { mode: 0o644 });
  return true;
}

/** Root only: removes the /etc/profile.d snippet; true when there was one. */
export function removeProfileD(locations: ProfileLocations = SYSTEM_LOCATIONS): boolean {
  if (process.getuid?.() !== 0 || !existsSync(locations.profileDFile)) return false;
  rmSync(locations.profileDFile);
  return true;
}

/**
 * Appends the export line to $CLAUDE_ENV_FILE unless it is already there. This one file is appended
 * to (O_APPEND, one write) rather than replaced: other SessionStart hooks append to it at the same
 * time, and a rename would drop their lines.
 */
export function publishClaudeEnvLine(envFile: string | undefined, kubeconfigPath: string): boolean {
  if (!envFile) return false;
  return updating(envFile, () => appendLineOnce(envFile, exportLine(kubeconfigPath)));
}
