import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  bootTimeLine,
  currentBootId,
  executableOf,
  isOurExecutable,
  isRecordedProcess,
  ourExecutables,
  parseProcStat,
  readProcStat,
  type ProcStat,
} from '../../src/instance/identity.js';
import { tempDir } from './helpers/tempDir.js';

/** A stat line as the kernel writes it: pid, (comm), then fields 3..52; starttime (field 22) and session (6) set. */
function statLine(pid: number, comm: string, fields: { state?: string; ppid?: number; session?: number; startTime?: number } = {}): string {
  const rest = Array.from({ length: 50 }, () => '0');
  rest[0] = fields.state ?? 'S';
  rest[1] = String(fields.ppid ?? 1);
  rest[3] = String(fields.session ?? pid);
  rest[19] = String(fields.startTime ?? 4242);
  return `${pid} (${comm}) ${rest.join(' ')}\n`;
}

const PARSED: { name: string; line: string; expected: Partial<ProcStat> | undefined }[] = [
  { name: 'a plain comm', line: statLine(17, 'k3s-sandbox-sup'), expected: { pid: 17, comm: 'k3s-sandbox-sup', state: 'S', ppid: 1, session: 17, startTime: 4242 } },
  { name: 'a comm with spaces', line: statLine(5, 'a b c', { startTime: 99 }), expected: { comm: 'a b c', startTime: 99 } },
  { name: "a comm with ') ' in it", line: statLine(5, 'x) R 1 2 3 (', { session: 3, startTime: 7 }), expected: { comm: 'x) R 1 2 3 (', state: 'S', session: 3, startTime: 7 } },
  { name: 'a comm that is only parentheses', line: statLine(8, ')()', { state: 'Z' }), expected: { comm: ')()', state: 'Z' } },
  { name: 'an empty comm', line: statLine(9, ''), expected: { comm: '', startTime: 4242 } },
  { name: 'a start time beyond 32 bits', line: statLine(9, 'k3s', { startTime: 2 ** 40 }), expected: { startTime: 2 ** 40 } },
  { name: 'no parentheses', line: '5 sleep S 1 5 5', expected: undefined },
  { name: 'a line cut before field 22', line: '5 (sleep) S 1 5 5 0 -1 4194560 100', expected: undefined },
  { name: 'a start time that is not a number', line: statLine(5, 'sleep').replace(' 4242 ', ' x ') , expected: undefined },
  { name: 'an empty line', line: '', expected: undefined },
];

for (const { name, line, expected } of PARSED) {
  test(`parseProcStat: ${name}`, () => {
    const parsed = parseProcStat(line);
    if (expected === undefined) return assert.equal(parsed, undefined);
    assert.ok(parsed, 'parsed');
    for (const [key, value] of Object.entries(expected)) assert.equal(parsed[key as keyof ProcStat], value, key);
  });
}

test('readProcStat reads a real process whose comm holds spaces and a parenthesis', async () => {
  const program = join(tempDir('identity'), 'a) b (c');
  copyFileSync('/bin/sleep', program);
  const child = spawn(program, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stat = readProcStat(child.pid!);
    const raw = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    assert.equal(stat?.comm, 'a) b (c');
    assert.equal(stat?.pid, child.pid);
    assert.equal(stat?.ppid, process.pid);
    assert.equal(stat?.startTime, Number(raw.slice(raw.lastIndexOf(')') + 2).split(' ')[19]));
    assert.ok(stat!.startTime >= readProcStat(process.pid)!.startTime, 'a child starts no earlier than its parent');
  } finally {
    child.kill('SIGKILL');
  }
});

test('bootTimeLine takes the btime line of /proc/stat (the boot id where gVisor has no boot_id)', () => {
  assert.equal(bootTimeLine('cpu  1 2 3\ncpu0 1 2 3\nintr 5\nctxt 9\nbtime 1796043263\nprocesses 12\n'), 'btime 1796043263');
  assert.equal(bootTimeLine('cpu  1 2 3\nbtime\n'), undefined);
  assert.equal(bootTimeLine('notbtime 5\n'), undefined);
  assert.equal(bootTimeLine(''), undefined);
});

test('currentBootId is the kernel boot_id here (gVisor: the btime line) and stable', () => {
  const id = currentBootId();
  assert.equal(id, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  assert.equal(currentBootId(), id);
});

const RECORDED = { pid: 100, startTime: 5000, bootId: 'boot-a' };
const LIVE: ProcStat = { pid: 100, comm: 'k3s-sandbox-sup', state: 'S', ppid: 1, session: 100, startTime: 5000 };
const MATCHES: { name: string; observed: ProcStat | undefined; bootId: string | undefined; expected: boolean }[] = [
  { name: 'the same pid, start time and boot', observed: LIVE, bootId: 'boot-a', expected: true },
  { name: 'a reused pid (later start time)', observed: { ...LIVE, startTime: 5001 }, bootId: 'boot-a', expected: false },
  { name: 'the same start time in another boot', observed: LIVE, bootId: 'boot-b', expected: false },
  { name: 'an unknown current boot', observed: LIVE, bootId: undefined, expected: false },
  { name: 'a zombie', observed: { ...LIVE, state: 'Z' }, bootId: 'boot-a', expected: false },
  { name: 'a process that is gone', observed: undefined, bootId: 'boot-a', expected: false },
  { name: 'another pid', observed: { ...LIVE, pid: 101 }, bootId: 'boot-a', expected: false },
];

for (const { name, observed, bootId, expected } of MATCHES) {
  test(`isRecordedProcess: ${name} → ${expected}`, () => {
    assert.equal(isRecordedProcess(RECORDED, observed, bootId), expected);
  });
}

test('isOurExecutable: our installed programs, resolved, and what k3s extracted under <dataDir>/data/', () => {
  const dir = tempDir('identity');
  copyFileSync('/bin/true', join(dir, 'k3s-real'));
  symlinkSync(join(dir, 'k3s-real'), join(dir, 'k3s'));
  const ours = ourExecutables([join(dir, 'k3s'), '/opt/k3s-sandbox/bin/k3s-sandbox-supervise'], [join(dir, 'data-dir'), `${join(dir, 'data-dir')}/`]);
  const cases: [string | undefined, boolean][] = [
    [join(dir, 'k3s-real'), true], // /proc/<pid>/exe shows the resolved path
    ['/opt/k3s-sandbox/bin/k3s-sandbox-supervise', true], // no longer installed: compared as written
    [join(dir, 'data-dir', 'data', 'abc123', 'bin', 'containerd-shim-runc-v2'), true],
    [join(dir, 'data-dir', 'data'), false],
    [join(dir, 'data-dir', 'database', 'x'), false],
    [join(dir, 'k3s'), false], // the link itself is never what /proc shows
    ['/usr/bin/sleep', false],
    [undefined, false],
  ];
  for (const [exe, expected] of cases) assert.equal(isOurExecutable(exe, ours), expected, String(exe));
  assert.equal(ours.dirs.length, 1, 'one prefix per data dir');
});

test('executableOf names a replaced or deleted binary without the " (deleted)" the kernel appends', async () => {
  const program = join(tempDir('identity'), 'k3s');
  copyFileSync('/bin/sleep', program);
  const child = spawn(program, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(executableOf(child.pid!), program);
    rmSync(program);
    assert.equal(executableOf(child.pid!), program);
    assert.equal(isOurExecutable(executableOf(child.pid!), ourExecutables([program], [])), true);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(executableOf(2 ** 22 + 1), undefined, 'no such process');
});
