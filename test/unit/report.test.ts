// The report step: the one stdout line and the JSON object from an UpResult.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstanceRecord } from '../../src/instance/state.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { resolvePaths } from '../../src/paths.js';
import { planFor } from '../../src/steps/plan.js';
import { report, type UpResult } from '../../src/steps/report.js';
import { gvisorFacts } from './helpers/probeFacts.js';

function result(overrides: Partial<UpResult> = {}, record: Partial<InstanceRecord> = {}): UpResult {
  const facts = gvisorFacts();
  const plan = planFor(facts, { ...DEFAULT_CONFIG }, resolvePaths(DEFAULT_CONFIG));
  return {
    gvisor: facts.gvisor,
    instance: {
      supervisorPid: 42,
      foundReady: false,
      record: { mode: plan.mode, agent: false, k3sArgs: plan.k3sArgs, useInterceptor: false, limits: plan.limits, remedies: [], adminKubeconfig: '/run/k3s-sandbox/k3s.yaml', dataDir: '/d', logOffset: 0, launchedAt: 0, fallbacks: [], ...record },
    },
    ready: { kind: 'ready', secondsUntilReady: 1.26 },
    fallbacks: [],
    published: { user: 'root', kubeconfig: '/root/.kube/config', changed: ['/root/.kube/config'], warnings: [] },
    ...overrides,
  };
}

function capture(run: (out: { write(text: string): unknown }) => void): string {
  let text = '';
  run({ write: (chunk: string) => (text += chunk) });
  return text;
}

test('report: a fresh start is one line with the time, the mode, the kubeconfig and the limits', () => {
  const line = capture((out) => report(result(), { json: false, logFile: '/var/log/k3s-sandbox/k3s.log' }, out));
  assert.match(line, /^k3s-sandbox: ready in 1\.3s, mode control-plane \(gVisor\), KUBECONFIG=\/root\/\.kube\/config; the API, CRDs/);
  assert.equal(line.split('\n').length, 2);
});

test('report: a kept instance says already running, and its earlier fallbacks come from its record', () => {
  const base = result({}, { fallbacks: [{ from: 'server', reason: 'kubelet died' }] });
  const kept = { ...base, instance: { ...base.instance, foundReady: true } };
  const line = capture((out) => report(kept, { json: false, logFile: '/l' }, out));
  assert.match(line, /^k3s-sandbox: already running, mode control-plane \(gVisor; fell back from server: kubelet died\)/);
});

test('report: --no-wait says starting and where the log is; --json is one object with the warnings', () => {
  const starting = capture((out) => report(result({ ready: undefined, published: undefined }), { json: false, logFile: '/l/k3s.log' }, out));
  assert.match(starting, /^k3s-sandbox: starting \(not waited for\), mode control-plane \(gVisor\), log \/l\/k3s\.log;/);
  const warned = result({ published: { user: 'root', kubeconfig: '/run/k3s-sandbox/k3s.yaml', changed: [], warnings: ['CLAUDE_ENV_FILE=/x: ENOENT'] } });
  const json = JSON.parse(capture((out) => report(warned, { json: true, logFile: '/l' }, out)));
  assert.equal(json.ok, true);
  assert.equal(json.state, 'ready');
  assert.equal(json.supervisorPid, 42);
  assert.equal(json.kubeconfig, '/run/k3s-sandbox/k3s.yaml');
  assert.deepEqual(json.warnings, ['CLAUDE_ENV_FILE=/x: ENOENT']);
});
