import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInGvisor } from './helpers/gvisor.js';
import type { Plan } from '../../src/context.js';
import { resolvePaths } from '../../src/paths.js';
import { applyFakes, syncFakeTree } from '../../src/steps/fakes.js';
import { expandRebind } from '../../src/fakes/mounts.js';
import { REPO } from './helpers/repo.js';


function tempLib(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'k3s-sandbox-fakes-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const libDir = join(root, 'lib');
  const paths = resolvePaths({ dataDir: join(root, 'data') }, { K3S_SANDBOX_LIB_DIR: libDir, K3S_SANDBOX_STATE_DIR: join(root, 'state'), PATH: '' });
  return { root, libDir, paths };
}

function plan(fakes: Partial<Plan['fakes']>): Plan {
  return {
    mode: 'sandboxed-node',
    k3sArgs: ['server'],
    useInterceptor: true,
    k3sWrapper: [],
    fakes: { procSys: 'intercept', sysctls: {}, cniStandIn: false, kmsgBind: false, iptablesLegacy: false, ...fakes },
    pathPrepend: [],
    env: {},
    remedies: [],
    limits: '',
  };
}

function modeOf(path: string): number {
  return lstatSync(path).mode & 0o7777;
}

test('fake tree: exactly the planned sysctls as <value>\\n, root-owned dirs, nothing world-writable; idempotent', async (t) => {
  const { libDir, paths } = tempLib(t);
  const sysctls = { 'kernel/panic': '10', 'kernel/keys/root_maxkeys': '1000000', 'vm/overcommit_memory': '1' };
  const changes = await applyFakes(plan({ sysctls }), paths);
  assert.equal(changes.length, 3, changes.join('\n'));
  for (const [path, value] of Object.entries(sysctls)) {
    const file = join(paths.fakeRoot, 'proc/sys', path);
    assert.equal(readFileSync(file, 'utf8'), `${value}\n`);
    assert.equal(modeOf(file), 0o644);
  }
  for (const dir of [libDir, paths.fakeRoot, join(paths.fakeRoot, 'proc/sys/kernel/keys')]) {
    assert.equal(statSync(dir).uid, 0, `${dir} is root-owned`);
    assert.equal(modeOf(dir) & 0o022, 0, `${dir} is writable by owner only`);
  }
  assert.deepEqual(await applyFakes(plan({ sysctls }), paths), [], 'a second run changes nothing');
});

test('fake tree: a changed plan removes stale files and empty directories', async (t) => {
  const { paths } = tempLib(t);
  await applyFakes(plan({ sysctls: { 'kernel/keys/root_maxkeys': '1000000', 'kernel/panic': '10' } }), paths);
  const changes = await applyFakes(plan({ sysctls: { 'kernel/panic': '10' } }), paths);
  assert.deepEqual(changes, ['removed stale fake /proc/sys/kernel/keys/root_maxkeys']);
  assert.equal(existsSync(join(paths.fakeRoot, 'proc/sys/kernel/keys')), false);
  await applyFakes(plan({}), paths);
  assert.equal(existsSync(join(paths.fakeRoot, 'proc/sys/kernel/panic')), false);
});

test('fake tree: a value changed by kubelet in the fake file is put back to the planned one', async (t) => {
  const { paths } = tempLib(t);
  await applyFakes(plan({ sysctls: { 'vm/panic_on_oom': '0' } }), paths);
  writeFileSync(join(paths.fakeRoot, 'proc/sys/vm/panic_on_oom'), '1\n');
  assert.deepEqual(await applyFakes(plan({ sysctls: { 'vm/panic_on_oom': '0' } }), paths), ['fake /proc/sys/vm/panic_on_oom = 0']);
});

test('fake tree: path traversal and non-numeric values are refused', (t) => {
  const { paths } = tempLib(t);
  assert.throws(() => syncFakeTree(paths, { '../../etc/passwd': '1' }), /refusing fake sysctl/);
  assert.throws(() => syncFakeTree(paths, { 'kernel/panic': '1; rm -rf /' }), /refusing fake sysctl/);
});

test('a world-writable lib dir is tightened; a symlinked one is refused', async (t) => {
  const { root, libDir, paths } = tempLib(t);
  mkdirSync(libDir);
  chmodSync(libDir, 0o777);
  await applyFakes(plan({ cniStandIn: true }), paths);
  assert.equal(modeOf(libDir) & 0o002, 0);
  const other = resolvePaths({ dataDir: '/x' }, { K3S_SANDBOX_LIB_DIR: join(root, 'link') });
  mkdirSync(join(root, 'elsewhere'));
  spawnSync('ln', ['-s', join(root, 'elsewhere'), join(root, 'link')]);
  await assert.rejects(applyFakes(plan({}), other), /must be a real directory, not a symlink/);
});

