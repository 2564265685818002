import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, type Config } from '../../src/config.js';
import type { Mode, Plan } from '../../src/context.js';
import { PlanError, blockersFor, fakesChoice, planFor, type PlanPaths } from '../../src/steps/plan.js';
import type { ProbeFacts } from '../../src/context.js';
import { gvisorFacts, gvisorMountFacts, privilegedDockerFacts } from './helpers/probeFacts.js';
import { BRIDGE_CONFLIST } from '../../src/k3s/cni.js';

const PATHS: PlanPaths = {
  adminKubeconfig: '/run/k3s-sandbox/k3s.yaml',
  cniBinDir: '/var/lib/k3s-sandbox/cni/bin',
  iptablesBinDir: '/var/lib/k3s-sandbox/iptables/bin',
  fakeRoot: '/var/lib/k3s-sandbox/fake-root',
};

const COMMON = [
  'server',
  '--data-dir=/var/lib/rancher/k3s',
  '--https-listen-port=6443',
  '--write-kubeconfig=/run/k3s-sandbox/k3s.yaml',
  '--write-kubeconfig-mode=600',
];

/** Seed 003: the API server alone, for this sandbox only, without the add-ons that need pods. */
const CONTROL_PLANE_ARGS = [
  ...COMMON,
  '--disable-agent',
  '--egress-selector-mode=disabled',
  '--bind-address=127.0.0.1',
  '--disable=coredns,servicelb,traefik,local-storage,metrics-server',
];

const SANDBOX_KUBELET_ARGS = [
  '--kubelet-arg=local-storage-capacity-isolation=false',
  '--kubelet-arg=cgroups-per-qos=false',
  '--kubelet-arg=enforce-node-allocatable=',
  '--kubelet-arg=image-gc-high-threshold=100',
  '--kubelet-arg=image-gc-low-threshold=99',
  '--kubelet-arg=fail-cgroupv1=false',
];

const GVISOR_FAKE_SYSCTLS = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
  'net/ipv4/conf/all/route_localnet': '1',
  'net/ipv4/conf/all/forwarding': '1',
  'net/ipv4/conf/default/forwarding': '1',
  'net/bridge/bridge-nf-call-iptables': '1',
};

/** What every sandboxed node in gVisor gets besides its /proc/sys fakes (issue 10): the mount(2) fakes and a CNI network. */
const GVISOR_NODE_FAKES = {
  interceptMounts: true,
  cniConfig: { file: '/var/lib/rancher/k3s/agent/etc/cni/net.d/90-k3s-sandbox.conflist', content: BRIDGE_CONFLIST },
};

const NO_FAKES: Plan['fakes'] = { procSys: 'none', sysctls: {}, cniStandIn: false, kmsgBind: false, iptablesLegacy: false };

function config(overrides: Partial<Config> = {}): Config {
  return { ...DEFAULT_CONFIG, registries: [...DEFAULT_CONFIG.registries], disable: [], ...overrides };
}

function facts(base: () => ProbeFacts, overrides: Partial<ProbeFacts> = {}): ProbeFacts {
  return { ...base(), ...overrides };
}

interface Row {
  name: string;
  facts: ProbeFacts;
  config?: Partial<Config>;
  mode: Mode;
  args: string[];
  fakes: Plan['fakes'];
  interceptor: boolean;
  pathPrepend: string[];
  fallback?: Mode;
}

