/**
 * `k3s-sandbox simulate-node --kubeconfig K [--node-name N] [--max-pods P]`: runs the simulated node (controller.ts)
 * in the foreground until SIGTERM or SIGINT, then exits 0. Meant to run under the supervisor in control-plane mode.
 */
import { existsSync } from 'node:fs';
import { ConfigError, SIMULATE_NODE_MAX_PODS_LIMIT } from '../config.js';
import { SimulatedNode } from './controller.js';
import { DEFAULT_MAX_PODS, DEFAULT_NODE_NAME, validNodeName } from './node.js';

export interface SimulateNodeArgs {
  kubeconfig?: string;
  nodeName?: string;
  maxPods?: string;
}

export interface SimulateNodeSettings {
  kubeconfig: string;
  nodeName: string;
  maxPods: number;
}

/** Checks the command line; bad input gets a ConfigError naming the flag and what it allows. */
export function settingsFrom(args: SimulateNodeArgs, env: NodeJS.ProcessEnv): SimulateNodeSettings {
  const kubeconfig = args.kubeconfig ?? env.KUBECONFIG;
  if (!kubeconfig) throw new ConfigError('simulate-node needs --kubeconfig FILE (or KUBECONFIG): the API server to register the node with');
  const nodeName = args.nodeName ?? DEFAULT_NODE_NAME;
  if (!validNodeName(nodeName)) {
    throw new ConfigError(`--node-name ${JSON.stringify(nodeName)}: a node name is lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`);
  }
  const maxPodsText = args.maxPods ?? String(DEFAULT_MAX_PODS);
  const maxPods = Number(maxPodsText);
  if (!/^\d+$/.test(maxPodsText) || maxPods < 1 || maxPods > SIMULATE_NODE_MAX_PODS_LIMIT) {
    throw new ConfigError(`--max-pods ${JSON.stringify(maxPodsText)}: a whole number from 1 to ${SIMULATE_NODE_MAX_PODS_LIMIT}`);
  }
  return { kubeconfig, nodeName, maxPods };
}

/** How often a kubeconfig that does not exist yet is looked for. */
const KUBECONFIG_POLL_MS = 250;

/**
 * Waits until the kubeconfig exists or the stop signal comes; true when it exists. `up --no-wait` starts the
 * controller right after k3s, before k3s has written its admin kubeconfig.
 */
async function kubeconfigWritten(kubeconfig: string, stopSignal: Promise<void>): Promise<boolean> {
  let stopped = false;
  void stopSignal.then(() => (stopped = true));
  if (!existsSync(kubeconfig)) process.stderr.write(`${new Date().toISOString()} simulate-node: waiting for ${kubeconfig} to be written\n`);
  while (!existsSync(kubeconfig)) {
    await Promise.race([stopSignal, new Promise((resolve) => setTimeout(resolve, KUBECONFIG_POLL_MS))]);
    if (stopped) return false;
  }
  return true;
}

export async function runSimulateNode(args: SimulateNodeArgs): Promise<number> {
  const settings = settingsFrom(args, process.env);
  const stopSignal = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  if (!(await kubeconfigWritten(settings.kubeconfig, stopSignal))) return 0;
  await new SimulatedNode({ ...settings, stopSignal }).run();
  // Everything is closed by now; should a library still hold a socket open, do not let it keep a stopped node alive.
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
