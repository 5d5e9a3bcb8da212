// `capstan watch`: the CRD watcher in the foreground, until SIGINT/SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { shareConnections } from '../providers/kubernetes/shared-connections.js';
import { managementKubeconfig } from './management-apply.js';
import { TASK_QUEUE } from './temporal.js';
import { Watcher } from './watcher.js';

/**
 * The management cluster as the rest of the CLI and the worker find it: --kubeconfig, else
 * CAPSTAN_MANAGEMENT_KUBECONFIG (a file or `in-cluster`), else KUBECONFIG; with none, the client's
 * default (~/.kube/config, or the pod's ServiceAccount in a cluster).
 */
export async function runWatcher(temporal: Client, kubeconfigFile?: string): Promise<number> {
  const kc =
    managementKubeconfig(kubeconfigFile) ??
    (() => {
      const fallback = new KubeConfig();
      fallback.loadFromDefault();
      return shareConnections(fallback);
    })();
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no management cluster: give --kubeconfig FILE or set KUBECONFIG');
  const watcher = new Watcher({ kubeconfig: kc, temporal, taskQueue: TASK_QUEUE, log: (l) => console.log(`[capstan watch] ${l}`) });
  await watcher.start();
  console.log(`[capstan watch] watching capstan's objects on ${server}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await watcher.stop();
  return 0;
}