const TABLE: Row[] = [
  {
    name: 'privileged docker on a real kernel → full server, no remedies',
    facts: privilegedDockerFacts(),
    mode: 'server',
    args: COMMON,
    fakes: NO_FAKES,
    interceptor: false,
    pathPrepend: [],
    fallback: 'control-plane',
  },
  {
    name: 'docker without overlay, vxlan and /dev/kmsg (nft broken) → server with native snapshotter, host-gw, kmsg bind, iptables-legacy',
    facts: facts(privilegedDockerFacts, {
      overlay: { usable: false, reason: 'the data dir is on overlay, which overlayfs cannot use as an upper layer' },
      vxlan: { usable: false, reason: 'the vxlan module is neither loaded nor loadable here' },
      kmsg: false,
      iptables: { legacy: '/usr/sbin/iptables-legacy', nft: false, reason: 'iptables-legacy at /usr/sbin/iptables-legacy; no nft' },
    }),
    mode: 'server',
    args: [...COMMON, '--snapshotter=native', '--flannel-backend=host-gw'],
    fakes: { ...NO_FAKES, kmsgBind: true, iptablesLegacy: true },
    interceptor: false,
    pathPrepend: [PATHS.iptablesBinDir],
    fallback: 'control-plane',
  },
  {
    name: 'real kernel without vxlan or a default route → flannel none and a node IP on loopback',
    facts: facts(privilegedDockerFacts, { vxlan: { usable: false, reason: 'no vxlan' }, defaultRoute: false }),
    mode: 'server',
    args: [...COMMON, '--flannel-backend=none', '--node-ip=127.0.0.1'],
    fakes: NO_FAKES,
    interceptor: false,
    pathPrepend: [],
    fallback: 'control-plane',
  },
  {
    name: 'unprivileged docker (read-only /proc/sys with overcommit 0) on auto → control-plane',
    facts: facts(privilegedDockerFacts, {
      sysctls: [{ path: 'vm/overcommit_memory', state: 'unwritable', value: '0' }],
    }),
    mode: 'control-plane',
    args: CONTROL_PLANE_ARGS,
    fakes: { ...NO_FAKES, cniStandIn: true },
    interceptor: false,
    pathPrepend: [PATHS.cniBinDir],
  },
  {
    name: 'gVisor on auto → control-plane with the host-local stand-in',
    facts: gvisorFacts(),
    mode: 'control-plane',
    args: CONTROL_PLANE_ARGS,
    fakes: { ...NO_FAKES, cniStandIn: true },
    interceptor: false,
    pathPrepend: [PATHS.cniBinDir],
  },
  {
    name: 'gVisor with --network=none (no default route) → control-plane with the API server advertised on loopback',
    facts: facts(gvisorFacts, { defaultRoute: false }),
    mode: 'control-plane',
    args: [...CONTROL_PLANE_ARGS.slice(0, -1), '--node-ip=127.0.0.1', ...CONTROL_PLANE_ARGS.slice(-1)],
    fakes: { ...NO_FAKES, cniStandIn: true },
    interceptor: false,
    pathPrepend: [PATHS.cniBinDir],
  },
  {
    name: 'gVisor with mode=sandboxed-node → interceptor, fake tunables, flannel none, native, kubelet args, no kube-proxy (no NET_RAW for iptables), kmsg bind',
    facts: gvisorFacts(),
    config: { mode: 'sandboxed-node' },
    mode: 'sandboxed-node',
    args: [...COMMON, '--flannel-backend=none', '--snapshotter=native', ...SANDBOX_KUBELET_ARGS, '--disable-kube-proxy', '--disable-network-policy', '--disable=coredns,servicelb,traefik,local-storage,metrics-server'],
    fakes: { procSys: 'intercept', sysctls: GVISOR_FAKE_SYSCTLS, cniStandIn: false, kmsgBind: true, iptablesLegacy: false, ...GVISOR_NODE_FAKES },
    interceptor: true,
    pathPrepend: [],
  },
  {
    name: 'gVisor with --network=none and mode=sandboxed-node → the node IP is loopback (real k3s finds none without a default route)',
    facts: facts(gvisorFacts, { defaultRoute: false }),
    config: { mode: 'sandboxed-node' },
    mode: 'sandboxed-node',
    args: [...COMMON, '--flannel-backend=none', '--snapshotter=native', ...SANDBOX_KUBELET_ARGS, '--node-ip=127.0.0.1', '--disable-kube-proxy', '--disable-network-policy', '--disable=coredns,servicelb,traefik,local-storage,metrics-server'],
    fakes: { procSys: 'intercept', sysctls: GVISOR_FAKE_SYSCTLS, cniStandIn: false, kmsgBind: true, iptablesLegacy: false, ...GVISOR_NODE_FAKES },
    interceptor: true,
    pathPrepend: [],
  },
  {
    name: 'user disable list and custom data dir/port are honoured (control-plane merges its own disables)',
    facts: gvisorFacts(),
    config: { disable: ['runtimes', 'traefik'], dataDir: '/mnt/k3s', httpsPort: 7443 },
    mode: 'control-plane',
    args: [
      'server',
      '--data-dir=/mnt/k3s',
      '--https-listen-port=7443',
      '--write-kubeconfig=/run/k3s-sandbox/k3s.yaml',
      '--write-kubeconfig-mode=600',
      '--disable-agent',
      '--egress-selector-mode=disabled',
      '--bind-address=127.0.0.1',
      '--disable=coredns,servicelb,traefik,local-storage,metrics-server,runtimes',
    ],
    fakes: { ...NO_FAKES, cniStandIn: true },
    interceptor: false,
    pathPrepend: [PATHS.cniBinDir],
  },
  {
    name: 'server with a user disable list passes exactly that list',
    facts: privilegedDockerFacts(),
    config: { disable: ['traefik'] },
    mode: 'server',
    args: [...COMMON, '--disable=traefik'],
    fakes: NO_FAKES,
    interceptor: false,
    pathPrepend: [],
    fallback: 'control-plane',
  },
  {
    name: 'non-root caller (the bounding set allows everything) → the same server plan root makes, since k3s always runs as root',
    facts: facts(privilegedDockerFacts, {
      uid: 1000,
      capabilities: { source: 'CapBnd', mask: '000001ffffffffff', sysPtrace: true, sysAdmin: true, netAdmin: true, netRaw: true, sysModule: true },
      dataDir: { path: '/var/lib/rancher/k3s', existingAncestor: '/var/lib', fsType: 'ext4', writable: false, freeBytes: 1e10 },
    }),
    mode: 'server',
    args: COMMON,
    fakes: NO_FAKES,
    interceptor: false,
    pathPrepend: [],
    fallback: 'control-plane',
  },
];

