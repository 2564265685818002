/** One-shot health check of a running instance, and where its credentials come from for the caller. */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { UpError } from '../diagnose/upError.js';
import type { InstanceRecord } from '../instance/state.js';
import type { Paths } from '../paths.js';
import { SANDBOX_NAME } from './names.js';
import { agentFor, loadIdentity, readyz, type ReadinessSource } from './readiness.js';
import { isReadable } from '../files.js';

/** The cached TLS identity next to the state files (see readiness.ts). */
export function identityCacheFile(paths: Pick<Paths, 'stateDir'>): string {
  return join(paths.stateDir, 'api-identity.json');
}

/**
 * Root uses the admin kubeconfig k3s writes (even before it exists: then the instance is not ready);
 * a non-root caller uses it when readable, else the k3s-sandbox context root published into the
 * caller's own ~/.kube/config. Undefined: the caller can read neither.
 */
export function readinessSource(record: Pick<InstanceRecord, 'adminKubeconfig'>, paths: Pick<Paths, 'stateDir'>): ReadinessSource | undefined {
  if (process.getuid?.() === 0) return { kubeconfig: record.adminKubeconfig, cacheFile: identityCacheFile(paths) };
  if (isReadable(record.adminKubeconfig)) return { kubeconfig: record.adminKubeconfig };
  const own = join(userInfo().homedir, '.kube', 'config');
  return isReadable(own) ? { kubeconfig: own, context: SANDBOX_NAME } : undefined;
}

/** What a non-root caller without a published kubeconfig is told (by wait or publish). */
export function missingPublishedKubeconfig(user: string, target: string): UpError {
  return new UpError(
    `k3s runs as root and ${user} has no kubeconfig for it yet (${target} has no k3s-sandbox context): run \`sudo k3s-sandbox up --user ${user}\` once`,
  );
}

export async function checkHealthy(source: ReadinessSource | undefined): Promise<boolean> {
  if (!source) return false;
  let identity;
  try {
    identity = await loadIdentity(source);
  } catch {
    return false;
  }
  const agent = agentFor(identity, false);
  try {
    return (await readyz(identity, agent)).status === 200;
  } finally {
    agent.destroy();
  }
}
