import { execa } from 'execa';
import type { CommandContext, Mode, ProbeFacts } from '../context.js';
import { simulateNodeConflict, type Config } from '../config.js';
import { SIMULATED_NODE_LIMITS } from '../instance/simnode.js';
import type { Paths } from '../paths.js';
import { collectFacts, probeInputFor } from '../steps/probe.js';
import { MODES, PlanError, blockersFor, fakesChoice, planFor, type Blocker } from '../steps/plan.js';
import { podVerdict, probePodRuntime } from '../probe/podRuntime.js';

/** Filesystems without a real limit (gVisor's overlay root) report absurd sizes; past 1 PiB say so instead. */
const NO_REAL_LIMIT_BYTES = 2 ** 50;

function gib(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  if (bytes >= NO_REAL_LIMIT_BYTES) return 'no reported limit';
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function yesNo(value: boolean, why?: string): string {
  return `${value ? 'yes' : 'no'}${why ? ` (${why})` : ''}`;
}

/** The probe facts as "name: value" lines. */
export function describeFacts(facts: ProbeFacts): string[] {
  const caps = facts.capabilities;
  return [
    `kernel: ${facts.gvisor ? 'gVisor' : 'Linux'} ${facts.kernelRelease}${facts.gvisorSignals.length ? ` (signals: ${facts.gvisorSignals.join('; ')})` : ''}`,
    `uid: ${facts.uid}; capabilities (${facts.capabilities.source}): SYS_PTRACE ${yesNo(caps.sysPtrace)}, SYS_ADMIN ${yesNo(caps.sysAdmin)}, NET_ADMIN ${yesNo(caps.netAdmin)}`,
    `ptrace: ${yesNo(facts.ptrace.usable, facts.ptrace.reason)}`,
    `seccomp: ${yesNo(facts.seccomp.usable, facts.seccomp.reason)}`,
    `cgroup: ${facts.cgroup.version === null ? 'none' : `v${facts.cgroup.version} [${facts.cgroup.controllers.join(' ')}]`}`,
    `/dev/kmsg: ${yesNo(facts.kmsg)}`,
    `overlay in the data dir: ${yesNo(facts.overlay.usable, facts.overlay.reason)}`,
    `vxlan: ${yesNo(facts.vxlan.usable, facts.vxlan.reason)}`,
    `iptables: ${facts.iptables.reason}`,
    `kube-proxy's iptables rules: ${facts.kubeProxyIptables.holds === null ? facts.kubeProxyIptables.reason : yesNo(facts.kubeProxyIptables.holds, facts.kubeProxyIptables.reason)}`,
    `default route: ${yesNo(facts.defaultRoute)}`,
    `k3s sysctls missing or read-only: ${facts.sysctls.length === 0 ? 'none' : facts.sysctls.map((s) => `${s.path} (${s.state})`).join(', ')}`,
    `mounts: ${facts.mounts.reason}`,
    `port: ${facts.port.reason}`,
    `data dir: ${facts.dataDir.path} on ${facts.dataDir.fsType}, ${gib(facts.dataDir.freeBytes)} free, ${facts.dataDir.writable ? 'writable' : 'not writable'}`,
    `memory: ${gib(facts.memory.availableBytes)} available of ${gib(facts.memory.totalBytes)}; CPUs: ${facts.cpus}`,
  ];
}

/** k3s runs as root: a non-root caller needs passwordless sudo, which `up` uses to re-run itself. */
async function rootBlockers(facts: ProbeFacts): Promise<Blocker[]> {
  if (facts.uid === 0) return [];
  const sudo = await execa('sudo', ['-n', 'true'], { reject: false, stdio: 'ignore', timeout: 5000 }).catch(() => undefined);
  if (sudo?.exitCode === 0) return [];
  return [{ problem: `running as uid ${facts.uid}, and \`sudo -n\` is refused: k3s must run as root`, remedy: 'run k3s-sandbox as root, or allow this user passwordless sudo' }];
}

/**
 * As another user the probe mounts nothing (only root can), so how a root `up` (the one that launches k3s, through
 * sudo if need be) would serve sandboxed-node's /proc/sys fakes is unknown: said so, instead of the choice these facts give.
 */
function fakesUnknown(facts: ProbeFacts): string | undefined {
  if (facts.uid === 0 || facts.mounts.tested) return undefined;
  return `unknown as uid ${facts.uid}: the mount probe needs root, so whether a root \`up\` mounts the /proc/sys fakes or runs the interceptor is not known here; \`sudo k3s-sandbox doctor\` tells`;
}

export interface DoctorReport {
  lines: string[];
  runnable: Mode[];
}

/** Pure report from facts, config and paths: each fact, each mode with its blockers, and what `up` would do. */
export function doctorReport(facts: ProbeFacts, config: Config, paths: Paths, callerBlockers: Blocker[] = []): DoctorReport {
  const lines = describeFacts(facts).map((line) => `  ${line}`);
  lines.unshift('facts:');
  lines.push('modes:');
  const runnable: Mode[] = [];
  const unknownFakes = fakesUnknown(facts);
  for (const mode of MODES) {
    // Unknown fakes: a blocker about mounting them (fakes=mount or rebind) is as unknown as the choice.
    const blockers = [...blockersFor(mode, facts, config), ...callerBlockers].filter((b) => !(unknownFakes && b.problem.startsWith('fakes=')));
    const fakes = fakesChoice(facts, config);
    const fakesNote = mode === 'sandboxed-node' && 'procSys' in fakes && !unknownFakes ? ` (fakes: ${fakes.procSys}, ${fakes.reason})` : '';
    if (blockers.length === 0) {
      runnable.push(mode);
      lines.push(`  ✓ ${mode}${fakesNote}`);
    } else {
      lines.push(`  ✗ ${mode}`);
      for (const blocker of blockers) lines.push(`      ${blocker.problem}`, `        remedy: ${blocker.remedy}`);
    }
    if (mode === 'sandboxed-node' && unknownFakes) lines.push(`      /proc/sys fakes: ${unknownFakes}`);
  }
  try {
    const plan = planFor(facts, config, paths);
    const conflict = simulateNodeConflict(config, plan.mode);
    if (conflict) {
      lines.push(`up would fail: ${conflict.message}`);
    } else {
      const simulated = config.simulateNode ? `, with the simulated node ${config.simulateNodeName}` : '';
      lines.push(`up would run: mode ${plan.mode}${config.mode === 'auto' ? ' (auto)' : ''}${simulated}; ${config.simulateNode ? SIMULATED_NODE_LIMITS : plan.limits}`);
    }
    lines.push(`  k3s ${plan.k3sArgs.join(' ')}`);
    for (const remedy of plan.remedies) {
      // The /proc/sys remedy names the mechanism these facts give: as another user, say it is unknown instead.
      if (unknownFakes && remedy.remedy.includes('fake /proc/sys file')) lines.push(`  /proc/sys fakes: ${unknownFakes}`);
      else lines.push(`  ${remedy.remedy}: ${remedy.reason}`);
    }
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    if (unknownFakes && error.message.includes('fakes=')) {
      lines.push(`up: unknown as uid ${facts.uid}: it fails as below unless root can mount the /proc/sys fakes (the mount probe needs root; \`sudo k3s-sandbox doctor\` tells)`, `  ${error.message}`);
    } else {
      lines.push(`up would fail: ${error.message}`);
    }
  }
  if (facts.port.free === false) lines.push(`note: ${facts.port.reason}; fine if it is this tool's k3s, otherwise up will refuse to start`);
  if (!facts.seccomp.usable) lines.push(`note: no seccomp (${facts.seccomp.reason}): the interceptor stops on every syscall, which is slower`);
  return { lines, runnable };
}

/** `doctor`: prints the report; exits 1 when no mode can run here. */
export async function run(ctx: CommandContext): Promise<number> {
  const facts = await collectFacts(probeInputFor(ctx.config, ctx.paths));
  const report = doctorReport(facts, ctx.config, ctx.paths, await rootBlockers(facts));
  process.stdout.write(report.lines.join('\n') + '\n');
  // Whether a pod could start here, beyond a Ready node: each operation runc, containerd and kubelet need, tried.
  if (process.geteuid?.() === 0) process.stdout.write(podVerdict(await probePodRuntime()).lines.join('\n') + '\n');
  if (report.runnable.length === 0) {
    process.stdout.write('no mode can run in this sandbox: see the remedies above\n');
    return 1;
  }
  return 0;
}
