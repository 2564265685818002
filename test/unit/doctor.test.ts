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
