import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devicesController, podVerdict, probePodRuntime, type PodRuntimeCheck } from '../../src/probe/podRuntime.js';
import { runInGvisor } from './helpers/gvisor.js';

const CGROUPS_V1 = '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t10\t1\ndevices\t6\t40\t1\n';

test('devicesController: v1 enabled, v1 disabled, missing, cgroup v2', () => {
  const rows: [string | undefined, boolean, boolean, RegExp][] = [
    [CGROUPS_V1, false, true, /enabled/],
    [CGROUPS_V1.replace('devices\t6\t40\t1', 'devices\t6\t40\t0'), false, false, /disabled/],
    ['#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t10\t1\n', false, false, /no devices controller/],
    [undefined, true, true, /eBPF/],
  ];
  for (const [text, v2, ok, detail] of rows) {
    const result = devicesController(text, v2);
    assert.equal(result.ok, ok, String(text));
    assert.match(result.detail, detail);
  }
});

test('podVerdict: "pods can run here" only when every check passed; otherwise each missing one with who needs it', () => {
  const all: PodRuntimeCheck[] = ['recursiveBind', 'sharedPropagation', 'pivotRoot', 'childSubreaper', 'netnsSetns', 'devicesCgroup'].map((name) => ({
    name: name as PodRuntimeCheck['name'],
    ok: true,
    detail: 'works',
  }));
  assert.deepEqual(podVerdict(all), { podsCanRun: true, lines: ['pods can run here: every operation runc, containerd and kubelet need works'] });
  const broken = all.map((check) => (check.name === 'pivotRoot' ? { ...check, ok: false, detail: 'pivot_root: Invalid argument' } : check));
  const verdict = podVerdict(broken);
  assert.equal(verdict.podsCanRun, false);
  assert.equal(verdict.lines[0], 'pods cannot run here: 1 operation(s) fail');
  assert.match(verdict.lines[1] ?? '', /^ {2}pivotRoot: pivot_root: Invalid argument \(runc enters each container's root filesystem with pivot_root\)$/);
});

test('probePodRuntime on this VM (a real kernel, root): every operation works and nothing is left behind', { skip: process.geteuid?.() !== 0 && 'needs root' }, async () => {
  const before = (await import('node:fs')).readFileSync('/proc/self/mountinfo', 'utf8');
  const checks = await probePodRuntime();
  assert.deepEqual(
    checks.filter((check) => !check.ok),
    [],
  );
  assert.equal((await import('node:fs')).readFileSync('/proc/self/mountinfo', 'utf8'), before);
});

test('probePodRuntime in gVisor (runsc ptrace): the operations this runsc refuses are found by trying them', (t) => {
  const script = "import { probePodRuntime } from './src/probe/podRuntime.ts'; console.log('CHECKS ' + JSON.stringify(await probePodRuntime()));";
  const run = runInGvisor(t, ['node', '--import', 'tsx', '--input-type=module', '-e', script]);
  if (!run) return;
  const line = run.output.split('\n').find((text) => text.startsWith('CHECKS '));
  assert.ok(line, run.output);
  const checks = JSON.parse(line.slice('CHECKS '.length)) as PodRuntimeCheck[];
  const failing = checks.filter((check) => !check.ok).map((check) => check.name);
  t.diagnostic(checks.map((check) => `${check.name}: ${check.ok ? 'ok' : check.detail}`).join('; '));
  // What this runsc build refuses, found by the real operations (docs: README "What a pod needs that gVisor lacks").
  assert.ok(failing.includes('sharedPropagation'), JSON.stringify(checks));
  assert.ok(failing.length > 0);
});
