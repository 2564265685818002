import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { replaceFile } from '../files.js';
import { DEFAULT_CONFIG, type Config } from '../config.js';
import { checkDigest, sha256OfFile } from './digest.js';
import { downloadRelease, resolveChannel } from './github.js';
import { HttpClient, describeError } from './http.js';
import { imageTagFor, pullFileFromImage } from './oci.js';

/** What install-k3s needs beyond the config: where to put things and how long it may take. */
export interface InstallTarget {
  arch: 'amd64' | 'arm64';
  binDir: string;
  /** JSON record of the installed binary (version, arch, sha256, source): lets a second run skip the network. */
  recordFile: string;
  timeoutSeconds: number;
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
  replaceFile(file, text, mode);
}

/** Work dirs of installs that were killed mid-way: their pid is gone. */
async function removeStaleWorkDirs(binDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(binDir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^\.k3s-sandbox-install-(\d+)-/.exec(name);
    if (!match) continue;
    try {
      process.kill(Number(match[1]), 0);
    } catch {
      await rm(join(binDir, name), { recursive: true, force: true });
    }
  }
}

/** A candidate binary must at least run here: this catches a wrong-architecture or truncated file before it is installed. */
async function checkRuns(file: string): Promise<string> {
  await chmod(file, 0o755);
  const result = await execa(file, ['--version'], { timeout: 30_000, reject: false });
  if (result.exitCode !== 0) {
    throw new Error(`the binary does not run here (${(result.shortMessage ?? 'no message').split('\n')[0]})`);
  }
  return result.stdout.split('\n')[0];
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

/**
 * Installs `<binDir>/k3s` from the first source that works: binaryPath, the GitHub release (checked against
 * sha256sum-<arch>.txt), then each OCI registry (every blob checked against its digest). The binary goes to a temp
 * file in binDir, is verified, then renamed into place, so the old binary stays until the new one is complete.
 */
export async function installK3s(config: Config, target: InstallTarget, log: Log): Promise<void> {
  const http = new HttpClient({ attempts: 4, firstDelayMs: 500, deadline: Date.now() + target.timeoutSeconds * 1000 }, log);
  try {
    await mkdir(target.binDir, { recursive: true });
    await removeStaleWorkDirs(target.binDir);
    const binary = join(target.binDir, 'k3s');
    const version = await resolveVersion(http, config, log);
    const record = await readRecord(target.recordFile);
    const installedSha256 = await sha256OfFile(binary);
    const remember = (sha256: string, source: string) =>
      writeFileAtomically(target.recordFile, `${JSON.stringify({ version, arch: target.arch, sha256, source }, null, 2)}\n`, 0o644);

    if (!config.binaryPath && record && record.version === version && record.arch === target.arch && record.sha256 === installedSha256) {
      log(`k3s ${version} (${target.arch}) is already installed at ${binary} (sha256 ${installedSha256}); nothing to download`);
      return;
    }

    const workDir = await mkdtemp(join(target.binDir, `.k3s-sandbox-install-${process.pid}-`));
    const failures: SourceFailure[] = [];
    try {
      const attempt = async (source: string, fetch: () => Promise<{ file?: string; sha256: string }>): Promise<boolean> => {
        log(`trying ${source}`);
        try {
          const got = await fetch();
          if (!got.file) {
            log(`${binary} already has the sha256 ${got.sha256} that ${source} publishes; nothing to download`);
          } else {
            log(`${source}: verified sha256 ${got.sha256}; ${await checkRuns(got.file)}`);
            await rename(got.file, binary);
            log(`installed ${binary} from ${source}`);
          }
          await remember(got.sha256, source);
          return true;
        } catch (error) {
          const reason = describeError(error);
          log(`${source} failed: ${reason}`);
          failures.push({ source, reason });
          return false;
        }
      };

      if (config.binaryPath) {
        const local = config.binaryPath;
        const done = await attempt(`binaryPath ${local}`, async () => {
          const expected = await sha256OfFile(local);
          if (expected === undefined) throw new Error('no such file');
          if (expected === installedSha256) return { sha256: expected };
          const file = join(workDir, 'k3s');
          await copyFile(local, file);
          const actual = await sha256OfFile(file);
          checkDigest(`copy of ${local}`, expected, actual ?? '');
          return { file, sha256: expected };
        });
        if (done) return;
      }

      const releaseSource = `GitHub release ${config.releaseUrl}/${version}`;
      if (await attempt(releaseSource, () => downloadRelease(http, config.releaseUrl, version, target.arch, workDir, installedSha256))) return;

      const tag = imageTagFor(version);
      for (const registry of config.registries) {
        const source = `registry ${registry} (rancher/k3s:${tag}, linux/${target.arch})`;
        const done = await attempt(source, async () => {
          const file = await pullFileFromImage(http, { registry, repository: 'rancher/k3s', tag, arch: target.arch, path: 'bin/k3s', workDir }, log);
          const sha256 = (await sha256OfFile(file)) ?? '';
          return sha256 === installedSha256 ? { sha256 } : { file, sha256 };
        });
        if (done) return;
      }
      throw new AllSourcesFailedError(`k3s ${version} for linux/${target.arch}`, failures);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  } finally {
    await http.close();
  }
}
