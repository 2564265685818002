import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runInGvisor } from './helpers/gvisor.js';
import type { ProbeFacts } from '../../src/context.js';
import { collectFacts, parseMountinfo } from '../../src/steps/probe.js';
import { REPO } from './helpers/repo.js';


interface Tree {
  [path: string]: string | { content: string; mode: number };
}

function makeTree(files: Tree): string {
  const root = mkdtempSync(join(tmpdir(), 'k3s-sandbox-probe-'));
  for (const [path, spec] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    writeFileSync(file, content);
    chmodSync(file, mode);
  }
  return root;
}

const REAL_KERNEL_SYSCTLS: Tree = Object.fromEntries(
  [
    'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys',
    'kernel/keys/root_maxbytes', 'net/ipv4/conf/all/route_localnet', 'net/ipv4/conf/all/forwarding',
    'net/ipv4/conf/default/forwarding', 'net/bridge/bridge-nf-call-iptables', 'net/netfilter/nf_conntrack_max',
    'net/netfilter/nf_conntrack_tcp_timeout_established', 'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
  ].map((path) => [`proc/sys/${path}`, '0\n']),
);
/** Read-only on every kernel: never a fake for being unwritable, only for being missing (as in gVisor). */
REAL_KERNEL_SYSCTLS['proc/sys/kernel/cap_last_cap'] = { content: '40\n', mode: 0o444 };

const STATUS = (capEff: string, uid = 0, seccomp = '0', capBnd = capEff) =>
  `Name:\tnode\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nCapEff:\t${capEff}\nCapBnd:\t${capBnd}\nNoNewPrivs:\t0\nSeccomp:\t${seccomp}\n`;

/** A privileged Docker container on Debian's 6.1 kernel, data dir on ext4. */
function privilegedDockerTree(extra: Tree = {}): string {
  return makeTree({
    ...REAL_KERNEL_SYSCTLS,
    'proc/sys/kernel/osrelease': '6.1.0-18-amd64\n',
    'proc/sys/kernel/yama/ptrace_scope': '1\n',
    'proc/version': 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n',
    'proc/self/status': STATUS('000001ffffffffff'),
    'proc/self/mountinfo': [
      '600 500 0:52 / / rw,relatime master:1 - ext4 /dev/sda1 rw',
      '601 600 0:53 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
      '602 600 0:54 / /dev/shm rw - tmpfs shm rw,size=65536k',
    ].join('\n') + '\n',
    'proc/filesystems': 'nodev\tsysfs\nnodev\ttmpfs\nnodev\tcgroup2\n\text4\nnodev\toverlay\n',
    'proc/net/route': 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n',
    'proc/meminfo': 'MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\n',
    'proc/cpuinfo': 'processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    'sys/module/vxlan/refcnt': '0\n',
    'dev/kmsg': '',
    'bin/iptables-legacy': { content: '#!/bin/sh\n', mode: 0o755 },
    'bin/iptables-nft': { content: '#!/bin/sh\n', mode: 0o755 },
    ...extra,
  });
}

/** What runsc shows: gVisor's fixed version string, kubelet tunables missing, overcommit read-only, 9p root, no kmsg. */
function gvisorTree(): string {
  return makeTree({
    'proc/sys/vm/overcommit_memory': { content: '0\n', mode: 0o444 },
    'proc/sys/vm/max_map_count': { content: '2147483647\n', mode: 0o444 },
    'proc/sys/kernel/yama/ptrace_scope': { content: '1\n', mode: 0o444 },
    'proc/sys/net/ipv4/ip_forward': { content: '0\n', mode: 0o444 },
    'proc/version': 'Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016\n',
    'proc/self/status': STATUS('0000003fffffdfff'),
    'proc/self/mountinfo': [
      '1 0 0:1 / / rw - 9p none rw,trans=fd,rfdno=4,wfdno=4,aname=/,dfltuid=4294967294',
      '2 1 0:2 / /sys/fs/cgroup/memory rw - cgroup none rw,memory',
      '3 1 0:3 / /sys/fs/cgroup/cpu rw - cgroup none rw,cpu',
      '4 1 0:4 / /sys/fs/cgroup/pids rw - cgroup none rw,pids',
    ].join('\n') + '\n',
    'proc/cgroups': '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t1\t1\nmemory\t1\t1\t1\npids\t3\t1\t1\ncpuset\t0\t1\t1\n',
    'proc/filesystems': 'nodev\t9p\nnodev\toverlay\nnodev\ttmpfs\n',
    'proc/net/route': 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n',
    'proc/meminfo': 'MemTotal:       13000000 kB\nMemAvailable:   12000000 kB\n',
    'bin/iptables-legacy': { content: '#!/bin/sh\n', mode: 0o755 },
    'bin/iptables-nft': { content: '#!/bin/sh\n', mode: 0o755 },
  });
}

