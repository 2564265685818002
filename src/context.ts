/**
 * The types the `up` pipeline passes between its steps (src/pipeline.ts), and what every command shares. This module
 * imports no step: each step declares its inputs and returns its output, and only config, paths, status and options
 * are shared.
 */
import type { Config } from './config.js';
import type { Paths } from './paths.js';
import type { StatusReporter } from './ui/status.js';

/** The three ways k3s can run, from most to least capable. */
export type Mode = 'server' | 'sandboxed-node' | 'control-plane';

/** Why a remedy (a flag, a fake, a wrapper) was chosen: shown by `up`, `status` and `doctor`. */
export interface Remedy {
  remedy: string;
  reason: string;
}

export type SysctlState = 'ok' | 'missing' | 'unwritable';

export type ProcSysFakes = 'intercept' | 'overlay' | 'rebind' | 'bind' | 'none';

export interface SysctlFact {
  path: string;
  state: SysctlState;
  /** Current content (trimmed) when readable. */
  value?: string;
}

/** A program `up` runs, and whether it is there and executable. */
export interface ProgramFact {
  path: string;
  executable: boolean;
}

/** What the probe step found (src/steps/probe.ts); the plan is a pure function of these and the config. */
export interface ProbeFacts {
  /** Running under gVisor (runsc) rather than a real Linux kernel. */
  gvisor: boolean;
  /** What the gVisor verdict rests on. */
  gvisorSignals: string[];
  kernelRelease: string;
  uid: number;
  /**
   * The capabilities k3s will run with: the effective set for root; for anyone else the bounding set, which is what
   * `up` gets when it re-runs itself through `sudo -n` (k3s always runs as root).
   */
  capabilities: { source: 'CapEff' | 'CapBnd'; mask: string; sysPtrace: boolean; sysAdmin: boolean; netAdmin: boolean; netRaw: boolean; sysModule: boolean };
  ptrace: { usable: boolean; scope: number | null; reason: string };
  seccomp: { usable: boolean; reason: string };
  cgroup: { version: 1 | 2 | null; controllers: string[] };
  kmsg: boolean;
  overlay: { usable: boolean; reason: string };
  vxlan: { usable: boolean; reason: string };
  iptables: { legacy: string | null; nft: boolean; reason: string };
  /**
   * Whether iptables-legacy here can hold kube-proxy's rules (src/k3s/kubeProxyIptables.ts), tried in a throwaway network
   * namespace; tested only in gVisor with iptables-legacy and CAP_NET_RAW. holds is null when the test could not run.
   */
  kubeProxyIptables: { tested: boolean; holds: boolean | null; reason: string };
  defaultRoute: boolean;
  /** Only the k3s-relevant files that are missing or unwritable (as the sandbox has them, seen past our own mounts). */
  sysctls: SysctlFact[];
  /** The highest capability number in the bounding set (the value a faked kernel/cap_last_cap holds); null when unknown. */
  lastCap: number | null;
  /** What throwaway mounts on a scratch directory showed (root with CAP_SYS_ADMIN only; /proc/sys is never touched). */
  mounts: { tested: boolean; tmpfs: boolean; overlay: boolean; bind: boolean; namespacesIsolate: boolean; reason: string };
  port: { number: number; free: boolean | null; reason: string };
  dataDir: { path: string; existingAncestor: string; fsType: string; writable: boolean; freeBytes: number | null };
  /** The programs `up` runs: k3s, the supervisor, and the interceptor (sandboxed-node only). */
  programs: { k3s: ProgramFact; supervise: ProgramFact; intercept: ProgramFact };
  memory: { totalBytes: number | null; availableBytes: number | null };
  cpus: number;
  /** The root filesystem is 9p (gVisor gofer): sqlite there is slow. */
  rootIs9p: boolean;
  /** A tmpfs at /dev/shm the sqlite db/ can move to when the data dir is on 9p. */
  devShmTmpfs: boolean;
  durationMs: number;
}

/** What the plan step decided; everything later steps do follows from it. */
export interface Plan {
  mode: Mode;
  /** argv for the k3s binary, starting with "server". */
  k3sArgs: string[];
  /** Run k3s under k3s-sandbox-intercept with the fake tree. */
  useInterceptor: boolean;
  /**
   * argv put before k3s's own (empty for none): with fakes by bind, `unshare` and a short script that binds the fake
   * files over /proc/sys in k3s's own mount namespace, then execs k3s.
   */
  k3sWrapper: string[];
  fakes: {
    /**
     * How the /proc/sys fakes are served: `intercept` (the interceptor redirects k3s's opens to the fake tree), `overlay`
     * (an overlay over each /proc/sys directory holding one, sandbox-wide), `rebind` (a tmpfs over each such directory
     * holding the fakes, its real entries bound back from a saved bind of /proc/sys; sandbox-wide), `bind` (the fake files bound over /proc/sys
     * in k3s's own mount namespace), `none` (nothing to fake).
     */
    procSys: ProcSysFakes;
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
    /**
     * The interceptor fakes the mount(2) calls gVisor refuses (--fake-propagation, --rbind-as-bind): kubelet's rshared
     * root dir and containerd's recursive binds. With /proc/sys fakes by mount, it then traps mount(2) alone.
     */
    interceptMounts?: boolean;
    /** A CNI conflist written into k3s's CNI conf dir (flannel none writes none, and the node stays NotReady without). */
    cniConfig?: { file: string; content: string };
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

/** A mode left behind in this `up`, and why. */
export interface FallbackRecord {
  from: Mode;
  reason: string;
}

export interface UpOptions {
  wait: boolean;
  waitNode: boolean;
  json: boolean;
  /** The user who receives a kubeconfig and profile lines. */
  user?: string;
}

/** What every step of `up` shares: the inputs, nothing a step writes for a later one. */
export interface Shared {
  config: Config;
  paths: Paths;
  status: StatusReporter;
  options: UpOptions;
}

/** Handed to the commands other than `up` (down, status, logs, doctor, env, uninstall-profile). */
export interface CommandContext {
  config: Config;
  /** Where each config value came from ("default", "config file …", "env …", "flag …"). */
  configSources: Record<keyof Config, string>;
  paths: Paths;
  status: StatusReporter;
}
