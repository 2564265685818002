import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { leftoverMounts, shimProcessTree, withoutKubeRules } from '../../src/instance/agentCleanup.js';
import { tempDir } from './helpers/tempDir.js';

test('leftoverMounts lists only mounts under the k3s and kubelet roots, longest (so any child before its parent) first', () => {
  const mounts = [
    'overlay / overlay rw 0 0',
    'tmpfs /run/k3s tmpfs rw 0 0',
    'shm /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm tmpfs rw 0 0',
    'tmpfs /var/lib/kubelet/pods/uid/volumes/kubernetes.io~projected/kube-api-access tmpfs rw 0 0',
    'nsfs /run/netns/cni-1234 nsfs rw 0 0',
    'tmpfs /run/k3s-sandbox tmpfs rw 0 0',
    'tmpfs /var/lib/kubelet/podsx tmpfs rw 0 0',
    '',
  ].join('\n');
  assert.deepEqual(leftoverMounts(mounts), [
    '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~projected/kube-api-access',
    '/run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm',
    '/run/netns/cni-1234',
    '/run/k3s',
  ]);
});

test('withoutKubeRules strips KUBE-, CNI- and flannel rules and leaves the rest', () => {
  const saved = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
    '-A INPUT -p tcp --dport 22 -j ACCEPT',
    'COMMIT',
  ].join('\n');
  assert.equal(withoutKubeRules(saved), ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p tcp --dport 22 -j ACCEPT', 'COMMIT'].join('\n'));
  assert.equal(withoutKubeRules('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT'), undefined, 'nothing of ours: nothing to restore');
});

test('shimProcessTree takes only root processes running a shim k3s extracted under <dataDir>/data/, and their descendants', async (t) => {
  const dataDir = tempDir('shims');
  chmodSync(dataDir, 0o755);
  const bin = join(dataDir, 'data', 'abc123', 'bin');
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  const shim = join(bin, 'containerd-shim-runc-v2');
  copyFileSync('/bin/sh', shim);
  chmodSync(shim, 0o755);
  const spawned: ChildProcess[] = [];
  t.after(() => {
    for (const child of spawned) {
      // The shims' containers first: they would outlive their shim.
      const containers = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
      for (const pid of containers) process.kill(Number(pid), 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
  const start = (command: string, args: string[], options: SpawnOptions = {}): ChildProcess => {
    const child = spawn(command, args, { stdio: 'ignore', ...options });
    spawned.push(child);
    return child;
  };
  // Ours: the extracted shim as root, with a container below it.
  const ours = start(shim, ['-c', 'sleep 300 & wait']);
  // Not ours: the same argv[0] on another program, and the extracted shim run by another user.
  const lookalike = start('sleep', ['300'], { argv0: shim });
  const foreign = start('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', shim, '-c', 'sleep 300 & wait']);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const container = readFileSync(`/proc/${ours.pid}/task/${ours.pid}/children`, 'utf8').trim();
  assert.match(container, /^\d+$/, 'the shim started its container');

  const found = shimProcessTree(dataDir).map((member) => member.pid).sort((a, b) => a - b);
  assert.deepEqual(found, [ours.pid!, Number(container)].sort((a, b) => a - b));
  assert.ok(!found.includes(lookalike.pid!) && !found.includes(foreign.pid!));
});
