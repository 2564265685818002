// The wait step's reactions to the k3s log and the supervisor status, against real files and a real
// process standing in for the supervisor (k3s never answers here, so readiness never comes).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_CONFIG, type ModeSetting } from '../../src/config.js';
import type { Plan, Shared } from '../../src/context.js';
import { UpError } from '../../src/diagnose/upError.js';
import type { InstanceRecord, SupervisorStatus } from '../../src/instance/state.js';
import { resolvePaths } from '../../src/paths.js';
import type { Instance } from '../../src/steps/launch.js';
import { wait } from '../../src/steps/wait.js';
import { createSilentReporter } from '../../src/ui/status.js';
import { tempDir } from './helpers/tempDir.js';

const standIns: ChildProcess[] = [];
after(() => standIns.forEach((child) => child.kill('SIGKILL')));

interface Scenario {
  instance: Instance;
  plan: Plan;
  shared: Shared;
}

const waitRun = ({ instance, plan, shared }: Scenario) => wait(instance, plan, shared);

function scenario(mode: ModeSetting, logLines: string[], supervisorState: SupervisorStatus['state'] = 'running'): Scenario {
  const root = tempDir('wait');
  const env = { K3S_SANDBOX_STATE_DIR: join(root, 'run'), K3S_SANDBOX_LOG_DIR: join(root, 'log'), K3S_SANDBOX_LIB_DIR: join(root, 'lib') };
  const config = { ...DEFAULT_CONFIG, mode, waitTimeout: 3, dataDir: join(root, 'data') };
  const paths = resolvePaths(config, env);
  mkdirSync(paths.stateDir, { recursive: true });
  mkdirSync(paths.logDir, { recursive: true });
  const supervisor = spawn('sleep', ['60'], { stdio: 'ignore' });
  standIns.push(supervisor);
  const status: SupervisorStatus = {
    state: supervisorState,
    supervisorPid: supervisor.pid!,
    childPid: supervisorState === 'crashloop' ? null : supervisor.pid!,
    starts: 6,
    crashes: 6,
    lastExit: 'exit 255',
    lastFatal: logLines.at(-1) ?? null,
    updated: 0,
  };
  writeFileSync(paths.statusFile, JSON.stringify(status));
  writeFileSync(paths.logFile, 'an earlier run: Failed to start ContainerManager\n' + logLines.map((line) => line + '\n').join(''));
  const plan = { mode: 'sandboxed-node', k3sArgs: ['server'], useInterceptor: true, limits: '', remedies: [], fallback: 'control-plane' } as unknown as Plan;
  const record: InstanceRecord = {
    mode: 'sandboxed-node',
    agent: true,
    k3sArgs: ['server'],
    useInterceptor: true,
    limits: '',
    remedies: [],
    fallbacks: [],
    adminKubeconfig: join(paths.stateDir, 'k3s.yaml'),
    dataDir: config.dataDir,
    logOffset: 'an earlier run: Failed to start ContainerManager\n'.length,
    launchedAt: Date.now(),
  };
  return {
    shared: { config, paths, status: createSilentReporter(), options: { wait: true, waitNode: false, json: false } },
    plan,
    instance: { supervisorPid: supervisor.pid!, record, foundReady: false },
  };
}

const CONTAINER_MANAGER = 'E1122 00:00:00.000000 1 kubelet.go:1649] "Failed to start ContainerManager" err="open /proc/sys/vm/panic_on_oom: no such file or directory"';

test('with mode auto, a mode-fatal signature falls back to the plan\'s next mode', async () => {
  const ctx = scenario('auto', ['time="x" level=info msg="Starting k3s"', CONTAINER_MANAGER]);
  const outcome = await waitRun(ctx);
  assert.ok(outcome.kind === 'fallback' && outcome.to === 'control-plane' && /container manager/.test(outcome.reason));
  assert.deepEqual([outcome.from], ['sandboxed-node']);
});

