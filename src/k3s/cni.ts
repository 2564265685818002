/**
 * Where k3s's containerd looks for its CNI network, and the network k3s would give a node after flannel. With
 * `--flannel-backend=none` k3s writes none, and containerd then reports NetworkReady=false ("cni plugin not
 * initialized"), so kubelet keeps the node NotReady. Sandboxed-node writes this one so the node is Ready; whether a
 * pod's network then comes up is the bridge plugin's business (in gVisor a pod stops earlier, see the README).
 */
import { join } from 'node:path';

/** k3s's CNI conf dir (containerd's `conf_dir` in k3s's config template): `<data-dir>/agent/etc/cni/net.d`. */
export function cniConfDir(dataDir: string): string {
  return join(dataDir, 'agent', 'etc', 'cni', 'net.d');
}

/** Our conflist's name there: after flannel's 10-flannel.conflist, which containerd would load first if present. */
export const CNI_CONFLIST_NAME = '90-k3s-sandbox.conflist';

/** k3s's default cluster CIDR, first node's range, as flannel's subnet.env gives it. */
const POD_SUBNET = '10.42.0.0/24';

/** flannel's conflist as k3s writes it, with the bridge flannel delegates to and host-local on the node's pod range. */
export const BRIDGE_CONFLIST = `${JSON.stringify(
  {
    cniVersion: '1.0.0',
    name: 'cbr0',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        isDefaultGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
)}\n`;
