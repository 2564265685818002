/**
 * Publishing the cluster into a user's kubeconfig. The admin kubeconfig k3s writes is read with
 * client-node's KubeConfig; its cluster and user are renamed `k3s-sandbox` and merged into the user's
 * file as raw documents (client-node's loadYaml/dumpYaml), so every field of the user's other
 * clusters, users and contexts (extensions, token-file, preferences) survives untouched.
 * current-context is only set when the file had none or it already was ours.
 */
import { dumpYaml, KubeConfig, loadYaml } from '@kubernetes/client-node';
import { SANDBOX_NAME } from './names.js';

export { SANDBOX_NAME };

interface NamedEntry {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDocument {
  apiVersion?: string;
  kind?: string;
  clusters?: NamedEntry[] | null;
  users?: NamedEntry[] | null;
  contexts?: NamedEntry[] | null;
  'current-context'?: string;
  [key: string]: unknown;
}

export interface SandboxEntries {
  cluster: NamedEntry;
  user: NamedEntry;
  context: NamedEntry;
}

/** The k3s-sandbox cluster, user and context, built from the admin kubeconfig k3s wrote. */
export function sandboxEntriesFrom(adminKubeconfigText: string, source: string): SandboxEntries {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromString(adminKubeconfigText);
  } catch (error) {
    throw new Error(`${source} is not a valid kubeconfig: ${(error as Error).message}`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (!cluster || !user) throw new Error(`${source} has no current cluster and user`);
  if (!cluster.caData || !user.certData || !user.keyData) {
    throw new Error(`${source} does not embed the CA and the admin client cert and key, as k3s's admin kubeconfig does`);
  }
  return {
    cluster: { name: SANDBOX_NAME, cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } },
    user: { name: SANDBOX_NAME, user: { 'client-certificate-data': user.certData, 'client-key-data': user.keyData } },
    context: { name: SANDBOX_NAME, context: { cluster: SANDBOX_NAME, user: SANDBOX_NAME } },
  };
}

/**
 * Parses the user's file, checking only the shape the merge relies on. KubeConfig itself is not used
 * here: it resolves file references (a user's token-file, for one) while loading, and a reference that
 * does not resolve on this machine is no reason to refuse the file.
 */
function parseUserKubeconfig(text: string, source: string): KubeconfigDocument {
  if (text.trim() === '') return {};
  let document: unknown;
  try {
    document = loadYaml<unknown>(text);
  } catch (error) {
    throw new Error(`${source} is not a valid kubeconfig (${(error as Error).message.split('\n')[0]}); it was left untouched`);
  }
  const problem = shapeProblem(document);
  if (problem) throw new Error(`${source} is not a valid kubeconfig (${problem}); it was left untouched`);
  return document as KubeconfigDocument;
}

function shapeProblem(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return 'the top level is not a mapping';
  for (const key of ['clusters', 'users', 'contexts']) {
    const list = (document as Record<string, unknown>)[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) return `${key} is not a list`;
    if (list.some((entry) => typeof entry !== 'object' || entry === null || typeof entry.name !== 'string')) return `an entry of ${key} has no name`;
  }
  return undefined;
}

function upsertNamed(list: NamedEntry[] | null | undefined, entry: NamedEntry): NamedEntry[] {
  const entries = [...(list ?? [])];
  const at = entries.findIndex((existing) => existing?.name === entry.name);
  if (at >= 0) entries[at] = entry;
  else entries.push(entry);
  return entries;
}

/**
 * The user's kubeconfig text with the k3s-sandbox entries merged in (`existingText` undefined: a new
 * file). Returns the same text when nothing changes, so a warm `up` writes nothing.
 */
export function mergeSandboxContext(existingText: string | undefined, entries: SandboxEntries, source = 'kubeconfig'): string {
  const document: KubeconfigDocument = existingText === undefined ? {} : parseUserKubeconfig(existingText, source);
  const before = JSON.stringify(document);
  document.apiVersion ??= 'v1';
  document.kind ??= 'Config';
  document.clusters = upsertNamed(document.clusters, entries.cluster);
  document.users = upsertNamed(document.users, entries.user);
  document.contexts = upsertNamed(document.contexts, entries.context);
  if (!document['current-context']) document['current-context'] = SANDBOX_NAME;
  if (existingText !== undefined && JSON.stringify(document) === before) return existingText;
  return dumpYaml(document);
}

/** Whether the user's kubeconfig has the k3s-sandbox context (false for a file that does not parse). */
export function hasSandboxContext(text: string): boolean {
  try {
    return (parseUserKubeconfig(text, 'kubeconfig').contexts ?? []).some((entry) => entry?.name === SANDBOX_NAME);
  } catch {
    return false;
  }
}

/**
 * A kubeconfig holding only `context` and its cluster and user, from the user's file: loading the whole
 * file with KubeConfig would fail on another entry's missing token-file or cert file.
 */
export function extractContext(text: string, context: string, source = 'kubeconfig'): string {
  const document = parseUserKubeconfig(text, source);
  const entry = (document.contexts ?? []).find((candidate) => candidate?.name === context);
  const refs = entry?.context as { cluster?: string; user?: string } | undefined;
  if (!refs?.cluster || !refs.user) throw new Error(`${source} has no context ${context}`);
  const pick = (list: NamedEntry[] | null | undefined, name: string): NamedEntry[] => (list ?? []).filter((candidate) => candidate?.name === name);
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: pick(document.clusters, refs.cluster),
    users: pick(document.users, refs.user),
    contexts: [entry],
    'current-context': context,
  });
}

/** The user's kubeconfig text without the k3s-sandbox entries (for uninstall-profile). */
export function removeSandboxContext(existingText: string, source = 'kubeconfig'): string {
  const document = parseUserKubeconfig(existingText, source);
  const before = JSON.stringify(document);
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const list = document[key];
    if (Array.isArray(list)) document[key] = list.filter((entry) => entry?.name !== SANDBOX_NAME);
  }
  if (document['current-context'] === SANDBOX_NAME) document['current-context'] = '';
  return JSON.stringify(document) === before ? existingText : dumpYaml(document);
}
