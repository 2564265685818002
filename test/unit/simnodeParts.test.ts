import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpPool } from '../../src/simnode/ipPool.js';
import { hostFacts, leaseManifest, microTime, nodeManifest, nodeStatus, validNodeName } from '../../src/simnode/node.js';
import { settingsFrom } from '../../src/simnode/index.js';
import { WorkQueue } from '../../src/simnode/workQueue.js';
import { ConfigError } from '../../src/config.js';

/** The simulated node's building blocks: the pod IP pool, the Node and Lease bodies, the work queue, the flags. */

test('IpPool: unique addresses from 10.42.0.2, stable per UID, reused after release', () => {
  const pool = new IpPool();
  assert.equal(pool.allocate('a'), '10.42.0.2');
  assert.equal(pool.allocate('b'), '10.42.0.3');
  assert.equal(pool.allocate('a'), '10.42.0.2', 'same pod, same address');
  pool.release('a');
  assert.equal(pool.size, 1);
  assert.equal(pool.allocate('c'), '10.42.0.4', 'next-fit: a released address is not handed out again at once');
});

test('IpPool: reserved addresses (from a fresh list after a restart) are skipped', () => {
  const pool = new IpPool();
  pool.reserve('old', '10.42.0.2');
  pool.reserve('elsewhere', '192.168.1.1');
  pool.reserve('dup', '10.42.0.2');
  assert.equal(pool.size, 1);
  assert.equal(pool.allocate('new'), '10.42.0.3');
  assert.equal(pool.allocate('dup'), '10.42.0.4', 'a pod whose address was taken gets a fresh one');
});

test('IpPool: a full range says so; the pool wraps around to released addresses', () => {
  const pool = new IpPool('10.0.0.0/30');
  assert.equal(pool.allocate('a'), '10.0.0.2');
  assert.throws(() => pool.allocate('b'), /no free pod IP left in 10\.0\.0\.0\/30/);
  pool.release('a');
  assert.equal(pool.allocate('b'), '10.0.0.2');
});

test('IpPool: 1000 pods get 1000 distinct addresses', () => {
  const pool = new IpPool();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(pool.allocate(`uid-${i}`));
  assert.equal(seen.size, 1000);
});

for (const bad of ['10.42.0.0', '10.42.0.0/33', 'ten/16', '10.42.0.0/4']) {
  test(`IpPool: ${JSON.stringify(bad)} is refused with a clear error`, () => {
    assert.throws(() => new IpPool(bad), /is not an IPv4 CIDR with a prefix from \/8 to \/30/);
  });
}

const nameTable: Array<[string, boolean]> = [
  ['k3s-sandbox-simulated', true],
  ['node.example.com', true],
  ['a', true],
  ['Upper', false],
  ['-lead', false],
  ['trail-', false],
  ['under_score', false],
  ['', false],
  ['x'.repeat(254), false],
];
for (const [name, valid] of nameTable) {
  test(`validNodeName(${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)}) → ${valid}`, () => assert.equal(validNodeName(name), valid));
}

test('nodeManifest: labelled and annotated as simulated, Ready, no taint, host figures in capacity and allocatable', () => {
  const facts = { ...hostFacts('sim', 110, 'v1.36.3', 10 * 2 ** 30), cpus: 2, memoryBytes: 24 * 2 ** 30 };
  const node = nodeManifest(facts, new Date('2025-01-02T03:04:05.678Z')) as {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: Record<string, unknown>;
    status: { capacity: Record<string, string>; allocatable: Record<string, string>; conditions: Array<Record<string, string>>; addresses: unknown; daemonEndpoints: unknown; nodeInfo: Record<string, string> };
  };
  assert.equal(node.metadata.labels['k3s-sandbox.io/simulated'], 'true');
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'sim');
  assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
  assert.match(node.metadata.annotations['k3s-sandbox.io/simulated'] ?? '', /no container runs/);
  assert.deepEqual(node.spec, {}, 'no taints, not unschedulable');
  assert.deepEqual(node.status.capacity, { cpu: '2', memory: `${24 * 2 ** 20}Ki`, pods: '110', 'ephemeral-storage': `${10 * 2 ** 20}Ki` });
  assert.deepEqual(node.status.allocatable, node.status.capacity);
  const ready = node.status.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.lastHeartbeatTime, '2025-01-02T03:04:05Z');
  assert.ok(node.status.conditions.filter((c) => c.type !== 'Ready').every((c) => c.status === 'False'));
  assert.deepEqual(node.status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }]);
  assert.deepEqual(node.status.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.36.3');
  assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
});