async function probeTree(root: string, dataDir = join(root, 'data/k3s')): Promise<ProbeFacts> {
  return collectFacts({
    procRoot: join(root, 'proc'),
    sysRoot: join(root, 'sys'),
    devRoot: join(root, 'dev'),
    modulesRoot: join(root, 'lib/modules'),
    binDirs: [join(root, 'bin')],
    dataDir,
    httpsPort: 6443,
    checkPort: false,
  });
}

test('probe: privileged Docker on a real kernel', async (t) => {
  const root = privilegedDockerTree();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.gvisor, false);
  assert.deepEqual(facts.gvisorSignals, []);
  assert.equal(facts.kernelRelease, '6.1.0-18-amd64');
  assert.equal(facts.uid, 0);
  assert.deepEqual(
    { ptrace: facts.capabilities.sysPtrace, admin: facts.capabilities.sysAdmin, net: facts.capabilities.netAdmin },
    { ptrace: true, admin: true, net: true },
  );
  assert.equal(facts.ptrace.usable, true);
  assert.equal(facts.seccomp.usable, true);
  assert.deepEqual(facts.cgroup, { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'] });
  assert.equal(facts.kmsg, true);
  assert.equal(facts.overlay.usable, true, facts.overlay.reason);
  assert.equal(facts.vxlan.usable, true);
  assert.equal(facts.iptables.nft, true);
  assert.equal(facts.iptables.legacy, join(root, 'bin/iptables-legacy'));
  // A real kernel with iptables-legacy and CAP_NET_RAW: kube-proxy's netfilter is not tried (nothing is run).
  assert.deepEqual(facts.kubeProxyIptables, { tested: false, holds: null, reason: 'not tested: a real kernel has the netfilter matches kube-proxy uses' });
  assert.equal(facts.defaultRoute, true);
  assert.deepEqual(facts.sysctls, []);
  assert.equal(facts.dataDir.fsType, 'ext4');
  assert.equal(facts.memory.totalBytes, 8000000 * 1024);
  assert.equal(facts.memory.availableBytes, 6000000 * 1024);
  assert.equal(facts.cpus, 2);
  assert.equal(facts.devShmTmpfs, true);
  assert.equal(facts.rootIs9p, false);
});

test('probe: gVisor tree (fixed version string, missing tunables, read-only overcommit, 9p, cgroup v1)', async (t) => {
  const root = gvisorTree();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.gvisor, true);
  assert.ok(facts.gvisorSignals.some((s) => s.includes('fixed')), facts.gvisorSignals.join('; '));
  assert.ok(facts.gvisorSignals.includes('kernel release 4.4.0'));
  assert.ok(facts.gvisorSignals.includes('/proc/sys/kernel/panic is missing'));
  assert.ok(facts.gvisorSignals.includes('root is 9p over fd (the gVisor gofer)'));
  assert.equal(facts.kernelRelease, '4.4.0', 'osrelease is missing in gVisor; the release comes from /proc/version');
  assert.deepEqual(facts.cgroup, { version: 1, controllers: ['cpu', 'memory', 'pids'] });
  assert.equal(facts.kmsg, false);
  assert.equal(facts.overlay.usable, false);
  assert.equal(facts.vxlan.usable, false);
  assert.equal(facts.iptables.nft, false, 'nft answers "Protocol not supported" under gVisor');
  assert.equal(facts.defaultRoute, false);
  assert.equal(facts.rootIs9p, true);
  const byPath = Object.fromEntries(facts.sysctls.map((s) => [s.path, s]));
  assert.deepEqual(byPath['vm/overcommit_memory'], { path: 'vm/overcommit_memory', state: 'unwritable', value: '0' });
  for (const missing of ['vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes', 'net/ipv4/conf/all/route_localnet']) {
    assert.equal(byPath[missing]?.state, 'missing', missing);
  }
  assert.equal(facts.sysctls.length, 14, 'all 14 k3s sysctls are missing or read-only in gVisor');
  assert.deepEqual(byPath['kernel/cap_last_cap'], { path: 'kernel/cap_last_cap', state: 'missing' });
});

