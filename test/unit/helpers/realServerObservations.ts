/**
 * Run by test/unit/clientNodeRealServer.test.ts inside a private network and mount namespace (unshare, loopback up):
 * starts the upstream-assembled k3s (build/fixtures/k3s-upstream: the real kube-apiserver) with the plan's
 * control-plane flags, points our client-node code (src/kube/) at the kubeconfig it writes, prints what it observed
 * as one JSON line, and stops the server. Usage: node --import tsx realServerObservations.ts K3S WORKDIR
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeSandboxContext, sandboxEntriesFrom, SANDBOX_NAME } from '../../../src/kube/kubeconfig.js';
import { agentFor, loadIdentity, readyNodeName, readyz, type ApiIdentity, type ReadyzAnswer } from '../../../src/kube/readiness.js';

const [k3s, work] = process.argv.slice(2) as [string, string];
const dataDir = join(work, 'data');
const adminKubeconfig = join(work, 'k3s.yaml');
const cniBin = join(work, 'cni');
mkdirSync(cniBin, { recursive: true });
writeFileSync(join(cniBin, 'host-local'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });

// The flags planControlPlane gives where there is no default route (as in this namespace).
const server = spawn(
  k3s,
  ['server', `--data-dir=${dataDir}`, '--https-listen-port=6443', `--write-kubeconfig=${adminKubeconfig}`, '--write-kubeconfig-mode=600',
    '--disable-agent', '--egress-selector-mode=disabled', '--bind-address=127.0.0.1', '--node-ip=127.0.0.1'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH: `${cniBin}:${process.env.PATH}`, K3S_UPSTREAM_GLOBAL_KUBECONFIG: join(work, 'global.yaml') } },
);
let log = '';
server.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));

async function whenWritten(file: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      if (statSync(file).size > 0) return;
    } catch {
      // Not written yet.
    }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`${file} was not written; the server's log ends:\n${log.slice(-3000)}`);
    await sleep(50);
  }
}

/** Polls readyz every 50 ms (one keep-alive agent, as `wait` does); returns the first answer and the 200. */
async function pollReady(identity: ApiIdentity, deadline: number): Promise<{ first: ReadyzAnswer; ready: ReadyzAnswer; polls: number }> {
  const agent = agentFor(identity, true);
  let first: ReadyzAnswer | undefined;
  for (let polls = 1; ; polls++) {
    const answer = await readyz(identity, agent);
    first ??= answer;
    if (answer.status === 200) {
      agent.destroy();
      return { first, ready: answer, polls };
    }
    if (Date.now() > deadline) throw new Error(`no 200 from /readyz; last answer ${JSON.stringify(answer)}; the server's log ends:\n${log.slice(-3000)}`);
    await sleep(50);
  }
}

async function once(identity: ApiIdentity): Promise<ReadyzAnswer> {
  const agent = agentFor(identity, false);
  try {
    return await readyz(identity, agent);
  } finally {
    agent.destroy();
  }
}

/** What the observer prints (one JSON line); `error` alone (with serverExit) when it could not get that far. */
export interface Observations {
  error?: string;
  server: string;
  identityFields: string[];
  cacheMode: string;
  cacheReused: boolean;
  firstAnswer: ReadyzAnswer;
  ready: ReadyzAnswer;
  wrongCa: ReadyzAnswer;
  foreignCert: ReadyzAnswer;
  publishedServer: string;
  published: ReadyzAnswer;
  readyNode: string | null;
  publishedReadyNode: string | null;
  serverExit: number | null;
}

async function observe(): Promise<Omit<Observations, 'serverExit'>> {
  const deadline = Date.now() + 180_000;
  await whenWritten(adminKubeconfig, deadline);
  const cacheFile = join(work, 'identity.json');
  const identity = await loadIdentity({ kubeconfig: adminKubeconfig, cacheFile });
  const polled = await pollReady(identity, deadline);
  const cached = await loadIdentity({ kubeconfig: adminKubeconfig, cacheFile });
  const tls = join(dataDir, 'server', 'tls');
  // Trusting the client CA instead of the server CA: the server's certificate does not chain to it.
  const wrongCa = await once({ ...identity, ca: readFileSync(join(tls, 'client-ca.crt'), 'utf8') });
  // A client certificate the client CA did not sign (the apiserver's serving cert): authentication fails.
  const foreignCert = await once({ ...identity, cert: readFileSync(join(tls, 'serving-kube-apiserver.crt'), 'utf8'), key: readFileSync(join(tls, 'serving-kube-apiserver.key'), 'utf8') });
  // What publish writes for a user: the k3s-sandbox entries merged into a kubeconfig with another context.
  const userKubeconfig = join(work, 'user-config');
  const otherUser = 'apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: "https://192.0.2.1:6443"}}]\nusers: [{name: other, user: {token-file: /nonexistent/token}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n';
  writeFileSync(userKubeconfig, mergeSandboxContext(otherUser, sandboxEntriesFrom(readFileSync(adminKubeconfig, 'utf8'), adminKubeconfig)), { mode: 0o600 });
  const published = await loadIdentity({ kubeconfig: userKubeconfig, context: SANDBOX_NAME });
  return {
    server: identity.server,
    identityFields: Object.keys(identity).sort(),
    cacheMode: (statSync(cacheFile).mode & 0o777).toString(8),
    cacheReused: JSON.stringify(cached) === JSON.stringify(identity),
    firstAnswer: polled.first,
    ready: polled.ready,
    wrongCa,
    foreignCert,
    publishedServer: published.server,
    published: await once(published),
    readyNode: (await readyNodeName({ kubeconfig: adminKubeconfig })) ?? null,
    publishedReadyNode: (await readyNodeName({ kubeconfig: userKubeconfig, context: SANDBOX_NAME })) ?? null,
  };
}

let result: Partial<Observations>;
try {
  result = await observe();
} catch (error) {
  result = { error: (error as Error).message };
}
server.kill('SIGTERM');
const exit = await new Promise<number | null>((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.once('exit', (code) => resolve(code))));
process.stdout.write(JSON.stringify({ ...result, serverExit: exit }) + '\n');
