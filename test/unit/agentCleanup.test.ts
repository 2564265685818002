import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leftoverMounts, withoutKubeRules } from '../../src/instance/agentCleanup.js';

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
