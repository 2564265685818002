import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONFIG_KEYS,
  ConfigError,
  DEFAULT_CONFIG,
  envNameFor,
  loadConfig,
  simulateNodeConflict,
  validateOption,
  type ConfigKey,
} from '../../src/config.js';

const NO_FILE = '/nonexistent/k3s-sandbox-config.json';

/** For every key: values that must pass (with their typed result) and values that must fail. */
const CASES: Record<ConfigKey, { good: [unknown, unknown][]; bad: unknown[] }> = {
  version: {
    good: [['v1.36.4+k3s1', 'v1.36.4+k3s1'], ['v1.33.5+k3s1', 'v1.33.5+k3s1'], ['v1.34.0-rc1+k3s1', 'v1.34.0-rc1+k3s1'], ['stable', 'stable'], ['latest', 'latest']],
    bad: ['1.33.5', 'v1.33.5', 'v1.33.5-k3s1', 'testing', 'v1.30.0+k3s1; touch /pwned', 'v1.30.0+k3s1\nid', '$(id)', '', 42],
  },
  mode: {
    good: [['auto', 'auto'], ['server', 'server'], ['sandboxed-node', 'sandboxed-node'], ['control-plane', 'control-plane']],
    bad: ['agent', 'Server', 'control-plane;reboot', ''],
  },
  autoStart: {
    good: [[true, true], [false, false], ['true', true], ['false', false], ['1', true], ['0', false]],
    bad: ['maybe', '', 2, null],
  },
  waitTimeout: {
    good: [['120', 120], [1, 1], ['3600', 3600]],
    bad: ['0', '3601', '-5', '1.5', '12s', '', '1e3', 120.5],
  },
  registries: {
    good: [['docker.io,mirror.gcr.io', ['docker.io', 'mirror.gcr.io']], ['localhost:5000', ['localhost:5000']], [['a.example', 'b.example:443'], ['a.example', 'b.example:443']], ['', []]],
    bad: ['docker.io;rm -rf /', 'https://docker.io', 'host:0', 'host:70000', 'bad_host', ['ok.io', 5]],
  },
  binaryPath: {
    good: [['', ''], ['/opt/k3s/k3s', '/opt/k3s/k3s']],
    bad: ['k3s', './k3s', '/opt/k3s bin', '/opt/$(id)', '/tmp/k3s;id'],
  },
  disable: {
    good: [['traefik,servicelb', ['traefik', 'servicelb']], ['', []], [['coredns', 'runtimes'], ['coredns', 'runtimes']]],
    bad: ['kube-proxy', 'traefik,,bogus', 'traefik;id'],
  },
  dataDir: {
    // Normalised first, then checked: no spelling reaches / or a top-level system directory.
    good: [
      ['/var/lib/rancher/k3s', '/var/lib/rancher/k3s'], ['/mnt/k3s/', '/mnt/k3s'],
      ['/mnt/./k3s/.', '/mnt/k3s'], ['/var/lib/x/../k3s', '/var/lib/k3s'], ['/a/../../srv/k3s', '/srv/k3s'],
    ],
    bad: [
      '/', '//', '/..', '/.', '/./', '/../..', '/a/..', '/a/../../etc', '/etc', '/usr/', '/var/lib/../../proc', '/tmp/..',
      'relative/dir', '', '/tmp/a b', '/tmp/`id`',
    ],
  },
  httpsPort: {
    good: [['6443', 6443], [1, 1], ['65535', 65535]],
    bad: ['0', '65536', 'http', '64 43', ''],
  },
  releaseUrl: {
    good: [['https://github.com/k3s-io/k3s/releases/download', 'https://github.com/k3s-io/k3s/releases/download'], ['http://127.0.0.1:8080/dl/', 'http://127.0.0.1:8080/dl']],
    bad: ['ftp://example.com', 'https://', 'https://example.com/a b', 'https://example.com/$(id)', 'file:///etc/passwd', 'https://x.io:99999'],
  },
  channelUrl: {
    good: [['https://update.k3s.io/v1-release/channels', 'https://update.k3s.io/v1-release/channels']],
    bad: ['update.k3s.io', 'https://update.k3s.io/?q=1', 'https://update.k3s.io/#x'],
  },
  sha256: {
    good: [['', ''], ['835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f', '835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f']],
    bad: ['835873F37245FC615F547A2FE2AF9402A347875F13FA64A1F136DE644955EA3F', `sha256:${'a'.repeat(64)}`, 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), `${'a'.repeat(64)};id`],
  },
  imageDigest: {
    good: [['', ''], [`sha256:${'e'.repeat(64)}`, `sha256:${'e'.repeat(64)}`]],
    bad: ['e'.repeat(64), `sha512:${'e'.repeat(64)}`, `sha256:${'E'.repeat(64)}`, `sha256:${'e'.repeat(63)}`, `sha256:${'e'.repeat(64)} `.repeat(2), 'rancher/k3s@sha256:x'],
  },
  fakes: {
    good: [['auto', 'auto'], ['mount', 'mount'], ['rebind', 'rebind'], ['intercept', 'intercept']],
    bad: ['bind', 'Mount', 'mount;id', ''],
  },
  insecureRegistries: {
    good: [['', []], ['127.0.0.1:5000,registry.local', ['127.0.0.1:5000', 'registry.local']]],
    bad: ['http://registry.local', 'host:0', 'a b'],
  },  simulateNode: {
    good: [[true, true], [false, false], ['true', true], ['no', false]],
    bad: ['on', '', 2],
  },
  simulateNodeName: {
    good: [['k3s-sandbox-simulated', 'k3s-sandbox-simulated'], ['node-1.example', 'node-1.example'], ['a', 'a'], ['n'.repeat(63), 'n'.repeat(63)]],
    bad: ['', 'Node', '-node', 'node-', 'a..b', 'a_b', 'n'.repeat(64), 'node;id', 'node name'],
  },
  simulateNodeMaxPods: {
    good: [['110', 110], [1, 1], ['1000', 1000], [' 250 ', 250], ['65000', 65000]],
    bad: ['0', '65001', '-1', '1.5', '1e3', '110 pods', '', 'max', 110.5, true],
  },
};