for (const row of TABLE) {
  test(`plan: ${row.name}`, () => {
    const plan = planFor(row.facts, config(row.config), PATHS);
    assert.equal(plan.mode, row.mode);
    assert.deepEqual(plan.k3sArgs, row.args);
    assert.deepEqual(plan.fakes, row.fakes);
    assert.equal(plan.useInterceptor, row.interceptor);
    assert.deepEqual(plan.pathPrepend, row.pathPrepend);
    assert.equal(plan.fallback, row.fallback);
    assert.ok(plan.remedies.length > 0 && plan.remedies.every((r) => r.remedy !== '' && r.reason !== ''), 'every remedy has a reason');
    assert.match(plan.remedies[0]!.remedy, new RegExp(`^mode ${row.mode}$`));
    assert.notEqual(plan.limits, '');
  });
}

test('plan: gVisor without ptrace asking for sandboxed-node is a clear error naming ptrace and the remedy', () => {
  const noPtrace = facts(gvisorFacts, { ptrace: { usable: false, scope: 3, reason: 'kernel.yama.ptrace_scope is 3: ptrace is disabled for everyone' } });
  assert.throws(() => planFor(noPtrace, config({ mode: 'sandboxed-node' }), PATHS), (error: unknown) => {
    assert.ok(error instanceof PlanError);
    assert.match(error.message, /^mode sandboxed-node cannot run in this sandbox:/);
    assert.match(error.message, /the interceptor needs ptrace.*ptrace_scope is 3/);
    assert.match(error.message, /remedy: grant CAP_SYS_PTRACE/);
    return true;
  });
});

test('plan: asking for server on gVisor is refused with the gVisor reason', () => {
  assert.throws(() => planFor(gvisorFacts(), config({ mode: 'server' }), PATHS), /mode server cannot run.*gVisor/s);
});

test('plan: a non-root caller asking for sandboxed-node on gVisor gets the interceptor plan root will run', () => {
  const nonRoot = facts(gvisorFacts, { uid: 1000, capabilities: { ...gvisorFacts().capabilities, source: 'CapBnd' } });
  assert.equal(planFor(nonRoot, config({ mode: 'sandboxed-node' }), PATHS).useInterceptor, true);
});

test('plan: no mode at all when the data dir is on a read-only filesystem', () => {
  const stuck = facts(privilegedDockerFacts, {
    dataDir: { path: '/var/lib/rancher/k3s', existingAncestor: '/var/lib', fsType: 'ext4', writable: false, freeBytes: 1e10 },
    sysctls: [{ path: 'vm/overcommit_memory', state: 'unwritable', value: '0' }],
  });
  assert.throws(() => planFor(stuck, config(), PATHS), /no mode can run in this sandbox:[\s\S]*data dir \/var\/lib\/rancher\/k3s cannot be created or written/);
});

test('plan: cgroup v2 without pids blocks server, and auto falls back to control-plane', () => {
  const noPids = facts(privilegedDockerFacts, { cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'memory'] } });
  assert.deepEqual(blockersFor('server', noPids, config()).map((b) => b.problem), ['cgroup v2 lacks the pids controller(s)']);
  assert.equal(planFor(noPids, config(), PATHS).mode, 'control-plane');
});

