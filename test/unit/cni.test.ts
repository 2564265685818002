import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './helpers/repo.js';

/** The CNI stand-in is spawned as a real process, the way containerd or k3s would run it. */

const CLI = join(REPO, 'src', 'cli.ts');

const stateDir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-cni-'));
test.after(() => rmSync(stateDir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  json: Record<string, unknown> | undefined;
  stdout: string;
}

function cni(command: string | undefined, config: unknown, env: Record<string, string> = {}): Run {
  const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '', K3S_SANDBOX_CNI_STATE_DIR: stateDir, ...env };
  if (command !== undefined) baseEnv.CNI_COMMAND = command;
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'cni'], {
    cwd: REPO,
    env: baseEnv,
    input: typeof config === 'string' ? config : config === undefined ? '' : JSON.stringify(config),
    encoding: 'utf8',
    timeout: 60_000,
  });
  const stdout = result.stdout.trim();
  return { code: result.status, json: stdout ? (JSON.parse(stdout) as Record<string, unknown>) : undefined, stdout };
}

const NET = {
  cniVersion: '1.0.0',
  name: 'cbr0',
  type: 'bridge',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
};

function containerEnv(id: string, ifname = 'eth0'): Record<string, string> {
  return { CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${id}`, CNI_IFNAME: ifname, CNI_PATH: '/opt/cni/bin' };
}

function allocations(network: string): string[] {
  const dir = join(stateDir, network);
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^\d/.test(name)).sort() : [];
}

test('VERSION lists the supported versions and echoes the requested one', () => {
  const run = cni('VERSION', { cniVersion: '0.4.0' });
  assert.equal(run.code, 0, run.stdout);
  assert.deepEqual(run.json, { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const bare = cni('VERSION', undefined);
  assert.equal(bare.code, 0);
  assert.equal(bare.json?.cniVersion, '1.1.0');
});

test('ADD allocates the first host address after the gateway, with routes; a repeated ADD returns the same address', () => {
  const first = cni('ADD', NET, containerEnv('c1'));
  assert.equal(first.code, 0, first.stdout);
  assert.deepEqual(first.json, {
    cniVersion: '1.0.0',
    ips: [{ address: '10.42.0.2/24', gateway: '10.42.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: {},
  });
  const again = cni('ADD', NET, containerEnv('c1'));
  assert.deepEqual(again.json, first.json);
  const second = cni('ADD', NET, containerEnv('c2'));
  assert.deepEqual((second.json?.ips as unknown[])[0], { address: '10.42.0.3/24', gateway: '10.42.0.1' });
  assert.deepEqual(allocations('cbr0'), ['10.42.0.2', '10.42.0.3']);
});

test('CHECK passes for an allocated container and fails with code 3 for an unknown one', () => {
  assert.equal(cni('CHECK', NET, containerEnv('c1')).code, 0);
  const unknown = cni('CHECK', NET, containerEnv('nobody'));
  assert.equal(unknown.code, 1);
  assert.equal(unknown.json?.code, 3);
  assert.match(String(unknown.json?.msg), /no address is allocated to container nobody/);
});

test('DEL releases the address, is idempotent, and the address is reused', () => {
  assert.equal(cni('DEL', NET, containerEnv('c1')).code, 0);
  assert.deepEqual(allocations('cbr0'), ['10.42.0.3']);
  assert.equal(cni('DEL', NET, containerEnv('c1')).code, 0, 'a second DEL succeeds');
  assert.equal(cni('DEL', { ...NET, name: 'never-used' }, containerEnv('c1')).code, 0, 'DEL on an unknown network succeeds');
  assert.equal(cni('CHECK', NET, containerEnv('c1')).code, 1);
  const reuse = cni('ADD', NET, containerEnv('c3'));
  assert.deepEqual((reuse.json?.ips as unknown[])[0], { address: '10.42.0.2/24', gateway: '10.42.0.1' });
});

test('GC releases every allocation whose attachment is not listed as valid; STATUS answers 0', () => {
  const net = { ...NET, cniVersion: '1.1.0', name: 'gc' };
  for (const id of ['g1', 'g2', 'g3']) assert.equal(cni('ADD', net, containerEnv(id)).code, 0);
  const gc = cni('GC', { ...net, 'cni.dev/valid-attachments': [{ containerID: 'g2', ifname: 'eth0' }] }, { CNI_PATH: '/opt/cni/bin' });
  assert.equal(gc.code, 0, gc.stdout);
  assert.deepEqual(allocations('gc'), ['10.42.0.3']);
  assert.equal(cni('CHECK', net, containerEnv('g2')).code, 0);
  assert.equal(cni('CHECK', net, containerEnv('g1')).code, 1);
  const status = cni('STATUS', net);
  assert.equal(status.code, 0);
  assert.equal(status.stdout, '');
});

test('ipam.subnet with rangeStart/rangeEnd and a 0.3.1 result carrying the IP version', () => {
  const net = { cniVersion: '0.3.1', name: 'small', ipam: { type: 'host-local', subnet: '192.168.7.0/29', rangeStart: '192.168.7.5', rangeEnd: '192.168.7.6' } };
  const a = cni('ADD', net, containerEnv('s1'));
  assert.deepEqual(a.json?.ips, [{ version: '4', address: '192.168.7.5/29', gateway: '192.168.7.1' }]);
  assert.equal(cni('ADD', net, containerEnv('s2')).code, 0);
  const full = cni('ADD', net, containerEnv('s3'));
  assert.equal(full.code, 1);
  assert.match(String(full.json?.msg), /no free address left in 192\.168\.7\.0\/29/);
});

test('concurrent ADDs for different containers never share an address', async () => {
  const { spawn } = await import('node:child_process');
  const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const outputs = await Promise.all(ids.map((id) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'cni'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', K3S_SANDBOX_CNI_STATE_DIR: stateDir, CNI_COMMAND: 'ADD', ...containerEnv(id) },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ADD ${id} exited ${code}: ${out}`))));
    child.stdin.end(JSON.stringify({ ...NET, name: 'race' }));
  })));
  const addresses = outputs.map((out) => ((JSON.parse(out) as { ips: { address: string }[] }).ips[0]!.address));
  assert.equal(new Set(addresses).size, ids.length, addresses.join(' '));
  assert.equal(allocations('race').length, ids.length);
});

