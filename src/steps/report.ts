/**
 * report: one factual line on stdout for the hook context (SessionStart adds stdout to the agent's
 * context), or one JSON object with --json. The step lines and details went to stderr already.
 */
import type { Context } from '../context.js';

export interface UpReport {
  ok: true;
  state: 'ready' | 'starting';
  alreadyRunning: boolean;
  mode: string;
  gvisor: boolean;
  seconds?: number;
  kubeconfig?: string;
  user?: string;
  node?: string;
  supervisorPid?: number;
  fallbacks: { from: string; reason: string }[];
  limits: string;
  log: string;
  changed: string[];
}

export function buildReport(ctx: Context): UpReport {
  const record = ctx.instance;
  return {
    ok: true,
    state: ctx.ready ? 'ready' : 'starting',
    alreadyRunning: ctx.launched?.alreadyRunning ?? false,
    mode: record?.mode ?? ctx.plan?.mode ?? 'unknown',
    gvisor: ctx.facts?.gvisor ?? record?.gvisor ?? false,
    seconds: ctx.ready ? Math.round(ctx.ready.seconds * 10) / 10 : undefined,
    kubeconfig: ctx.kubeconfigPath,
    user: ctx.published?.user,
    node: ctx.ready?.node,
    supervisorPid: ctx.launched?.supervisorPid,
    fallbacks: ctx.fallbacks ?? record?.fallbacks ?? [],
    limits: record?.limits ?? ctx.plan?.limits ?? '',
    log: ctx.paths.logFile,
    changed: ctx.published?.changed ?? [],
  };
}

export function reportLine(report: UpReport): string {
  const where = [report.gvisor ? 'gVisor' : '', ...report.fallbacks.map((f) => `fell back from ${f.from}: ${f.reason}`)].filter(Boolean);
  const mode = `mode ${report.mode}${where.length > 0 ? ` (${where.join('; ')})` : ''}`;
  const head =
    report.state === 'starting'
      ? `starting (not waited for), ${mode}, log ${report.log}`
      : `${report.alreadyRunning ? 'already running' : `ready in ${report.seconds?.toFixed(1)}s`}, ${mode}` +
        (report.node ? `, node ${report.node} Ready` : '') +
        (report.kubeconfig ? `, KUBECONFIG=${report.kubeconfig}` : '');
  return `k3s-sandbox: ${head}${report.limits ? `; ${report.limits}` : ''}`;
}

export async function run(ctx: Context): Promise<void> {
  const report = buildReport(ctx);
  process.stdout.write(ctx.options.json ? JSON.stringify(report) + '\n' : reportLine(report) + '\n');
}