test('nodeStatus: without a filesystem size there is no ephemeral-storage; the transition time is kept', () => {
  const status = nodeStatus(hostFacts('sim', 5, 'v1'), new Date('2025-01-02T00:00:10Z'), new Date('2025-01-02T00:00:00Z')) as {
    capacity: Record<string, string>;
    conditions: Array<Record<string, string>>;
  };
  assert.equal(status.capacity['ephemeral-storage'], undefined);
  assert.equal(status.capacity.pods, '5');
  assert.ok(status.conditions.every((c) => c.lastHeartbeatTime === '2025-01-02T00:00:10Z' && c.lastTransitionTime === '2025-01-02T00:00:00Z'));
});

test('leaseManifest: in kube-node-lease, held by and owned by the node, 40 s, MicroTime renewTime', () => {
  const lease = leaseManifest('sim', 'node-uid', new Date('2025-01-02T03:04:05.678Z')) as {
    metadata: { namespace: string; ownerReferences: unknown };
    spec: Record<string, unknown>;
  };
  assert.equal(lease.metadata.namespace, 'kube-node-lease');
  assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'sim', uid: 'node-uid' }]);
  assert.deepEqual(lease.spec, { holderIdentity: 'sim', leaseDurationSeconds: 40, renewTime: '2025-01-02T03:04:05.678000Z' });
  assert.equal(microTime(new Date('2025-01-02T03:04:05.000Z')), '2025-01-02T03:04:05.000000Z');
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('WorkQueue: a key added many times while waiting is handled once', async () => {
  const handled: string[] = [];
  const queue = new WorkQueue({ concurrency: 4, handle: async (key) => void handled.push(key) });
  for (let i = 0; i < 5; i++) queue.add('a');
  queue.add('b');
  await queue.idle();
  assert.deepEqual(handled, ['a', 'b']);
});

test('WorkQueue: a key added while being handled is handled again afterwards, never twice at once', async () => {
  const gate = deferred();
  let concurrentA = 0;
  let maxConcurrentA = 0;
  let runs = 0;
  const queue = new WorkQueue({
    concurrency: 4,
    handle: async () => {
      runs += 1;
      concurrentA += 1;
      maxConcurrentA = Math.max(maxConcurrentA, concurrentA);
      if (runs === 1) await gate.promise;
      concurrentA -= 1;
    },
  });
  queue.add('a');
  await new Promise((resolve) => setImmediate(resolve));
  queue.add('a');
  queue.add('a');
  gate.resolve();
  await queue.idle();
  assert.equal(runs, 2);
  assert.equal(maxConcurrentA, 1);
});

test('WorkQueue: at most `concurrency` handlers run at once', async () => {
  let inFlight = 0;
  let peak = 0;
  const queue = new WorkQueue({
    concurrency: 3,
    handle: async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
    },
  });
  for (let i = 0; i < 50; i++) queue.add(`k${i}`);
  await queue.idle();
  assert.equal(peak, 3);
});

test('WorkQueue: a failing handler is retried with backoff and reported', async () => {
  const errors: number[] = [];
  let attempts = 0;
  const done = deferred();
  const queue = new WorkQueue({
    concurrency: 1,
    baseRetryMs: 5,
    handle: async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('conflict');
      done.resolve();
    },
    onError: (_key, _error, retryInMs) => errors.push(retryInMs),
  });
  queue.add('x');
  await done.promise;
  assert.equal(attempts, 3);
  assert.deepEqual(errors, [5, 10]);
});

test('WorkQueue: drain waits for handlers in flight and drops waiting and delayed keys', async () => {
  const gate = deferred();
  const handled: string[] = [];
  const queue = new WorkQueue({
    concurrency: 1,
    handle: async (key) => {
      if (key === 'slow') await gate.promise;
      handled.push(key);
    },
  });
  queue.add('slow');
  queue.add('waiting');
  queue.addAfter('later', 10);
  await new Promise((resolve) => setImmediate(resolve));
  const drained = queue.drain();
  gate.resolve();
  await drained;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(handled, ['slow']);
});