const BAD_INPUT: { name: string; command: string | undefined; config: unknown; env?: Record<string, string>; code: number; msg: RegExp }[] = [
  { name: 'no CNI_COMMAND', command: undefined, config: NET, code: 4, msg: /missing environment variable CNI_COMMAND/ },
  { name: 'unknown CNI_COMMAND', command: 'FROB', config: NET, code: 4, msg: /unsupported CNI_COMMAND "FROB"/ },
  { name: 'ADD without CNI_CONTAINERID/NETNS/IFNAME/PATH', command: 'ADD', config: NET, code: 4, msg: /missing environment variable\(s\): CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH/ },
  { name: 'config that is not JSON', command: 'ADD', config: '{"cniVersion": ', env: containerEnv('b1'), code: 6, msg: /not valid JSON/ },
  { name: 'unsupported cniVersion', command: 'ADD', config: { ...NET, cniVersion: '9.9.9' }, env: containerEnv('b1'), code: 1, msg: /unsupported cniVersion "9\.9\.9"/ },
  { name: 'bad subnet', command: 'ADD', config: { ...NET, ipam: { type: 'host-local', subnet: '10.42.0.0/33' } }, env: containerEnv('b1'), code: 7, msg: /invalid subnet "10\.42\.0\.0\/33"/ },
  { name: 'IPv6 subnet', command: 'ADD', config: { ...NET, ipam: { type: 'host-local', subnet: 'fd00::/64' } }, env: containerEnv('b1'), code: 7, msg: /invalid subnet/ },
  { name: 'no ipam section', command: 'ADD', config: { cniVersion: '1.0.0', name: 'x' }, env: containerEnv('b1'), code: 7, msg: /no "ipam" section/ },
  { name: 'network name with a path in it', command: 'ADD', config: { ...NET, name: '../etc' }, env: containerEnv('b1'), code: 7, msg: /needs a "name"/ },
  { name: 'container id with a slash', command: 'ADD', config: NET, env: containerEnv('../../x'), code: 4, msg: /invalid CNI_CONTAINERID/ },
  { name: 'CHECK with a 0.3.1 config', command: 'CHECK', config: { ...NET, cniVersion: '0.3.1' }, env: containerEnv('c2'), code: 1, msg: /CHECK needs cniVersion 0\.4\.0/ },
];

for (const bad of BAD_INPUT) {
  test(`bad input: ${bad.name} → non-zero exit and a CNI error object on stdout`, () => {
    const run = cni(bad.command, bad.config, bad.env);
    assert.notEqual(run.code, 0);
    assert.ok(run.json, `stdout is a JSON error object: ${run.stdout}`);
    assert.deepEqual(Object.keys(run.json).sort(), ['cniVersion', 'code', 'details', 'msg']);
    assert.equal(run.json.code, bad.code, run.stdout);
    assert.match(String(run.json.msg), bad.msg);
    assert.equal(typeof run.json.cniVersion, 'string');
  });
}

