import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAction, runningStatus, runsToCompletion, succeededStatus, type PodView } from '../../src/simnode/podStatus.js';

/** Pure decisions of the simulated node: which stage a pod is in next, and the status it reports (kwok's fast stages). */

const NOW = '2025-01-02T03:04:05Z';
const START_MS = Date.parse('2025-01-02T03:04:00Z');

function pod(overrides: { metadata?: PodView['metadata']; spec?: Partial<NonNullable<PodView['spec']>>; status?: PodView['status'] } = {}): PodView {
  return {
    metadata: { name: 'web-1', namespace: 'default', uid: 'uid-1', ...overrides.metadata },
    spec: { nodeName: 'k3s-sandbox-simulated', containers: [{ name: 'app', image: 'nginx:1.27' }], ...overrides.spec },
    status: overrides.status ?? { phase: 'Pending' },
  };
}

const jobOwner = [{ kind: 'Job', apiVersion: 'batch/v1' }];
const running = { phase: 'Running', podIP: '10.42.0.2', startTime: '2025-01-02T03:04:00Z' };

const actionTable: Array<{ name: string; pod: PodView; expected: ReturnType<typeof nextAction> }> = [
  { name: 'a freshly bound pod starts', pod: pod(), expected: { kind: 'start' } },
  { name: 'a pod with no status at all starts', pod: { ...pod(), status: undefined }, expected: { kind: 'start' } },
  { name: 'a Running pod without a podIP starts (kwok: pod-ready selects on podIP)', pod: pod({ status: { phase: 'Running' } }), expected: { kind: 'start' } },
  { name: 'a Running Deployment pod stays', pod: pod({ status: running }), expected: { kind: 'none' } },
  { name: 'a pod marked for deletion is deleted', pod: pod({ metadata: { deletionTimestamp: NOW }, status: running }), expected: { kind: 'delete' } },
  { name: 'a Pending pod marked for deletion is deleted, not started', pod: pod({ metadata: { deletionTimestamp: new Date(NOW) } }), expected: { kind: 'delete' } },
  { name: 'a Succeeded pod stays', pod: pod({ metadata: { ownerReferences: jobOwner }, status: { ...running, phase: 'Succeeded' } }), expected: { kind: 'none' } },
  { name: 'a Failed pod stays', pod: pod({ status: { ...running, phase: 'Failed' } }), expected: { kind: 'none' } },
  {
    name: 'a Running Job pod completes one delay after it started',
    pod: pod({ metadata: { ownerReferences: jobOwner }, spec: { restartPolicy: 'Never' }, status: running }),
    expected: { kind: 'complete', dueAt: START_MS + 1000 },
  },
  {
    name: 'the start time may come as a Date (typed list)',
    pod: pod({ metadata: { ownerReferences: jobOwner }, spec: { restartPolicy: 'OnFailure' }, status: { ...running, startTime: new Date(START_MS) } }),
    expected: { kind: 'complete', dueAt: START_MS + 1000 },
  },
  { name: 'a Pending Job pod starts first', pod: pod({ metadata: { ownerReferences: jobOwner } }), expected: { kind: 'start' } },
];

for (const row of actionTable) {
  test(`nextAction: ${row.name}`, () => assert.deepEqual(nextAction(row.pod), row.expected));
}

test('nextAction: the completion delay is a parameter', () => {
  const jobPod = pod({ metadata: { ownerReferences: jobOwner }, status: running });
  assert.deepEqual(nextAction(jobPod, 0), { kind: 'complete', dueAt: START_MS });
});

const completionTable: Array<{ name: string; pod: PodView; expected: boolean }> = [
  { name: 'owned by a batch/v1 Job', pod: pod({ metadata: { ownerReferences: jobOwner } }), expected: true },
  { name: 'owned by a ReplicaSet', pod: pod({ metadata: { ownerReferences: [{ kind: 'ReplicaSet', apiVersion: 'apps/v1' }] } }), expected: false },
  { name: 'owned by some other group\'s kind called Job', pod: pod({ metadata: { ownerReferences: [{ kind: 'Job', apiVersion: 'example.com/v1' }] } }), expected: false },
  { name: 'a bare pod with restartPolicy Never', pod: pod({ spec: { restartPolicy: 'Never' } }), expected: false },
  { name: 'a Helm hook Pod with restartPolicy Never', pod: pod({ metadata: { annotations: { 'helm.sh/hook': 'test' } }, spec: { restartPolicy: 'Never' } }), expected: true },
  { name: 'a Helm hook Pod that restarts Always', pod: pod({ metadata: { annotations: { 'helm.sh/hook': 'pre-install' } }, spec: { restartPolicy: 'Always' } }), expected: false },
  { name: 'a Helm hook Pod with the default restartPolicy', pod: pod({ metadata: { annotations: { 'helm.sh/hook': 'pre-install' } } }), expected: false },
];

