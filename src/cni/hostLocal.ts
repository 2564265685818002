import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An IPAM-only host-local CNI plugin, run as `k3s-sandbox cni` through the wrapper the fakes step writes.
 *
 * It follows the CNI spec (SPEC.md, "Plugin execution" and "Result types"): the operation comes from CNI_COMMAND, the
 * network config as JSON on stdin, the answer as JSON on stdout, and a failure as a CNI error object with a non-zero
 * exit. Like the real host-local it hands out IPv4 addresses from `ipam.subnet` / `ipam.ranges` and keeps one file per
 * address (`<stateDir>/<network>/<ip>`, holding the container id and interface), so an allocation is stable for its
 * container and released by DEL (or GC). It creates no interfaces and touches no network namespace: in control-plane mode there
 * are no pods, and k3s only needs a host-local it can find and run.
 */

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
const LATEST_VERSION = '1.1.0';

/** Error codes from the CNI spec ("Error" section). */
const ErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
} as const;

const LOCK_TIMEOUT_MS = 10_000;
const LOCK_STALE_MS = 30_000;
const LOCK_RETRY_MS = 20;

class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }
}

export interface CniIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  stdout: { write(chunk: string): unknown };
  stateDir: string;
}

interface Range {
  subnet: string;
  network: number;
  prefix: number;
  start: number;
  end: number;
  gateway: number;
}

interface NetConf {
  cniVersion: string;
  name: string;
  ranges: Range[];
  routes: unknown[];
  dns: unknown;
}

function ipToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function parseRange(raw: unknown): Range {
  const spec = raw as Record<string, unknown>;
  if (typeof spec !== 'object' || spec === null || typeof spec.subnet !== 'string') {
    throw new CniError(ErrorCode.invalidConfig, 'invalid ipam range: "subnet" is required', JSON.stringify(raw));
  }
  const [address, prefixText] = spec.subnet.split('/');
  const base = ipToNumber(address ?? '');
  const prefix = Number(prefixText);
  if (base === undefined || !/^\d{1,2}$/.test(prefixText ?? '') || prefix > 30) {
    throw new CniError(ErrorCode.invalidConfig, `invalid subnet ${JSON.stringify(spec.subnet)}`, 'this stand-in allocates IPv4 only: a.b.c.d/N with N from 0 to 30');
  }
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  const broadcast = network + size - 1;
  const ipIn = (key: string, fallback: number): number => {
    if (spec[key] === undefined) return fallback;
    const value = typeof spec[key] === 'string' ? ipToNumber(spec[key] as string) : undefined;
    if (value === undefined || value <= network || value >= broadcast) {
      throw new CniError(ErrorCode.invalidConfig, `invalid ${key} ${JSON.stringify(spec[key])}: not a host address in ${spec.subnet}`);
    }
    return value;
  };
  const gateway = ipIn('gateway', network + 1);
  const start = ipIn('rangeStart', network + 1);
  const end = ipIn('rangeEnd', broadcast - 1);
  if (start > end) throw new CniError(ErrorCode.invalidConfig, `rangeStart is after rangeEnd in ${spec.subnet}`);
  return { subnet: spec.subnet, network, prefix, start, end, gateway };
}