test('probe: one weak signal alone (kernel 4.4.0 on a real kernel) does not make it gVisor', async (t) => {
  const root = privilegedDockerTree({ 'proc/sys/kernel/osrelease': '4.4.0-210-generic\n' });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.gvisor, false);
});

test('probe: unprivileged Docker (no caps, read-only /proc/sys, overlay data dir, no kmsg, no vxlan, ptrace_scope 3, no nft)', async (t) => {
  const readOnly = Object.fromEntries(Object.keys(REAL_KERNEL_SYSCTLS).filter((path) => !path.endsWith('cap_last_cap')).map((path) => [path, { content: '0\n', mode: 0o444 }]));
  const root = privilegedDockerTree({
    ...readOnly,
    'proc/self/status': STATUS('00000000a80425fb', 0, '2'),
    'proc/sys/kernel/yama/ptrace_scope': '3\n',
    'proc/self/mountinfo': '700 600 0:60 / / rw - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c\n',
    'bin/iptables-nft': { content: '', mode: 0o644 },
  });
  rmSync(join(root, 'dev/kmsg'));
  rmSync(join(root, 'sys/module/vxlan'), { recursive: true });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.gvisor, false);
  assert.deepEqual(
    { ptrace: facts.capabilities.sysPtrace, admin: facts.capabilities.sysAdmin, net: facts.capabilities.netAdmin },
    { ptrace: false, admin: false, net: false },
  );
  assert.equal(facts.ptrace.usable, false);
  assert.match(facts.ptrace.reason, /ptrace_scope is 3/);
  assert.equal(facts.seccomp.usable, true, 'a filter exists (Seccomp: 2) and more can be stacked');
  assert.equal(facts.cgroup.version, null);
  assert.equal(facts.kmsg, false);
  assert.equal(facts.overlay.usable, false);
  assert.equal(facts.vxlan.usable, false);
  assert.equal(facts.iptables.nft, false, 'a non-executable iptables-nft does not count');
  assert.equal(facts.sysctls.length, 13);
  assert.ok(facts.sysctls.every((s) => s.state === 'unwritable' && s.value === '0'));
});

test('probe: a non-root caller is judged by the bounding set (what `sudo -n` gives the root `up`)', async (t) => {
  const root = privilegedDockerTree({ 'proc/self/status': STATUS('0000000000000000', 1000, '0', '000001ffffffffff') });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.uid, 1000);
  assert.deepEqual(facts.capabilities, { source: 'CapBnd', mask: '000001ffffffffff', sysPtrace: true, sysAdmin: true, netAdmin: true, netRaw: true, sysModule: true });
});

test('probe: overlay is refused when the data dir is on overlayfs even with CAP_SYS_ADMIN', async (t) => {
  const root = privilegedDockerTree({ 'proc/self/mountinfo': '700 600 0:60 / / rw - overlay overlay rw,lowerdir=/a\n' });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const facts = await probeTree(root);
  assert.equal(facts.overlay.usable, false);
  assert.match(facts.overlay.reason, /on overlay/);
});

test('probe: mountinfo escapes (\\040) and optional fields are parsed', () => {
  const mounts = parseMountinfo('36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
  assert.deepEqual(mounts, [{ id: 36, mountPoint: '/mnt/with space', fsType: 'ext3', source: '/dev/root', superOptions: 'rw,errors=continue' }]);
});

test('probe: the port check sees a port held by another listener', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const facts = await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: port });
  assert.equal(facts.port.free, false);
  assert.match(facts.port.reason, new RegExp(`127\\.0\\.0\\.1:${port} is in use`));
});

test('probe: a real run on this machine agrees with what node itself sees', async () => {
  const facts = await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443 });
  assert.equal(facts.uid, process.getuid!());
  assert.equal(facts.gvisor, false, 'the test host is not gVisor');
  assert.equal(facts.cpus, cpus().length, 'one per processor line in /proc/cpuinfo, as node counts them');
  assert.ok((facts.memory.totalBytes ?? 0) > 0);
  assert.ok(facts.dataDir.freeBytes !== null && facts.dataDir.freeBytes > 0);
  assert.notEqual(facts.cgroup.version, undefined);
});