test('host-local stand-in: an executable wrapper that answers CNI VERSION as a real process; removed when not planned', async (t) => {
  const { paths } = tempLib(t);
  await applyFakes(plan({ cniStandIn: true }), paths);
  const hostLocal = join(paths.cniBinDir, 'host-local');
  assert.equal(modeOf(hostLocal), 0o755);
  assert.equal(modeOf(paths.cniStateDir), 0o700);
  const version = spawnSync(hostLocal, [], { cwd: REPO, env: { PATH: process.env.PATH ?? '', CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', encoding: 'utf8', timeout: 60_000 });
  assert.equal(version.status, 0, version.stderr);
  assert.deepEqual(JSON.parse(version.stdout), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const add = spawnSync(hostLocal, [], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x1', CNI_NETNS: '/proc/1/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: paths.cniBinDir },
    input: JSON.stringify({ cniVersion: '1.0.0', name: 'k3s', ipam: { type: 'host-local', subnet: '10.42.0.0/24' } }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(add.status, 0, add.stdout + add.stderr);
  assert.ok(existsSync(join(paths.cniStateDir, 'k3s', '10.42.0.1')) === false && existsSync(join(paths.cniStateDir, 'k3s', '10.42.0.2')), 'the allocation lands in the lib dir state');
  assert.deepEqual(await applyFakes(plan({ cniStandIn: false }), paths), [`removed the host-local stand-in ${hostLocal}`]);
});

test('iptables-legacy: PATH dir of symlinks to the legacy tools that exist; the host\'s iptables is untouched', async (t) => {
  const { root, paths } = tempLib(t);
  const sbin = join(root, 'sbin');
  mkdirSync(sbin);
  for (const tool of ['iptables-legacy', 'iptables-legacy-save', 'iptables-legacy-restore', 'iptables']) {
    writeFileSync(join(sbin, tool), '#!/bin/sh\n', { mode: 0o755 });
  }
  const changes = await applyFakes(plan({ iptablesLegacy: true }), paths, { iptablesLegacy: join(sbin, 'iptables-legacy') });
  assert.equal(changes.length, 3, changes.join('\n'));
  assert.equal(readlinkSync(join(paths.iptablesBinDir, 'iptables')), join(sbin, 'iptables-legacy'));
  assert.equal(readlinkSync(join(paths.iptablesBinDir, 'iptables-save')), join(sbin, 'iptables-legacy-save'));
  assert.equal(readlinkSync(join(paths.iptablesBinDir, 'iptables-restore')), join(sbin, 'iptables-legacy-restore'));
  assert.equal(existsSync(join(paths.iptablesBinDir, 'ip6tables')), false, 'no link to a tool that does not exist');
  assert.equal(lstatSync(join(sbin, 'iptables')).isSymbolicLink(), false, 'the host iptables is left alone');
  assert.deepEqual(await applyFakes(plan({ iptablesLegacy: true }), paths, { iptablesLegacy: join(sbin, 'iptables-legacy') }), []);
  await applyFakes(plan({}), paths);
  assert.equal(existsSync(paths.iptablesBinDir), false);
});

// Both ways of mounting the /proc/sys fakes in gVisor: overlays, and the rebind variant (a tmpfs per directory, the real
// entries bound back from a saved bind of /proc/sys) that auto uses where overlays are refused.
const GVISOR_PROC_SYS_WAYS = [
  { procSys: 'overlay', first: 'mounted an overlay at /proc/sys/kernel' },
  { procSys: 'rebind', first: 'mounted a tmpfs at /proc/sys/kernel with its real entries bound back (and the directories below it that hold fakes)' },
];
for (const way of GVISOR_PROC_SYS_WAYS) test(`in real gVisor: the cgroup v1 tree, the /dev/kmsg bind and /proc/sys fakes by ${way.procSys} are made once, serve the fakes, are seen past by the probe, and come off leaving /proc/sys as it was`, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-fakes-gvisor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'fakes.mts');
  writeFileSync(
    script,
    [
      `import { execFileSync } from 'node:child_process';`,
      `import { existsSync, readFileSync, writeFileSync } from 'node:fs';`,
      `import { applyFakes } from ${JSON.stringify(join(REPO, 'src/steps/fakes.ts'))};`,
      `import { mountJournalFile, undoMounts } from ${JSON.stringify(join(REPO, 'src/fakes/mounts.ts'))};`,
      `import { collectFacts } from ${JSON.stringify(join(REPO, 'src/steps/probe.ts'))};`,
      `import { resolvePaths } from ${JSON.stringify(join(REPO, 'src/paths.ts'))};`,
      "const paths = resolvePaths({ dataDir: '/var/lib/rancher/k3s' });",
      "const journal = mountJournalFile(paths);",
      "const probe = (withJournal) => collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443, checkPort: false, ...(withJournal ? { mountJournal: journal } : {}) });",
      "const pick = (f) => ({ kmsg: f.kmsg, cgroup: f.cgroup, sysctls: f.sysctls });",
      // Every /proc/sys entry with its value (readable ones), to compare after down.
      "const snapshot = () => execFileSync('sh', ['-c', 'find /proc/sys -printf \"%p %y\\\\n\" | sort; for f in $(find /proc/sys -type f); do printf \"%s=%s\\\\n\" \"$f\" \"$(cat $f 2>/dev/null | head -c 200)\"; done'], { encoding: 'utf8' }).split('\\n').filter((l) => !/random|inode|dentry|file-nr|ns_last_pid|hostname=|uptime/.test(l)).join('\\n');",
      "const proc0 = snapshot();",
      "const before = await probe(true);",
      "const sysctls = Object.fromEntries(before.sysctls.map((s) => [s.path, s.path === 'vm/overcommit_memory' ? '1' : '10']));",
      `const plan = { fakes: { procSys: '${way.procSys}', sysctls, cniStandIn: false, kmsgBind: true, iptablesLegacy: false, cgroupV1Mounts: ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'] } };`,
      "const first = await applyFakes(plan, paths, { sysctlFacts: before.sysctls });",
      "const second = await applyFakes(plan, paths, { sysctlFacts: before.sysctls });",
      "const seenPast = await probe(true);",
      // Every entry and value there was is still there while mounted (but the read-only overcommit_memory, now a fake).
      "const mid = new Set(snapshot().split('\\n')); const lost = proc0.split('\\n').filter((l) => !mid.has(l) && !l.includes('overcommit_memory'));",
      "const seen = await probe(false);",
      "const panic = readFileSync('/proc/sys/kernel/panic', 'utf8');",
      "writeFileSync('/proc/sys/vm/overcommit_memory', '1'); const overcommit = readFileSync('/proc/sys/vm/overcommit_memory', 'utf8');",
      "execFileSync('hostname', ['live-entry']); const hostname = readFileSync('/proc/sys/kernel/hostname', 'utf8');",
      "const undone = await undoMounts(journal);",
      "const proc1 = snapshot();",
      "const mountsLeft = readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter((l) => /\\/proc\\/sys|\\/sys\\/fs\\/cgroup|\\/dev\\/kmsg|proc-sys-layers/.test(l));",
      "process.stdout.write(JSON.stringify({ before: pick(before), first, second, seenPast: pick(seenPast), seen: pick(seen), panic, overcommit, hostname, lost, undone, same: proc0 === proc1, kmsgLeft: existsSync('/dev/kmsg'), journalLeft: existsSync(journal), mountsLeft }));",
    ].join('\n'),
  );
  const run = runInGvisor(t, [process.execPath, '--import', 'tsx', script]);
  if (!run) return;
  const { status, output } = run;
  assert.equal(status, 0, output);
  const report = JSON.parse(output.slice(output.indexOf('{'))) as Record<string, any>;
  assert.deepEqual(report.before.kmsg, false);
  assert.deepEqual(report.before.cgroup, { version: null, controllers: [] });
  assert.ok(report.first.includes('mounted /dev/null bound over /dev/kmsg'), report.first.join('\n'));
  assert.ok(report.first.includes('mounted the memory cgroup at /sys/fs/cgroup/memory'), report.first.join('\n'));
  assert.ok(report.first.includes(way.first), report.first.join('\n'));
  assert.deepEqual(report.second, [], 'the second run reuses the complete set');
  assert.deepEqual(report.seenPast, report.before, 'the probe sees the sandbox past our mounts');
  assert.equal(report.seen.kmsg, true);
  assert.deepEqual([...report.seen.cgroup.controllers].sort(), ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids']);
  assert.equal(report.panic, '10\n');
  assert.equal(report.overcommit.trim(), '1');
  assert.equal(report.hostname.trim(), 'live-entry', 'untouched entries stay live');
  assert.deepEqual(report.lost, [], 'while mounted, every other entry and value is the sandbox\'s');
  assert.ok(report.undone.length >= 9, report.undone.join('\n'));
  assert.equal(report.same, true, 'every /proc/sys entry and value is as before');
  assert.equal(report.kmsgLeft, false);
  assert.equal(report.journalLeft, false);
  assert.deepEqual(report.mountsLeft, []);
});

test('datastore dir off a 9p data dir: created 0700 once, a symlink in its place is refused', async (t) => {
  const { root, paths } = tempLib(t);
  const dir = join(root, 'shm', 'k3s-sandbox', 'db');
  assert.deepEqual(await applyFakes(plan({ datastoreDir: dir }), paths), [`datastore directory ${dir}`]);
  assert.equal(modeOf(dir), 0o700);
  assert.deepEqual(await applyFakes(plan({ datastoreDir: dir }), paths), []);
  const link = join(root, 'linked-db');
  spawnSync('ln', ['-s', root, link]);
  await assert.rejects(applyFakes(plan({ datastoreDir: link }), paths), /must be a real directory/);
});

test('8 concurrent processes making the same fakes all succeed and leave one clean tree (fakes run before the instance lock)', async (t) => {
  const { root, paths } = tempLib(t);
  const script = join(root, 'apply.mts');
  const sysctls = { 'kernel/panic': '10', 'kernel/keys/root_maxkeys': '1000000', 'net/ipv4/conf/all/route_localnet': '1' };
  writeFileSync(
    script,
    [
      `import { applyFakes } from ${JSON.stringify(join(REPO, 'src/steps/fakes.ts'))};`,
      `import { resolvePaths } from ${JSON.stringify(join(REPO, 'src/paths.ts'))};`,
      `const paths = resolvePaths({ dataDir: '/x' }, { K3S_SANDBOX_LIB_DIR: ${JSON.stringify(paths.libDir)}, K3S_SANDBOX_STATE_DIR: ${JSON.stringify(paths.stateDir)}, PATH: '' });`,
      `const plan = { fakes: { procSys: 'intercept', sysctls: ${JSON.stringify(sysctls)}, cniStandIn: true, kmsgBind: false, iptablesLegacy: false } };`,
      'for (let i = 0; i < 5; i++) await applyFakes(plan, paths);',
    ].join('\n'),
  );
  const { spawn } = await import('node:child_process');
  const codes = await Promise.all(Array.from({ length: 8 }, () => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', resolve);
  })));
  assert.deepEqual(codes, Array(8).fill(0));
  const files = spawnSync('find', [paths.libDir, '-type', 'f', '-printf', '%P\\n'], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
  assert.deepEqual(files, ['cni/bin/host-local', 'fake-root/proc/sys/kernel/keys/root_maxkeys', 'fake-root/proc/sys/kernel/panic', 'fake-root/proc/sys/net/ipv4/conf/all/route_localnet']);
});

test('rebind expansion: fake files on the tmpfs, every other entry a placeholder with the real one bound over it, a real directory holding fakes gets its own tmpfs, a missing one is made on this one', (t) => {
  const { root } = tempLib(t);
  const real = join(root, 'real', 'net');
  mkdirSync(join(real, 'core'), { recursive: true });
  mkdirSync(join(real, 'ipv4'), { recursive: true });
  writeFileSync(join(real, 'unix_max'), '10\n');
  writeFileSync(join(real, 'ro_file'), '0\n');
  const expanded = expandRebind('/proc/sys/net', {
    from: real,
    files: { ro_file: '1\n', 'ipv4/conf/all/route_localnet': '1\n', 'bridge/bridge-nf-call-iptables': '1\n' },
  });
  assert.deepEqual(expanded.fill, {
    ro_file: '1\n',
    'ipv4/': '',
    'bridge/bridge-nf-call-iptables': '1\n',
    'core/': '',
    unix_max: '',
  });
  assert.deepEqual(expanded.mounts, [
    { target: '/proc/sys/net/core', fsType: 'bind', source: join(real, 'core'), within: '/proc/sys/net' },
    { target: '/proc/sys/net/unix_max', fsType: 'bind', source: join(real, 'unix_max'), within: '/proc/sys/net' },
    {
      target: '/proc/sys/net/ipv4', fsType: 'tmpfs', source: 'k3s-sandbox', options: 'mode=0555',
      rebind: { from: join(real, 'ipv4'), files: { 'conf/all/route_localnet': '1\n' } }, within: '/proc/sys/net',
    },
  ]);
  assert.deepEqual(expandRebind('/x', { from: join(root, 'absent'), files: { a: '1\n' } }), { fill: { a: '1\n' }, mounts: [] });
});
