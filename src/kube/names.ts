/** The name of the cluster, user and context k3s-sandbox publishes into users' kubeconfigs. */
export const SANDBOX_NAME = 'k3s-sandbox';
