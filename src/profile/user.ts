/**
 * The user who receives the kubeconfig and profile lines: `--user`, else `$_REMOTE_USER` (dev
 * containers), else `$SUDO_USER`, else whoever runs us.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createRequire } from 'node:module';

/** node:child_process loads only for getent: every command loads this module, and `--help` needs none of it. */
const requireOnUse = createRequire(import.meta.url);

export interface TargetUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswdLine(line: string): TargetUser | undefined {
  const fields = line.split(':');
  if (fields.length < 7) return undefined;
  return { name: fields[0], uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] };
}

/** Looks a user up in /etc/passwd, then through NSS (getent) for directory-backed accounts. */
export function lookUpUser(name: string): TargetUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      if (line.startsWith(`${name}:`)) return parsePasswdLine(line);
    }
  } catch {
    // No readable /etc/passwd: fall through to getent.
  }
  // node:child_process rather than execa: `env` resolves a user, and loading execa would be most of its start-up
  // cost in gVisor, for a call that rarely happens.
  const { spawnSync } = requireOnUse('node:child_process') as typeof import('node:child_process');
  const result = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? parsePasswdLine(result.stdout.trim()) : undefined;
}

export function chosenUserName(requested: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return requested || env._REMOTE_USER || env.SUDO_USER || userInfo().username;
}

/** Resolves the target user; throws a clear error when the name is unknown. */
export function resolveTargetUser(requested: string | undefined, env: NodeJS.ProcessEnv = process.env): TargetUser {
  const name = chosenUserName(requested, env);
  const user = lookUpUser(name);
  if (!user) {
    const source = requested ? '--user' : env._REMOTE_USER ? '$_REMOTE_USER' : env.SUDO_USER ? '$SUDO_USER' : 'the current user';
    throw new Error(`user "${name}" (from ${source}) does not exist: give an existing account name with --user`);
  }
  return user;
}
