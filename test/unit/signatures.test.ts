import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchFatalSignature, type SignatureAction, type SignatureId } from '../../src/k3s/signatures.js';

// Real k3s log lines (logrus) and kubelet/apiserver lines (klog) as they appear in the k3s log.
const TABLE: { line: string; id: SignatureId | undefined; action?: SignatureAction; port?: number; hook?: string }[] = [
  {
    line: 'E1121 10:00:00.000000    1234 kubelet.go:1649] "Failed to start ContainerManager" err="[open /proc/sys/vm/panic_on_oom: no such file or directory, open /proc/sys/kernel/panic: no such file or directory]"',
    id: 'container-manager',
    action: 'fallback',
  },
  { line: 'time="2026-11-21T10:00:00Z" level=fatal msg="flannel exited: operation not supported"', id: 'flannel', action: 'fallback' },
  {
    line: 'time="2026-11-21T10:00:00Z" level=fatal msg="PostStartHook \\"start-service-ip-repair-controllers\\" failed: unable to perform initial IP and Port allocation check"',
    id: 'post-start-hook',
    action: 'restart',
    hook: 'start-service-ip-repair-controllers',
  },
  {
    line: 'F1121 10:00:00.000000  1 hooks.go:203] PostStartHook "rbac/bootstrap-roles" failed: unable to initialize roles: timed out waiting for the condition',
    id: 'post-start-hook',
    action: 'restart',
    hook: 'rbac/bootstrap-roles',
  },
  {
    line: 'time="2026-11-21T10:00:00Z" level=fatal msg="Error: starting kubernetes: preparing server: init cluster datastore and https: listen tcp 127.0.0.1:6443: bind: address already in use"',
    id: 'address-in-use',
    action: 'fail',
    port: 6443,
  },
  { line: 'listen tcp [::]:10250: bind: address already in use', id: 'address-in-use', action: 'fail', port: 10250 },
  { line: 'bind: address already in use', id: 'address-in-use', action: 'fail', port: undefined },
  {
    line: 'time="2026-11-21T10:00:00Z" level=error msg="\\"overlayfs\\" snapshotter cannot be enabled for \\"/var/lib/rancher/k3s/agent/containerd\\", try using \\"fuse-overlayfs\\" or \\"native\\": failed to mount overlay: invalid argument"',
    id: 'overlayfs-snapshotter',
    action: 'fallback',
  },
  {
    line: 'time="2026-11-21T10:00:00Z" level=fatal msg="\\"overlayfs\\" snapshotter cannot be enabled for \\"/data\\""',
    id: 'overlayfs-snapshotter',
    action: 'fallback',
  },
  {
    line: '"overlayfs" snapshotter cannot be enabled for "/var/lib/rancher/k3s/agent/containerd", try using "fuse-overlayfs" or "native"',
    id: 'overlayfs-snapshotter',
    action: 'fallback',
  },
  {
    line: 'time="2026-11-21T10:00:00Z" level=info msg="Waiting to retrieve agent configuration; server is not ready: failed to find host-local: exec: \\"host-local\\": executable file not found in $PATH"',
    id: 'host-local-missing',
    action: 'fallback',
  },
  { line: 'time="2026-11-21T10:00:00Z" level=info msg="k3s is up and running"', id: undefined },
  { line: 'time="2026-11-21T10:00:00Z" level=info msg="Waiting for API server to become available"', id: undefined },
  { line: '', id: undefined },
];

test('matchFatalSignature recognises each known fatal line and nothing else', () => {
  for (const row of TABLE) {
    const match = matchFatalSignature(row.line);
    assert.equal(match?.id, row.id, row.line);
    if (!match) continue;
    assert.equal(match.action, row.action, row.line);
    assert.equal(match.port, row.port, row.line);
    assert.equal(match.hook, row.hook, row.line);
    assert.equal(match.line, row.line);
    const texts = [match.what, match.why, match.remedy];
    assert.equal(new Set(texts).size, 3, `${row.id}: what, why and remedy each say something of their own`);
    for (const text of texts) assert.doesNotMatch(text, /undefined|NaN|^\s*$/, `${row.id} explains itself`);
  }
});
