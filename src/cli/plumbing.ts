/** Commands other parts of k3s-sandbox run, never a user: no usage line. */
import { DEFAULT_CONFIG } from '../config.js';
import { resolvePaths } from '../paths.js';
import { runHomeTaskChild } from '../profile/asUser.js';
import { text, type CommandDeclaration } from './command.js';

export const cni: CommandDeclaration = {
  name: 'cni',
  description: 'the host-local CNI stand-in k3s calls (CNI_COMMAND and the network config on stdin)',
  options: [],
  hidden: true,
  async run() {
    return (await import('../lazy.js')).runCniPlugin({
      env: process.env,
      stdin: process.stdin,
      stdout: process.stdout,
      stateDir: process.env.K3S_SANDBOX_CNI_STATE_DIR || resolvePaths(DEFAULT_CONFIG).cniStateDir,
    });
  },
};

export const simulateNode: CommandDeclaration = {
  name: 'simulate-node',
  description: 'a simulated node for control-plane mode',
  options: [
    { name: 'kubeconfig', value: 'FILE', description: 'the cluster to join' },
    { name: 'node-name', value: 'NAME', description: 'the node\'s name' },
    { name: 'max-pods', value: 'N', description: 'pods the node accepts' },
  ],
  hidden: true,
  async run(values) {
    return (await import('../lazy.js')).runSimulateNode({
      kubeconfig: text(values.kubeconfig),
      nodeName: text(values['node-name']),
      maxPods: text(values['max-pods']),
    });
  },
};

export const homeTask: CommandDeclaration = {
  name: '__home-task',
  description: 'root runs this as a child with a user\'s uid and gid to write into that user\'s home',
  options: [],
  hidden: true,
  async run() {
    return runHomeTaskChild(process.stdin);
  },
};