test('WorkQueue: concurrency must be a positive integer', () => {
  assert.throws(() => new WorkQueue({ concurrency: 0, handle: async () => {} }), /positive integer, not 0/);
});

test('settingsFrom: defaults, KUBECONFIG fallback, and clear errors naming the flag', () => {
  const kubeconfig = new URL(import.meta.url).pathname;
  assert.deepEqual(settingsFrom({ kubeconfig }, {}), { kubeconfig, nodeName: 'k3s-sandbox-simulated', maxPods: 110 });
  assert.deepEqual(settingsFrom({ nodeName: 'n1', maxPods: '2000' }, { KUBECONFIG: kubeconfig }), { kubeconfig, nodeName: 'n1', maxPods: 2000 });
  assert.throws(() => settingsFrom({}, {}), (error: unknown) => error instanceof ConfigError && /--kubeconfig FILE/.test(error.message));
  // `up --no-wait` starts the controller before k3s writes its kubeconfig: runSimulateNode waits for the file.
  assert.deepEqual(settingsFrom({ kubeconfig: '/nonexistent/kc' }, {}), { kubeconfig: '/nonexistent/kc', nodeName: 'k3s-sandbox-simulated', maxPods: 110 });
  assert.throws(() => settingsFrom({ kubeconfig, nodeName: 'Bad_Name' }, {}), /--node-name "Bad_Name": a node name is lowercase/);
  for (const maxPods of ['0', '-1', '1.5', 'many', '70000']) {
    assert.throws(() => settingsFrom({ kubeconfig, maxPods }, {}), /--max-pods .*: a whole number from 1 to 65000/, maxPods);
  }
});

test('trimToView keeps what the decisions and the informer read, and decides as the whole pod did', async () => {
  const { trimToView, nextAction, runningStatus } = await import('../../src/simnode/podStatus.js');
  const whole = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'hook', namespace: 'ns', uid: 'u1', resourceVersion: '42', labels: { app: 'x' },
      annotations: { 'helm.sh/hook': 'post-install', 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(1000) },
      ownerReferences: [{ kind: 'Job', apiVersion: 'batch/v1', name: 'j', uid: 'j1', controller: true }],
      managedFields: [{ manager: 'kube-controller-manager' }],
    },
    spec: {
      nodeName: 'n', restartPolicy: 'Never', hostNetwork: false, tolerations: [{ key: 'k' }], volumes: [{ name: 'v' }],
      containers: [{ name: 'c', image: 'i', env: [{ name: 'E', value: 'v' }] }],
      initContainers: [{ name: 'init', image: 'i', restartPolicy: 'Always', command: ['x'] }],
      readinessGates: [{ conditionType: 'example.com/gate' }],
    },
    status: { phase: 'Running', podIP: '10.42.0.9', startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Ready' }], containerStatuses: [{ name: 'c', state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, imageID: 'x' }] },
  });
  const pod = whole();
  trimToView(pod);
  assert.deepEqual(Object.keys(pod).sort(), ['metadata', 'spec', 'status']);
  assert.deepEqual(pod.metadata, {
    name: 'hook', namespace: 'ns', uid: 'u1', resourceVersion: '42', deletionTimestamp: undefined,
    annotations: { 'helm.sh/hook': 'post-install' }, ownerReferences: [{ kind: 'Job', apiVersion: 'batch/v1' }],
  });
  assert.deepEqual(pod.spec.containers, [{ name: 'c', image: 'i' }]);
  assert.deepEqual(pod.spec.initContainers, [{ name: 'init', image: 'i', restartPolicy: 'Always' }]);
  assert.equal((pod.spec as Record<string, unknown>).tolerations, undefined);
  assert.deepEqual(nextAction(pod, 1000), nextAction(whole(), 1000));
  const at = { now: '2026-01-01T00:00:01Z', hostIP: '127.0.0.1', podIP: '10.42.0.9' };
  assert.deepEqual(runningStatus(pod, at), runningStatus(whole(), at));
});
