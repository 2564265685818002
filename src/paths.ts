import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config } from './config.js';
import { isExecutable } from './files.js';

/** Every file and directory k3s-sandbox reads or writes at run time. Tests move them with the env overrides. */
export interface Paths {
  /** `/run/k3s-sandbox` or `$K3S_SANDBOX_STATE_DIR`: lock, supervisor pidfile, status.json, admin kubeconfig. */
  stateDir: string;
  /**
   * `<stateDir>/locks/up.lock`, mode 600 in a directory only root may enter (mode 700): flock(2) locks a read-only
   * descriptor too, so a lock file anyone can open is one anyone can hold to block every `up`.
   */
  lockFile: string;
  supervisorPidFile: string;
  statusFile: string;
  /** Where k3s writes its admin kubeconfig (`--write-kubeconfig`), mode 600. */
  adminKubeconfig: string;
  /** `/var/log/k3s-sandbox` or `$K3S_SANDBOX_LOG_DIR`. */
  logDir: string;
  logFile: string;
  /** `/var/lib/k3s-sandbox` or `$K3S_SANDBOX_LIB_DIR`: the fakes. */
  libDir: string;
  /** Root of the fake /proc/sys tree the interceptor redirects to: `<fakeRoot>/proc/sys/<path>`. */
  fakeRoot: string;
  cniBinDir: string;
  /** The CNI stand-in's allocations, one file per container, plus its lock. */
  cniStateDir: string;
  iptablesBinDir: string;
  /** k3s `--data-dir`, from config. */
  dataDir: string;
  /** Directory holding the running bundle (or src/ when run from source). */
  bundleDir: string;
  /** argv that runs this CLI again: node plus the bundle (or tsx plus src/cli.ts from source). */
  selfCommand: string[];
  binDir: string;
  intercept: string;
  supervise: string;
  /** The k3s binary: `$K3S_SANDBOX_K3S`, else `k3s` on PATH, else /usr/local/bin/k3s. */
  k3s: string;
}

function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The bundle's entry; the chunks it loads (this module may sit in one) lie beside it. */
const BUNDLE_ENTRY = 'k3s-sandbox.cjs';

/** From the bundle, run its entry; from source this module sits next to src/cli.ts and runs under tsx. */
function selfCommandFor(moduleFile: string): string[] {
  if (moduleFile.endsWith('.cjs')) return [process.execPath, join(dirname(moduleFile), BUNDLE_ENTRY)];
  const tsxLoader = createRequire(moduleFile).resolve('tsx');
  return [process.execPath, '--import', pathToFileURL(tsxLoader).href, join(dirname(moduleFile), 'cli.ts')];
}

export function resolvePaths(config: Pick<Config, 'dataDir'>, env: NodeJS.ProcessEnv = process.env): Paths {
  const moduleFile = fileURLToPath(import.meta.url);
  const bundleDir = dirname(moduleFile);
  const stateDir = env.K3S_SANDBOX_STATE_DIR || '/run/k3s-sandbox';
  const logDir = env.K3S_SANDBOX_LOG_DIR || '/var/log/k3s-sandbox';
  const libDir = env.K3S_SANDBOX_LIB_DIR || '/var/lib/k3s-sandbox';
  const binDir = env.K3S_SANDBOX_BIN_DIR || join(bundleDir, 'bin');
  return {
    stateDir,
    lockFile: join(stateDir, 'locks', 'up.lock'),
    supervisorPidFile: join(stateDir, 'supervisor.pid'),
    statusFile: join(stateDir, 'status.json'),
    adminKubeconfig: join(stateDir, 'k3s.yaml'),
    logDir,
    logFile: join(logDir, 'k3s.log'),
    libDir,
    fakeRoot: join(libDir, 'fake-root'),
    cniBinDir: join(libDir, 'cni', 'bin'),
    cniStateDir: join(libDir, 'cni', 'state'),
    iptablesBinDir: join(libDir, 'iptables', 'bin'),
    dataDir: config.dataDir,
    bundleDir,
    selfCommand: selfCommandFor(moduleFile),
    binDir,
    intercept: join(binDir, 'k3s-sandbox-intercept'),
    supervise: join(binDir, 'k3s-sandbox-supervise'),
    k3s: env.K3S_SANDBOX_K3S || findOnPath('k3s', env.PATH) || '/usr/local/bin/k3s',
  };
}

