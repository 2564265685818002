import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errnoCode, outcomeOfFailure, parseUpResult, renderHookOutput, type Export, type Outcome } from '../../src/commands/sessionContext.js';
import type { StatusReport } from '../../src/commands/status.js';
import type { UpReport } from '../../src/steps/report.js';

const CONTROL_PLANE_LIMITS = 'the API, CRDs, RBAC, server-side dry-run and Helm template/dry-run work; pods are never scheduled (there is no node)';

const READY: UpReport = {
  ok: true,
  state: 'ready',
  foundReady: false,
  mode: 'control-plane',
  gvisor: true,
  secondsUntilReady: 1.84,
  kubeconfig: '/root/.kube/config',
  user: 'root',
  supervisorPid: 109,
  fallbacks: [],
  limits: CONTROL_PLANE_LIMITS,
  log: '/var/log/k3s-sandbox/k3s.log',
  changed: [],
};

const EXPORTED: Export = { kubeconfig: '/root/.kube/config' };

function additionalContext(outcome: Outcome, exported: Export): string {
  const parsed = JSON.parse(renderHookOutput(outcome, exported, 'claude'));
  assert.deepEqual(Object.keys(parsed), ['hookSpecificOutput']);
  assert.equal(parsed.hookSpecificOutput.hookEventName, 'SessionStart');
  return parsed.hookSpecificOutput.additionalContext;
}

const CLAUDE_TABLE: { name: string; outcome: Outcome; exported: Export; lines: RegExp[] }[] = [
  {
    name: 'ready: mode, gVisor, what works, the exported path',
    outcome: { kind: 'ready', report: READY },
    exported: EXPORTED,
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is ready \(started in 1\.8s\), mode control-plane \(under gVisor\)\.$/,
      /^What works in this mode: the API, CRDs, RBAC, .* pods are never scheduled \(there is no node\)\.$/,
      /^KUBECONFIG=\/root\/\.kube\/config is exported for Bash commands, so kubectl uses it\.$/,
      /^`k3s-sandbox status`, `k3s-sandbox logs` and `k3s-sandbox doctor` show its state and explain failures\.$/,
    ],
  },
  {
    name: 'ready after a fallback, already running, export failed',
    outcome: { kind: 'ready', report: { ...READY, gvisor: false, foundReady: true, fallbacks: [{ from: 'server', reason: 'kubelet died' }] } },
    exported: { kubeconfig: '/root/.kube/config', problem: 'CLAUDE_ENV_FILE=/nowhere/env: ENOENT' },
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is running, mode control-plane \(after falling back from server: kubelet died\)\.$/,
      /^What works in this mode: /,
      /^KUBECONFIG could not be exported for Bash commands \(CLAUDE_ENV_FILE=\/nowhere\/env: ENOENT\): prefix commands with `export KUBECONFIG=\/root\/\.kube\/config;`\.$/,
      /^`k3s-sandbox status`/,
    ],
  },
  {
    name: 'wait timed out but k3s runs: still exported, and how to wait again',
    outcome: { kind: 'not-ready', error: 'waited 1 s for k3s to answer /readyz with 200; k3s is left running', mode: 'control-plane', limits: CONTROL_PLANE_LIMITS },
    exported: { kubeconfig: '/run/k3s-sandbox/k3s.yaml' },
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is running, but `k3s-sandbox up` did not finish: waited 1 s for k3s to answer \/readyz with 200; k3s is left running$/,
      /^k3s is left running in mode control-plane; `k3s-sandbox up --wait` waits for it again\.$/,
      /^What works in this mode: /,
      /^KUBECONFIG=\/run\/k3s-sandbox\/k3s\.yaml is exported/,
      /^`k3s-sandbox status`/,
    ],
  },
  {
    name: 'wait timed out, a background up goes on waiting: it says so and where it logs',
    outcome: { kind: 'not-ready', error: 'waited 1 s', mode: 'control-plane', backgroundLog: '/var/log/k3s-sandbox/session-start.log' },
    exported: EXPORTED,
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is running, but `k3s-sandbox up` did not finish: waited 1 s$/,
      /^k3s is left running in mode control-plane; `k3s-sandbox up --wait` waits for it again\.$/,
      /^A background `k3s-sandbox up --wait` publishes the kubeconfig once k3s answers \(log \/var\/log\/k3s-sandbox\/session-start\.log\)\.$/,
      /^KUBECONFIG=\/root\/\.kube\/config is exported/,
      /^`k3s-sandbox status`/,
    ],
  },
  {
    name: 'started in the background (the async hook): how to wait, and the path up will publish',
    outcome: { kind: 'starting', backgroundLog: '/tmp/k3s-sandbox-session-start.log' },
    exported: EXPORTED,
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is starting in the background \(log \/tmp\/k3s-sandbox-session-start\.log\)\.$/,
      /^`k3s-sandbox up --wait` waits until it is ready, then prints its mode and what works in that mode\.$/,
      /^KUBECONFIG=\/root\/\.kube\/config is exported for Bash commands, so kubectl uses it once the cluster is ready\.$/,
    ],
  },
  {
    name: 'started in the background, export failed: the variable, the errno and the prefix to use',
    outcome: { kind: 'starting', backgroundLog: '/tmp/k3s-sandbox-session-start.log' },
    exported: { kubeconfig: '/root/.kube/config', problem: 'CLAUDE_ENV_FILE=/nowhere/env: ENOENT' },
    lines: [
      /^k3s-sandbox: a local Kubernetes cluster \(k3s\) is starting in the background/,
      /^`k3s-sandbox up --wait` waits/,
      /^KUBECONFIG could not be exported for Bash commands \(CLAUDE_ENV_FILE=\/nowhere\/env: ENOENT\): prefix commands with `export KUBECONFIG=\/root\/\.kube\/config;`\.$/,
    ],
  },
  {
    name: 'failed with nothing running: no KUBECONFIG line',
    outcome: { kind: 'failed', error: 'port 6443 is held by\n  pid 7 (nc -l 6443)' },
    exported: {},
    lines: [
      /^k3s-sandbox: no Kubernetes cluster in this session: port 6443 is held by pid 7 \(nc -l 6443\)$/,
      /^`k3s-sandbox doctor` explains what this sandbox allows and what to change; `k3s-sandbox logs` shows the k3s log\.$/,
    ],
  },
];

