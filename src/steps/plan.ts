import { DISABLE_CHOICES, type Config } from '../config.js';
import { UpError } from '../diagnose/upError.js';
import type { InstanceRecord } from '../instance/state.js';
import type { Mode, Plan, ProbeFacts, ProcSysFakes, Remedy, Shared } from '../context.js';
import {
  baseArgs,
  CGROUP_V1_CONTROLLERS,
  CONTROL_PLANE_FLAGS,
  NO_IPTABLES_FLAGS,
  POD_ADDONS,
  SANDBOXED_NODE_FLAGS,
  CGROUP_V1_KUBELET_FLAGS,
  SQLITE_DSN_OPTIONS,
  type FlagSet,
} from '../k3s/flags.js';
import { KUBE_PROXY_WITHOUT_RULES } from '../k3s/kubeProxyIptables.js';
import { K3S_SYSCTLS, KUBELET_TUNABLES, ROUTE_LOCALNET, wantedSysctlValue } from '../k3s/sysctls.js';
import { BRIDGE_CONFLIST, CNI_CONFLIST_NAME, cniConfDir } from '../k3s/cni.js';
import type { Paths } from '../paths.js';

/**
 * The plan is a pure function of the probe facts, the config and the paths: which mode k3s runs in, its exact argv,
 * the fakes it needs, and why each remedy was chosen. Unit tests pin it down with a table.
 */

/**
 * No plan can run: the asked-for mode (or every mode) is blocked here. The message lists every blocker and its remedy;
 * `up` fails with it at once, and `doctor` prints the same text.
 */
