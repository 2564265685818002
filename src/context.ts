import type { Config } from './config.js';
import type { ProbeFacts } from './steps/probe.js';
import type { StatusReporter } from './ui/status.js';
import type { Paths } from './paths.js';

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
}
