/**
 * client-node (src/kube/) against the real kube-apiserver: the upstream-assembled k3s (build/fixtures/k3s-upstream)
 * runs natively in a private network and mount namespace (so its ports never meet the machine's), and
 * helpers/realServerObservations.ts, inside the same namespace, uses readiness.ts and kubeconfig.ts on the kubeconfig it
 * writes: identity from the kubeconfig and its cache, /readyz with our own client certificate, the CA check, the
 * published user kubeconfig, and client-node's CoreV1Api.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observations } from './helpers/realServerObservations.js';
import { REPO } from './helpers/repo.js';

const K3S = join(REPO, 'build', 'fixtures', 'k3s-upstream');
const OBSERVER = join(REPO, 'test', 'unit', 'helpers', 'realServerObservations.ts');

test('client-node against the real API server: identity, cert-authenticated /readyz, CA check, published kubeconfig, CoreV1Api', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a private network namespace (unshare --net)');
  assert.ok(existsSync(K3S), `missing ${K3S}: run test/fixtures/k3s-upstream/build.sh`);
  const work = mkdtempSync(join(tmpdir(), 'k3s-sandbox-real-server-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const run = spawnSync(
    'unshare',
    ['--net', '--mount', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', OBSERVER, K3S, work],
    { cwd: REPO, encoding: 'utf8', timeout: 240_000 },
  );
  assert.equal(run.status, 0, `the observer failed:\n${run.stdout}\n${run.stderr}`);
  const seen = JSON.parse(run.stdout.trim().split('\n').pop()!) as Observations;
  assert.equal(seen.error, undefined, seen.error);

  assert.equal(seen.server, 'https://127.0.0.1:6443');
  assert.deepEqual(seen.identityFields, ['ca', 'cert', 'key', 'server', 'source', 'stamp']);
  assert.equal(seen.cacheMode, '600');
  assert.ok(seen.cacheReused, 'the second loadIdentity reads the cache');
  // Before the API answers: no status (refused) or the apiserver's own not-ready 500, never a TLS mismatch.
  assert.ok(seen.firstAnswer.status === undefined || seen.firstAnswer.status === 500, JSON.stringify(seen.firstAnswer));
  assert.notEqual(seen.firstAnswer.notOurServer, true);
  assert.deepEqual(seen.ready, { status: 200, body: 'ok' });
  assert.equal(seen.wrongCa.notOurServer, true, JSON.stringify(seen.wrongCa));
  assert.equal(seen.wrongCa.status, undefined);
  // The apiserver rejects a client certificate its client CA did not sign (k3s runs it with --anonymous-auth=false).
  assert.equal(seen.foreignCert.status, 401, JSON.stringify(seen.foreignCert));
  assert.equal(seen.publishedServer, 'https://127.0.0.1:6443');
  assert.deepEqual(seen.published, { status: 200, body: 'ok' });
  assert.equal(seen.readyNode, null, 'control-plane mode has no node');
  assert.equal(seen.publishedReadyNode, null);
  assert.equal(seen.serverExit, 0, 'SIGTERM stops the server cleanly');
});
