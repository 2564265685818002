import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { isNotFound } from './files.js';

/**
 * Settings of k3s-sandbox. Precedence, lowest first: defaults < config file
 * (`/usr/local/etc/k3s-sandbox/config.json`, or `$K3S_SANDBOX_CONFIG`) < `K3S_SANDBOX_<UPPER_SNAKE_KEY>` env < CLI flags.
 * Every value passes a strict pattern, so nothing a user types can smuggle shell or flag syntax into k3s's argv or
 * install.sh.
 */
export type ModeSetting = 'auto' | 'server' | 'sandboxed-node' | 'control-plane';

/** How sandboxed-node serves the /proc/sys files the sandbox lacks: chosen from the probe (auto), by mount, or by the interceptor. */
export type FakesSetting = 'auto' | 'mount' | 'rebind' | 'intercept';

export interface Config {
  version: string;
  mode: ModeSetting;
  autoStart: boolean;
  waitTimeout: number;
  registries: string[];
  binaryPath: string;
  disable: string[];
  dataDir: string;
  httpsPort: number;
  releaseUrl: string;
  channelUrl: string;
  /** The k3s binary's sha256 (64 lowercase hex) for this version and arch, or empty: pins a version the feature does not know. */
  sha256: string;
  /** The rancher/k3s image index digest (`sha256:<64 hex>`), or empty: the registry pull is by this digest. */
  imageDigest: string;
  /** Hosts (host or host:port) the installer may reach over plain http; everything else must be https. */
  insecureRegistries: string[];
  /** sandboxed-node's fake /proc/sys files: auto (mounts where the sandbox allows them, else the interceptor), mount, rebind (gVisor: mounts, by tmpfs-plus-rebind even where overlays work), intercept. */
  fakes: FakesSetting;
  /** control-plane only: a resident controller registers a node and reports pods Running (src/simnode/); no container runs. */
  simulateNode: boolean;
  /** The simulated node's name. */
  simulateNodeName: string;
  /** The most pods the simulated node takes (its capacity and allocatable `pods`, the kubelet's --max-pods). */
  simulateNodeMaxPods: number;
}

export type ConfigKey = keyof Config;

export const CONFIG_KEYS: readonly ConfigKey[] = [
  'version',
  'mode',
  'autoStart',
  'waitTimeout',
  'registries',
  'binaryPath',
  'disable',
  'dataDir',
  'httpsPort',
  'releaseUrl',
  'channelUrl',
  'sha256',
  'imageDigest',
  'insecureRegistries',
  'fakes',
  'simulateNode',
  'simulateNodeName',
  'simulateNodeMaxPods',
];

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  version: 'v1.36.4+k3s1',
  mode: 'auto',
  autoStart: true,
  waitTimeout: 120,
  registries: ['docker.io', 'mirror.gcr.io'],
  binaryPath: '',
  disable: [],
  dataDir: '/var/lib/rancher/k3s',
  httpsPort: 6443,
  releaseUrl: 'https://github.com/k3s-io/k3s/releases/download',
  channelUrl: 'https://update.k3s.io/v1-release/channels',
  sha256: '',
  imageDigest: '',
  insecureRegistries: [],
  fakes: 'auto',
  simulateNode: false,
  simulateNodeName: 'k3s-sandbox-simulated',
  simulateNodeMaxPods: 110,
});

export const DEFAULT_CONFIG_FILE = '/usr/local/etc/k3s-sandbox/config.json';

/** The packaged components k3s's `--disable` accepts. */
export const DISABLE_CHOICES = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;

export const MODE_CHOICES: readonly ModeSetting[] = ['auto', 'server', 'sandboxed-node', 'control-plane'];

/** The most pods simulateNodeMaxPods allows (as `simulate-node --max-pods` does). */
export const SIMULATE_NODE_MAX_PODS_LIMIT = 65_000;

export const FAKES_CHOICES: readonly FakesSetting[] = ['auto', 'mount', 'rebind', 'intercept'];