test('300 MB on stdin: a CNI error naming the 1 MiB limit, read in bounded memory (RSS from /usr/bin/time -v)', () => {
  // A CNI config is a few KiB; the stand-in must neither buffer nor parse a flood (it reached 943 MB RSS before).
  const script = `head -c 300000000 /dev/zero | /usr/bin/time -v "${process.execPath}" --import tsx "${CLI}" cni 2>"$TIME_LOG"`;
  const timeLog = join(stateDir, 'time.log');
  const result = spawnSync('bash', ['-c', script], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', K3S_SANDBOX_CNI_STATE_DIR: stateDir, CNI_COMMAND: 'ADD', TIME_LOG: timeLog, ...containerEnv('flood') },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const json = JSON.parse(result.stdout.trim()) as Record<string, unknown>;
  assert.equal(json.code, 6, result.stdout);
  assert.match(String(json.msg), /the network config on stdin is larger than 1 MiB \(1048576 bytes\)/);
  const rssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeLog, 'utf8'))?.[1]);
  assert.ok(rssKiB > 0 && rssKiB < 150 * 1024, `max RSS ${rssKiB} KiB, expected under 150 MiB`);
});

test('an ADD with a newline in CNI_IFNAME is refused with code 4 and writes nothing', () => {
  const net = { ...NET, name: 'ifname-newline' };
  const run = cni('ADD', net, containerEnv('n1', 'eth0\nx'));
  assert.equal(run.code, 1, run.stdout);
  assert.equal(run.json?.code, 4);
  assert.match(String(run.json?.msg), /invalid CNI_IFNAME "eth0\\nx"/);
  assert.equal(existsSync(join(stateDir, 'ifname-newline')), false, 'no network directory was created');
});

const BAD_ENV: { name: string; env: Record<string, string>; msg: RegExp }[] = [
  { name: 'CNI_IFNAME of 16 bytes', env: containerEnv('e1', 'a123456789012345'), msg: /invalid CNI_IFNAME "a123456789012345": 1 to 15 bytes/ },
  { name: 'CNI_IFNAME with a slash', env: containerEnv('e1', 'eth/0'), msg: /invalid CNI_IFNAME "eth\/0"/ },
  { name: 'CNI_IFNAME with a space', env: containerEnv('e1', 'eth 0'), msg: /invalid CNI_IFNAME "eth 0"/ },
  { name: 'CNI_IFNAME with a colon', env: containerEnv('e1', 'eth0:1'), msg: /invalid CNI_IFNAME "eth0:1"/ },
  { name: 'CNI_IFNAME "."', env: containerEnv('e1', '.'), msg: /invalid CNI_IFNAME "\."/ },
  { name: 'CNI_IFNAME ".."', env: containerEnv('e1', '..'), msg: /invalid CNI_IFNAME "\.\."/ },
  { name: 'CNI_CONTAINERID with a newline', env: containerEnv('e1\nx'), msg: /invalid CNI_CONTAINERID "e1\\nx"/ },
  { name: 'CNI_CONTAINERID over 1024 bytes', env: containerEnv('c'.repeat(1025)), msg: /invalid CNI_CONTAINERID "c+": .*at most 1024/ },
  { name: 'relative CNI_NETNS', env: { ...containerEnv('e1'), CNI_NETNS: 'netns/e1' }, msg: /invalid CNI_NETNS "netns\/e1": an absolute path/ },
  { name: 'CNI_NETNS with a newline', env: { ...containerEnv('e1'), CNI_NETNS: '/run/netns/e1\nx' }, msg: /invalid CNI_NETNS "\/run\/netns\/e1\\nx"/ },
];

for (const [index, bad] of BAD_ENV.entries()) {
  test(`bad environment: ${bad.name} → CNI error code 4, nothing written`, () => {
    const net = { ...NET, name: `bad-env-${index}` };
    const run = cni('ADD', net, bad.env);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.json?.code, 4, run.stdout);
    assert.match(String(run.json?.msg), bad.msg);
    assert.equal(existsSync(join(stateDir, net.name)), false, 'no network directory was created');
  });
}

test('the kernel-valid CNI_IFNAME of 15 bytes and a 64-hex container id are accepted', () => {
  const run = cni('ADD', { ...NET, name: 'good-env' }, containerEnv('f'.repeat(64), 'a12345678901234'));
  assert.equal(run.code, 0, run.stdout);
  assert.deepEqual(allocations('good-env'), ['10.42.0.2']);
});