test('plan: read-only route_localnet that is already 1 is fine; at 0 kube-proxy is disabled', () => {
  const alreadyOne = facts(privilegedDockerFacts, { sysctls: [{ path: 'net/ipv4/conf/all/route_localnet', state: 'unwritable', value: '1' }] });
  assert.deepEqual(planFor(alreadyOne, config(), PATHS).k3sArgs, COMMON);
  const zero = facts(privilegedDockerFacts, { sysctls: [{ path: 'net/ipv4/conf/all/route_localnet', state: 'unwritable', value: '0' }] });
  assert.deepEqual(planFor(zero, config(), PATHS).k3sArgs, [...COMMON, '--disable-kube-proxy']);
});

test('plan: conntrack max is faked with k3s\'s formula max(32768 × CPUs, 131072)', () => {
  const manyCpus = facts(gvisorFacts, { cpus: 16, sysctls: [{ path: 'net/netfilter/nf_conntrack_max', state: 'missing' }] });
  assert.deepEqual(planFor(manyCpus, config({ mode: 'sandboxed-node' }), PATHS).fakes.sysctls, { 'net/netfilter/nf_conntrack_max': '524288' });
});

test('plan: only mode=auto has a fallback; an asked-for mode is never swapped', () => {
  assert.equal(planFor(privilegedDockerFacts(), config({ mode: 'auto' }), PATHS).fallback, 'control-plane');
  assert.equal(planFor(privilegedDockerFacts(), config({ mode: 'server' }), PATHS).fallback, undefined);
  assert.equal(planFor(gvisorFacts(), config({ mode: 'sandboxed-node' }), PATHS).fallback, undefined);
});

test('plan: planFor is pure (same input, same output, input untouched)', () => {
  const input = gvisorFacts();
  const snapshot = JSON.stringify(input);
  const first = planFor(input, config({ mode: 'sandboxed-node' }), PATHS);
  const second = planFor(input, config({ mode: 'sandboxed-node' }), PATHS);
  assert.deepEqual(first, second);
  assert.equal(JSON.stringify(input), snapshot);
});

