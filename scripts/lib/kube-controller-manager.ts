// kube-controller-manager on loopback for one API server: CSR approval and signing, bootstrap
// tokens, node lifecycle and the workload controllers a drain meets (Deployments, ReplicaSets,
// PodDisruptionBudgets), without leader election.
import { freePort } from './ports.js';
import { httpGet } from './probe.js';
import { startProcess, type ManagedProcess, type StopOptions } from './process.js';
import { kubernetesToolPath } from './tools.js';

/**
 * The short names are 1.37's aliases of the long ones (certificatesigningrequest-approving-controller,
 * deployment-controller, …; old names stay aliased, see cmd/kube-controller-manager/names).
 * - csrapproving, csrsigning, bootstrapsigner, tokencleaner: the kubelet's TLS bootstrap;
 *   bootstrapsigner and tokencleaner are off by default in `*`, so everything is named explicitly.
 * - nodelifecycle: marks Nodes whose Lease/status stops being renewed Unknown and taints them (no
 *   cloud provider needed). Evicting their pods is taint-eviction-controller, left out: a killed
 *   VM's pods stay bound until its Machine is deleted, as Cluster API's drain expects to find them.
 * - serviceaccount: the `default` ServiceAccount of each namespace, without which the
 *   ServiceAccount admission plugin refuses every pod.
 * - deployment, replicaset: Deployments make ReplicaSets make pods (kube-scheduler binds them, the
 *   simulated kubelets run them); disruption: PodDisruptionBudget status, which the Eviction API
 *   reads to answer 429; podgc: deletes pods bound to Nodes that no longer exist;
 *   garbagecollector: owner-reference cascades (a deleted Deployment takes its ReplicaSets and
 *   pods); daemonset: DaemonSet pods, which a drain skips.
 */
export const DEFAULT_CONTROLLERS = [
  'csrapproving', 'csrsigning', 'bootstrapsigner', 'tokencleaner', 'nodelifecycle',
  'serviceaccount', 'deployment', 'replicaset', 'disruption', 'podgc', 'garbagecollector', 'daemonset',
];

export interface StartKubeControllerManagerOptions {
  /** Which build runs: the one of this version's minor (default: scripts/versions.env's KUBERNETES_VERSION). */
  kubernetesVersion?: string;
  /** Kubeconfig for the API server (kubeadm gives it system:kube-controller-manager's cert). */
  kubeconfigFile: string;
  /** CA pair csrsigning signs kubelet client certs with. */
  clusterSigningCertFile: string;
  clusterSigningKeyFile: string;
  /** CA put in service-account token secrets. */
  rootCaFile: string;
  serviceAccountPrivateKeyFile: string;
  controllers?: string[];
  securePort?: number;
  logFile: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export interface KubeControllerManager {
  port: number;
  process: ManagedProcess;
  stop(options?: StopOptions): Promise<void>;
}

export async function startKubeControllerManager(options: StartKubeControllerManagerOptions): Promise<KubeControllerManager> {
  const port = options.securePort ?? (await freePort());
  const controllers = options.controllers ?? DEFAULT_CONTROLLERS;
  const args = [
    `--kubeconfig=${options.kubeconfigFile}`,
    // No --authentication-kubeconfig / --authorization-kubeconfig (kubeadm sets both): they only
    // guard /metrics and /configz, which nothing here reads (/healthz, /readyz and /livez are
    // always allowed), and without the apiserver's front-proxy flags they make the controller
    // manager log "missing content for CA bundle ... requestheader-client-ca-file" on a loop.
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--controllers=${controllers.join(',')}`,
    '--use-service-account-credentials=false',
    `--cluster-signing-cert-file=${options.clusterSigningCertFile}`,
    `--cluster-signing-key-file=${options.clusterSigningKeyFile}`,
    '--cluster-signing-duration=8760h',
    `--root-ca-file=${options.rootCaFile}`,
    `--service-account-private-key-file=${options.serviceAccountPrivateKeyFile}`,
    '--profiling=false',
    ...(options.extraArgs ?? []),
  ];
  const url = `https://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: `kube-controller-manager(${url})`,
    command: kubernetesToolPath('kube-controller-manager', options.kubernetesVersion),
    args,
    logFile: options.logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 250,
    ready: async () => {
      // Without --tls-cert-file the controller manager serves a self-signed cert it generates at
      // start. We accept it for THIS probe only: the peer is our own child process on
      // 127.0.0.1 and the probe sends no credentials and trusts nothing it returns beyond
      // "ok". Everything that talks to an API server verifies the cluster CA.
      const res = await httpGet(`${url}/healthz`, { rejectUnauthorized: false, timeoutMs: 2000 });
      return res.status === 200;
    },
  });
  return {
    port,
    process: proc,
    stop: async (stopOptions) => {
      await proc.stop(stopOptions);
    },
  };
}
