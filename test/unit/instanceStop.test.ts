// `down` against a state dir whose status.json and pidfile name processes that are not ours: the pid was reused
// (another process, a different start time, another boot) or the process only looks like our supervisor by name.
// Every process signalled or spared here was started by this test; the state dir is a temp dir.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers/repo.js';
import { tempDir } from './helpers/tempDir.js';

const CLI = join(REPO, 'src', 'cli.ts');
const started: number[] = [];
test.after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

function statFields(pid: number): string[] {
  const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
}
const sessionOf = (pid: number): number => Number(statFields(pid)[3]);
const startTimeOf = (pid: number): number => Number(statFields(pid)[19]);
const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function alive(pid: number): boolean {
  try {
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A closed terminal's background job: a `sleep` left in a session whose leader (pid = session id) has exited. */
function orphanedBackgroundJob(): { pid: number; sessionId: number } {
  const result = spawnSync('setsid', ['sh', '-c', 'sleep 300 </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  const pid = Number(result.stdout.trim());
  assert.ok(pid > 0, result.stderr);
  started.push(pid);
  const sessionId = sessionOf(pid);
  assert.notEqual(sessionId, pid);
  assert.equal(alive(sessionId), false, 'the session leader has exited');
  return { pid, sessionId };
}

/** A session leader whose argv claims to be our supervisor with our pidfile: any user can start one. */
function lookalikeSupervisor(pidFile: string): number {
  const child = spawn('perl', ['-e', 'sleep 300', '--', '--pidfile', pidFile], { argv0: 'k3s-sandbox-supervise', detached: true, stdio: 'ignore' });
  child.unref();
  assert.ok(child.pid);
  started.push(child.pid);
  return child.pid;
}

interface Stale {
  supervisorPid: number;
  childPid: number | null;
  identity?: { supervisorStartTime: number; childStartTime: number | null; bootId: string };
}

function writeStaleState(stateDir: string, stale: Stale): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'supervisor.pid'), `${stale.supervisorPid}\n`);
  const status = {
    state: 'running',
    supervisorPid: stale.supervisorPid,
    ...(stale.identity ? { supervisorStartTime: stale.identity.supervisorStartTime, bootId: stale.identity.bootId } : {}),
    childPid: stale.childPid,
    ...(stale.identity ? { childStartTime: stale.identity.childStartTime } : {}),
    starts: 1,
    crashes: 0,
    backoffMs: 0,
    lastExit: null,
    lastFatal: null,
    updated: Math.floor(Date.now() / 1000),
  };
  writeFileSync(join(stateDir, 'status.json'), JSON.stringify(status));
}

function down(stateDir: string, extraEnv: Record<string, string> = {}) {
  const root = join(stateDir, '..');
  const env = {
    ...extraEnv,
    PATH: process.env.PATH ?? '',
    HOME: join(root, 'home'),
    K3S_SANDBOX_CONFIG: join(root, 'config.json'),
    K3S_SANDBOX_STATE_DIR: stateDir,
    K3S_SANDBOX_LOG_DIR: join(root, 'log'),
    K3S_SANDBOX_LIB_DIR: join(root, 'lib'),
    K3S_SANDBOX_DATA_DIR: join(root, 'data'),
  };
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'down'], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, output: result.stdout + result.stderr };
}

const CASES: { name: string; setup: (stateDir: string) => { spared: number; stale: Stale } }[] = [
  {
    name: 'a status.json without identity (written before start times were recorded) naming a dead session leader',
    setup: () => {
      const job = orphanedBackgroundJob();
      return { spared: job.pid, stale: { supervisorPid: job.sessionId, childPid: job.pid } };
    },
  },
  {
    name: 'a reused child pid with another start time',
    setup: () => {
      const job = orphanedBackgroundJob();
      const identity = { supervisorStartTime: startTimeOf(job.pid) - 5, childStartTime: startTimeOf(job.pid) - 1, bootId: bootId() };
      return { spared: job.pid, stale: { supervisorPid: job.sessionId, childPid: job.pid, identity } };
    },
  },
  {
    name: 'a child pid with the right start time, recorded in another boot',
    setup: () => {
      const job = orphanedBackgroundJob();
      const identity = { supervisorStartTime: startTimeOf(job.pid), childStartTime: startTimeOf(job.pid), bootId: '00000000-0000-4000-8000-000000000000' };
      return { spared: job.pid, stale: { supervisorPid: job.sessionId, childPid: job.pid, identity } };
    },
  },
  {
    name: 'a child pid whose start time and boot match but whose executable is not ours (sleep)',
    setup: () => {
      const job = orphanedBackgroundJob();
      const identity = { supervisorStartTime: startTimeOf(job.pid), childStartTime: startTimeOf(job.pid), bootId: bootId() };
      return { spared: job.pid, stale: { supervisorPid: job.sessionId, childPid: job.pid, identity } };
    },
  },
  {
    name: 'a live process named k3s-sandbox-supervise with our --pidfile, with the recorded start time, but perl',
    setup: (stateDir) => {
      const pid = lookalikeSupervisor(join(stateDir, 'supervisor.pid'));
      const identity = { supervisorStartTime: startTimeOf(pid), childStartTime: null, bootId: bootId() };
      return { spared: pid, stale: { supervisorPid: pid, childPid: null, identity } };
    },
  },
  {
    name: 'a live process named k3s-sandbox-supervise with our --pidfile and another start time',
    setup: (stateDir) => {
      const pid = lookalikeSupervisor(join(stateDir, 'supervisor.pid'));
      const identity = { supervisorStartTime: startTimeOf(pid) + 1, childStartTime: null, bootId: bootId() };
      return { spared: pid, stale: { supervisorPid: pid, childPid: null, identity } };
    },
  },
];

