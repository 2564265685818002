/**
 * lifecycle.env, which hooks/lifecycle.sh sources at every container start: whether to start the cluster (the
 * validated autoStart, so the shell never parses the option again), the absolute node that runs us (sudo's
 * secure_path and login shells may not see the PATH Node was installed on), and the remote user the entrypoint
 * publishes a kubeconfig for.
 */
import { writeFileSync } from 'node:fs';
import { ConfigError, DEFAULT_CONFIG, type Config } from '../config.js';

/** What a POSIX user name may hold; install.sh checks _REMOTE_USER the same way before anything else. */
const PLAIN_USER_RE = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
/** Inside single quotes everything but a quote is literal. */
const SINGLE_QUOTABLE_RE = /^\/[^'\n]*$/;

export function lifecycleEnv(config: Partial<Config>, nodePath: string, remoteUser: string): string {
  if (!SINGLE_QUOTABLE_RE.test(nodePath)) {
    throw new ConfigError(`the path to node ${JSON.stringify(nodePath)} is not absolute or holds a quote or newline`);
  }
  if (!PLAIN_USER_RE.test(remoteUser)) {
    throw new ConfigError(`_REMOTE_USER ${JSON.stringify(remoteUser)} is not a plain user name (letters, digits, . _ -)`);
  }
  const autoStart = config.autoStart ?? DEFAULT_CONFIG.autoStart;
  return `K3S_SANDBOX_AUTOSTART=${autoStart}\nK3S_SANDBOX_NODE='${nodePath}'\nK3S_SANDBOX_REMOTE_USER=${remoteUser}\n`;
}

export function writeLifecycleEnv(file: string, config: Partial<Config>, env: NodeJS.ProcessEnv): void {
  writeFileSync(file, lifecycleEnv(config, process.execPath, env._REMOTE_USER || 'root'), { mode: 0o644 });
}
