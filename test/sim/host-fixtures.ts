// Bootstrap data for the Kubernetes runtime's tests, built with providers/kubeadm as capstan's
// bootstrap provider builds it: a cluster PKI, a bootstrap token, init and join cloud-init.
import { generateBootstrapToken, type BootstrapToken } from '../../providers/kubeadm/bootstrap-token.js';
import { renderInitData, renderJoinData } from '../../providers/kubeadm/cloud-init.js';
import {
  buildClusterConfiguration,
  buildInitConfiguration,
  buildJoinConfiguration,
  CONTAINERD_CRI_SOCKET,
  CONTROL_PLANE_TAINT,
} from '../../providers/kubeadm/kubeadm-config.js';
import { caCertHash, generateClusterPki, type ClusterPki } from '../../providers/kubeadm/pki/cluster-pki.js';
import type { SimCluster } from '../../providers/sim/types.js';

export interface ClusterBootstrap {
  pki: ClusterPki;
  token: BootstrapToken;
  endpoint: { host: string; port: number };
  init(nodeName: string, opts?: { pki?: ClusterPki }): string;
  workerJoin(nodeName: string, opts?: { caCertHashes?: string[] }): string;
  controlPlaneJoin(nodeName: string): string;
}

export const KUBERNETES_VERSION = 'v1.37.2';

export async function clusterBootstrap(cluster: Pick<SimCluster, 'name' | 'endpoint'>): Promise<ClusterBootstrap> {
  const pki = await generateClusterPki({ clusterName: cluster.name, now: new Date() });
  const token = generateBootstrapToken({ now: new Date(), ttlSeconds: 3600 });
  const endpoint = { host: cluster.endpoint.host, port: cluster.endpoint.port };
  const nodeRegistration = (name: string, controlPlane: boolean) => ({
    name,
    criSocket: CONTAINERD_CRI_SOCKET,
    kubeletExtraArgs: {},
    taints: controlPlane ? [CONTROL_PLANE_TAINT] : [],
  });
  const clusterConfiguration = buildClusterConfiguration({
    clusterName: cluster.name,
    kubernetesVersion: KUBERNETES_VERSION,
    controlPlaneEndpoint: endpoint,
    networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '192.168.0.0/16', dnsDomain: 'cluster.local' },
    apiServerExtraArgs: {},
    controllerManagerExtraArgs: {},
  });
  const join = (name: string, controlPlane: boolean, caCertHashes = [caCertHash(pki.ca.certPem)]) =>
    buildJoinConfiguration({
      apiServerEndpoint: endpoint,
      token: token.token,
      caCertHashes,
      nodeRegistration: nodeRegistration(name, controlPlane),
      ...(controlPlane ? { controlPlane: { localAPIEndpoint: { advertiseAddress: '10.0.0.1', bindPort: 6443 } } } : {}),
    });
  return {
    pki,
    token,
    endpoint,
    init: (name, opts = {}) =>
      renderInitData({
        clusterConfiguration,
        initConfiguration: buildInitConfiguration({
          bootstrapToken: { token: token.token, ttlSeconds: 3600, groups: ['system:bootstrappers:kubeadm:default-node-token'] },
          nodeRegistration: nodeRegistration(name, true),
          localAPIEndpoint: { advertiseAddress: '10.0.0.1', bindPort: 6443 },
        }),
        pki: opts.pki ?? pki,
      }),
    workerJoin: (name, opts = {}) => renderJoinData({ controlPlane: false, joinConfiguration: join(name, false, opts.caCertHashes) }),
    controlPlaneJoin: (name) => renderJoinData({ controlPlane: true, pki, joinConfiguration: join(name, true) }),
  };
}
