/** `--version`: this k3s-sandbox's version (stamped by scripts/build.mjs) and the first line of the installed k3s's. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { resolvePaths } from '../paths.js';

declare const K3S_SANDBOX_VERSION: string | undefined;

/** From source (tsx) nothing is stamped: package.json says. */
function ownVersion(): string {
  if (typeof K3S_SANDBOX_VERSION === 'string') return K3S_SANDBOX_VERSION;
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function k3sVersion(k3s: string): string {
  const result = spawnSync(k3s, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) return `k3s: none at ${k3s} (${(result.error as NodeJS.ErrnoException).code ?? result.error.message})`;
  const first = result.stdout.split('\n')[0]?.trim();
  return result.status === 0 && first ? `${first} (${k3s})` : `k3s: ${k3s} --version failed (exit ${result.status})`;
}

export async function printVersion(): Promise<number> {
  const { config } = loadConfig({ lenient: true });
  process.stdout.write(`k3s-sandbox ${ownVersion()}\n${k3sVersion(resolvePaths(config).k3s)}\n`);
  return 0;
}
