/**
 * Every write into a user's home happens with that user's identity. Root publishing for another user does not
 * touch the home itself: it runs our CLI again (`k3s-sandbox __home-task`) as a child with the user's uid and
 * gid (libuv also drops root's supplementary groups), hands it the task as JSON on stdin, and reads the files it
 * changed as JSON on stdout. Whatever links, FIFOs or planted names the home holds, the child can only reach what
 * the user could reach anyway; homeFile.ts keeps it from blocking, and the timeout bounds it regardless.
 * Anyone publishing for themselves (root for root, a user for themselves) does the same task in-process.
 */
import { dirname } from 'node:path';
import type { SandboxEntries } from '../kube/kubeconfig.js';
import { publishClaudeEnvLine, publishProfileBlocks, removeProfileBlocks } from './blocks.js';
import { createPrivateDir, readRegularFile, replaceRegularFile, updating } from './homeFile.js';
import { unreadableBootstrapper } from './readableBy.js';
import type { TargetUser } from './user.js';

/** The internal subcommand the child runs; not in the usage text. */
export const HOME_TASK_COMMAND = '__home-task';
const CHILD_TIMEOUT_MS = 30_000;
const MAX_TASK_BYTES = 1024 * 1024;

export type HomeTask =
  /** Merge `entries` (when given) into `kubeconfig`, write the rc blocks, and append to `claudeEnvFile`. */
  | { kind: 'publish'; home: string; kubeconfig: string; entries?: SandboxEntries; claudeEnvFile?: string }
  /** Remove the rc blocks, and the k3s-sandbox entries from `kubeconfig` when given (uninstall). */
  | { kind: 'unpublish'; home: string; kubeconfig?: string };

export interface HomeTaskResult {
  changed: string[];
  /** Failures that do not fail the task: the $CLAUDE_ENV_FILE line, which the SessionStart hook also writes. */
  warnings: string[];
}

async function mergeKubeconfig(file: string, entries: SandboxEntries): Promise<boolean> {
  const { mergeSandboxContext } = await import('../kube/kubeconfig.js');
  return updating(file, () => {
    const existing = readRegularFile(file);
    const merged = mergeSandboxContext(existing, entries, file);
    if (merged === existing) return false;
    createPrivateDir(dirname(file));
    replaceRegularFile(file, merged, 0o600, { privateFile: true });
    return true;
  });
}

async function removeKubeconfigEntries(file: string): Promise<boolean> {
  const { removeSandboxContext } = await import('../kube/kubeconfig.js');
  return updating(file, () => {
    const existing = readRegularFile(file);
    if (existing === undefined) return false;
    const without = removeSandboxContext(existing, file);
    if (without === existing) return false;
    replaceRegularFile(file, without, 0o600, { privateFile: true });
    return true;
  });
}

/** Does `task` with the current identity; returns what changed. */
export async function performHomeTask(task: HomeTask): Promise<HomeTaskResult> {
  if (task.kind === 'unpublish') {
    const changed = removeProfileBlocks(task.home);
    if (task.kubeconfig && (await removeKubeconfigEntries(task.kubeconfig))) changed.push(task.kubeconfig);
    return { changed, warnings: [] };
  }
  const changed: string[] = [];
  const warnings: string[] = [];
  if (task.entries && (await mergeKubeconfig(task.kubeconfig, task.entries))) changed.push(task.kubeconfig);
  changed.push(...publishProfileBlocks(task.home, task.kubeconfig));
  if (task.claudeEnvFile) {
    try {
      if (publishClaudeEnvLine(task.claudeEnvFile, task.kubeconfig)) changed.push(task.claudeEnvFile);
    } catch (error) {
      warnings.push(`CLAUDE_ENV_FILE: ${(error as Error).message}`);
    }
  }
  return { changed, warnings };
}

/**
 * How to run our CLI again: the same node, flags and main script (the bundle, or src/cli.ts under a loader named by
 * its path: the child starts in /, where a bare `--import tsx` does not resolve).
 */
function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]];
}

export interface AsUserOptions {
  /** The command that runs our CLI, to which HOME_TASK_COMMAND is appended. */
  command?: string[];
  timeoutMs?: number;
}

/** Does `task` with `user`'s identity: in-process when we already are that user, else (as root) in a child. */
export async function performAsUser(user: TargetUser, task: HomeTask, options: AsUserOptions = {}): Promise<HomeTaskResult> {
  const uid = process.getuid?.();
  if (uid === user.uid) return performHomeTask(task);
  if (uid !== 0) throw new Error(`only root can write into ${user.name}'s home (${user.home})`);
  const [file, ...args] = options.command ?? selfCommand();
  const timeoutMs = options.timeoutMs ?? CHILD_TIMEOUT_MS;
  const { execa } = await import('execa'); // only root writing into another user's home needs it
  const result = await execa(file, [...args, HOME_TASK_COMMAND], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    extendEnv: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home, USER: user.name, LOGNAME: user.name },
    input: JSON.stringify({ uid: user.uid, gid: user.gid, task }),
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_TASK_BYTES,
    reject: false,
  });
  const what = `writing into ${user.home} as ${user.name}`;
  if (result.timedOut) throw new Error(`${what} took longer than ${timeoutMs / 1000} s and was stopped`);
  if (result.exitCode !== 0) {
    // Before blaming the home: a bootstrapper the user cannot read fails in node's loader, before our code runs.
    const unreadable = args.length > 0 ? unreadableBootstrapper(user, args[args.length - 1]) : undefined;
    if (unreadable) throw new Error(unreadable);
    if (result.exitCode === undefined) throw new Error(`${what} failed: ${result.shortMessage}`);
    throw new Error(childReason(String(result.stderr), what) || `${what}: ${file} exited with status ${result.exitCode}`);
  }
  return JSON.parse(String(result.stdout)) as HomeTaskResult;
}

/**
 * The reason a failed child gives: its one line on stderr; or, when node itself reported an uncaught error (a stack
 * ending in "Node.js vN"), that error's own line.
 */
function childReason(stderr: string, what: string): string | undefined {
  const lines = stderr.trim().split('\n');
  if (!/^Node\.js v\d/.test(lines[lines.length - 1])) return lines.pop() || undefined;
  const error = lines.find((line) => /^\w*Error\b/.test(line));
  return error && `${what} failed: ${error}`;
}

async function readAll(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new Error(`the task on stdin is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The child's side (`k3s-sandbox __home-task`): checks it really runs as the uid and gid it was started for, with
 * none of root's groups, does the task, and prints the result. A failure is one line on stderr, exit 1.
 */
export async function runHomeTaskChild(stdin: NodeJS.ReadableStream): Promise<number> {
  try {
    const { uid, gid, task } = JSON.parse(await readAll(stdin, MAX_TASK_BYTES)) as { uid: number; gid: number; task: HomeTask };
    const groups = process.getgroups?.() ?? [];
    if (process.getuid?.() !== uid || process.geteuid?.() !== uid || process.getegid?.() !== gid || groups.some((group) => group !== gid)) {
      throw new Error(`${HOME_TASK_COMMAND} must run as uid ${uid}, gid ${gid} and no other group, not as uid ${process.getuid?.()} (groups ${groups.join(',')})`);
    }
    process.stdout.write(JSON.stringify(await performHomeTask(task)));
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}