for (const row of completionTable) {
  test(`runsToCompletion: ${row.name} → ${row.expected}`, () => assert.equal(runsToCompletion(row.pod), row.expected));
}

test('runningStatus: Running, every condition True, containers running and ready, the given IPs', () => {
  const status = runningStatus(pod({ spec: { readinessGates: [{ conditionType: 'example.com/lb' }] } }), { now: NOW, hostIP: '127.0.0.1', podIP: '10.42.0.7' });
  assert.equal(status.phase, 'Running');
  assert.equal(status.startTime, NOW);
  assert.equal(status.podIP, '10.42.0.7');
  assert.deepEqual(status.podIPs, [{ ip: '10.42.0.7' }]);
  assert.equal(status.hostIP, '127.0.0.1');
  assert.deepEqual(status.hostIPs, [{ ip: '127.0.0.1' }]);
  const conditions = status.conditions as Array<{ type: string; status: string; lastTransitionTime: string }>;
  assert.deepEqual(
    conditions.map((c) => `${c.type}=${c.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True', 'example.com/lb=True'],
  );
  assert.ok(conditions.every((c) => c.lastTransitionTime === NOW));
  const [app] = status.containerStatuses as Array<Record<string, unknown>>;
  assert.equal(app?.name, 'app');
  assert.equal(app?.image, 'nginx:1.27');
  assert.equal(app?.ready, true);
  assert.equal(app?.started, true);
  assert.equal(app?.restartCount, 0);
  assert.deepEqual(app?.state, { running: { startedAt: NOW } });
  assert.match(String(app?.containerID), /^simulated:\/\/[0-9a-f]{64}$/);
  assert.equal(app?.imageID, 'simulated://nginx:1.27');
  assert.deepEqual(status.initContainerStatuses, []);
});

test('runningStatus: init containers terminated with exit 0, sidecars (restartPolicy Always) running', () => {
  const withInit = pod({
    spec: {
      initContainers: [
        { name: 'migrate', image: 'tool:1' },
        { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always' },
      ],
    },
  });
  const status = runningStatus(withInit, { now: NOW, hostIP: '127.0.0.1', podIP: '10.42.0.8' });
  const [migrate, proxy] = status.initContainerStatuses as Array<Record<string, unknown>>;
  assert.deepEqual(migrate?.state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: NOW, finishedAt: NOW } });
  assert.equal(migrate?.ready, true);
  assert.equal(migrate?.started, false);
  assert.deepEqual(proxy?.state, { running: { startedAt: NOW } });
  assert.equal(proxy?.started, true);
});

test('runningStatus: container IDs are stable per pod and container, and differ between them', () => {
  const facts = { now: NOW, hostIP: '127.0.0.1', podIP: '10.42.0.9' };
  const first = runningStatus(pod(), facts).containerStatuses as Array<{ containerID: string }>;
  const again = runningStatus(pod(), facts).containerStatuses as Array<{ containerID: string }>;
  const other = runningStatus(pod({ metadata: { uid: 'uid-2' } }), facts).containerStatuses as Array<{ containerID: string }>;
  assert.equal(first[0]?.containerID, again[0]?.containerID);
  assert.notEqual(first[0]?.containerID, other[0]?.containerID);
});

test('succeededStatus: Succeeded, containers terminated exit 0 Completed from their start time, Ready False', () => {
  const jobPod = pod({
    metadata: { ownerReferences: jobOwner },
    spec: { restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'tool:1' }] },
    status: { ...running, containerStatuses: [{ name: 'app', state: { running: { startedAt: '2025-01-02T03:04:01Z' } } }] },
  });
  const status = succeededStatus(jobPod, NOW);
  assert.equal(status.phase, 'Succeeded');
  const [app] = status.containerStatuses as Array<Record<string, unknown>>;
  assert.deepEqual(app?.state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2025-01-02T03:04:01Z', finishedAt: NOW } });
  assert.equal(app?.ready, false);
  assert.equal(app?.started, false);
  const [setup] = status.initContainerStatuses as Array<Record<string, unknown>>;
  assert.equal((setup?.state as { terminated: { startedAt: string } }).terminated.startedAt, '2025-01-02T03:04:00Z', 'falls back to the pod start time');
  assert.equal(setup?.ready, true);
  const conditions = status.conditions as Array<{ type: string; status: string; reason?: string }>;
  assert.deepEqual(
    conditions.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`),
    ['PodReadyToStartContainers=False/', 'Initialized=True/PodCompleted', 'Ready=False/PodCompleted', 'ContainersReady=False/PodCompleted'],
  );
});
