import { access, chmod, copyFile, lstat, mkdir, mkdtemp, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { replaceFile } from '../files.js';
import { ConfigError, DEFAULT_CONFIG, type Config } from '../config.js';
import { checkDigest, sha256OfFile } from './digest.js';
import { downloadRelease, resolveChannel, type BinaryPin } from './github.js';
import { HttpClient, describeError } from './http.js';
import { KNOWN_RELEASES } from './known-digests.js';
import { imageReference, imageTagFor, pullFileFromImage } from './oci.js';

/** What install-k3s needs beyond the config: where to put things and how long it may take. */
export interface InstallTarget {
  arch: 'amd64' | 'arm64';
  binDir: string;
  /** JSON record of the installed binary (version, arch, sha256, source): lets a second run skip the network. */
  recordFile: string;
  timeoutSeconds: number;
  /** Aborted by the caller to stop the install early (SIGTERM, SIGINT); its reason is what installK3s throws. */
  interrupt?: AbortSignal;
}

interface InstallRecord {
  version: string;
  arch: string;
  sha256: string;
  source: string;
}

export interface SourceFailure {
  source: string;
  reason: string;
}

/** The install was stopped as a whole: its wall-clock limit passed, or it was interrupted by a signal. */
export class InstallAbortedError extends Error {
  constructor(message: string, readonly signal?: NodeJS.Signals) {
    super(message);
    this.name = 'InstallAbortedError';
  }
}

/** Every source failed; the message lists each one and why. */
export class AllSourcesFailedError extends Error {
  constructor(what: string, readonly failures: SourceFailure[]) {
    super(
      `could not install ${what} from any source:\n` +
        (failures.length ? failures.map((f) => `  - ${f.source}: ${f.reason}`).join('\n') : '  (no source configured)'),
    );
    this.name = 'AllSourcesFailedError';
  }
}

type Log = (line: string) => void;

export function archOf(machine: string): 'amd64' | 'arm64' {
  if (machine === 'x64' || machine === 'x86_64' || machine === 'amd64') return 'amd64';
  if (machine === 'arm64' || machine === 'aarch64') return 'arm64';
  throw new Error(`unsupported architecture ${machine}; allowed: x86_64 (amd64), aarch64 (arm64)`);
}

async function readRecord(file: string): Promise<InstallRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as InstallRecord;
  } catch {
    return undefined;
  }
}

async function writeFileAtomically(file: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  replaceFile(file, text, { mode });
}

/** Our work dirs in binDir: `.k3s-sandbox-install-<pid>-<6 random characters>` (mkdtemp). */
const WORK_DIR_PREFIX = '.k3s-sandbox-install-';
const WORK_DIR_NAME = /^\.k3s-sandbox-install-\d+-[A-Za-z0-9]{6}$/;

/**
 * Leftovers of installs that were killed before their cleanup ran (SIGKILL, power loss), whatever their pid: an
 * install is the only writer of these names, and install.sh runs one at a time. Only names of exactly our shape,
 * only directories and regular files (never through a symlink), only in binDir.
 */
async function removeLeftoverWorkDirs(binDir: string, log: Log): Promise<void> {
  let names: string[];
  try {
    names = await readdir(binDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!WORK_DIR_NAME.test(name)) continue;
    const path = join(binDir, name);
    const stat = await lstat(path).catch(() => undefined);
    if (!stat || !(stat.isDirectory() || stat.isFile())) continue;
    await rm(path, { recursive: true, force: true });
    log(`removed ${path}, left by an install that did not finish`);
  }
}

const ELF_MACHINE: Record<InstallTarget['arch'], number> = { amd64: 62, arm64: 183 };

/**
 * A candidate must be a 64-bit little-endian ELF for this architecture: this catches a wrong-architecture file, an
 * HTML error page or a script, without running anything.
 */
export async function checkElf(file: string, arch: InstallTarget['arch']): Promise<void> {
  const handle = await open(file, 'r');
  const head = Buffer.alloc(20);
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const isElf = head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) && head[4] === 2 && head[5] === 1;
  if (!isElf || head.readUInt16LE(18) !== ELF_MACHINE[arch]) {
    throw new Error(`the file is not a 64-bit ELF executable for ${arch} (it starts with ${JSON.stringify(head.subarray(0, 8).toString('latin1'))})`);
  }
}

/** `k3s version v1.36.4+k3s1 (abc123)` → `v1.36.4+k3s1`. Run only on a file that matched a pin, or the user's own binaryPath. */
async function reportedVersion(file: string, signal: AbortSignal): Promise<string> {
  const result = await execa(file, ['--version'], { timeout: 30_000, reject: false, cancelSignal: signal });
  const first = result.stdout.split('\n')[0];
  if (result.exitCode !== 0) throw new Error(`the binary does not run here (${(result.shortMessage ?? 'no message').split('\n')[0]})`);
  return /^k3s version (\S+)/.exec(first)?.[1] ?? first;
}

