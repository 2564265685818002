/**
 * The simulated node's files and processes (control-plane mode with simulateNode, src/simnode/). It runs as
 * `node <bundle> simulate-node` under a second k3s-sandbox-supervise with its own pidfile, status and log, beside the
 * k3s one, so it restarts on a crash and `down` stops it. `simnode.json` records what was started (the node
 * executable and the bundle, the node name); a pid is ours only by the rules k3s's supervisor has (identity.ts):
 * the recorded start time and boot, our supervisor's executable, and for the child the recorded node executable
 * with the recorded bundle on its command line, in our supervisor's session. Nothing here loads the Kubernetes client.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { agentFor, loadIdentity, type ReadinessSource } from '../kube/readiness.js';
import type { Paths } from '../paths.js';
import { currentBootId, executableOf, isRecordedProcess, ourExecutables, readProcStat, type OurExecutables, type RecordedProcess } from './identity.js';
import { commandLine, isOurProcess, ourSessionMembers, signalIfStillRunning, waitForExit } from './processes.js';
import { writeStateJson, type SupervisorStatus } from './state.js';

/** What pods on the simulated node can and cannot do: the limits line of control-plane mode with simulateNode. */
export const SIMULATED_NODE_LIMITS =
  'pods are simulated: they schedule and report Running, but containers do not run; probes are not run (Ready at once); ' +
  '`kubectl logs`/`exec`/`port-forward` fail (dial tcp 127.0.0.1:10250: connect: connection refused); ' +
  'Services get endpoints but carry no traffic; admission webhooks served by pods cannot be called; ' +
  'Job and Helm hook pods report Succeeded ~1 s after starting; the API, CRDs, RBAC, server-side dry-run and Helm work';

export interface SimnodeFiles {
  supervisorPidFile: string;
  statusFile: string;
  logFile: string;
  recordFile: string;
}

export function simnodeFiles(paths: Pick<Paths, 'stateDir' | 'logDir'>): SimnodeFiles {
  return {
    supervisorPidFile: join(paths.stateDir, 'simnode.pid'),
    statusFile: join(paths.stateDir, 'simnode.status.json'),
    logFile: join(paths.logDir, 'simnode.log'),
    recordFile: join(paths.stateDir, 'simnode.json'),
  };
}

