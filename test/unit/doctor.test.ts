// doctor prints the plan `up` would make, from the same facts: no contradiction between its mode list and its verdict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { doctorReport } from '../../src/commands/doctor.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import type { ProbeFacts } from '../../src/context.js';
import { resolvePaths } from '../../src/paths.js';
import { planFor } from '../../src/steps/plan.js';
import { gvisorFacts, privilegedDockerFacts } from './helpers/probeFacts.js';

const paths = resolvePaths(DEFAULT_CONFIG);

test('doctor: what up would run is the plan itself, remedy for remedy', () => {
  const facts = gvisorFacts();
  const { lines, runnable } = doctorReport(facts, { ...DEFAULT_CONFIG }, paths);
  const plan = planFor(facts, { ...DEFAULT_CONFIG }, paths);
  assert.deepEqual(runnable, ['sandboxed-node', 'control-plane']);
  const verdict = lines.findIndex((line) => line.startsWith('up would run: '));
  assert.equal(lines[verdict], `up would run: mode control-plane (auto); ${plan.limits}`);
  assert.equal(lines[verdict + 1], `  k3s ${plan.k3sArgs.join(' ')}`);
  assert.deepEqual(lines.slice(verdict + 2, verdict + 2 + plan.remedies.length), plan.remedies.map((r) => `  ${r.remedy}: ${r.reason}`));
});

test('doctor: with no k3s every mode is blocked and up would fail with the same blocker, never "would run"', () => {
  const base = privilegedDockerFacts();
  const facts: ProbeFacts = { ...base, programs: { ...base.programs, k3s: { path: '/nowhere/k3s', executable: false } } };
  const { lines, runnable } = doctorReport(facts, { ...DEFAULT_CONFIG }, paths);
  assert.deepEqual(runnable, []);
  assert.ok(!lines.some((line) => line.startsWith('up would run')), lines.join('\n'));
  assert.ok(lines.includes('up would fail: /nowhere/k3s is missing or not executable: install k3s (install.sh does), or point K3S_SANDBOX_K3S at the binary'), lines.join('\n'));
});

test('doctor: a data dir root cannot write blocks every mode, and up would fail naming it', () => {
  const base = gvisorFacts();
  const facts: ProbeFacts = { ...base, dataDir: { ...base.dataDir, writable: false, existingAncestor: '/var/lib/rancher' } };
  const { lines, runnable } = doctorReport(facts, { ...DEFAULT_CONFIG }, paths);
  assert.deepEqual(runnable, []);
  assert.ok(lines.some((line) => /^up would fail: no mode can run in this sandbox:\n {2}- the data dir \/var\/lib\/rancher\/k3s cannot be created or written/.test(line)), lines.join('\n'));
});

// Issue 13: only root mounts, so as another user the mount probe does not run and the fakes choice is unknown.
test('doctor as non-root: the /proc/sys fakes a root up would use are unknown, said plainly instead of the interceptor; fakes=mount is not called impossible', () => {
  const nonRoot: ProbeFacts = { ...gvisorFacts(), uid: 1000, mounts: { tested: false, tmpfs: false, overlay: false, bind: false, namespacesIsolate: false, reason: 'not tested: the mount probe needs root' } };
  const unknown = /^ {2,6}\/proc\/sys fakes: unknown as uid 1000: the mount probe needs root, so whether a root `up` mounts the \/proc\/sys fakes or runs the interceptor is not known here; `sudo k3s-sandbox doctor` tells$/;
  for (const fakes of ['auto', 'mount'] as const) {
    const { lines, runnable } = doctorReport(nonRoot, { ...DEFAULT_CONFIG, mode: 'sandboxed-node', fakes }, paths);
    assert.ok(runnable.includes('sandboxed-node'), `${fakes}:\n${lines.join('\n')}`);
    assert.ok(lines.includes('  ✓ sandboxed-node'), lines.join('\n'));
    assert.equal(lines.filter((line) => unknown.test(line)).length, fakes === 'auto' ? 2 : 1, lines.join('\n'));
    assert.ok(!lines.some((line) => /interceptor serves|up would fail/.test(line)), lines.join('\n'));
    if (fakes === 'mount') assert.ok(lines.some((line) => /^up: unknown as uid 1000: it fails as below unless root can mount the \/proc\/sys fakes/.test(line)), lines.join('\n'));
  }
  const root = doctorReport(gvisorFacts(), { ...DEFAULT_CONFIG, mode: 'sandboxed-node' }, paths);
  assert.ok(!root.lines.some((line) => unknown.test(line)), 'as root the choice is known');
});

test("doctor: one line says whether kube-proxy's iptables rules can be held here: no with what is missing, unknown, or not tested", () => {
  const line = (kubeProxyIptables: ProbeFacts['kubeProxyIptables']) =>
    doctorReport({ ...gvisorFacts(), kubeProxyIptables }, { ...DEFAULT_CONFIG }, paths).lines.filter((l) => l.includes("kube-proxy's iptables rules:"));
  assert.deepEqual(line({ tested: true, holds: false, reason: '-m comment: iptables: Invalid argument' }), ["  kube-proxy's iptables rules: no (-m comment: iptables: Invalid argument)"]);
  assert.deepEqual(line({ tested: true, holds: true, reason: 'all work' }), ["  kube-proxy's iptables rules: yes (all work)"]);
  assert.deepEqual(line({ tested: true, holds: null, reason: 'unknown: the test needs root (unshare -n)' }), ["  kube-proxy's iptables rules: unknown: the test needs root (unshare -n)"]);
  assert.deepEqual(line(gvisorFacts().kubeProxyIptables), ["  kube-proxy's iptables rules: not tested: iptables-legacy with CAP_NET_RAW is needed first"]);
});