/** Where the digests an install trusts come from: the user's options first, then the feature's table. */
export interface Pins {
  binary?: BinaryPin;
  image?: { digest: string; origin: string };
}

/** The pins for one version and arch. Pure: the table, the options, nothing from the network. */
export function pinsFor(config: Pick<Config, 'sha256' | 'imageDigest'>, version: string, arch: InstallTarget['arch']): Pins {
  const known = Object.prototype.hasOwnProperty.call(KNOWN_RELEASES, version) ? KNOWN_RELEASES[version] : undefined;
  const pins: Pins = {};
  const where = `k3s ${version} linux/${arch}`;
  if (config.sha256) pins.binary = { sha256: config.sha256, origin: `option sha256 for ${where}` };
  else if (known?.binary[arch]) pins.binary = { sha256: known.binary[arch].value, origin: `the feature's pinned digest for ${where}` };
  if (config.imageDigest) pins.image = { digest: config.imageDigest, origin: `option imageDigest for k3s ${version}` };
  else if (known?.imageIndex) pins.image = { digest: known.imageIndex.value, origin: `the feature's pinned image index digest for k3s ${version}` };
  return pins;
}

/** One log line per artifact saying what it will be checked against. */
function describePins(pins: Pins, version: string, arch: string): string[] {
  return [
    pins.binary
      ? `release binary: must have sha256 ${pins.binary.sha256} (${pins.binary.origin})`
      : `release binary: no pinned digest for k3s ${version} linux/${arch}; it is verified only against the release's own sha256sum-${arch}.txt (set the option sha256 to pin it)`,
    pins.image
      ? `registry image: pulled by digest ${pins.image.digest} (${pins.image.origin})`
      : `registry image: no pinned digest for k3s ${version}; it is verified only against the registry's own manifest digests (set the option imageDigest to pin it)`,
  ];
}

export async function resolveVersion(http: HttpClient, config: Config, log: Log): Promise<string> {
  if (config.version !== 'stable' && config.version !== 'latest') return config.version;
  try {
    const version = await resolveChannel(http, config.channelUrl, config.version);
    log(`channel ${config.version} is ${version}`);
    return version;
  } catch (error) {
    log(`warning: cannot resolve channel ${config.version} from ${config.channelUrl} (${describeError(error)}); using the pinned ${DEFAULT_CONFIG.version}`);
    return DEFAULT_CONFIG.version;
  }
}

/** A downloaded or copied candidate, and what vouches for its bytes. */
interface Candidate {
  /** The file to install, or undefined when the installed binary already is this one. */
  file?: string;
  sha256: string;
  /** The pin it matched, or undefined when only its own source vouches for it. */
  pinnedBy?: string;
}

/**
 * A binaryPath that does not exist is a mistyped setting: it fails at once, before any download (which would only
 * hide it behind the last source's failure).
 */
