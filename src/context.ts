import type { Config } from './config.js';
import type { ProbeFacts } from './steps/probe.js';
import type { StatusReporter } from './ui/status.js';
import type { Paths } from './paths.js';
import type { InstanceLock } from './instance/lock.js';
import type { InstanceRecord } from './instance/state.js';

/** The three ways k3s can run, from most to least capable. */
export type Mode = 'server' | 'sandboxed-node' | 'control-plane';

/** Why a remedy (a flag, a fake, a wrapper) was chosen: shown by `up`, `status` and `doctor`. */
export interface Remedy {
  remedy: string;
  reason: string;
}

/** What the plan step decided; everything later steps do follows from it. */
export interface Plan {
  mode: Mode;
  /** argv for the k3s binary, starting with "server". */
  k3sArgs: string[];
  /** Run k3s under k3s-sandbox-intercept with the fake tree. */
  useInterceptor: boolean;
  fakes: {
    /** /proc/sys-relative path → value, e.g. "kernel/panic" → "10". Only what the probe found missing or unwritable. */
    sysctls: Record<string, string>;
    /** Install the host-local CNI stand-in and put its directory on k3s's PATH. */
    cniStandIn: boolean;
    /** Bind /dev/null over a missing /dev/kmsg. */
    kmsgBind: boolean;
    /** Give k3s a PATH directory where iptables means iptables-legacy. */
    iptablesLegacy: boolean;
    /** cgroup v1 controllers to mount under /sys/fs/cgroup (tmpfs + one cgroup mount each) when none is mounted. */
    cgroupV1Mounts?: string[];
    /** A directory (mode 700) for the sqlite datastore, made when the plan moves it off a slow 9p data dir. */
    datastoreDir?: string;
  };
  /** Directories put in front of PATH for k3s alone. */
  pathPrepend: string[];
  /** Extra environment for k3s alone. */
  env: Record<string, string>;
  remedies: Remedy[];
  /** Plain words on what works and what does not in this mode. */
  limits: string;
  /** The next, less capable mode to fall back to on a fatal startup signature, if any. */
  fallback?: Mode;
}

export interface UpOptions {
  wait: boolean;
  waitNode: boolean;
  json: boolean;
  /** The user who receives a kubeconfig and profile lines. */
  user?: string;
}

/** Handed to every pipeline step; each step reads what earlier steps set and adds its own part. */
export interface Context {
  config: Config;
  paths: Paths;
  /** src/cli.ts wraps each step's run(ctx) in status.step(<name>); steps only add info/warn lines. */
  status: StatusReporter;
  options: UpOptions;
  facts?: ProbeFacts;
  plan?: Plan;
  /** Set by launch: the supervisor's pid, and whether an already healthy cluster was found. */
  launched?: { supervisorPid: number; alreadyRunning: boolean };
  /** Set by wait. */
  ready?: { seconds: number; node?: string };
  /** Set by publish. */
  kubeconfigPath?: string;
  /** Held from launch until wait ends (src/instance/lock.ts); a fallback's second launch reuses it. */
  instanceLock?: InstanceLock;
  /** Set by launch: what the running instance was started with (also in <state>/instance.json). */
  instance?: InstanceRecord;
  /** Set by wait on a fallback: each mode left behind in this `up`, and why. */
  fallbacks?: { from: Mode; reason: string }[];
  /** Set by publish: the files it changed, for the report's details. */
  published?: { user: string; changed: string[]; claudeEnvFile?: string };
}

/** Handed to the commands other than `up` (down, status, logs, doctor, env, uninstall-profile). */
export interface CommandContext {
  config: Config;
  /** Where each config value came from ("default", "config file …", "env …", "flag …"). */
  configSources: Record<keyof Config, string>;
  paths: Paths;
  status: StatusReporter;
}

/**
 * Thrown by the wait step when k3s died with a known fatal signature and `plan.fallback` names a less capable
 * mode. `up` (src/cli.ts) then re-plans for `to`, redoes fakes and launch (which stops the failed instance), and waits
 * again; the diagnosis is shown to the user.
 */
export class ModeFallback extends Error {
  constructor(
    readonly diagnosis: string,
    readonly to: Mode,
  ) {
    super(`${diagnosis}; falling back to mode ${to}`);
    this.name = 'ModeFallback';
  }
}
