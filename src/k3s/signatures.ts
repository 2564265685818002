/**
 * Known fatal lines in the k3s log and what each means for `up`. Pure: the wait step feeds it every
 * new log line; the unit test feeds it a table of real k3s lines.
 */

export type SignatureId =
  | 'container-manager'
  | 'flannel'
  | 'post-start-hook'
  | 'address-in-use'
  | 'overlayfs-snapshotter'
  | 'host-local-missing';

/**
 * What `up` does about it:
 * - `fallback`: this mode cannot work here; stop and try the plan's next mode when that is allowed.
 * - `restart`: a startup race; the supervisor restarts k3s and `up` keeps waiting.
 * - `fail`: nothing automatic is safe; stop waiting and say why.
 */
export type SignatureAction = 'fallback' | 'restart' | 'fail';

export interface FatalSignature {
  id: SignatureId;
  action: SignatureAction;
  /** What happened, why, and the remedy, in plain words. */
  what: string;
  why: string;
  remedy: string;
  /** The log line that matched. */
  line: string;
  /** address-in-use: the port k3s could not bind, when the line names it. */
  port?: number;
  /** post-start-hook: the hook's name. */
  hook?: string;
}

interface Rule {
  id: SignatureId;
  action: SignatureAction;
  pattern: RegExp;
  describe(match: RegExpMatchArray): Pick<FatalSignature, 'what' | 'why' | 'remedy' | 'port' | 'hook'>;
}

const RULES: Rule[] = [
  {
    id: 'container-manager',
    action: 'fallback',
    pattern: /Failed to start ContainerManager/,
    describe: () => ({
      what: 'kubelet could not start its container manager, and k3s exited',
      why: 'kubelet reads and sets six kernel tunables (vm/overcommit_memory, vm/panic_on_oom, kernel/panic, kernel/panic_on_oops, kernel/keys/root_maxkeys, kernel/keys/root_maxbytes); here some are missing or read-only, as in gVisor',
      remedy: 'run the agent under k3s-sandbox-intercept with the fake tunables (mode sandboxed-node), or run without an agent (--mode control-plane)',
    }),
  },
  {
    id: 'flannel',
    action: 'fallback',
    pattern: /flannel exited/,
    describe: () => ({
      what: 'flannel, the pod network, exited and took k3s with it',
      why: 'the vxlan backend needs kernel VXLAN support and CAP_NET_ADMIN, which this sandbox lacks',
      remedy: 'use --flannel-backend=host-gw or none (the plan chooses it when the probe finds no VXLAN), or --mode control-plane',
    }),
  },
  {
    id: 'post-start-hook',
    action: 'restart',
    pattern: /PostStartHook \\?"?([^"\\\s]+)\\?"? failed/,
    describe: (m) => ({
      hook: m[1],
      what: `the apiserver's post-start hook ${m[1]} failed, and k3s exited`,
      why: 'this happens when the datastore answers slowly during startup (slow or network-backed disk, busy CPU)',
      remedy: 'none needed: the supervisor restarts k3s; if it keeps happening, put the data dir on fast local disk',
    }),
  },
  {
    id: 'address-in-use',
    action: 'fail',
    pattern: /(?:listen tcp \S*?:(\d+): )?bind: address already in use/,
    describe: (m) => {
      const port = m[1] === undefined ? undefined : Number(m[1]);
      return {
        port,
        what: `k3s could not listen on ${port === undefined ? 'one of its ports' : `port ${port}`}: address already in use`,
        why: 'another process holds the port; k3s-sandbox never stops processes it did not start',
        remedy: 'stop that process, or set another https port in the k3s-sandbox config',
      };
    },
  },
  {
    id: 'overlayfs-snapshotter',
    action: 'fallback',
    // logrus escapes the quotes inside msg="...", so they may come as \".
    pattern: /\\?"overlayfs\\?" snapshotter cannot be enabled/,
    describe: () => ({
      what: 'containerd cannot use the overlayfs snapshotter, so the agent never starts',
      why: 'an overlay mount does not work in the data dir here (overlay on overlay, 9p or FUSE storage)',
      remedy: 'use --snapshotter=native (the plan chooses it when the probe sees overlay fail)',
    }),
  },
  {
    id: 'host-local-missing',
    action: 'fallback',
    pattern: /failed to find host-local/,
    describe: () => ({
      what: 'k3s cannot find the host-local CNI plugin, so it never finishes the agent configuration',
      why: 'the CNI stand-in directory is not on k3s\'s PATH, or the plugin there is not executable',
      remedy: 'run `k3s-sandbox doctor` and `k3s-sandbox up` again as root so the fakes step reinstalls the stand-in',
    }),
  },
];

/** The first known fatal signature in one log line, or undefined. */
export function matchFatalSignature(line: string): FatalSignature | undefined {
  for (const rule of RULES) {
    const match = line.match(rule.pattern);
    if (match) return { id: rule.id, action: rule.action, line, ...rule.describe(match) };
  }
  return undefined;
}