/** Writes `dir`/probe.mts, a script with collectFacts imported from the source and then the `body` lines; returns its path. */
function probeScript(dir: string, ...body: string[]): string {
  const script = join(dir, 'probe.mts');
  writeFileSync(script, [`import { collectFacts } from ${JSON.stringify(join(REPO, 'src/steps/probe.ts'))};`, ...body, ''].join('\n'));
  return script;
}

test('probe: a real run inside gVisor (runsc) detects gVisor and the missing kubelet tunables', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-probe-gvisor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = probeScript(dir, "process.stdout.write(JSON.stringify(await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443 })));");
  const run = runInGvisor(t, [process.execPath, '--import', 'tsx', script]);
  if (!run) return;
  const { status, output } = run;
  assert.equal(status, 0, output);
  const facts = JSON.parse(output) as ProbeFacts;
  assert.equal(facts.gvisor, true, facts.gvisorSignals.join('; '));
  assert.equal(facts.kernelRelease, '4.4.0');
  const missing = facts.sysctls.filter((s) => s.state === 'missing').map((s) => s.path);
  assert.ok(missing.includes('kernel/panic') && missing.includes('vm/panic_on_oom'), missing.join(', '));
  assert.deepEqual(facts.sysctls.find((s) => s.path === 'vm/overcommit_memory'), { path: 'vm/overcommit_memory', state: 'unwritable', value: '0' });
  assert.equal(facts.kmsg, false);
  assert.equal(facts.vxlan.usable, false);
  assert.equal(facts.iptables.nft, false);
});

/** A probe script run with collectFacts and a mount scratch dir; prints the mounts fact and what is left mounted. */
function mountProbeScript(dir: string): string {
  return probeScript(
    dir,
    "import { readFileSync } from 'node:fs';",
    "const before = readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').length;",
    `const facts = await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443, checkPort: false, mountScratch: ${JSON.stringify(join(dir, 'scratch'))} });`,
    "const after = readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').length;",
    'process.stdout.write(JSON.stringify({ mounts: facts.mounts, lastCap: facts.lastCap, leftMounted: after - before, ms: facts.durationMs }));',
  );
}

test('probe: mount capability in real gVisor: tmpfs, overlay and bind mount, namespaces do not isolate; nothing left mounted', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-probe-mounts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = runInGvisor(t, [process.execPath, '--import', 'tsx', mountProbeScript(dir)]);
  if (!run) return;
  assert.equal(run.status, 0, run.output);
  const report = JSON.parse(run.output.slice(run.output.indexOf('{'))) as { mounts: ProbeFacts['mounts']; lastCap: number; leftMounted: number };
  assert.deepEqual({ ...report.mounts, reason: undefined }, { tested: true, tmpfs: true, overlay: true, bind: true, namespacesIsolate: false, reason: undefined });
  assert.match(report.mounts.reason, /mount namespaces do not isolate \(mounts are sandbox-wide\)/);
  assert.equal(report.lastCap, 37);
  assert.equal(report.leftMounted, 0);
});

test('probe: mount capability natively, in a private mount namespace: namespaces isolate; nothing left mounted', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root');
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-probe-mounts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, '--import', 'tsx', mountProbeScript(dir)], { cwd: REPO, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { mounts: ProbeFacts['mounts']; leftMounted: number };
  assert.deepEqual({ ...report.mounts, reason: undefined }, { tested: true, tmpfs: true, overlay: true, bind: true, namespacesIsolate: true, reason: undefined });
  assert.equal(report.leftMounted, 0);
});