test('the case table covers every config key', () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...CONFIG_KEYS].sort());
});

for (const key of CONFIG_KEYS) {
  test(`validateOption(${key}) accepts its allowed values`, () => {
    for (const [raw, expected] of CASES[key].good) {
      assert.deepEqual(validateOption(key, raw, 'test'), expected, `${key}=${JSON.stringify(raw)}`);
    }
  });
  test(`validateOption(${key}) rejects bad values with a message naming key, value, source and what is allowed`, () => {
    for (const raw of CASES[key].bad) {
      assert.throws(
        () => validateOption(key, raw, 'env ' + envNameFor(key)),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${key}=${JSON.stringify(raw)} should throw ConfigError`);
          assert.match(error.message, new RegExp(`^invalid value for ${key}: `));
          assert.ok(error.message.includes(JSON.stringify(raw)), `message shows the value: ${error.message}`);
          assert.ok(error.message.includes(`(from env ${envNameFor(key)})`), `message names the source: ${error.message}`);
          assert.match(error.message, /; allowed: .+/);
          return true;
        },
        `${key}=${JSON.stringify(raw)}`,
      );
    }
  });
}

test('env names are K3S_SANDBOX_ plus the key in UPPER_SNAKE', () => {
  assert.equal(envNameFor('waitTimeout'), 'K3S_SANDBOX_WAIT_TIMEOUT');
  assert.equal(envNameFor('version'), 'K3S_SANDBOX_VERSION');
  assert.equal(envNameFor('httpsPort'), 'K3S_SANDBOX_HTTPS_PORT');
});

test('defaults apply when nothing else is given', () => {
  const { config, sources } = loadConfig({ env: {}, configFile: NO_FILE });
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.equal(sources.version, 'default');
});

test('the default k3s is v1.36.4+k3s1, the newest release of a supported line with every digest confirmed', () => {
  assert.equal(DEFAULT_CONFIG.version, 'v1.36.4+k3s1');
});

function withConfigFile(content: string, fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-config-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, content);
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('precedence: defaults < config file < env < flags', () => {
  withConfigFile(JSON.stringify({ waitTimeout: '30', mode: 'server', httpsPort: 7443, version: 'stable' }), (file) => {
    const env = { K3S_SANDBOX_CONFIG: file, K3S_SANDBOX_WAIT_TIMEOUT: '45', K3S_SANDBOX_MODE: 'sandboxed-node' };
    const { config, sources } = loadConfig({ env, flags: { mode: { value: 'control-plane', flag: '--mode' } } });
    assert.equal(config.version, 'stable');
    assert.equal(sources.version, `config file ${file}`);
    assert.equal(config.httpsPort, 7443);
    assert.equal(config.waitTimeout, 45);
    assert.equal(sources.waitTimeout, 'env K3S_SANDBOX_WAIT_TIMEOUT');
    assert.equal(config.mode, 'control-plane');
    assert.equal(sources.mode, 'flag --mode');
    assert.equal(config.dataDir, DEFAULT_CONFIG.dataDir);
  });
});

test('a bad value in the config file names the file as its source', () => {
  withConfigFile(JSON.stringify({ version: 'v1.30.0+k3s1; touch /pwned' }), (file) => {
    assert.throws(() => loadConfig({ env: {}, configFile: file }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        `invalid value for version: "v1.30.0+k3s1; touch /pwned" (from config file ${file}); allowed: ` +
          'a k3s release such as v1.36.4+k3s1 or v1.34.0-rc1+k3s1, or "stable" or "latest"',
      );
      return true;
    });
  });
});

test('a bad flag value beats nothing: it is rejected even when env and file are fine', () => {
  assert.throws(
    () => loadConfig({ env: { K3S_SANDBOX_WAIT_TIMEOUT: '60' }, configFile: NO_FILE, flags: { waitTimeout: { value: '0', flag: '--timeout' } } }),
    /invalid value for waitTimeout: "0" \(from flag --timeout\)/,
  );
});

test('unknown keys and broken JSON in the config file are errors', () => {
  withConfigFile('{"versoin": "stable"}', (file) => {
    assert.throws(() => loadConfig({ env: {}, configFile: file }), /unknown setting "versoin" in config file .*allowed: version, mode/);
  });
  withConfigFile('{not json', (file) => {
    assert.throws(() => loadConfig({ env: {}, configFile: file }), (error: unknown) => error instanceof ConfigError && /is not valid JSON/.test(error.message));
  });
  withConfigFile('[1,2]', (file) => {
    assert.throws(() => loadConfig({ env: {}, configFile: file }), /must hold a JSON object/);
  });
});

test('unrelated K3S_SANDBOX_ variables (paths, bin dir) are not config keys and are ignored', () => {
  const { config } = loadConfig({ env: { K3S_SANDBOX_STATE_DIR: '/tmp/x', K3S_SANDBOX_BIN_DIR: '/tmp/y' }, configFile: NO_FILE });
  assert.deepEqual(config, DEFAULT_CONFIG);
});

test('simulateNode is allowed only when the planned mode is control-plane, and the refusal names the option, the mode and what is allowed', () => {
  const rows: [boolean, string, string, RegExp | undefined][] = [
    [false, 'server', 'server', undefined],
    [false, 'auto', 'sandboxed-node', undefined],
    [true, 'control-plane', 'control-plane', undefined],
    [true, 'auto', 'control-plane', undefined],
    [true, 'server', 'server', /^simulateNode=true needs mode control-plane, but mode is server, which runs a real kubelet; allowed: simulateNode=false, or mode=control-plane/],
    [true, 'sandboxed-node', 'sandboxed-node', /but mode is sandboxed-node/],
    [true, 'auto', 'server', /but mode auto chose server here/],
    [true, 'auto', 'sandboxed-node', /but mode auto chose sandboxed-node here/],
  ];
  for (const [simulateNode, mode, planned, expected] of rows) {
    const conflict = simulateNodeConflict({ simulateNode, mode: mode as 'auto' }, planned);
    if (expected === undefined) assert.equal(conflict, undefined, `${simulateNode} ${mode} -> ${planned}`);
    else {
      assert.ok(conflict instanceof ConfigError, `${simulateNode} ${mode} -> ${planned}`);
      assert.match(conflict.message, expected);
    }
  }
});
