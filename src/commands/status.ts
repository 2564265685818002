/**
 * `status [--json]`: supervisor state, mode and readiness, from the state dir and one /readyz call.
 * Exit 0 when k3s is up and ready, 3 when it is not running, 1 otherwise (starting, not ready, orphaned, crash loop).
 * k3s whose supervisor was killed still runs and serves: that is `orphaned` (running, no restarts), as `up` and
 * `down` see it too (findOurInstance), never `not running`.
 */
import type { CommandContext } from '../context.js';
import { inspect, readinessSource } from '../instance/health.js';
import { findOurSimnode, readSimnodeRecord, readSimnodeStatus, simnodeFiles, SIMULATED_NODE_LIMITS, simulatedNodeReady } from '../instance/simnode.js';
import { readInstanceFiles, type InstanceRecord } from '../instance/state.js';

export interface StatusReport {
  running: boolean;
  /** The supervisor's state; `orphaned` when k3s runs without it; `stopped` when nothing runs. */
  state: string;
  /** true/false from /readyz; null when not running or the admin kubeconfig is not readable by the caller. */
  ready: boolean | null;
  mode: string | null;
  supervisorPid: number | null;
  k3sPid: number | null;
  starts: number;
  crashes: number;
  lastExit: string | null;
  lastFatal: string | null;
  launchedAt: string | null;
  limits: string | null;
  /** How the /proc/sys fakes reach k3s, in words, from the instance record; null when none (or the record does not say). */
  fakes?: string | null;
  log: string;
  /** The simulated node's controller (simulateNode), when it has been started: null otherwise. */
  simulatedNode?: SimulatedNodeReport | null;
}

export interface SimulatedNodeReport {
  name: string;
  /** Its supervisor's state; `orphaned` when the controller runs without it; `stopped` when nothing runs. */
  state: string;
  supervisorPid: number | null;
  controllerPid: number | null;
  starts: number;
  crashes: number;
  lastExit: string | null;
  /** The node's Ready condition in the API server; null when it cannot be asked or the node is not registered. */
  nodeReady: boolean | null;
  log: string;
}

async function collectSimulatedNode(ctx: CommandContext, adminKubeconfig: string | undefined, apiReady: boolean | null): Promise<SimulatedNodeReport | null> {
  const record = readSimnodeRecord(ctx.paths);
  const status = readSimnodeStatus(ctx.paths);
  if (!record || !status) return null;
  const ours = findOurSimnode(ctx.paths);
  const state = ours?.supervisorAlive ? status.state : ours ? 'orphaned' : status.state === 'crashloop' ? 'crashloop' : 'stopped';
  const source = adminKubeconfig && apiReady ? readinessSource({ adminKubeconfig }, ctx.paths) : undefined;
  return {
    name: record.nodeName,
    state,
    supervisorPid: ours?.supervisorAlive ? ours.sessionId : null,
    controllerPid: ours?.childPid ?? null,
    starts: status.starts,
    crashes: status.crashes,
    lastExit: status.lastExit,
    nodeReady: source ? await simulatedNodeReady(source, record.nodeName) : null,
    log: simnodeFiles(ctx.paths).logFile,
  };
}

export async function collectStatus(ctx: CommandContext): Promise<StatusReport> {
  const { paths } = ctx;
  // One read of status.json and instance.json serves both the health rule and the report.
  const files = readInstanceFiles(paths);
  const health = await inspect(paths, files);
  const supervisor = files.status;
  const { record } = health;
  const simulatedNode = await collectSimulatedNode(ctx, record?.adminKubeconfig, health.ready);
  let state: string;
  let k3sPid: number | null = null;
  if (health.supervisorPid !== undefined) {
    state = health.state ?? 'starting';
    k3sPid = supervisor?.childPid ?? null;
  } else if (health.orphanChildPid !== undefined) {
    // inspect() asked /readyz for the orphan too (health.ready).
    state = 'orphaned';
    k3sPid = health.orphanChildPid;
  } else {
    // After a crash loop the supervisor has exited, but its status file tells why.
    state = health.state === 'crashloop' ? 'crashloop' : 'stopped';
  }
  return {
    running: health.supervisorPid !== undefined || k3sPid !== null,
    state,
    ready: health.ready,
    mode: record?.mode ?? null,
    supervisorPid: health.supervisorPid ?? null,
    k3sPid,
    starts: supervisor?.starts ?? 0,
    crashes: supervisor?.crashes ?? 0,
    lastExit: supervisor?.lastExit ?? null,
    lastFatal: supervisor?.lastFatal ?? null,
    launchedAt: record ? new Date(record.launchedAt).toISOString() : null,
    limits: simulatedNode && simulatedNode.state !== 'stopped' ? SIMULATED_NODE_LIMITS : (record?.limits ?? null),
    fakes: record ? fakesWords(record) : null,
    log: paths.logFile,
    simulatedNode,
  };
}