export class PlanError extends UpError {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Something that stops a mode from running here, and what would lift it. */
export interface Blocker {
  problem: string;
  remedy: string;
}

/** Most capable first. */
export const MODES: readonly Mode[] = ['server', 'sandboxed-node', 'control-plane'];

/** Where the sqlite datastore goes when the data dir is on 9p: tmpfs, so lost with the sandbox, like the sandbox itself. */
export const TMPFS_DATASTORE_DIR = '/dev/shm/k3s-sandbox/db';
export const LIMITS: Record<Mode, string> = {
  server: 'everything works: the API, a Ready node, and pods',
  'sandboxed-node':
    'a node registers, but pods do not run under gVisor; the API, CRDs, RBAC, server-side dry-run and Helm template/dry-run work',
  'control-plane':
    'the API, CRDs, RBAC, server-side dry-run and Helm template/dry-run work; pods are never scheduled (there is no node)',
};

export type PlanPaths = Pick<Paths, 'adminKubeconfig' | 'cniBinDir' | 'iptablesBinDir' | 'fakeRoot'>;

/** How sandboxed-node's /proc/sys fakes are served here, and why; or why the asked-for way cannot be. */
export type FakesChoice = { procSys: ProcSysFakes; reason: string } | { blocker: Blocker };

/** k3s dies without this file (kubelet, kube-proxy); the rest only cost a warning. */
function isFatal(path: string): boolean {
  return K3S_SYSCTLS.some((sysctl) => sysctl.path === path && sysctl.fatal);
}

/**
 * Whether the sandbox lets us mount the fakes, and how: in gVisor overlays, else (refused, or fakes=rebind) a tmpfs per
 * directory with the real entries bound back; on a real kernel binds in a private mount namespace.
 */
function mountWay(facts: ProbeFacts, config: Pick<Config, 'fakes'>): { way: 'overlay' | 'rebind' | 'bind'; reason: string } | { cannot: string } {
  const { mounts } = facts;
  if (!mounts.tested) return { cannot: mounts.reason };
  const scope = mounts.namespacesIsolate
    ? 'they are sandbox-wide'
    : "sandbox-wide: this gVisor's mount namespaces do not isolate, so every process in the sandbox sees the faked values";
  if (facts.gvisor && mounts.overlay && config.fakes !== 'rebind') {
    return { way: 'overlay', reason: `gVisor accepts an overlay over a /proc/sys directory (${scope}); nothing is traced` };
  }
  if (facts.gvisor && mounts.tmpfs && mounts.bind) {
    const why = config.fakes === 'rebind' ? 'asked for (fakes=rebind)' : 'gVisor refuses an overlay but mounts a tmpfs and binds';
    return { way: 'rebind', reason: `${why}: a tmpfs over each /proc/sys directory holding a fake, its real entries bound back live (${scope}); nothing is traced` };
  }
  if (config.fakes === 'rebind') return { cannot: facts.gvisor ? `the rebind variant needs a tmpfs and a bind (${mounts.reason})` : 'the rebind variant is for gVisor (a real kernel uses binds in a private mount namespace)' };
  const missing = facts.sysctls.filter((fact) => fact.state === 'missing' && isFatal(fact.path)).map((fact) => fact.path);
  if (!facts.gvisor && mounts.namespacesIsolate && missing.length === 0) {
    return { way: 'bind', reason: "the fake files are bound over the read-only ones in k3s's own mount namespace (the rest of the machine keeps its values); nothing is traced" };
  }
  if (!mounts.namespacesIsolate && !facts.gvisor) return { cannot: `mount namespaces do not isolate here (${mounts.reason}), and binds over /proc/sys would change it for everyone` };
  if (missing.length > 0 && !facts.gvisor) return { cannot: `a bind needs an existing file, and ${missing.join(', ')} is missing` };
  return { cannot: `neither an overlay nor a tmpfs with binds can be mounted (${mounts.reason})` };
}

/**
 * Pure: how sandboxed-node serves the missing or read-only /proc/sys files. fakes=auto mounts them where the sandbox
 * allows it (no ptrace stop per open, so k3s runs at native speed), else uses the interceptor; mount and intercept force one,
 * rebind forces gVisor's tmpfs-plus-rebind variant (which auto uses only where an overlay is refused).
 */
export function fakesChoice(facts: ProbeFacts, config: Pick<Config, 'fakes'>): FakesChoice {
  if (config.fakes === 'intercept') return { procSys: 'intercept', reason: 'asked for (fakes=intercept)' };
  if (facts.sysctls.length === 0) return { procSys: 'none', reason: 'every /proc/sys file k3s needs is there and writable' };
  const mount = mountWay(facts, config);
  if ('way' in mount) return { procSys: mount.way, reason: mount.reason };
  if (config.fakes === 'mount' || config.fakes === 'rebind') {
    return { blocker: { problem: `fakes=${config.fakes}, but the fakes cannot be mounted here: ${mount.cannot}`, remedy: 'run as root with CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN), or set fakes (K3S_SANDBOX_FAKES) to auto or intercept' } };
  }
  return { procSys: 'intercept', reason: `the fakes cannot be mounted here (${mount.cannot})` };
}

/** The script `unshare` runs in k3s's new mount namespace: bind each fake file over its /proc/sys file, then exec k3s. */
const BIND_SCRIPT = 'set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; shift 2; done; shift; exec "$@"';

/** unshare + the bind script for `sysctls` (path → value), the fake files living in the fake tree. */
function bindWrapper(sysctls: Record<string, string>, paths: PlanPaths): string[] {
  const pairs = Object.keys(sysctls).flatMap((path) => [`${paths.fakeRoot}/proc/sys/${path}`, `/proc/sys/${path}`]);
  return ['unshare', '--mount', '--propagation', 'slave', '--', 'sh', '-c', BIND_SCRIPT, 'k3s-sandbox-fakes', ...pairs, '--'];
}

/** A fatal sysctl is a problem when it is missing, or read-only with a value other than the one wanted. */
function brokenSysctls(facts: ProbeFacts, paths: readonly string[]): string[] {
  return facts.sysctls
    .filter((fact) => paths.includes(fact.path))
    .filter((fact) => {
      if (fact.state === 'missing') return true;
      return fact.value !== wantedSysctlValue(fact.path, facts);
    })
    .map((fact) => `${fact.path} (${fact.state})`);
}

function cgroupBlockers(facts: ProbeFacts): Blocker[] {
  const { version, controllers } = facts.cgroup;
  if (version === null) {
    return [{ problem: 'no cgroup filesystem is mounted', remedy: 'mount cgroup2 at /sys/fs/cgroup (docker run --cgroupns=host or --privileged)' }];
  }
  // k3s Validate(): v2 needs cpu, cpuset, memory; v1 needs memory. Its kubelet config needs pids on both.
  const required = version === 2 ? ['cpu', 'cpuset', 'memory', 'pids'] : ['memory', 'pids'];
  const missing = required.filter((c) => !controllers.includes(c));
  if (missing.length === 0) return [];
  return [{
    problem: `cgroup v${version} lacks the ${missing.join(', ')} controller(s)`,
    remedy: version === 2 ? 'delegate the controllers to this container (e.g. docker run --cgroupns=host --privileged)' : 'boot with cgroup_memory=1 cgroup_enable=memory',
  }];
}

/** The sandboxed node can mount cgroup v1 itself (gVisor implements cgroupfs v1) when none is mounted. */
function canMountCgroupV1(mode: Mode, facts: ProbeFacts): boolean {
  return mode === 'sandboxed-node' && facts.cgroup.version === null && facts.capabilities.sysAdmin;
}

function agentBlockers(mode: Mode, facts: ProbeFacts): Blocker[] {
  const blockers: Blocker[] = [];
  if (!canMountCgroupV1(mode, facts)) blockers.push(...cgroupBlockers(facts));
  if (!facts.kmsg && !facts.capabilities.sysAdmin) {
    blockers.push({ problem: '/dev/kmsg is missing and CAP_SYS_ADMIN is needed to bind /dev/null over it', remedy: 'run the container with --privileged, or with --device /dev/kmsg' });
  }
  if (!facts.capabilities.netAdmin) {
    blockers.push({ problem: 'CAP_NET_ADMIN is missing: flannel and kube-proxy cannot set up networking', remedy: 'grant CAP_NET_ADMIN (docker run --cap-add NET_ADMIN or --privileged)' });
  }
  return blockers;
}

/**
 * Why `mode` cannot run in this sandbox; empty when it can. k3s always runs as root (a non-root `up` re-runs itself
 * through `sudo -n`, see src/instance/root.ts), so the caller's uid is no blocker, and the data dir is only judged when
 * the probe ran as root.
 */
const REINSTALL = 'set K3S_SANDBOX_BIN_DIR to the directory holding it, or reinstall k3s-sandbox';

/** The installation's part: the programs `mode` runs must be there (they would only crash-loop otherwise). */
function programBlockers(mode: Mode, facts: ProbeFacts, config: Pick<Config, 'fakes'>): Blocker[] {
  const { k3s, supervise, intercept } = facts.programs;
  const missing = (path: string) => `${path} is missing or not executable`;
  const blockers: Blocker[] = [];
  if (!supervise.executable) blockers.push({ problem: missing(supervise.path), remedy: REINSTALL });
  if (!k3s.executable) blockers.push({ problem: missing(k3s.path), remedy: 'install k3s (install.sh does), or point K3S_SANDBOX_K3S at the binary' });
  if (mode === 'sandboxed-node' && usesInterceptor(facts, config) && !intercept.executable) blockers.push({ problem: missing(intercept.path), remedy: REINSTALL });
  return blockers;
}

function usesInterceptor(facts: ProbeFacts, config: Pick<Config, 'fakes'>): boolean {
  const choice = fakesChoice(facts, config);
  return 'procSys' in choice && choice.procSys === 'intercept';
}

export function blockersFor(mode: Mode, facts: ProbeFacts, config: Pick<Config, 'dataDir' | 'fakes'>): Blocker[] {
  const blockers: Blocker[] = programBlockers(mode, facts, config);
  if (facts.uid === 0 && !facts.dataDir.writable) {
    blockers.push({
      problem: `the data dir ${config.dataDir} cannot be created or written (${facts.dataDir.existingAncestor} is not writable)`,
      remedy: 'set dataDir (K3S_SANDBOX_DATA_DIR) to a directory on a writable filesystem',
    });
  }
  if (mode === 'control-plane') return blockers;
  blockers.push(...agentBlockers(mode, facts));
  if (mode === 'server') {
    if (facts.gvisor) {
      blockers.push({
        problem: `gVisor (${facts.gvisorSignals.join('; ')}): kubelet's kernel tunables are missing or read-only and flannel cannot create links`,
        remedy: 'use mode control-plane (the default here), or sandboxed-node to run a node under the interceptor',
      });
    } else {
      const broken = brokenSysctls(facts, KUBELET_TUNABLES);
      if (broken.length > 0) {
        blockers.push({
          problem: `kubelet cannot set its kernel tunables: ${broken.join(', ')}`,
          remedy: 'make /proc/sys writable (docker run --privileged), or use mode sandboxed-node, which fakes them under the interceptor',
        });
      }
    }
  }
  if (mode === 'sandboxed-node') {
    const choice = fakesChoice(facts, config);
    if ('blocker' in choice) blockers.push(choice.blocker);
  }
  if (mode === 'sandboxed-node' && usesInterceptor(facts, config) && !facts.ptrace.usable) {
    blockers.push({
      problem: `the interceptor needs ptrace, which is unavailable: ${facts.ptrace.reason}`,
      remedy: 'grant CAP_SYS_PTRACE or set kernel.yama.ptrace_scope to 1 or less, or CAP_SYS_ADMIN so the fakes can be mounted instead (fakes=auto), or use mode control-plane',
    });
  }
  return blockers;
}

function describeBlockers(blockers: Blocker[]): string {
  return blockers.map((b) => `  - ${b.problem}; remedy: ${b.remedy}`).join('\n');
}

/** gVisor defaults to control-plane (sandboxed-node is opt-in until it proves stable); a real kernel gets server when it can. */
function chooseMode(facts: ProbeFacts, config: Pick<Config, 'mode' | 'dataDir' | 'fakes'>): { mode: Mode; why: string } {
  // A missing program blocks every mode: say that alone, first, rather than once per mode.
  const [missingProgram] = programBlockers(config.mode === 'auto' ? 'control-plane' : config.mode, facts, config);
  if (missingProgram) throw new PlanError(`${missingProgram.problem}: ${missingProgram.remedy}`);
  if (config.mode !== 'auto') {
    const blockers = blockersFor(config.mode, facts, config);
    if (blockers.length > 0) throw new PlanError(`mode ${config.mode} cannot run in this sandbox:\n${describeBlockers(blockers)}`);
    return { mode: config.mode, why: 'asked for in the config' };
  }
  const cpBlockers = blockersFor('control-plane', facts, config);
  if (facts.gvisor) {
    if (cpBlockers.length > 0) throw new PlanError(`no mode can run in this sandbox:\n${describeBlockers(cpBlockers)}`);
    return { mode: 'control-plane', why: 'gVisor: kubelet cannot run without the interceptor, and sandboxed-node is opt-in' };
  }
  const serverBlockers = blockersFor('server', facts, config);
  if (serverBlockers.length === 0) return { mode: 'server', why: 'the kernel allows a full server' };
  if (cpBlockers.length > 0) {
    const problems = new Set(serverBlockers.map((b) => b.problem));
    throw new PlanError(`no mode can run in this sandbox:\n${describeBlockers([...serverBlockers, ...cpBlockers.filter((b) => !problems.has(b.problem))])}`);
  }
  return { mode: 'control-plane', why: `the agent cannot run: ${serverBlockers.map((b) => b.problem).join('; ')}` };
}

function disableFlag(always: readonly string[], fromConfig: readonly string[]): string[] {
  const names = DISABLE_CHOICES.filter((name) => always.includes(name) || fromConfig.includes(name));
  return names.length > 0 ? [`--disable=${names.join(',')}`] : [];
}

interface Draft {
  args: string[];
  remedies: Remedy[];
  plan: Pick<Plan, 'fakes' | 'pathPrepend' | 'env' | 'useInterceptor' | 'k3sWrapper'>;
}

/** Adds k3s flags (each at most once, e.g. --disable-kube-proxy wanted for two reasons) and the reason for them. */
function add(draft: Draft, args: readonly string[], reason: string): void {
  draft.args.push(...args.filter((arg) => !draft.args.includes(arg)));
  draft.remedies.push({ remedy: args.join(' '), reason });
}

function addSets(draft: Draft, sets: readonly FlagSet[]): void {
  for (const set of sets) add(draft, set.args, set.reason);
}

function planIptables(draft: Draft, facts: ProbeFacts, paths: PlanPaths): void {
  if (facts.iptables.nft) return;
  if (facts.iptables.legacy) {
    draft.plan.fakes.iptablesLegacy = true;
    draft.plan.pathPrepend.push(paths.iptablesBinDir);
    draft.remedies.push({ remedy: `iptables-legacy first on k3s's PATH (${paths.iptablesBinDir})`, reason: `nft does not work here (${facts.iptables.reason})` });
    return;
  }
  add(draft, [...NO_IPTABLES_FLAGS], `no working iptables (${facts.iptables.reason}): kube-proxy and the network policy controller would exit`);
}

function planKmsg(draft: Draft, facts: ProbeFacts): void {
  if (facts.kmsg) return;
  draft.plan.fakes.kmsgBind = true;
  draft.remedies.push({ remedy: 'bind /dev/null over /dev/kmsg', reason: "/dev/kmsg is missing and kubelet's OOM watcher opens it" });
}

function planServer(draft: Draft, facts: ProbeFacts, paths: PlanPaths): void {
  if (!facts.overlay.usable) add(draft, ['--snapshotter=native'], `overlayfs cannot be used: ${facts.overlay.reason}`);
  if (!facts.vxlan.usable) {
    if (facts.defaultRoute) add(draft, ['--flannel-backend=host-gw'], `no VXLAN: ${facts.vxlan.reason}`);
    else add(draft, ['--flannel-backend=none'], `no VXLAN (${facts.vxlan.reason}) and no default route for host-gw; pods get no network`);
  }
  if (!facts.defaultRoute) add(draft, ['--node-ip=127.0.0.1'], 'no default route, so k3s cannot detect a node IP');
  if (facts.cgroup.version === 1) addSets(draft, [CGROUP_V1_KUBELET_FLAGS]);
  if (brokenSysctls(facts, [ROUTE_LOCALNET]).length > 0) {
    add(draft, ['--disable-kube-proxy'], `kube-proxy exits when it cannot write ${ROUTE_LOCALNET}`);
  }
  planKmsg(draft, facts);
  planIptables(draft, facts, paths);
}

const SERVED_BY: Record<Exclude<ProcSysFakes, 'none'>, string> = {
  intercept: 'the interceptor serves',
  overlay: 'overlays over their /proc/sys directories serve',
  rebind: 'tmpfs mounts over their /proc/sys directories, the real entries bound back, serve',
  bind: "binds in k3s's own mount namespace serve",
};

function planProcSysFakes(draft: Draft, facts: ProbeFacts, config: Pick<Config, 'fakes'>, paths: PlanPaths): void {
  const choice = fakesChoice(facts, config);
  if ('blocker' in choice) throw new PlanError(`${choice.blocker.problem}; remedy: ${choice.blocker.remedy}`);
  draft.plan.fakes.procSys = choice.procSys;
  draft.plan.useInterceptor = choice.procSys === 'intercept';
  // A bind needs a file to bind over: a missing one that k3s only warns about is left missing.
  const skipped = choice.procSys === 'bind' ? facts.sysctls.filter((fact) => fact.state === 'missing').map((fact) => fact.path) : [];
  for (const fact of facts.sysctls) if (!skipped.includes(fact.path)) draft.plan.fakes.sysctls[fact.path] = wantedSysctlValue(fact.path, facts);
  const faked = Object.keys(draft.plan.fakes.sysctls);
  if (choice.procSys === 'bind') draft.plan.k3sWrapper = bindWrapper(draft.plan.fakes.sysctls, paths);
  if (choice.procSys === 'none') return;
  const what = faked.length > 0 ? `${faked.length} fake /proc/sys file(s) (missing or read-only: ${faked.join(', ')})` : 'no fake /proc/sys file';
  const left = skipped.length > 0 ? `; left missing, as k3s only warns about them: ${skipped.join(', ')}` : '';
  draft.remedies.push({ remedy: `${SERVED_BY[choice.procSys]} ${what}`, reason: choice.reason + left });
}

/**
 * gVisor refuses kubelet's MS_SHARED|MS_REC on its root dir (fatal at start) and containerd's recursive binds (every
 * image unpack): the interceptor fakes both, each only where its start-up probe sees the refusal. With /proc/sys fakes
 * by mount, it runs for mount(2) alone: its seccomp filter then stops no open or stat, so k3s pays a stop only per mount.
 * Without CAP_SYS_ADMIN every mount is refused (EPERM): the interceptor then answers only kubelet's bind of its root dir
 * onto itself and the propagation change after it, and containerd's unpack keeps failing.
 */
function planMountSyscallFakes(draft: Draft, facts: ProbeFacts): void {
  if (!facts.gvisor) return;
  const reason = facts.capabilities.sysAdmin
    ? "kubelet makes its root dir rshared at start (fatal when refused) and containerd's native snapshotter unpacks images through a recursive bind; " +
      'gVisor refuses both with EINVAL. Its mounts are sandbox-wide, so propagation is moot, and a snapshot has nothing mounted under it'
    : 'kubelet binds its root dir onto itself and makes it rshared at start (fatal when refused); without CAP_SYS_ADMIN every mount is refused (EPERM). ' +
      "The bind's only effect would be a mount point whose propagation can be set, and propagation is moot where no mount can be made; " +
      "every other mount stays refused, so containerd cannot unpack images (its native snapshotter's bind) and pods cannot start";
  if (!facts.ptrace.usable || !facts.programs.intercept.executable) {
    draft.remedies.push({ remedy: 'no mount(2) fakes', reason: `the interceptor cannot run here (${facts.ptrace.usable ? `${facts.programs.intercept.path} is missing` : facts.ptrace.reason}): kubelet will stop at its rshared root dir. ${reason}` });
    return;
  }
  draft.plan.fakes.interceptMounts = true;
  const how = draft.plan.useInterceptor
    ? 'the interceptor also fakes'
    : 'k3s runs under the interceptor with a seccomp filter that stops only mount(2) (no open or stat), to fake';
  draft.plan.useInterceptor = true;
  const what = facts.capabilities.sysAdmin
    ? 'a propagation change answers 0, a recursive bind is done as a plain bind'
    : 'a bind of a directory onto itself and a propagation change answer 0';
  draft.remedies.push({ remedy: `${how} the mount(2) calls gVisor refuses: ${what}`, reason });
}

function planCniConfig(draft: Draft, dataDir: string): void {
  draft.plan.fakes.cniConfig = { file: `${cniConfDir(dataDir)}/${CNI_CONFLIST_NAME}`, content: BRIDGE_CONFLIST };
  draft.remedies.push({ remedy: `a bridge CNI network (host-local 10.42.0.0/24, as flannel would give) in ${cniConfDir(dataDir)}`, reason: 'with --flannel-backend=none containerd finds no CNI config and reports NetworkReady=false, so kubelet keeps the node NotReady' });
}

/**
 * kube-proxy runs on iptables-legacy where it can: gVisor serves iptables only to CAP_NET_RAW (runsc --net-raw), and
 * even then its netfilter may lack matches kube-proxy's rules use (the probe tries them), where kube-proxy's sync would
 * fail forever while it keeps exec-ing iptables. Services cannot route in sandboxed-node anyway (pods do not run).
 */
function planNodeIptables(draft: Draft, facts: ProbeFacts, paths: PlanPaths): void {
  const netfilter = facts.kubeProxyIptables;
  if (!facts.iptables.legacy) {
    add(draft, [...NO_IPTABLES_FLAGS], `no iptables-legacy (${facts.iptables.reason})`);
  } else if (!facts.capabilities.netRaw) {
    // Found with the real kube-proxy: in gVisor without NET_RAW every table "does not exist", and kube-proxy exits after 30 s.
    add(draft, [...NO_IPTABLES_FLAGS], 'iptables-legacy talks to the kernel through a raw socket, and CAP_NET_RAW is missing (gVisor: runsc without --net-raw): kube-proxy would exit "iptables is not available on this host"');
  } else if (netfilter.tested && netfilter.holds !== true) {
    const lacks = netfilter.holds === false
      ? `gVisor's netfilter lacks what kube-proxy's rules use (${netfilter.reason})`
      : `whether gVisor's netfilter can hold kube-proxy's rules is ${netfilter.reason}`;
    add(draft, [...NO_IPTABLES_FLAGS], `${lacks}: ${KUBE_PROXY_WITHOUT_RULES}`);
  } else {
    draft.plan.fakes.iptablesLegacy = true;
    draft.plan.pathPrepend.push(paths.iptablesBinDir);
    draft.remedies.push({ remedy: `iptables-legacy first on k3s's PATH (${paths.iptablesBinDir})`, reason: 'nft answers "Protocol not supported" in the sandbox; legacy works' });
  }
}

function planSandboxedNode(draft: Draft, facts: ProbeFacts, config: Pick<Config, 'fakes' | 'dataDir'>, paths: PlanPaths): void {
  planProcSysFakes(draft, facts, config, paths);
  planMountSyscallFakes(draft, facts);
  addSets(draft, SANDBOXED_NODE_FLAGS);
  // The sandbox's cgroups are v1 (or the fakes mount v1), and without a default route the agent finds no node IP.
  addSets(draft, [CGROUP_V1_KUBELET_FLAGS]);
  if (!facts.defaultRoute) add(draft, ['--node-ip=127.0.0.1'], 'no default route, so k3s cannot detect a node IP');
  planKmsg(draft, facts);
  if (canMountCgroupV1('sandboxed-node', facts)) {
    draft.plan.fakes.cgroupV1Mounts = [...CGROUP_V1_CONTROLLERS];
    draft.remedies.push({ remedy: `mount cgroup v1 (${CGROUP_V1_CONTROLLERS.join(', ')}) under /sys/fs/cgroup`, reason: 'no cgroup filesystem is mounted and kubelet needs the memory and pids controllers' });
  }
  planNodeIptables(draft, facts, paths);
  planCniConfig(draft, config.dataDir);
}

function planControlPlane(draft: Draft, facts: ProbeFacts, paths: PlanPaths): void {
  addSets(draft, CONTROL_PLANE_FLAGS);
  // k3s takes the API server's advertise address from --advertise-address, --node-external-ip or --node-ip only; the
  // loopback bind address does not count, and kube-apiserver's own choice needs a default route.
  if (!facts.defaultRoute) add(draft, ['--node-ip=127.0.0.1'], 'no default route, so the API server cannot choose an advertise address');
  draft.plan.fakes.cniStandIn = true;
  draft.plan.pathPrepend.push(paths.cniBinDir);
  draft.remedies.push({ remedy: `host-local CNI stand-in on k3s's PATH (${paths.cniBinDir})`, reason: 'k3s waits for "host-local" on PATH before it finishes starting (failed to find host-local)' });
}

/** Pure: probe facts + config (+ paths) → the plan. Throws PlanError when the asked-for mode cannot run. */
export function planFor(facts: ProbeFacts, config: Config, paths: PlanPaths): Plan {
  const { mode, why } = chooseMode(facts, config);
  const draft: Draft = {
    args: baseArgs(config.dataDir, config.httpsPort, paths.adminKubeconfig),
    remedies: [{ remedy: `mode ${mode}`, reason: why }],
    plan: { fakes: { procSys: 'none', sysctls: {}, cniStandIn: false, kmsgBind: false, iptablesLegacy: false }, pathPrepend: [], env: {}, useInterceptor: false, k3sWrapper: [] },
  };
  if (mode === 'server') planServer(draft, facts, paths);
  if (mode === 'sandboxed-node') planSandboxedNode(draft, facts, config, paths);
  if (mode === 'control-plane') planControlPlane(draft, facts, paths);
  if (facts.dataDir.fsType === '9p' && facts.devShmTmpfs) {
    draft.plan.fakes.datastoreDir = TMPFS_DATASTORE_DIR;
    add(
      draft,
      [`--datastore-endpoint=sqlite://${TMPFS_DATASTORE_DIR}/state.db?${SQLITE_DSN_OPTIONS}`],
      `the data dir is on 9p, where sqlite is slow enough to fail k3s's PostStartHooks; the datastore moves to tmpfs and lives as long as the sandbox`,
    );
  }
  const disable = disableFlag(mode === 'server' ? [] : POD_ADDONS, config.disable);
  if (disable.length > 0) {
    add(draft, disable, mode === 'server' ? 'asked for in the config' : 'these add-ons need pods, which cannot run in this mode');
  }
  // Under mode=auto an agent mode that dies with a diagnosed fatal start falls back to control-plane: a working API beats a
  // failed session start. A mode the user asked for is never swapped for another.
  const fallback: Mode | undefined =
    config.mode === 'auto' && mode !== 'control-plane' && blockersFor('control-plane', facts, config).length === 0 ? 'control-plane' : undefined;
  return {
    mode,
    k3sArgs: draft.args,
    useInterceptor: draft.plan.useInterceptor,
    k3sWrapper: draft.plan.k3sWrapper,
    fakes: draft.plan.fakes,
    pathPrepend: draft.plan.pathPrepend,
    env: draft.plan.env,
    remedies: draft.remedies,
    limits: LIMITS[mode],
    ...(fallback ? { fallback } : {}),
  };
}

/** Whether k3s runs behind the wrapper the plan gives (a record of an older version names none: taken as unwrapped). */
export function sameWrapper(record: Pick<InstanceRecord, 'k3sWrapper'>, plan: Pick<Plan, 'k3sWrapper'>): boolean {
  return JSON.stringify(record.k3sWrapper ?? []) === JSON.stringify(plan.k3sWrapper);
}

/** Whether a running instance was started from exactly this plan (same k3s argv, wrapper and interceptor use). */
export function samePlan(record: Pick<InstanceRecord, 'k3sArgs' | 'useInterceptor' | 'k3sWrapper'>, plan: Pick<Plan, 'k3sArgs' | 'useInterceptor' | 'k3sWrapper'>): boolean {
  return record.useInterceptor === plan.useInterceptor && JSON.stringify(record.k3sArgs) === JSON.stringify(plan.k3sArgs) && sameWrapper(record, plan);
}

/**
 * The plan step: `plan(facts, config) → Plan`, with each remedy printed. When `running` (a healthy instance) was started
 * from this very plan, nothing will change, and one line says so instead of the remedies again.
 */
export function plan(facts: ProbeFacts, shared: Pick<Shared, 'config' | 'paths' | 'status'>, running?: InstanceRecord): Plan {
  const planned = planFor(facts, shared.config, shared.paths);
  if (running && samePlan(running, planned)) {
    shared.status.info(`unchanged: the running instance has this plan (mode ${planned.mode}, ${planned.remedies.length} remedies; \`k3s-sandbox status\` lists them)`);
    return planned;
  }
  for (const remedy of planned.remedies) shared.status.info(`${remedy.remedy}: ${remedy.reason}`);
  return planned;
}