test('plan: sandboxed-node in a gVisor without cgroups mounts cgroup v1 itself; server would be blocked', () => {
  const noCgroups = facts(gvisorFacts, { cgroup: { version: null, controllers: [] } });
  const plan = planFor(noCgroups, config({ mode: 'sandboxed-node' }), PATHS);
  assert.deepEqual(plan.fakes.cgroupV1Mounts, ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids']);
  const withoutAdmin = facts(gvisorFacts, {
    cgroup: { version: null, controllers: [] },
    capabilities: { source: 'CapEff', mask: '0', sysPtrace: true, sysAdmin: false, netAdmin: true, netRaw: false, sysModule: false },
  });
  assert.throws(() => planFor(withoutAdmin, config({ mode: 'sandboxed-node' }), PATHS), /no cgroup filesystem is mounted/);
});

test('plan: a data dir on 9p with a tmpfs /dev/shm moves the sqlite datastore there', () => {
  const dataDirOn9p = { path: '/var/lib/rancher/k3s', existingAncestor: '/', fsType: '9p', writable: true, freeBytes: 30 * 2 ** 30 };
  const on9p = facts(gvisorFacts, { dataDir: dataDirOn9p, rootIs9p: true, devShmTmpfs: true });
  const plan = planFor(on9p, config(), PATHS);
  assert.equal(plan.fakes.datastoreDir, '/dev/shm/k3s-sandbox/db');
  assert.ok(plan.k3sArgs.includes('--datastore-endpoint=sqlite:///dev/shm/k3s-sandbox/db/state.db?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate'));
  const noShm = planFor(facts(gvisorFacts, { dataDir: dataDirOn9p, rootIs9p: true, devShmTmpfs: false }), config(), PATHS);
  assert.equal(noShm.fakes.datastoreDir, undefined);
  assert.ok(!noShm.k3sArgs.some((arg) => arg.startsWith('--datastore-endpoint')));
});

test('plan: a flag wanted for two reasons appears once, with both reasons', () => {
  const both = facts(privilegedDockerFacts, {
    sysctls: [{ path: 'net/ipv4/conf/all/route_localnet', state: 'unwritable', value: '0' }],
    iptables: { legacy: null, nft: false, reason: 'no iptables-legacy; no nft' },
  });
  const plan = planFor(both, config(), PATHS);
  assert.deepEqual(plan.k3sArgs, [...COMMON, '--disable-kube-proxy', '--disable-network-policy']);
  assert.equal(plan.remedies.filter((r) => r.remedy.includes('--disable-kube-proxy')).length, 2);
});

// Issue 13: how sandboxed-node serves its /proc/sys fakes, from the probe's mount facts and the fakes option.
const READ_ONLY_PROC_SYS = facts(privilegedDockerFacts, {
  sysctls: [{ path: 'vm/overcommit_memory', state: 'unwritable', value: '0' }, { path: 'kernel/panic', state: 'unwritable', value: '0' }],
  mounts: { tested: true, tmpfs: true, overlay: true, bind: true, namespacesIsolate: true, reason: 'a tmpfs mounts; an overlay mounts; a bind mounts; mount namespaces isolate' },
});
const FAKES_TABLE: { name: string; facts: ProbeFacts; fakes: Config['fakes']; procSys: string | RegExp; reason: RegExp }[] = [
  { name: 'gVisor as root with CAP_SYS_ADMIN, auto → overlays, said to be sandbox-wide', facts: gvisorMountFacts(), fakes: 'auto', procSys: 'overlay', reason: /sandbox-wide: this gVisor's mount namespaces do not isolate/ },
  { name: 'gVisor, fakes=intercept → the interceptor', facts: gvisorMountFacts(), fakes: 'intercept', procSys: 'intercept', reason: /asked for \(fakes=intercept\)/ },
  {
    name: 'gVisor refusing overlays but mounting a tmpfs and binds, auto → rebind, said to be sandbox-wide',
    facts: { ...gvisorMountFacts(), mounts: { ...gvisorMountFacts().mounts, overlay: false } },
    fakes: 'auto', procSys: 'rebind', reason: /^gVisor refuses an overlay but mounts a tmpfs and binds: .*sandbox-wide/,
  },
  {
    name: 'gVisor refusing overlays, fakes=mount → rebind',
    facts: { ...gvisorMountFacts(), mounts: { ...gvisorMountFacts().mounts, overlay: false } },
    fakes: 'mount', procSys: 'rebind', reason: /refuses an overlay/,
  },
  { name: 'gVisor with working overlays, fakes=rebind → rebind', facts: gvisorMountFacts(), fakes: 'rebind', procSys: 'rebind', reason: /^asked for \(fakes=rebind\)/ },
  {
    name: 'gVisor refusing overlays and binds, auto → the interceptor, naming why',
    facts: { ...gvisorMountFacts(), mounts: { ...gvisorMountFacts().mounts, overlay: false, bind: false } },
    fakes: 'auto', procSys: 'intercept', reason: /neither an overlay nor a tmpfs with binds can be mounted/,
  },
  {
    name: 'gVisor without CAP_SYS_ADMIN, auto → the interceptor, naming why',
    facts: { ...gvisorFacts(), mounts: { tested: false, tmpfs: false, overlay: false, bind: false, namespacesIsolate: false, reason: 'CAP_SYS_ADMIN is missing, so mount(2) is refused' } },
    fakes: 'auto', procSys: 'intercept', reason: /cannot be mounted here \(CAP_SYS_ADMIN is missing/,
  },
  { name: 'real kernel, read-only /proc/sys, namespaces isolate → binds in k3s\'s namespace', facts: READ_ONLY_PROC_SYS, fakes: 'auto', procSys: 'bind', reason: /own mount namespace/ },
  {
    name: 'real kernel with a missing file → the interceptor (a bind needs an existing file)',
    facts: { ...READ_ONLY_PROC_SYS, sysctls: [{ path: 'kernel/panic', state: 'missing' }] },
    fakes: 'auto', procSys: 'intercept', reason: /a bind needs an existing file, and kernel\/panic is missing/,
  },
  { name: 'nothing to fake → none', facts: { ...READ_ONLY_PROC_SYS, sysctls: [] }, fakes: 'auto', procSys: 'none', reason: /writable/ },
];
for (const row of FAKES_TABLE) {
  test(`fakes choice: ${row.name}`, () => {
    const choice = fakesChoice(row.facts, { fakes: row.fakes });
    assert.ok('procSys' in choice, JSON.stringify(choice));
    assert.equal(choice.procSys, row.procSys);
    assert.match(choice.reason, row.reason);
  });
}

test('plan: overlay fakes in gVisor run no wrapper, and the interceptor for mount(2) only; the remedies name the mechanism, that it is sandbox-wide, and why mount(2) is trapped', () => {
  const planned = planFor(gvisorMountFacts(), config({ mode: 'sandboxed-node' }), PATHS);
  assert.equal(planned.useInterceptor, true);
  assert.equal(planned.fakes.interceptMounts, true);
  assert.ok(planned.remedies.some((r) => /^k3s runs under the interceptor with a seccomp filter that stops only mount\(2\)/.test(r.remedy) && /rshared.*EINVAL/.test(r.reason)), JSON.stringify(planned.remedies));
  assert.equal(planned.fakes.procSys, 'overlay');
  assert.deepEqual(planned.k3sWrapper, []);
  assert.deepEqual(planned.fakes.sysctls, GVISOR_FAKE_SYSCTLS);
  assert.ok(planned.remedies.some((r) => /^overlays over their \/proc\/sys directories serve 10 fake/.test(r.remedy) && /sandbox-wide/.test(r.reason)), JSON.stringify(planned.remedies));
});

test('plan: bind fakes wrap k3s in unshare with one bind per fake file, from the fake tree; no interceptor', () => {
  const planned = planFor(READ_ONLY_PROC_SYS, config({ mode: 'sandboxed-node' }), PATHS);
  assert.equal(planned.useInterceptor, false);
  assert.deepEqual(planned.k3sWrapper.slice(0, 5), ['unshare', '--mount', '--propagation', 'slave', '--']);
  assert.deepEqual(planned.k3sWrapper.slice(-5), [
    '/var/lib/k3s-sandbox/fake-root/proc/sys/vm/overcommit_memory', '/proc/sys/vm/overcommit_memory',
    '/var/lib/k3s-sandbox/fake-root/proc/sys/kernel/panic', '/proc/sys/kernel/panic', '--',
  ]);
});

test('plan: fakes=mount where nothing can be mounted is a PlanError naming why and the remedy; the interceptor program is not required with mount fakes', () => {
  assert.throws(() => planFor(gvisorFacts(), config({ mode: 'sandboxed-node', fakes: 'mount' }), PATHS), (error: unknown) => {
    assert.ok(error instanceof PlanError);
    assert.match(error.message, /fakes=mount, but the fakes cannot be mounted here: not tested; remedy: run as root with CAP_SYS_ADMIN/);
    return true;
  });
  const noInterceptor = { ...gvisorMountFacts(), programs: { ...gvisorFacts().programs, intercept: { path: '/x/k3s-sandbox-intercept', executable: false } } };
  assert.equal(planFor(noInterceptor, config({ mode: 'sandboxed-node' }), PATHS).fakes.procSys, 'overlay');
  assert.deepEqual(blockersFor('sandboxed-node', { ...noInterceptor, ptrace: { usable: false, scope: 3, reason: 'off' } }, config()), []);
});

test('plan: fakes=rebind where it cannot be (no bind in gVisor; a real kernel) is a PlanError naming why', () => {
  const noBind = { ...gvisorMountFacts(), mounts: { ...gvisorMountFacts().mounts, bind: false } };
  assert.throws(() => planFor(noBind, config({ mode: 'sandboxed-node', fakes: 'rebind' }), PATHS), /fakes=rebind, but the fakes cannot be mounted here: the rebind variant needs a tmpfs and a bind/);
  assert.throws(() => planFor(READ_ONLY_PROC_SYS, config({ mode: 'sandboxed-node', fakes: 'rebind' }), PATHS), /the rebind variant is for gVisor/);
  const planned = planFor(gvisorMountFacts(), config({ mode: 'sandboxed-node', fakes: 'rebind' }), PATHS);
  assert.equal(planned.fakes.procSys, 'rebind');
  assert.deepEqual(planned.k3sWrapper, []);
  assert.ok(planned.remedies.some((r) => /^tmpfs mounts over their \/proc\/sys directories, the real entries bound back, serve 10 fake/.test(r.remedy)), JSON.stringify(planned.remedies));
});

test('plan: kernel/cap_last_cap, missing in gVisor, is faked with the highest capability of the bounding set', () => {
  const withCap = { ...gvisorMountFacts(), sysctls: [...gvisorFacts().sysctls, { path: 'kernel/cap_last_cap', state: 'missing' as const }] };
  assert.equal(planFor(withCap, config({ mode: 'sandboxed-node' }), PATHS).fakes.sysctls['kernel/cap_last_cap'], '37');
});

test('plan: server mode on a cgroup v1 host passes fail-cgroupv1=false to kubelet (v1.35+ refuses cgroup v1), not on cgroup v2', () => {
  const v1 = planFor(facts(privilegedDockerFacts, { cgroup: { version: 1, controllers: ['cpu', 'cpuset', 'memory', 'pids'] } }), config({ mode: 'server' }), PATHS);
  assert.ok(v1.k3sArgs.includes('--kubelet-arg=fail-cgroupv1=false'), v1.k3sArgs.join(' '));
  const v2 = planFor(facts(privilegedDockerFacts, { cgroup: { version: 2, controllers: ['cpu', 'cpuset', 'memory', 'pids'] } }), config({ mode: 'server' }), PATHS);
  assert.ok(!v2.k3sArgs.includes('--kubelet-arg=fail-cgroupv1=false'), v2.k3sArgs.join(' '));
});

// Issue 10: what the real kubelet and containerd need in gVisor beyond the /proc/sys fakes.
test('plan: sandboxed-node in gVisor fakes the refused mount(2) calls under the interceptor it already runs, and writes a CNI network; the remedies say why', () => {
  const planned = planFor(gvisorFacts(), config({ mode: 'sandboxed-node', dataDir: '/d' }), PATHS);
  assert.equal(planned.fakes.interceptMounts, true);
  assert.equal(planned.fakes.cniConfig?.file, '/d/agent/etc/cni/net.d/90-k3s-sandbox.conflist');
  assert.match(planned.fakes.cniConfig?.content ?? '', /"type": "bridge"[\s\S]*"subnet": "10.42.0.0\/24"/);
  assert.ok(planned.remedies.some((r) => /^the interceptor also fakes the mount\(2\) calls gVisor refuses/.test(r.remedy) && /sandbox-wide, so propagation is moot/.test(r.reason)));
  assert.ok(planned.remedies.some((r) => /^a bridge CNI network/.test(r.remedy) && /NetworkReady=false/.test(r.reason)));
});

test('plan: sandboxed-node in gVisor without CAP_SYS_ADMIN: the interceptor fakes only the self-bind and propagation change of kubelet\'s root dir, and the remedy says images cannot be unpacked', () => {
  const noSysAdmin = { ...gvisorFacts(), kmsg: true, capabilities: { ...gvisorFacts().capabilities, sysAdmin: false } };
  const planned = planFor(noSysAdmin, config({ mode: 'sandboxed-node', dataDir: '/d' }), PATHS);
  assert.equal(planned.fakes.interceptMounts, true);
  const remedy = planned.remedies.find((r) => /^the interceptor also fakes the mount\(2\) calls gVisor refuses/.test(r.remedy));
  assert.ok(remedy, JSON.stringify(planned.remedies));
  assert.match(remedy.remedy, /a bind of a directory onto itself and a propagation change answer 0$/);
  assert.match(remedy.reason, /every mount is refused \(EPERM\).*propagation is moot where no mount can be made.*containerd cannot unpack images/);
});

test('plan: no mount(2) fakes where the interceptor cannot run (no ptrace, overlay fakes): a remedy says kubelet will stop at rshared; a real kernel gets none', () => {
  const noPtrace = { ...gvisorMountFacts(), ptrace: { usable: false, scope: 3, reason: 'ptrace_scope is 3' } };
  const planned = planFor(noPtrace, config({ mode: 'sandboxed-node' }), PATHS);
  assert.equal(planned.useInterceptor, false);
  assert.equal(planned.fakes.interceptMounts, undefined);
  assert.ok(planned.remedies.some((r) => r.remedy === 'no mount(2) fakes' && /ptrace_scope is 3.*kubelet will stop at its rshared root dir/.test(r.reason)));
  const native = planFor(READ_ONLY_PROC_SYS, config({ mode: 'sandboxed-node' }), PATHS);
  assert.equal(native.fakes.interceptMounts, undefined);
  assert.equal(native.useInterceptor, false);
});

/** gVisor under runsc --net-raw: the capability mask with CAP_NET_RAW (13). */
const NET_RAW_MASK = '0000003fffffffff';
/** What this machine's gVisor (runsc --net-raw) answered the probe's netfilter checks. */
const GVISOR_NETFILTER_LACKS = "-m comment: iptables: Invalid argument; -m conntrack --ctstate NEW: iptables: Invalid argument; a chain in mangle: iptables: Invalid argument";

interface IptablesRow {
  name: string;
  netRaw: boolean;
  legacy?: string | null;
  netfilter: ProbeFacts['kubeProxyIptables'];
  /** kube-proxy runs on iptables-legacy first on k3s's PATH; otherwise it is off, the reason matching `offReason`. */
  kubeProxy: boolean;
  offReason?: RegExp;
}

const IPTABLES_TABLE: IptablesRow[] = [
  {
    name: 'gVisor without CAP_NET_RAW → kube-proxy off: iptables-legacy needs a raw socket',
    netRaw: false,
    netfilter: { tested: false, holds: null, reason: 'not tested: iptables-legacy with CAP_NET_RAW is needed first' },
    kubeProxy: false,
    offReason: /CAP_NET_RAW is missing \(gVisor: runsc without --net-raw\)/,
  },
  {
    name: 'gVisor --net-raw whose netfilter lacks -m comment, conntrack and mangle (this machine\'s runsc) → kube-proxy off, naming what is missing',
    netRaw: true,
    netfilter: { tested: true, holds: false, reason: GVISOR_NETFILTER_LACKS },
    kubeProxy: false,
    offReason: new RegExp(`^gVisor's netfilter lacks what kube-proxy's rules use \\(-m comment: iptables: Invalid argument; .*\\): kube-proxy's sync would fail every 30 s .* canary monitor execs iptables ~2\\.5 times a second$`),
  },
  {
    name: 'gVisor --net-raw where the netfilter test could not run → kube-proxy off, saying it is unknown and why',
    netRaw: true,
    netfilter: { tested: true, holds: null, reason: 'unknown: a throwaway network namespace (unshare -n) failed: unshare: unshare failed: Operation not permitted' },
    kubeProxy: false,
    offReason: /^whether gVisor's netfilter can hold kube-proxy's rules is unknown: a throwaway network namespace \(unshare -n\) failed: .*Operation not permitted: kube-proxy's sync would fail/,
  },
  {
    name: 'a newer gVisor --net-raw whose netfilter holds kube-proxy\'s rules → kube-proxy runs on iptables-legacy',
    netRaw: true,
    netfilter: { tested: true, holds: true, reason: 'a chain in filter, -m comment, -m conntrack --ctstate NEW, a chain in mangle work (tried in a throwaway network namespace)' },
    kubeProxy: true,
  },
  {
    name: 'gVisor --net-raw without iptables-legacy → kube-proxy off: no iptables-legacy',
    netRaw: true,
    legacy: null,
    netfilter: { tested: false, holds: null, reason: 'not tested: iptables-legacy with CAP_NET_RAW is needed first' },
    kubeProxy: false,
    offReason: /^no iptables-legacy/,
  },
];

for (const row of IPTABLES_TABLE) {
  test(`plan: sandboxed-node iptables: ${row.name}`, () => {
    const base = gvisorFacts();
    const input = facts(gvisorFacts, {
      capabilities: { ...base.capabilities, mask: row.netRaw ? NET_RAW_MASK : base.capabilities.mask, netRaw: row.netRaw },
      iptables: row.legacy === null ? { legacy: null, nft: false, reason: 'no iptables-legacy; no nft' } : base.iptables,
      kubeProxyIptables: row.netfilter,
    });
    const planned = planFor(input, config({ mode: 'sandboxed-node' }), PATHS);
    assert.equal(planned.fakes.iptablesLegacy, row.kubeProxy);
    assert.equal(planned.pathPrepend.includes(PATHS.iptablesBinDir), row.kubeProxy);
    assert.equal(planned.k3sArgs.includes('--disable-kube-proxy'), !row.kubeProxy);
    assert.equal(planned.k3sArgs.includes('--disable-network-policy'), !row.kubeProxy);
    const off = planned.remedies.filter((r) => r.remedy === '--disable-kube-proxy --disable-network-policy');
    if (row.kubeProxy) {
      assert.deepEqual(off, []);
      assert.ok(planned.remedies.some((r) => r.remedy.startsWith("iptables-legacy first on k3s's PATH")));
    } else {
      assert.equal(off.length, 1, JSON.stringify(planned.remedies));
      assert.match(off[0]!.reason, row.offReason!);
    }
  });
}