test('probe: without a scratch dir or CAP_SYS_ADMIN nothing is mounted and the fact says why', async (t) => {
  const root = privilegedDockerTree({ 'proc/self/status': STATUS('00000000a80425fb') });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual((await probeTree(root)).mounts, { tested: false, tmpfs: false, overlay: false, bind: false, namespacesIsolate: false, reason: 'not tested' });
  const facts = await collectFacts({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys'), devRoot: join(root, 'dev'), dataDir: join(root, 'data'), httpsPort: 6443, checkPort: false, mountScratch: join(root, 'scratch') });
  assert.match(facts.mounts.reason, /CAP_SYS_ADMIN is missing/);
});

/** A probe script: collectFacts over `root` (a fixture tree) with the real iptables-legacy; prints its kube-proxy fact. */
function netfilterProbeScript(dir: string, root: string): string {
  return probeScript(
    dir,
    `const root = ${JSON.stringify(root)};`,
    "const facts = await collectFacts({ procRoot: root + '/proc', sysRoot: root + '/sys', devRoot: root + '/dev', binDirs: ['/usr/sbin', '/sbin'], dataDir: root + '/data', httpsPort: 6443, checkPort: false });",
    'process.stdout.write(JSON.stringify({ kubeProxyIptables: facts.kubeProxyIptables, gvisor: facts.gvisor, ms: facts.durationMs }));',
  );
}

/** gVisor's uname and CAP_NET_RAW (runsc --net-raw), so the probe tries kube-proxy's netfilter with the real iptables-legacy. */
function gvisorNetRawTree(): string {
  return makeTree({
    'proc/version': 'Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016\n',
    'proc/self/status': STATUS('0000003fffffffff'),
  });
}

test('probe: in real gVisor with --net-raw, iptables-legacy cannot hold kube-proxy\'s rules: the fact names -m comment, conntrack and mangle', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-probe-netfilter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = probeScript(
    dir,
    // Without iptables-legacy on the search path the netfilter test is skipped: the first run warms up, the second is timed.
    "const without = () => collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443, checkPort: false, binDirs: [] });",
    'await without();',
    'const withoutMs = (await without()).durationMs;',
    "const facts = await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443, checkPort: false });",
    'process.stdout.write(JSON.stringify({ kubeProxyIptables: facts.kubeProxyIptables, ms: facts.durationMs, withoutMs }));',
  );
  const run = runInGvisor(t, [process.execPath, '--import', 'tsx', script], { netRaw: true });
  if (!run) return;
  assert.equal(run.status, 0, run.output);
  const report = JSON.parse(run.output.slice(run.output.indexOf('{'))) as { kubeProxyIptables: ProbeFacts['kubeProxyIptables']; ms: number; withoutMs: number };
  t.diagnostic(`probe ${report.ms.toFixed(0)} ms with the netfilter test, ${report.withoutMs.toFixed(0)} ms without (no iptables-legacy found)`);
  assert.equal(report.kubeProxyIptables.tested, true);
  assert.equal(report.kubeProxyIptables.holds, false, report.kubeProxyIptables.reason);
  assert.match(report.kubeProxyIptables.reason, /^-m comment: iptables: Invalid argument; -m conntrack --ctstate NEW: iptables: Invalid argument; a chain in mangle: iptables: Invalid argument$/);
});

test('probe: on this real kernel, in its own network namespace, iptables-legacy holds kube-proxy\'s rules; the namespace\'s own tables are untouched', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root');
  const root = gvisorNetRawTree();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // The probe makes its own throwaway namespace; this outer one lets the test see that the tables it ran in stay empty.
  const script = netfilterProbeScript(root, root);
  const run = spawnSync('unshare', ['-n', 'sh', '-c', `"$@" && echo && iptables-legacy -w -S && iptables-legacy -w -t mangle -S`, 'sh', process.execPath, '--import', 'tsx', script], { cwd: REPO, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const [json, ...tables] = run.stdout.split('\n');
  const report = JSON.parse(json!) as { kubeProxyIptables: ProbeFacts['kubeProxyIptables']; gvisor: boolean };
  assert.equal(report.gvisor, true);
  assert.deepEqual(report.kubeProxyIptables, {
    tested: true,
    holds: true,
    reason: 'a chain in filter, -m comment, -m conntrack --ctstate NEW, a chain in mangle work (tried in a throwaway network namespace)',
  });
  assert.doesNotMatch(tables.join('\n'), /K3S-SANDBOX-PROBE/);
  assert.match(tables.join('\n'), /-P INPUT ACCEPT/, 'the outer tables were listed');
});

test('probe: where a network namespace cannot be made (no CAP_SYS_ADMIN), kube-proxy\'s netfilter is unknown, saying why; the sandbox\'s tables are not tried', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root');
  const root = gvisorNetRawTree();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const script = netfilterProbeScript(root, root);
  const run = spawnSync('setpriv', ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', process.execPath, '--import', 'tsx', script], { cwd: REPO, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { kubeProxyIptables: ProbeFacts['kubeProxyIptables'] };
  assert.equal(report.kubeProxyIptables.tested, true);
  assert.equal(report.kubeProxyIptables.holds, null);
  assert.match(report.kubeProxyIptables.reason, /^unknown: a throwaway network namespace \(unshare -n\) failed: unshare: unshare failed: Operation not permitted$/);
});
