/**
 * report: one factual line on stdout for the hook context (SessionStart adds stdout to the agent's
 * context), or one JSON object with --json. The step lines and details went to stderr already.
 */
import type { FallbackRecord } from '../context.js';
import type { Instance } from './launch.js';
import type { Published } from './publish.js';
import type { SimulatedNodeState } from './simulatedNode.js';
import { SIMULATED_NODE_LIMITS } from '../instance/simnode.js';
import type { Ready } from './wait.js';

/** What one `up` made of the sandbox: the pipeline's result, handed to the report step. */
export interface UpResult {
  /** The probe found gVisor (or, for an instance kept without probing, its record says so). */
  gvisor: boolean;
  instance: Instance;
  /** Unset with --no-wait. */
  ready?: Ready;
  /** The modes this `up` left behind, and why. */
  fallbacks: FallbackRecord[];
  /** Unset with --no-wait. */
  published?: Published;
  /** The simulated node's controller, when simulateNode is on. */
  simulatedNode?: SimulatedNodeState;
}

export interface UpReport {
  ok: true;
  state: 'ready' | 'starting';
  /** This `up` found k3s healthy (the health rule, src/instance/health.ts) and kept it as it was: it started nothing. */
  foundReady: boolean;
  mode: string;
  gvisor: boolean;
  /**
   * Seconds from this `up` process's start (Node's own start-up included) until it saw k3s ready; with foundReady,
   * until it found it so. Unset with --no-wait.
   */
  secondsUntilReady?: number;
  kubeconfig?: string;
  user?: string;
  node?: string;
  supervisorPid?: number;
  fallbacks: { from: string; reason: string }[];
  limits: string;
  log: string;
  changed: string[];
  /** The simulated node (control-plane with simulateNode): pods on it are simulated, their containers do not run. */
  simulatedNode?: { name: string; supervisorPid?: number };
  /** What went wrong without failing `up` (e.g. an unusable $CLAUDE_ENV_FILE). */
  warnings?: string[];
}

export function buildReport(result: UpResult, logFile: string): UpReport {
  const { instance, ready, published } = result;
  const record = instance.record;
  return {
    ok: true,
    state: ready ? 'ready' : 'starting',
    foundReady: instance.foundReady,
    mode: record.mode,
    gvisor: result.gvisor,
    secondsUntilReady: ready ? Math.round(ready.secondsUntilReady * 10) / 10 : undefined,
    kubeconfig: published?.kubeconfig,
    user: published?.user,
    node: ready?.node,
    supervisorPid: instance.supervisorPid,
    fallbacks: result.fallbacks.length > 0 ? result.fallbacks : (record.fallbacks ?? []),
    limits: result.simulatedNode ? SIMULATED_NODE_LIMITS : record.limits,
    log: logFile,
    changed: published?.changed ?? [],
    ...(result.simulatedNode ? { simulatedNode: { name: result.simulatedNode.nodeName, supervisorPid: result.simulatedNode.supervisorPid } } : {}),
    warnings: published?.warnings ?? [],
  };
}

export function reportLine(report: UpReport): string {
  const where = [report.gvisor ? 'gVisor' : '', ...report.fallbacks.map((f) => `fell back from ${f.from}: ${f.reason}`)].filter(Boolean);
  const mode = `mode ${report.mode}${where.length > 0 ? ` (${where.join('; ')})` : ''}`;
  const head =
    report.state === 'starting'
      ? `starting (not waited for), ${mode}, log ${report.log}`
      : `${report.foundReady ? 'already running' : `ready in ${report.secondsUntilReady?.toFixed(1)}s`}, ${mode}` +
        (report.node ? `, node ${report.node} Ready` : '') +
        (report.simulatedNode ? `, simulated node ${report.simulatedNode.name}` : '') +
        (report.kubeconfig ? `, KUBECONFIG=${report.kubeconfig}` : '');
  return `k3s-sandbox: ${head}${report.limits ? `; ${report.limits}` : ''}`;
}

/** The report step: `report(UpResult)` as one line, or one JSON object with --json, on `out`. */
export function report(result: UpResult, options: { json: boolean; logFile: string }, out: { write(text: string): unknown } = process.stdout): UpReport {
  const built = buildReport(result, options.logFile);
  out.write(options.json ? JSON.stringify(built) + '\n' : reportLine(built) + '\n');
  return built;
}