/** simnode.json: what was started. */
export interface SimnodeRecord {
  nodeName: string;
  /** Its --max-pods; absent from records of controllers started before the setting existed (they took 110). */
  maxPods?: number;
  kubeconfig: string;
  /** The node executable, resolved as /proc/<pid>/exe shows it. */
  node: string;
  /** The bundle (or src/cli.ts from source) on its command line. */
  script: string;
  /** ms since the epoch. */
  launchedAt: number;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readSimnodeRecord(paths: Pick<Paths, 'stateDir' | 'logDir'>): SimnodeRecord | undefined {
  return readJson<SimnodeRecord>(simnodeFiles(paths).recordFile);
}

export function writeSimnodeRecord(paths: Pick<Paths, 'stateDir' | 'logDir'>, record: SimnodeRecord): void {
  writeStateJson(simnodeFiles(paths).recordFile, record);
}

export function readSimnodeStatus(paths: Pick<Paths, 'stateDir' | 'logDir'>): SupervisorStatus | undefined {
  return readJson<SupervisorStatus>(simnodeFiles(paths).statusFile);
}

const isTick = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** Our simulated node's supervisor (alive) or its child (orphaned), as checked against /proc just now. */
export interface OurSimnode {
  sessionId: number;
  supervisor: RecordedProcess;
  supervisorAlive: boolean;
  childPid?: number;
  record: SimnodeRecord;
  status: SupervisorStatus;
  executables: OurExecutables;
}

/** Whether `pid` is the recorded node process running the recorded bundle. Only root reads another user's exe. */
function isOurController(child: RecordedProcess, record: SimnodeRecord, bootId: string | undefined): boolean {
  if (!isRecordedProcess(child, readProcStat(child.pid), bootId)) return false;
  const exe = executableOf(child.pid);
  if (exe === undefined ? process.getuid?.() === 0 : exe !== record.node) return false;
  return commandLine(child.pid)?.includes(record.script) === true;
}

export function findOurSimnode(paths: Pick<Paths, 'stateDir' | 'logDir' | 'supervise'>): OurSimnode | undefined {
  const status = readSimnodeStatus(paths);
  const record = readSimnodeRecord(paths);
  if (!status || !record || !isTick(status.supervisorPid) || !isTick(status.supervisorStartTime) || typeof status.bootId !== 'string') return undefined;
  const bootId = currentBootId();
  const executables = ourExecutables([paths.supervise, record.node], []);
  const supervisor = { pid: status.supervisorPid, startTime: status.supervisorStartTime, bootId: status.bootId };
  const supervisorAlive = isOurProcess(supervisor, ourExecutables([paths.supervise], []), bootId);
  let childPid: number | undefined;
  if (isTick(status.childPid) && isTick(status.childStartTime)) {
    const child = { pid: status.childPid, startTime: status.childStartTime, bootId: status.bootId };
    if (isOurController(child, record, bootId) && readProcStat(child.pid)?.session === supervisor.pid) childPid = child.pid;
  }
  if (!supervisorAlive && childPid === undefined) return undefined;
  return { sessionId: supervisor.pid, supervisor, supervisorAlive, childPid, record, status, executables };
}

/** The controller gets SIGTERM first and exits 0 within about 2 s; this is the supervisor's wait before SIGKILL. */
export const SIMNODE_STOP_TIMEOUT_S = 5;
const STOP_GRACE_MS = (SIMNODE_STOP_TIMEOUT_S + 3) * 1000;

/** Removes the simulated node's pidfile and record; the status file goes too, so a later `status` shows nothing of it. */
export function clearSimnodeFiles(paths: Pick<Paths, 'stateDir' | 'logDir'>): void {
  const files = simnodeFiles(paths);
  for (const file of [files.supervisorPidFile, files.recordFile, files.statusFile]) rmSync(file, { force: true });
}

/**
 * Stops our simulated node: SIGTERM to its supervisor (which stops the controller), then SIGKILL to what is left of
 * its session. Does nothing to processes that are not ours; clears its files either way. True when something ran.
 */
export async function stopSimnode(paths: Pick<Paths, 'stateDir' | 'logDir' | 'supervise'>): Promise<boolean> {
  const ours = findOurSimnode(paths);
  if (!ours) {
    clearSimnodeFiles(paths);
    return false;
  }
  if (ours.supervisorAlive) {
    const supervisor = { pid: ours.supervisor.pid, startTime: ours.supervisor.startTime };
    signalIfStillRunning(supervisor, 'SIGTERM');
    await waitForExit([supervisor], STOP_GRACE_MS);
  }
  const leftovers = ourSessionMembers(ours.sessionId, ours.supervisor.startTime, ours.executables);
  for (const member of leftovers) signalIfStillRunning(member, 'SIGTERM');
  if (!(await waitForExit(leftovers, 3000))) {
    for (const member of leftovers) signalIfStillRunning(member, 'SIGKILL');
    await waitForExit(leftovers, 3000);
  }
  clearSimnodeFiles(paths);
  return true;
}

/**
 * The simulated node's Ready condition as the API server holds it: true or false, or null when it cannot be asked
 * (no credentials, no answer) or the node is not registered (yet).
 */
export async function simulatedNodeReady(source: ReadinessSource, nodeName: string): Promise<boolean | null> {
  let identity;
  try {
    identity = await loadIdentity(source);
  } catch {
    return null;
  }
  const { request } = await import('node:https'); // here only: `status` without a simulated node never loads it
  const agent = agentFor(identity, false);
  const server = new URL(identity.server);
  try {
    return await new Promise<boolean | null>((resolve) => {
      const req = request(
        { agent, protocol: server.protocol, hostname: server.hostname, port: server.port, path: `/api/v1/nodes/${encodeURIComponent(nodeName)}`, timeout: 2000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve(null);
            try {
              const node = JSON.parse(body) as { status?: { conditions?: { type?: string; status?: string }[] } };
              resolve(node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false);
            } catch {
              resolve(null);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(null));
      req.end();
    });
  } finally {
    agent.destroy();
  }
}