function parseConfig(text: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CniError(ErrorCode.decodeFailure, 'the network config on stdin is not valid JSON', (error as Error).message);
  }
  const conf = raw as Record<string, unknown>;
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new CniError(ErrorCode.decodeFailure, 'the network config must be a JSON object');
  if (typeof conf.cniVersion !== 'string') throw new CniError(ErrorCode.invalidConfig, 'the network config has no "cniVersion"');
  if (!SUPPORTED_VERSIONS.includes(conf.cniVersion)) {
    throw new CniError(ErrorCode.incompatibleVersion, `unsupported cniVersion ${JSON.stringify(conf.cniVersion)}`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (typeof conf.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(conf.name)) {
    throw new CniError(ErrorCode.invalidConfig, 'the network config needs a "name" of letters, digits, ".", "_" and "-"');
  }
  const ipam = conf.ipam as Record<string, unknown> | undefined;
  if (typeof ipam !== 'object' || ipam === null) throw new CniError(ErrorCode.invalidConfig, 'the network config has no "ipam" section');
  let specs: unknown[];
  if (Array.isArray(ipam.ranges)) specs = ipam.ranges.flatMap((set) => (Array.isArray(set) ? set : [set]));
  else if (ipam.subnet !== undefined) specs = [ipam];
  else throw new CniError(ErrorCode.invalidConfig, 'ipam needs "subnet" or "ranges"');
  if (specs.length === 0) throw new CniError(ErrorCode.invalidConfig, 'ipam "ranges" is empty');
  return {
    cniVersion: conf.cniVersion,
    name: conf.name,
    ranges: specs.map(parseRange),
    routes: Array.isArray(ipam.routes) ? ipam.routes : [],
    dns: typeof conf.dns === 'object' && conf.dns !== null ? conf.dns : {},
  };
}

function requireEnv(env: NodeJS.ProcessEnv, names: string[]): void {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new CniError(ErrorCode.invalidEnvironment, `missing environment variable(s): ${missing.join(', ')}`);
  const id = env.CNI_CONTAINERID;
  if (id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
    throw new CniError(ErrorCode.invalidEnvironment, `invalid CNI_CONTAINERID ${JSON.stringify(id)}: letters, digits, "_", "." and "-" only`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A directory lock (mkdir is atomic); a lock older than LOCK_STALE_MS was left by a killed plugin and is taken over. */
async function withLock<T>(dir: string, fn: () => T): Promise<T> {
  const lock = join(dir, 'lock.d');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmdirSync(lock);
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new CniError(ErrorCode.tryAgainLater, `the allocation lock ${lock} is busy`);
      await sleep(LOCK_RETRY_MS);
    }
  }
  try {
    return fn();
  } finally {
    rmdirSync(lock);
  }
}

const ALLOCATION_FILE_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function allocationsOf(networkDir: string, containerId: string, ifname: string): string[] {
  return readdirSync(networkDir)
    .filter((name) => ALLOCATION_FILE_RE.test(name))
    .filter((name) => readFileSync(join(networkDir, name), 'utf8') === `${containerId}\n${ifname}\n`);
}

function allocate(networkDir: string, range: Range, owner: string): number {
  for (let ip = range.start; ip <= range.end; ip++) {
    if (ip === range.gateway) continue;
    let fd: number;
    try {
      fd = openSync(join(networkDir, numberToIp(ip)), 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    writeSync(fd, owner);
    closeSync(fd);
    return ip;
  }
  throw new CniError(ErrorCode.ioFailure, `no free address left in ${range.subnet}`);
}

function ipEntry(version: string, range: Range, ip: number): Record<string, string> {
  const entry: Record<string, string> = { address: `${numberToIp(ip)}/${range.prefix}`, gateway: numberToIp(range.gateway) };
  return version.startsWith('0.') ? { version: '4', ...entry } : entry;
}

function inRange(range: Range, ip: number): boolean {
  return ip >= range.start && ip <= range.end;
}

async function add(io: CniIo, conf: NetConf): Promise<unknown> {
  const { CNI_CONTAINERID: id, CNI_IFNAME: ifname } = io.env as Record<string, string>;
  const networkDir = join(io.stateDir, conf.name);
  mkdirSync(networkDir, { recursive: true, mode: 0o700 });
  const ips = await withLock(networkDir, () => {
    const existing = allocationsOf(networkDir, id, ifname).map((name) => ipToNumber(name)!);
    // One address per range, as host-local does; an ADD repeated for the same container returns the same addresses.
    return conf.ranges.map((range) => {
      const held = existing.find((ip) => inRange(range, ip));
      return { range, ip: held ?? allocate(networkDir, range, `${id}\n${ifname}\n`) };
    });
  });
  return { cniVersion: conf.cniVersion, ips: ips.map(({ range, ip }) => ipEntry(conf.cniVersion, range, ip)), routes: conf.routes, dns: conf.dns };
}

async function del(io: CniIo, conf: NetConf): Promise<void> {
  const networkDir = join(io.stateDir, conf.name);
  const { CNI_CONTAINERID: id, CNI_IFNAME: ifname } = io.env as Record<string, string>;
  let exists = true;
  try {
    statSync(networkDir);
  } catch {
    exists = false;
  }
  if (!exists) return;
  await withLock(networkDir, () => {
    for (const name of allocationsOf(networkDir, id, ifname)) rmSync(join(networkDir, name), { force: true });
  });
}

/** GC (spec 1.1): releases every allocation in the network whose attachment is not in `cni.dev/valid-attachments`. */
async function gc(io: CniIo, conf: NetConf, stdinText: string): Promise<void> {
  const raw = (JSON.parse(stdinText) as Record<string, unknown>)['cni.dev/valid-attachments'];
  if (raw !== undefined && !Array.isArray(raw)) throw new CniError(ErrorCode.invalidConfig, '"cni.dev/valid-attachments" must be a list');
  const valid = new Set(
    ((raw ?? []) as Record<string, unknown>[]).map((a) => `${String(a?.containerID)}\n${String(a?.ifname)}\n`),
  );
  const networkDir = join(io.stateDir, conf.name);
  try {
    statSync(networkDir);
  } catch {
    return;
  }
  await withLock(networkDir, () => {
    for (const name of readdirSync(networkDir).filter((n) => ALLOCATION_FILE_RE.test(n))) {
      if (!valid.has(readFileSync(join(networkDir, name), 'utf8'))) rmSync(join(networkDir, name), { force: true });
    }
  });
}

function check(io: CniIo, conf: NetConf): void {
  if (conf.cniVersion.startsWith('0.3')) {
    throw new CniError(ErrorCode.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, got ${conf.cniVersion}`);
  }
  const { CNI_CONTAINERID: id, CNI_IFNAME: ifname } = io.env as Record<string, string>;
  let held: string[] = [];
  try {
    held = allocationsOf(join(io.stateDir, conf.name), id, ifname);
  } catch {
    held = [];
  }
  const covered = conf.ranges.every((range) => held.some((name) => inRange(range, ipToNumber(name)!)));
  if (!covered) throw new CniError(ErrorCode.unknownContainer, `no address is allocated to container ${id} interface ${ifname} in network ${conf.name}`);
}

function versionAnswer(stdinText: string): unknown {
  let requested: unknown;
  try {
    requested = stdinText.trim() === '' ? undefined : (JSON.parse(stdinText) as Record<string, unknown>).cniVersion;
  } catch {
    requested = undefined;
  }
  const cniVersion = typeof requested === 'string' && SUPPORTED_VERSIONS.includes(requested) ? requested : LATEST_VERSION;
  return { cniVersion, supportedVersions: SUPPORTED_VERSIONS };
}

async function execute(io: CniIo, stdinText: string): Promise<unknown> {
  const command = io.env.CNI_COMMAND;
  if (command === 'VERSION') return versionAnswer(stdinText);
  if (!command) throw new CniError(ErrorCode.invalidEnvironment, 'missing environment variable CNI_COMMAND (ADD, DEL, CHECK, GC, STATUS or VERSION)');
  if (!['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'].includes(command)) {
    throw new CniError(ErrorCode.invalidEnvironment, `unsupported CNI_COMMAND ${JSON.stringify(command)}`, 'supported: ADD, DEL, CHECK, GC, STATUS, VERSION');
  }
  const conf = parseConfig(stdinText);
  if (command === 'STATUS') return undefined;
  if (command === 'GC') return gc(io, conf, stdinText).then(() => undefined);
  requireEnv(io.env, command === 'ADD' ? ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'] : ['CNI_CONTAINERID', 'CNI_IFNAME']);
  if (command === 'ADD') return add(io, conf);
  if (command === 'DEL') return del(io, conf).then(() => undefined);
  check(io, conf);
  return undefined;
}

function versionForError(stdinText: string): string {
  try {
    const version = (JSON.parse(stdinText) as Record<string, unknown>).cniVersion;
    if (typeof version === 'string' && SUPPORTED_VERSIONS.includes(version)) return version;
  } catch {
    // fall through to the latest version
  }
  return LATEST_VERSION;
}

/** Runs one CNI operation; returns the exit code (0, or 1 with a CNI error object on stdout). */
export async function runCniPlugin(io: CniIo): Promise<number> {
  const stdinText = io.env.CNI_COMMAND === 'VERSION' && io.stdin === process.stdin && process.stdin.isTTY ? '' : await readAll(io.stdin);
  try {
    const result = await execute(io, stdinText);
    if (result !== undefined) io.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  } catch (error) {
    const cniError = error instanceof CniError ? error : new CniError(ErrorCode.ioFailure, (error as Error).message);
    io.stdout.write(JSON.stringify({ cniVersion: versionForError(stdinText), code: cniError.code, msg: cniError.message, details: cniError.details }) + '\n');
    return 1;
  }
}