/** A bad setting. The CLI turns it into exit code 2 before any step touches the system. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `waitTimeout` → `K3S_SANDBOX_WAIT_TIMEOUT`. */
export function envNameFor(key: ConfigKey): string {
  return 'K3S_SANDBOX_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

const VERSION_RE = /^v\d{1,3}\.\d{1,3}\.\d{1,3}(-rc\d{1,3})?\+k3s\d{1,3}$/;
// Absolute path made of plain characters only: no spaces, quotes, `$`, `;`, backticks or newlines.
const ABS_PATH_RE = /^(\/[A-Za-z0-9._+@-]+)+\/?$/;
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_RE = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*(?::(\\d{1,5}))?$`);
const URL_RE = new RegExp(`^https?://${HOST_LABEL}(?:\\.${HOST_LABEL})*(?::(\\d{1,5}))?(?:/[A-Za-z0-9._~%+-]+)*/?$`);

const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
// A DNS subdomain (as src/simnode/node.ts checks it), at most 63 characters: the node's kubernetes.io/hostname label value.
const NODE_NAME_RE = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IMAGE_DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * A data dir k3s fills and `down` cleans under: never the root or a top-level system directory, whatever spelling
 * (`/..`, `/a/../../etc`) reaches it.
 */
const FORBIDDEN_DATA_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/proc', '/root', '/run', '/sbin', '/sys', '/tmp', '/usr', '/var']);

const ALLOWED: Record<ConfigKey, string> = {
  version: 'a k3s release such as v1.36.4+k3s1 or v1.34.0-rc1+k3s1, or "stable" or "latest"',
  mode: MODE_CHOICES.join(', '),
  autoStart: 'true or false',
  waitTimeout: 'a whole number of seconds from 1 to 3600',
  registries: 'a comma-separated list of host or host:port (letters, digits, dots, dashes; port 1-65535)',
  binaryPath: 'an absolute path of plain characters (letters, digits, . _ + @ -), or empty',
  disable: `a comma-separated subset of ${DISABLE_CHOICES.join(', ')}`,
  dataDir: `an absolute path of plain characters (letters, digits, . _ + @ -) that, normalised, is not / or a top-level system directory (${[...FORBIDDEN_DATA_DIRS].filter((dir) => dir !== '/').join(' ')})`,
  httpsPort: 'a whole number from 1 to 65535',
  releaseUrl: 'an http:// or https:// URL of plain characters',
  channelUrl: 'an http:// or https:// URL of plain characters',
  sha256: 'empty, or the sha256 of the k3s binary for this version and architecture: 64 lowercase hex digits',
  imageDigest: 'empty, or the rancher/k3s image index digest for this version: sha256: and 64 lowercase hex digits',
  insecureRegistries: 'a comma-separated list of host or host:port allowed over plain http (letters, digits, dots, dashes; port 1-65535)',
  fakes: FAKES_CHOICES.join(', '),
  simulateNode: 'true or false (true only in mode control-plane)',
  simulateNodeName: 'a node name: dot-separated parts of lowercase letters, digits and -, each starting and ending with a letter or digit, at most 63 characters',
  simulateNodeMaxPods: `a whole number of pods from 1 to ${SIMULATE_NODE_MAX_PODS_LIMIT}`,
};

function showValue(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

function invalid(key: ConfigKey, raw: unknown, source: string): ConfigError {
  return new ConfigError(
    `invalid value for ${key}: ${showValue(raw)} (from ${source}); allowed: ${ALLOWED[key]}`,
  );
}

function asText(key: ConfigKey, raw: unknown, source: string): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return String(raw);
  throw invalid(key, raw, source);
}

function asList(key: ConfigKey, raw: unknown, source: string): string[] {
  const items = Array.isArray(raw) ? raw : asText(key, raw, source).split(',');
  return items.map((item) => {
    if (typeof item !== 'string') throw invalid(key, raw, source);
    return item.trim();
  }).filter((item) => item !== '');
}

function asInteger(key: ConfigKey, raw: unknown, source: string, min: number, max: number): number {
  const text = asText(key, raw, source);
  if (!/^\d{1,6}$/.test(text)) throw invalid(key, raw, source);
  const value = Number(text);
  if (value < min || value > max) throw invalid(key, raw, source);
  return value;
}

function isValidPort(port: string | undefined): boolean {
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

function asUrl(key: ConfigKey, raw: unknown, source: string): string {
  const text = asText(key, raw, source);
  const match = URL_RE.exec(text);
  if (!match || !isValidPort(match[1])) throw invalid(key, raw, source);
  return text.replace(/\/+$/, '');
}

/**
 * Validates one setting and returns it in its typed form. `source` names where the value came from
 * (e.g. `env K3S_SANDBOX_MODE`) and appears in the error. Throws ConfigError.
 */
export function validateOption<K extends ConfigKey>(key: K, raw: unknown, source: string): Config[K];
export function validateOption(key: ConfigKey, raw: unknown, source: string): Config[ConfigKey] {
  switch (key) {
    case 'version': {
      const text = asText(key, raw, source);
      if (text === 'stable' || text === 'latest' || VERSION_RE.test(text)) return text;
      throw invalid(key, raw, source);
    }
    case 'mode': {
      const text = asText(key, raw, source);
      if ((MODE_CHOICES as readonly string[]).includes(text)) return text as ModeSetting;
      throw invalid(key, raw, source);
    }
    case 'fakes': {
      const text = asText(key, raw, source);
      if ((FAKES_CHOICES as readonly string[]).includes(text)) return text as FakesSetting;
      throw invalid(key, raw, source);
    }
    case 'autoStart':
    case 'simulateNode': {
      if (typeof raw === 'boolean') return raw;
      const text = asText(key, raw, source).toLowerCase();
      if (text === 'true' || text === '1' || text === 'yes') return true;
      if (text === 'false' || text === '0' || text === 'no') return false;
      throw invalid(key, raw, source);
    }
    case 'simulateNodeName': {
      const text = asText(key, raw, source);
      if (NODE_NAME_RE.test(text)) return text;
      throw invalid(key, raw, source);
    }
    case 'waitTimeout':
      return asInteger(key, raw, source, 1, 3600);
    case 'simulateNodeMaxPods':
      return asInteger(key, raw, source, 1, SIMULATE_NODE_MAX_PODS_LIMIT);
    case 'httpsPort':
      return asInteger(key, raw, source, 1, 65535);
    case 'registries':
    case 'insecureRegistries': {
      const hosts = asList(key, raw, source);
      for (const host of hosts) {
        const match = HOST_RE.exec(host);
        if (!match || !isValidPort(match[1])) throw invalid(key, raw, source);
      }
      return hosts;
    }
    case 'disable': {
      const names = asList(key, raw, source);
      for (const name of names) {
        if (!(DISABLE_CHOICES as readonly string[]).includes(name)) throw invalid(key, raw, source);
      }
      return [...new Set(names)];
    }
    case 'binaryPath': {
      const text = asText(key, raw, source);
      if (text === '' || ABS_PATH_RE.test(text)) return text;
      throw invalid(key, raw, source);
    }
    case 'dataDir': {
      const text = asText(key, raw, source);
      if (!ABS_PATH_RE.test(text)) throw invalid(key, raw, source);
      const normalised = posix.normalize(text).replace(/(.)\/+$/, '$1');
      if (FORBIDDEN_DATA_DIRS.has(normalised)) throw invalid(key, raw, source);
      return normalised;
    }
    case 'sha256': {
      const text = asText(key, raw, source);
      if (text === '' || SHA256_HEX_RE.test(text)) return text;
      throw invalid(key, raw, source);
    }
    case 'imageDigest': {
      const text = asText(key, raw, source);
      if (text === '' || IMAGE_DIGEST_RE.test(text)) return text;
      throw invalid(key, raw, source);
    }
    case 'releaseUrl':
    case 'channelUrl':
      return asUrl(key, raw, source);
  }
}

function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key);
}