for (const { name, setup } of CASES) {
  test(`down leaves alone ${name}, and removes status.json`, async () => {
    const stateDir = join(tempDir('stop'), 'state');
    mkdirSync(stateDir);
    const { spared, stale } = setup(stateDir);
    writeStaleState(stateDir, stale);
    const result = down(stateDir);
    // A SIGTERMed process needs a moment to be gone; give a wrong signal time to land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(alive(spared), true, `pid ${spared} was signalled:\n${result.output}`);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /k3s-sandbox: not running/);
    assert.equal(existsSync(join(stateDir, 'status.json')), false, 'status.json is removed');
  });
}

const SUPERVISE = join(REPO, 'build', 'fixtures', 'k3s-sandbox-supervise');

/**
 * A real instance: k3s-sandbox-supervise (as launch starts it, in its own session) running a copy of sleep installed
 * as this instance's k3s. Returns the pids and the environment under which `down` knows these programs as ours.
 */
async function startInstance(stateDir: string): Promise<{ supervisor: number; child: number; env: Record<string, string> }> {
  const build = spawnSync('bash', [join(REPO, 'test', 'fixtures', 'supervisor', 'build.sh')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  mkdirSync(stateDir, { recursive: true });
  const k3s = join(stateDir, '..', 'k3s');
  copyFileSync('/bin/sleep', k3s);
  const env = { K3S_SANDBOX_K3S: k3s, K3S_SANDBOX_BIN_DIR: join(REPO, 'build', 'fixtures') };
  const status = join(stateDir, 'status.json');
  const args = ['--log', join(stateDir, 'k3s.log'), '--status', status, '--pidfile', join(stateDir, 'supervisor.pid'), '--', k3s, '300'];
  const supervisor = spawn(SUPERVISE, args, { detached: true, stdio: 'ignore' });
  supervisor.unref();
  started.push(supervisor.pid!);
  for (let i = 0; i < 100; i++) {
    const child = existsSync(status) ? (JSON.parse(readFileSync(status, 'utf8')) as { childPid: number | null }).childPid : null;
    if (child) {
      started.push(child);
      return { supervisor: supervisor.pid!, child, env };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the supervisor did not start its child: ${readFileSync(join(stateDir, 'k3s.log'), 'utf8')}`);
}

async function goneWithin(pids: number[], ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (!pids.some(alive)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !pids.some(alive);
}

test('down stops a real instance it recorded: the supervisor, then its child', async () => {
  const stateDir = join(tempDir('stop'), 'state');
  const { supervisor, child, env } = await startInstance(stateDir);
  const result = down(stateDir, env);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, new RegExp(`k3s-sandbox: stopped \\(supervisor ${supervisor}\\)`));
  assert.equal(await goneWithin([supervisor, child], 2000), true, 'supervisor and child are gone');
  assert.equal(existsSync(join(stateDir, 'status.json')), false, 'status.json is removed');
});

test('down stops the child of a SIGKILLed supervisor, found from the record in status.json', async () => {
  const stateDir = join(tempDir('stop'), 'state');
  const { supervisor, child, env } = await startInstance(stateDir);
  process.kill(supervisor, 'SIGKILL');
  assert.equal(await goneWithin([supervisor], 2000), true);
  assert.equal(alive(child), true, 'the child outlives its supervisor');
  const result = down(stateDir, env);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, new RegExp(`k3s-sandbox: stopped \\(supervisor ${supervisor}\\)`));
  assert.equal(await goneWithin([child], 2000), true, 'the orphaned child is gone');
});

test('down does not signal a real instance once its recorded start time no longer matches (a reused pid)', async () => {
  const stateDir = join(tempDir('stop'), 'state');
  const { supervisor, child, env } = await startInstance(stateDir);
  const statusFile = join(stateDir, 'status.json');
  const status = JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, number>;
  writeFileSync(statusFile, JSON.stringify({ ...status, supervisorStartTime: status.supervisorStartTime + 1, childStartTime: status.childStartTime + 1 }));
  const result = down(stateDir, env);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /k3s-sandbox: not running/);
  assert.equal(alive(supervisor) && alive(child), true, 'neither was signalled');
});

test('down does not signal a real instance whose programs are not the ones installed here', async () => {
  const stateDir = join(tempDir('stop'), 'state');
  const { supervisor, child, env } = await startInstance(stateDir);
  const result = down(stateDir, { ...env, K3S_SANDBOX_K3S: '/usr/bin/false', K3S_SANDBOX_BIN_DIR: '/nonexistent' });
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /k3s-sandbox: not running/);
  assert.equal(alive(supervisor) && alive(child), true, 'neither was signalled');
});