for (const row of CLAUDE_TABLE) {
  test(`claude format: ${row.name}`, () => {
    const lines = additionalContext(row.outcome, row.exported).split('\n');
    assert.equal(lines.length, row.lines.length, lines.join('\n'));
    row.lines.forEach((pattern, i) => assert.match(lines[i], pattern));
  });
}

test('text format: one line; a ready cluster gets up\'s own report line', () => {
  for (const row of CLAUDE_TABLE) {
    const line = renderHookOutput(row.outcome, row.exported, 'text');
    assert.doesNotMatch(line, /\n/, row.name);
    assert.match(line, /^k3s-sandbox: /, row.name);
  }
  assert.equal(
    renderHookOutput({ kind: 'ready', report: READY }, EXPORTED, 'text'),
    `k3s-sandbox: ready in 1.8s, mode control-plane (gVisor), KUBECONFIG=/root/.kube/config; ${CONTROL_PLANE_LIMITS}`,
  );
  assert.match(
    renderHookOutput({ kind: 'ready', report: READY }, { kubeconfig: '/root/.kube/config', problem: 'CLAUDE_ENV_FILE=/x: EACCES' }, 'text'),
    /; KUBECONFIG not exported \(CLAUDE_ENV_FILE=\/x: EACCES\)$/,
  );
});

test('a long error is cut so the context stays far under Claude Code\'s 10,000-character cap', () => {
  const context = additionalContext({ kind: 'failed', error: 'x'.repeat(20_000) }, {});
  assert.ok(context.length < 2000, `${context.length} characters`);
});

const PARSE_TABLE: { stdout: string; expected: ReturnType<typeof parseUpResult> }[] = [
  { stdout: `${JSON.stringify(READY)}\n`, expected: { ok: true, report: READY } },
  { stdout: `noise\n${JSON.stringify({ ok: false, error: 'waited 120 s', details: [] })}\n`, expected: { ok: false, error: 'waited 120 s' } },
  { stdout: '{"ok":false}\n', expected: { ok: false, error: 'k3s-sandbox up failed' } },
  { stdout: 'k3s-sandbox: failed: something\n', expected: undefined },
  { stdout: '{not json\n', expected: undefined },
  { stdout: '', expected: undefined },
];

for (const row of PARSE_TABLE) {
  test(`parseUpResult(${JSON.stringify(row.stdout.slice(0, 40))})`, () => {
    assert.deepEqual(parseUpResult(row.stdout), row.expected);
  });
}

function status(running: boolean): StatusReport {
  return {
    running,
    state: running ? 'running' : 'stopped',
    ready: running ? false : null,
    mode: running ? 'sandboxed-node' : null,
    supervisorPid: running ? 10 : null,
    k3sPid: running ? 11 : null,
    starts: 1,
    crashes: 0,
    lastExit: null,
    lastFatal: null,
    launchedAt: null,
    limits: running ? 'a node registers' : null,
    log: '/var/log/k3s-sandbox/k3s.log',
  };
}

test('a failed up with k3s still running is "not ready yet" in the running mode; with nothing running it is a failure', () => {
  assert.deepEqual(outcomeOfFailure('timed out', status(true)), { kind: 'not-ready', error: 'timed out', mode: 'sandboxed-node', limits: 'a node registers' });
  assert.deepEqual(outcomeOfFailure('timed out', status(false)), { kind: 'failed', error: 'timed out' });
  assert.deepEqual(outcomeOfFailure('bad config', undefined), { kind: 'failed', error: 'bad config' });
});

test('errnoCode: the errno name from the error, or from a wrapping message, else the message', () => {
  const enoent = Object.assign(new Error('open /x: no such file'), { code: 'ENOENT' });
  assert.equal(errnoCode(enoent), 'ENOENT');
  assert.equal(errnoCode(new Error("cannot update /x as root: EACCES: permission denied, open '/x'")), 'EACCES');
  assert.equal(errnoCode(new Error('disk full')), 'disk full');
});