/** Where each effective value came from: "default", "config file <path>", "env <NAME>" or "flag --<name>". */
export type ConfigSources = Record<ConfigKey, string>;

/** Values from CLI flags, already mapped to config keys, with the flag's spelling for messages. */
export type FlagValues = Partial<Record<ConfigKey, { value: unknown; flag: string }>>;

export interface LoadConfigInput {
  env?: NodeJS.ProcessEnv;
  flags?: FlagValues;
  /** Overrides `$K3S_SANDBOX_CONFIG` / the default path. */
  configFile?: string;
  /**
   * For commands that do not need every setting (down, status, logs, env): a bad value, an unknown key or an
   * unreadable file is listed in `problems` and the next lower source's value stands, instead of a throw.
   */
  lenient?: boolean;
}

export interface LoadedConfig {
  config: Config;
  sources: ConfigSources;
  configFile: string;
  /** Lenient loads only: each setting that was ignored, and why. */
  problems: string[];
}

/** The default file may be absent (nothing configured); a file someone named must exist. */
function readConfigFile(path: string, named: string | undefined): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isNotFound(error) && named === undefined) return {};
    if (isNotFound(error)) throw new ConfigError(`config file ${path} (from ${named}) does not exist; allowed: an existing JSON file, or unset ${named}`);
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}; allowed: a JSON object of settings`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of settings, found ${showValue(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Merges defaults, file, env and flags, validating every value that is not a default. Throws ConfigError. */
export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const env = input.env ?? process.env;
  const named = input.configFile === undefined && env.K3S_SANDBOX_CONFIG ? 'env K3S_SANDBOX_CONFIG' : undefined;
  const configFile = input.configFile ?? (env.K3S_SANDBOX_CONFIG || DEFAULT_CONFIG_FILE);
  const config: Config = { ...DEFAULT_CONFIG, registries: [...DEFAULT_CONFIG.registries], disable: [], insecureRegistries: [] };
  const sources = Object.fromEntries(CONFIG_KEYS.map((key) => [key, 'default'])) as ConfigSources;
  const problems: string[] = [];
  const tolerate = (check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (!input.lenient || !(error instanceof ConfigError)) throw error;
      problems.push(error.message);
    }
  };
  const set = <K extends ConfigKey>(key: K, raw: unknown, source: string): void =>
    tolerate(() => {
      config[key] = validateOption(key, raw, source);
      sources[key] = source;
    });

  let fileSettings: Record<string, unknown> = {};
  tolerate(() => {
    fileSettings = readConfigFile(configFile, named);
  });
  for (const [key, raw] of Object.entries(fileSettings)) {
    if (!isConfigKey(key)) {
      tolerate(() => {
        throw new ConfigError(`unknown setting ${JSON.stringify(key)} in config file ${configFile}; allowed: ${CONFIG_KEYS.join(', ')}`);
      });
      continue;
    }
    set(key, raw, `config file ${configFile}`);
  }
  for (const key of CONFIG_KEYS) {
    const name = envNameFor(key);
    const raw = env[name];
    if (raw !== undefined) set(key, raw, `env ${name}`);
  }
  for (const key of CONFIG_KEYS) {
    const given = input.flags?.[key];
    if (given !== undefined) set(key, given.value, `flag ${given.flag}`);
  }
  return { config, sources, configFile, problems };
}

/** The modes the simulated node may run in: it stands in for the kubelet, which only control-plane lacks. */
export const SIMULATE_NODE_MODES: readonly ModeSetting[] = ['control-plane'];

/**
 * simulateNode is on while the planned mode (the one asked for, or the one auto chose) has a kubelet of its own: a
 * ConfigError naming the option, the mode and what is allowed. Undefined when the pair is fine.
 */
export function simulateNodeConflict(config: Pick<Config, 'simulateNode' | 'mode'>, plannedMode: string): ConfigError | undefined {
  if (!config.simulateNode || (SIMULATE_NODE_MODES as readonly string[]).includes(plannedMode)) return undefined;
  const chosen = config.mode === 'auto' ? `mode auto chose ${plannedMode} here` : `mode is ${plannedMode}`;
  return new ConfigError(
    `simulateNode=true needs mode control-plane, but ${chosen}, which runs a real kubelet; allowed: simulateNode=false, or mode=control-plane (K3S_SANDBOX_MODE=control-plane or --mode control-plane) with simulateNode=true`,
  );
}