async function requireBinaryPath(binaryPath: string): Promise<void> {
  if (!binaryPath) return;
  try {
    await access(binaryPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return; // the attempt says what else is wrong with it
    throw new ConfigError(
      `binaryPath ${binaryPath}: no such file; give the path of a k3s binary (option binaryPath, K3S_SANDBOX_BINARY_PATH), or leave it empty to download k3s`,
    );
  }
}

/**
 * Installs `<binDir>/k3s` from the first source that works: binaryPath, the GitHub release, then each OCI registry.
 * A binary is checked against the pinned digest where one exists (the user's sha256 or imageDigest option, else the
 * feature's table), and otherwise against its own source's checksum, which the log says. Nothing downloaded is run
 * before it matched a pin; nothing unpinned is run at all (an ELF header check stands in). The binary goes to a work
 * dir in binDir, is verified, then renamed into place, so the old binary stays until the new one is complete.
 * `timeoutSeconds` bounds the whole install by the clock; on timeout or interrupt the work dir is removed.
 */
export async function installK3s(config: Config, target: InstallTarget, log: Log): Promise<void> {
  await requireBinaryPath(config.binaryPath);
  const limit = new AbortController();
  const timer = setTimeout(
    () => limit.abort(new InstallAbortedError(`the install did not finish within --timeout ${target.timeoutSeconds} s (a limit on the whole install, downloads included)`)),
    target.timeoutSeconds * 1000,
  );
  const onInterrupt = () => limit.abort(target.interrupt?.reason);
  if (target.interrupt?.aborted) onInterrupt();
  target.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  const signal = limit.signal;
  const http = new HttpClient(
    { attempts: 4, firstDelayMs: 500, deadline: Date.now() + target.timeoutSeconds * 1000 },
    log,
    { signal, insecureHosts: config.insecureRegistries },
  );
  try {
    await mkdir(target.binDir, { recursive: true });
    await removeLeftoverWorkDirs(target.binDir, log);
    const binary = join(target.binDir, 'k3s');
    const version = await resolveVersion(http, config, log);
    signal.throwIfAborted();
    const pins = pinsFor(config, version, target.arch);
    for (const line of describePins(pins, version, target.arch)) log(line);
    const record = await readRecord(target.recordFile);
    const installedSha256 = await sha256OfFile(binary);
    const remember = (sha256: string, source: string) =>
      writeFileAtomically(target.recordFile, `${JSON.stringify({ version, arch: target.arch, sha256, source }, null, 2)}\n`, 0o644);

    if (!config.binaryPath && record && record.version === version && record.arch === target.arch && record.sha256 === installedSha256) {
      log(`k3s ${version} (${target.arch}) is already installed at ${binary} (sha256 ${installedSha256}); nothing to download`);
      return;
    }

    const workDir = await mkdtemp(join(target.binDir, `${WORK_DIR_PREFIX}${process.pid}-`));
    const failures: SourceFailure[] = [];
    try {
      const attempt = async (source: string, fetch: () => Promise<Candidate>, checkVersion = false): Promise<boolean> => {
        log(`trying ${source}`);
        try {
          const got = await fetch();
          if (!got.file) {
            log(`${binary} already has the sha256 ${got.sha256} that ${source} ${got.pinnedBy ? 'is pinned to' : 'publishes'}; nothing to download`);
          } else {
            await checkElf(got.file, target.arch);
            await chmod(got.file, 0o755);
            if (got.pinnedBy || checkVersion) {
              const reported = await reportedVersion(got.file, signal);
              log(`${source}: sha256 ${got.sha256} ${got.pinnedBy ? `matches ${got.pinnedBy}` : '(the file as given)'}; it reports ${reported}`);
              if (checkVersion && reported !== version) {
                log(`warning: ${source} reports ${reported}, not the configured version ${version}; installing it because binaryPath is your own choice`);
              }
            } else {
              log(`${source}: sha256 ${got.sha256} matches only its source's own checksum; not run before it is installed`);
            }
            await rename(got.file, binary);
            log(`installed ${binary} from ${source}`);
          }
          await remember(got.sha256, source);
          return true;
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          const reason = describeError(error);
          log(`${source} failed: ${reason}`);
          failures.push({ source, reason });
          return false;
        }
      };

      if (config.binaryPath) {
        const local = config.binaryPath;
        const done = await attempt(`binaryPath ${local}`, async () => {
          const actual = await sha256OfFile(local);
          if (actual === undefined) throw new Error('no such file');
          if (pins.binary) {
            const hint = config.sha256 ? '' : `; to install this file anyway, set the option sha256 to ${actual}`;
            checkDigest('the file', pins.binary.sha256, actual, `${pins.binary.origin}${hint}`);
          } else {
            log(`binaryPath ${local}: no pinned digest for k3s ${version} linux/${target.arch}; installing the file as given (sha256 ${actual})`);
          }
          const pinnedBy = pins.binary?.origin;
          if (actual === installedSha256) return { sha256: actual, pinnedBy };
          const file = join(workDir, 'k3s');
          await copyFile(local, file);
          checkDigest(`copy of ${local}`, actual, (await sha256OfFile(file)) ?? '');
          return { file, sha256: actual, pinnedBy };
        }, true);
        if (done) return;
      }

      const releaseSource = `GitHub release ${config.releaseUrl}/${version}`;
      const fromRelease = async (): Promise<Candidate> => ({
        ...(await downloadRelease(http, config.releaseUrl, version, target.arch, workDir, installedSha256, pins.binary)),
        pinnedBy: pins.binary?.origin,
      });
      if (await attempt(releaseSource, fromRelease)) return;

      const reference = pins.image?.digest ?? imageTagFor(version);
      for (const registry of config.registries) {
        const source = `registry ${registry} (${imageReference('rancher/k3s', reference)}, linux/${target.arch})`;
        const done = await attempt(source, async () => {
          const file = await pullFileFromImage(http, { registry, repository: 'rancher/k3s', reference, arch: target.arch, path: 'bin/k3s', workDir }, log, signal);
          const sha256 = (await sha256OfFile(file)) ?? '';
          const pinnedBy = pins.image?.origin;
          return sha256 === installedSha256 ? { sha256, pinnedBy } : { file, sha256, pinnedBy };
        });
        if (done) return;
      }
      throw new AllSourcesFailedError(`k3s ${version} for linux/${target.arch}`, failures);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    target.interrupt?.removeEventListener('abort', onInterrupt);
    await http.close();
  }
}
