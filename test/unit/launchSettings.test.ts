// A warm `up` keeps a healthy instance without probing only when it was launched with the very settings this `up` has
// (src/instance/state.ts launchedWithSettings); any other difference takes the full path, whose plan says what differs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG, type Config } from '../../src/config.js';
import { launchedWithSettings, launchSettings, type InstanceRecord } from '../../src/instance/state.js';

const RECORD: InstanceRecord = {
  mode: 'control-plane',
  agent: false,
  k3sArgs: ['server'],
  useInterceptor: false,
  limits: '',
  remedies: [],
  adminKubeconfig: '/run/k3s-sandbox/k3s.yaml',
  dataDir: '/var/lib/k3s-sandbox',
  logOffset: 0,
  launchedAt: 0,
  fallbacks: [],
  settings: launchSettings({ ...DEFAULT_CONFIG }),
};

const TABLE: { name: string; record: InstanceRecord; config: Config; kept: boolean }[] = [
  { name: 'the same settings', record: RECORD, config: { ...DEFAULT_CONFIG }, kept: true },
  { name: 'the same settings, read in another key order', record: { ...RECORD, settings: Object.fromEntries(Object.entries(RECORD.settings!).reverse()) as InstanceRecord['settings'] }, config: { ...DEFAULT_CONFIG }, kept: true },
  { name: 'only the wait timeout differs', record: RECORD, config: { ...DEFAULT_CONFIG, waitTimeout: 5 }, kept: true },
  { name: 'only autoStart differs', record: RECORD, config: { ...DEFAULT_CONFIG, autoStart: false }, kept: true },
  // The simulated node runs beside k3s: every `up`, warm or not, starts or stops it to match (src/instance/simnode.ts).
  { name: 'only simulateNode, its node name and its pod count differ', record: RECORD, config: { ...DEFAULT_CONFIG, simulateNode: true, simulateNodeName: 'other', simulateNodeMaxPods: 1000 }, kept: true },
  { name: 'another mode asked for', record: RECORD, config: { ...DEFAULT_CONFIG, mode: 'sandboxed-node' }, kept: false },
  { name: 'another https port', record: RECORD, config: { ...DEFAULT_CONFIG, httpsPort: 7443 }, kept: false },
  { name: 'another component disabled', record: RECORD, config: { ...DEFAULT_CONFIG, disable: [...DEFAULT_CONFIG.disable, 'metrics-server'] }, kept: false },
  { name: 'a record from an older version, without settings', record: { ...RECORD, settings: undefined }, config: { ...DEFAULT_CONFIG }, kept: false },
];

for (const row of TABLE) {
  test(`launchedWithSettings: ${row.name} → ${row.kept ? 'kept without probing' : 'the full path'}`, () => {
    assert.equal(launchedWithSettings(row.record, row.config), row.kept);
  });
}
