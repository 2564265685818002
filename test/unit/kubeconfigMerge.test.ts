import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig, loadYaml } from '@kubernetes/client-node';
import { extractContext, hasSandboxContext, mergeSandboxContext, removeSandboxContext, sandboxEntriesFrom, SANDBOX_NAME } from '../../src/kube/kubeconfig.js';

// The shape k3s writes (pkg/server/server.go writeKubeConfig): everything named "default", certs embedded.
const ADMIN = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

const USER_FILE = `apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: prod
  cluster:
    server: https://prod.example:443
    certificate-authority: /etc/prod-ca.crt
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: prod}
users:
- name: prod-user
  user:
    token-file: /var/run/secrets/prod-token
contexts:
- name: prod
  context: {cluster: prod, user: prod-user, namespace: team}
current-context: prod
`;

const entries = sandboxEntriesFrom(ADMIN, '/run/k3s-sandbox/k3s.yaml');

function parsed(text: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(text);
  return kubeConfig;
}

/** The document as written; KubeConfig would try to read the prod user's token-file. */
function raw(text: string): Record<string, any> {
  return loadYaml<Record<string, any>>(text);
}

test('a new kubeconfig has only the k3s-sandbox context, current, with the admin credentials', () => {
  const kubeConfig = parsed(mergeSandboxContext(undefined, entries));
  assert.equal(kubeConfig.getCurrentContext(), SANDBOX_NAME);
  assert.equal(kubeConfig.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  assert.equal(kubeConfig.getCurrentCluster()?.caData, 'Q0EtREFUQQ==');
  assert.equal(kubeConfig.getCurrentUser()?.certData, 'Q0VSVA==');
  assert.equal(kubeConfig.getCurrentUser()?.keyData, 'S0VZ');
  assert.deepEqual(kubeConfig.getContexts().map((c) => c.name), [SANDBOX_NAME]);
});

test('merging keeps every other entry byte for byte in meaning, and the current context', () => {
  const merged = mergeSandboxContext(USER_FILE, entries);
  const before = loadYaml<Record<string, any>>(USER_FILE);
  const after = loadYaml<Record<string, any>>(merged);
  assert.equal(after['current-context'], 'prod');
  assert.deepEqual(after.preferences, before.preferences);
  for (const key of ['clusters', 'users', 'contexts']) {
    assert.deepEqual(after[key].filter((e: { name: string }) => e.name !== SANDBOX_NAME), before[key], key);
    assert.equal(after[key].filter((e: { name: string }) => e.name === SANDBOX_NAME).length, 1, key);
  }
});

test('merging twice changes nothing and returns the same text', () => {
  const once = mergeSandboxContext(USER_FILE, entries);
  assert.equal(mergeSandboxContext(once, entries), once);
});

test('new certificates replace our entries in place, never duplicating them', () => {
  const once = mergeSandboxContext(USER_FILE, entries);
  const rotated = sandboxEntriesFrom(ADMIN.replace('Q0VSVA==', 'TkVXQ0VSVA=='), 'admin');
  const ours = raw(mergeSandboxContext(once, rotated)).users.filter((u: { name: string }) => u.name === SANDBOX_NAME);
  assert.equal(ours.length, 1);
  assert.equal(ours[0].user['client-certificate-data'], 'TkVXQ0VSVA==');
});

test('current-context is set when the file had none, and kept when it was ours', () => {
  const withoutCurrent = USER_FILE.replace('current-context: prod\n', '');
  assert.equal(raw(mergeSandboxContext(withoutCurrent, entries))['current-context'], SANDBOX_NAME);
  const ours = mergeSandboxContext(withoutCurrent, entries);
  assert.equal(raw(mergeSandboxContext(ours, entries))['current-context'], SANDBOX_NAME);
  assert.equal(parsed(mergeSandboxContext('', entries)).getCurrentContext(), SANDBOX_NAME, 'an empty file is a new file');
});

test('a file that is not a kubeconfig is refused and named', () => {
  assert.throws(() => mergeSandboxContext('clusters: [unclosed', entries, '/home/u/.kube/config'), /\/home\/u\/\.kube\/config is not a valid kubeconfig .*left untouched/s);
  assert.throws(() => mergeSandboxContext('- just\n- a list\n', entries, 'cfg'), /cfg is not a valid kubeconfig \(the top level is not a mapping\)/);
  assert.throws(() => mergeSandboxContext('contexts: {a: 1}\n', entries, 'cfg'), /contexts is not a list/);
});

test('an admin kubeconfig without embedded credentials is refused', () => {
  assert.throws(() => sandboxEntriesFrom(ADMIN.replace(/client-key-data: .*\n/, ''), 'admin.yaml'), /admin.yaml does not embed/);
  assert.throws(() => sandboxEntriesFrom('{{{', 'admin.yaml'), /admin.yaml is not a valid kubeconfig/);
});

test('removeSandboxContext takes out only our entries', () => {
  const merged = mergeSandboxContext(USER_FILE.replace('current-context: prod\n', ''), entries);
  const removed = loadYaml<Record<string, any>>(removeSandboxContext(merged));
  const before = loadYaml<Record<string, any>>(USER_FILE);
  for (const key of ['clusters', 'users', 'contexts']) assert.deepEqual(removed[key], before[key], key);
  assert.equal(removed['current-context'], '');
  assert.equal(removeSandboxContext(USER_FILE), USER_FILE);
});

test('hasSandboxContext finds our context without resolving the other users\' files', () => {
  assert.equal(hasSandboxContext(USER_FILE), false);
  assert.equal(hasSandboxContext(mergeSandboxContext(USER_FILE, entries)), true);
  assert.equal(hasSandboxContext('{{{'), false);
});

test('extractContext gives client-node only our context, so other entries cannot break loading', () => {
  const merged = mergeSandboxContext(USER_FILE, entries);
  const kubeConfig = parsed(extractContext(merged, SANDBOX_NAME));
  assert.equal(kubeConfig.getCurrentContext(), SANDBOX_NAME);
  assert.equal(kubeConfig.getCurrentUser()?.certData, 'Q0VSVA==');
  assert.deepEqual(kubeConfig.getUsers().map((u) => u.name), [SANDBOX_NAME]);
  assert.throws(() => extractContext(USER_FILE, SANDBOX_NAME, 'cfg'), /cfg has no context k3s-sandbox/);
});
