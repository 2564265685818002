/**
 * The simulated-node step, at the end of every `up` (warm or not) once k3s is kept or launched: with simulateNode on
 * (control-plane only, refused earlier otherwise) the controller runs under its own k3s-sandbox-supervise
 * (src/instance/simnode.ts); with it off nothing of it runs. A controller already running for this node name and
 * kubeconfig is kept; one started for another name or pod count is stopped and started again. So turning simulateNode on for a
 * running cluster needs no `down`: the next `up` starts it. It needs no ready API server: it waits for the server on
 * its own, so `up --no-wait` starts it right after k3s.
 */
import { realpathSync } from 'node:fs';
import { DEFAULT_CONFIG, type Config } from '../config.js';
import type { Shared } from '../context.js';
import { makeDirectories } from '../files.js';
import { isRoot } from '../instance/root.js';
import {
  clearSimnodeFiles,
  findOurSimnode,
  SIMNODE_STOP_TIMEOUT_S,
  simnodeFiles,
  stopSimnode,
  writeSimnodeRecord,
  type SimnodeRecord,
} from '../instance/simnode.js';
import type { InstanceRecord } from '../instance/state.js';
import type { Paths } from '../paths.js';
import { spawnSupervisor } from './launch.js';

/** What `up` reports of the simulated node. */
export interface SimulatedNodeState {
  nodeName: string;
  /** Its supervisor, when one runs. */
  supervisorPid?: number;
  /** It was running before this `up`. */
  kept: boolean;
}

/**
 * V8 flags for the resident controller, for a resident set under 80 MiB at 1000 pods (BENCHMARKS.md, "Simulated
 * node": 72.5 MiB peak with both, 87.2 with the first alone, 93.2 with neither): a 1 MiB young generation (the default
 * 16 MiB semi-spaces only grow the heap of a process whose live data is a few MiB of pods), and lite mode (no
 * optimizing compiler, smaller code caches), which costs it nothing measurable: the API server sets the pace.
 */
export const CONTROLLER_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];

/** The record of the controller this config asks for. */
export function wantedController(
  paths: Pick<Paths, 'selfCommand'>,
  record: Pick<InstanceRecord, 'adminKubeconfig'>,
  config: Pick<Config, 'simulateNodeName' | 'simulateNodeMaxPods'>,
): SimnodeRecord {
  const [node, ...rest] = paths.selfCommand;
  return { nodeName: config.simulateNodeName, maxPods: config.simulateNodeMaxPods, kubeconfig: record.adminKubeconfig, node: realpathSync(node), script: rest[rest.length - 1], launchedAt: Date.now() };
}

/** k3s-sandbox-supervise's argv for the controller. */
export function controllerSupervisorArgv(paths: Pick<Paths, 'stateDir' | 'logDir' | 'selfCommand'>, wanted: SimnodeRecord): string[] {
  const files = simnodeFiles(paths);
  return [
    '--log', files.logFile,
    '--status', files.statusFile,
    '--pidfile', files.supervisorPidFile,
    '--stop-timeout', String(SIMNODE_STOP_TIMEOUT_S),
    '--', wanted.node, ...CONTROLLER_NODE_FLAGS, ...paths.selfCommand.slice(1),
    'simulate-node', '--kubeconfig', wanted.kubeconfig, '--node-name', wanted.nodeName,
    '--max-pods', String(wanted.maxPods ?? DEFAULT_CONFIG.simulateNodeMaxPods),
  ];
}

function sameController(running: SimnodeRecord, wanted: SimnodeRecord): boolean {
  const maxPods = (record: SimnodeRecord) => record.maxPods ?? DEFAULT_CONFIG.simulateNodeMaxPods;
  return running.nodeName === wanted.nodeName && maxPods(running) === maxPods(wanted) && running.kubeconfig === wanted.kubeconfig && running.node === wanted.node && running.script === wanted.script;
}

export async function simulatedNode(record: InstanceRecord, shared: Pick<Shared, 'config' | 'paths' | 'status'>): Promise<SimulatedNodeState | undefined> {
  const { config, paths, status } = shared;
  const ours = findOurSimnode(paths);
  if (!isRoot()) {
    // A non-root `up` follows the root instance and changes nothing of it.
    return ours ? { nodeName: ours.record.nodeName, supervisorPid: ours.supervisorAlive ? ours.sessionId : undefined, kept: true } : undefined;
  }
  if (!config.simulateNode) {
    if (ours) {
      await stopSimnode(paths);
      status.info(`simulateNode is off: stopped the simulated node ${ours.record.nodeName} (supervisor ${ours.sessionId})`);
    } else {
      clearSimnodeFiles(paths);
    }
    return undefined;
  }
  const wanted = wantedController(paths, record, config);
  const healthy = ours?.supervisorAlive === true && !['crashloop', 'stopping', 'stopped'].includes(ours.status.state);
  if (ours && healthy && sameController(ours.record, wanted)) {
    status.info(`simulated node ${wanted.nodeName} already running (supervisor ${ours.sessionId})`);
    return { nodeName: wanted.nodeName, supervisorPid: ours.sessionId, kept: true };
  }
  if (ours) {
    status.info(`stopping the simulated node ${ours.record.nodeName} (supervisor ${ours.sessionId}, ${ours.status.state}) to start it as configured`);
    await stopSimnode(paths);
  } else {
    clearSimnodeFiles(paths);
  }
  makeDirectories(paths.stateDir, 0o755);
  makeDirectories(paths.logDir, 0o755);
  writeSimnodeRecord(paths, wanted);
  // launch.js loads execa: only an `up` that starts something pays for it.
  const supervisorPid = await spawnSupervisor({
    supervise: paths.supervise,
    argv: controllerSupervisorArgv(paths, wanted),
    env: process.env,
    supervisorPidFile: simnodeFiles(paths).supervisorPidFile,
  });
  status.info(`started the simulated node ${wanted.nodeName} under k3s-sandbox-supervise (pid ${supervisorPid}); log ${simnodeFiles(paths).logFile}`);
  return { nodeName: wanted.nodeName, supervisorPid, kept: false };
}
