import type { CommandDeclaration } from './command.js';
import { runUp } from './runUp.js';
import { UsageError } from './command.js';

export const up: CommandDeclaration = {
  name: 'up',
  description: 'bring k3s up (idempotent) and publish KUBECONFIG',
  synopsis: '[--wait|--no-wait] [--mode M] [--timeout S] [--wait-node] [--simulate-node] [--simulate-node-max-pods N] [--json] [--user U]',
  options: [
    { name: 'wait', description: 'wait until the API answers /readyz, then publish the kubeconfig', default: 'on' },
    { name: 'no-wait', description: 'return once k3s is launched' },
    { name: 'mode', value: 'M', description: 'auto, server, sandboxed-node or control-plane', default: 'the mode setting, auto' },
    { name: 'timeout', value: 'S', description: 'seconds to wait for the API', default: 'the waitTimeout setting, 120' },
    { name: 'wait-node', description: 'also wait for the node to report Ready (server and sandboxed-node)' },
    { name: 'simulate-node', description: 'control-plane only: a simulated node on which pods report Running (no container runs)', default: 'the simulateNode setting, false' },
    { name: 'simulate-node-max-pods', value: 'N', description: 'the most pods the simulated node takes (1-65000)', default: 'the simulateNodeMaxPods setting, 110' },
    { name: 'json', description: 'print the result as one JSON object on stdout' },
    { name: 'user', value: 'U', description: 'the user who gets the kubeconfig and profile lines', default: '$_REMOTE_USER, else $SUDO_USER, else the caller' },
  ],
  // Everything up starts outlives it on purpose (the supervisor, the simulated node: detached), and it awaits its own
  // writes, so nothing is lost by skipping Node's teardown; a warm `up` is a start-up target (issue 11).
  exitWhenDone: true,
  async run(values, args) {
    if (values.wait && values['no-wait']) throw new UsageError('--wait and --no-wait exclude each other', up);
    return runUp(values, args);
  },
};
