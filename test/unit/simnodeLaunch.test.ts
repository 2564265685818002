import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from '../../src/cli/command.js';
import { simulateNode } from '../../src/cli/plumbing.js';
import { up } from '../../src/cli/up.js';
import { loadConfig } from '../../src/config.js';
import { resolvePaths } from '../../src/paths.js';
import { settingsFrom } from '../../src/simnode/index.js';
import { controllerSupervisorArgv, wantedController } from '../../src/steps/simulatedNode.js';

/** simulateNodeMaxPods from the settings to the controller's command line, as `up` launches it (src/steps/simulatedNode.ts). */

const NO_FILE = '/nonexistent/k3s-sandbox-config.json';
const RECORD = { adminKubeconfig: '/run/k3s-sandbox/k3s.yaml' };

/** What the controller `up` would launch parses to, through the simulate-node command's own option parser. */
function controllerSettings(argv: string[]): ReturnType<typeof settingsFrom> {
  const args = argv.slice(argv.indexOf('simulate-node') + 1);
  const values = parseOptions(simulateNode, args);
  return settingsFrom({ kubeconfig: values.kubeconfig as string, nodeName: values['node-name'] as string, maxPods: values['max-pods'] as string }, {});
}

const rows: Array<{ name: string; env: NodeJS.ProcessEnv; flags?: string[]; maxPods: number }> = [
  { name: 'default: 110, as a kubelet', env: {}, maxPods: 110 },
  { name: 'env K3S_SANDBOX_SIMULATE_NODE_MAX_PODS', env: { K3S_SANDBOX_SIMULATE_NODE_MAX_PODS: '1000' }, maxPods: 1000 },
  { name: 'up --simulate-node-max-pods beats the env', env: { K3S_SANDBOX_SIMULATE_NODE_MAX_PODS: '1000' }, flags: ['--simulate-node-max-pods', '2500'], maxPods: 2500 },
];

for (const row of rows) {
  test(`the controller gets --max-pods from simulateNodeMaxPods: ${row.name}`, () => {
    const values = parseOptions(up, row.flags ?? []);
    const flag = values['simulate-node-max-pods'];
    const flags = typeof flag === 'string' ? { simulateNodeMaxPods: { value: flag, flag: '--simulate-node-max-pods' } } : {};
    const { config } = loadConfig({ env: row.env, flags, configFile: NO_FILE });
    const paths = resolvePaths(config, {});
    const wanted = wantedController(paths, RECORD, config);
    assert.equal(wanted.maxPods, row.maxPods);
    assert.deepEqual(controllerSettings(controllerSupervisorArgv(paths, wanted)), { kubeconfig: RECORD.adminKubeconfig, nodeName: 'k3s-sandbox-simulated', maxPods: row.maxPods });
  });
}

test('a controller record from before simulateNodeMaxPods (no maxPods) is launched with the kubelet default it ran with', () => {
  const { config } = loadConfig({ env: {}, configFile: NO_FILE });
  const paths = resolvePaths(config, {});
  const { maxPods: _maxPods, ...older } = wantedController(paths, RECORD, config);
  assert.equal(controllerSettings(controllerSupervisorArgv(paths, older)).maxPods, 110);
});

test('up --simulate-node-max-pods with a bad value is refused naming the flag and the range', () => {
  assert.throws(
    () => loadConfig({ env: {}, flags: { simulateNodeMaxPods: { value: '0', flag: '--simulate-node-max-pods' } }, configFile: NO_FILE }),
    /^ConfigError: invalid value for simulateNodeMaxPods: "0" \(from flag --simulate-node-max-pods\); allowed: a whole number of pods from 1 to 65000$/,
  );
});
