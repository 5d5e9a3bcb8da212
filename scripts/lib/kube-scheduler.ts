// kube-scheduler on loopback for one API server: binds pending pods to nodes, without leader
// election (one scheduler per API server here, as one controller manager).
import { freePort } from './ports.js';
import { httpGet } from './probe.js';
import { startProcess, type ManagedProcess, type StopOptions } from './process.js';
import { kubernetesToolPath } from './tools.js';

export interface StartKubeSchedulerOptions {
  /** Which build runs: the one of this version's minor (default: scripts/versions.env's KUBERNETES_VERSION). */
  kubernetesVersion?: string;
  /** Kubeconfig for the API server (kubeadm's scheduler.conf: system:kube-scheduler's client cert). */
  kubeconfigFile: string;
  securePort?: number;
  logFile: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export interface KubeScheduler {
  port: number;
  process: ManagedProcess;
  stop(options?: StopOptions): Promise<void>;
}

export async function startKubeScheduler(options: StartKubeSchedulerOptions): Promise<KubeScheduler> {
  const port = options.securePort ?? (await freePort());
  const args = [
    `--kubeconfig=${options.kubeconfigFile}`,
    // No --authentication-kubeconfig / --authorization-kubeconfig (kubeadm sets both), for the
    // controller manager's reason: they only guard /metrics and /configz; the health endpoints
    // are always allowed.
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--profiling=false',
    ...(options.extraArgs ?? []),
  ];
  const url = `https://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: `kube-scheduler(${url})`,
    command: kubernetesToolPath('kube-scheduler', options.kubernetesVersion),
    args,
    logFile: options.logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 250,
    ready: async () => {
      // /readyz (not /healthz): it includes sched-handler-sync, so "ready" means the scheduler's
      // informers have synced and it will act on the next pending pod. The serving cert is the
      // self-signed one the scheduler generates at start; accepted for this credential-less probe
      // of our own child on 127.0.0.1 only (see kube-controller-manager.ts).
      const res = await httpGet(`${url}/readyz`, { rejectUnauthorized: false, timeoutMs: 2000 });
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