/** The record's /proc/sys fakes and the wrapper k3s runs behind, in words. */
export function fakesWords(record: Pick<InstanceRecord, 'procSysFakes' | 'k3sWrapper'>): string | null {
  if (!record.procSysFakes || record.procSysFakes === 'none') return null;
  const wrapper = record.k3sWrapper?.length ? `, k3s runs behind \`${record.k3sWrapper.slice(0, 4).join(' ')} …\` (its own mount namespace)` : '';
  return `/proc/sys fakes by ${record.procSysFakes}${wrapper}`;
}

function describe(report: StatusReport): string[] {
  if (report.state === 'crashloop') {
    return [
      `k3s-sandbox: crash loop: k3s crashed ${report.crashes} times and the supervisor gave up`,
      `  last fatal line: ${report.lastFatal ?? report.lastExit ?? 'none'}`,
      `  log: ${report.log}; \`k3s-sandbox up\` starts it again`,
    ];
  }
  if (!report.running) return ['k3s-sandbox: not running'];
  const readiness =
    report.ready === null ? 'readiness unknown (no readable kubeconfig for it: root can run `k3s-sandbox up --user <you>`)' : report.ready ? 'ready' : 'not ready';
  if (report.state === 'orphaned') {
    return [
      `k3s-sandbox: orphaned, ${readiness}, mode ${report.mode ?? 'unknown'}: k3s pid ${report.k3sPid} runs, but its supervisor is gone, so nothing restarts it`,
      '  `k3s-sandbox up` restarts it under a supervisor; `k3s-sandbox down` stops it',
    ];
  }
  return [
    `k3s-sandbox: ${report.state}, ${readiness}, mode ${report.mode ?? 'unknown'}`,
    `  supervisor pid ${report.supervisorPid}, k3s pid ${report.k3sPid ?? 'none'}, starts ${report.starts}, crashes ${report.crashes}`,
    ...(report.lastFatal ? [`  last fatal line: ${report.lastFatal}`] : []),
    ...(report.launchedAt ? [`  launched ${report.launchedAt}`] : []),
    ...(report.fakes ? [`  ${report.fakes}`] : []),
    ...simulatedNodeLines(report.simulatedNode),
    ...(report.limits ? [`  ${report.limits}`] : []),
  ];
}

function simulatedNodeLines(simulated: SimulatedNodeReport | null | undefined): string[] {
  if (!simulated) return [];
  const node = simulated.nodeReady === null ? 'Ready unknown' : simulated.nodeReady ? 'Ready' : 'not Ready';
  const controller =
    simulated.state === 'orphaned'
      ? `orphaned (controller pid ${simulated.controllerPid}, its supervisor is gone)`
      : `${simulated.state}, supervisor pid ${simulated.supervisorPid ?? 'none'}, controller pid ${simulated.controllerPid ?? 'none'}, starts ${simulated.starts}, crashes ${simulated.crashes}`;
  return [`  simulated node ${simulated.name}: ${node}; pods are simulated; controller ${controller}; log ${simulated.log}`];
}

export async function run(ctx: CommandContext, options: { json: boolean }): Promise<number> {
  const report = await collectStatus(ctx);
  process.stdout.write(options.json ? JSON.stringify(report) + '\n' : describe(report).join('\n') + '\n');
  if (report.state === 'crashloop') return 1;
  if (!report.running) return 3;
  return report.ready === false || report.state !== 'running' ? 1 : 0;
}