test('with an explicit mode, the same signature fails with the diagnosis instead', async () => {
  const ctx = scenario('sandboxed-node', [CONTAINER_MANAGER]);
  await assert.rejects(waitRun(ctx), (error: unknown) => {
    assert.ok(error instanceof UpError);
    assert.match(error.message, /k3s cannot run in mode sandboxed-node here: kubelet could not start its container manager/);
    assert.ok(error.details.some((line) => line.startsWith('remedy: ')));
    return true;
  });
});

test('a line from before the launch offset is ignored', async () => {
  const ctx = scenario('sandboxed-node', ['time="x" level=info msg="Starting k3s"']);
  await assert.rejects(waitRun(ctx), /waited 3 s for k3s to answer \/readyz with 200/);
});

test('a PostStartHook fatal keeps the wait going until the supervisor reports a crash loop', async () => {
  const hook = 'time="x" level=fatal msg="PostStartHook \\"start-service-ip-repair-controllers\\" failed: unable to perform initial IP and Port allocation check"';
  const ctx = scenario('auto', [hook, hook], 'crashloop');
  await assert.rejects(waitRun(ctx), (error: unknown) => {
    assert.ok(error instanceof UpError);
    assert.match(error.message, /crashed 6 times in a row and the supervisor gave up \(crash loop\); last fatal line: .*PostStartHook/);
    return true;
  });
});

const inUse = (port: number): string =>
  `time="x" level=fatal msg="Error: starting kubernetes: preparing server: init cluster datastore and https: listen tcp 127.0.0.1:${port}: bind: address already in use"`;

test('address already in use with a visible holder fails at once, naming the port and the holder', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const ctx = scenario('auto', [inUse(port)]);
    await assert.rejects(waitRun(ctx), new RegExp(`port ${port} is already in use \\(held by ${process.pid} .*k3s-sandbox leaves that process alone`));
  } finally {
    server.close();
  }
});

test('address already in use with no visible holder is retried, and fails when it keeps coming back', async () => {
  const unused = 1; // tcpmux: nothing listens there
  await assert.rejects(waitRun(scenario('auto', [inUse(unused)])), /waited 3 s for k3s/);
  await assert.rejects(waitRun(scenario('auto', [inUse(unused), inUse(unused), inUse(unused)])), /port 1 is already in use; k3s cannot listen on it/);
});

test('another server answering on the API port (its certificate is not from our CA) fails the wait, naming it', async () => {
  const dir = tempDir('wait-tls');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  // Our CA and the admin client cert k3s would write; and a stranger's self-signed server cert.
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=k3s-server-ca', '-days', '1');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/CN=system:admin/O=system:masters');
  ssl('x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '1');
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1');
  const read = (name: string) => readFileSync(join(dir, name));
  const stranger = createHttpsServer({ key: read('other.key'), cert: read('other.crt') }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
  const port = (stranger.address() as { port: number }).port;
  try {
    const ctx = scenario('control-plane', ['time="x" level=info msg="Starting k3s"']);
    ctx.shared.config.waitTimeout = 20;
    const b64 = (name: string) => read(name).toString('base64');
    writeFileSync(
      ctx.instance.record.adminKubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- cluster: {certificate-authority-data: ${b64('ca.crt')}, server: 'https://127.0.0.1:${port}'}`,
        '  name: default',
        'contexts:',
        '- context: {cluster: default, user: default}',
        '  name: default',
        'current-context: default',
        'users:',
        `- name: default`,
        `  user: {client-certificate-data: ${b64('admin.crt')}, client-key-data: ${b64('admin.key')}}`,
        '',
      ].join('\n'),
    );
    const started = Date.now();
    await assert.rejects(waitRun(ctx), (error: unknown) => {
      assert.ok(error instanceof UpError);
      assert.match(error.message, new RegExp(`^https://127\\.0\\.0\\.1:${port} is answered by a server that is not our k3s \\(its certificate is not signed by the CA k3s wrote\\): held by ${process.pid} `));
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'it gives up on the stranger well before the wait timeout');
  } finally {
    stranger.close();
  }
});
