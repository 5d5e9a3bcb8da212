// `capstan watch`: the CRD watcher in the foreground, until SIGINT/SIGTERM.
import { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { TASK_QUEUE } from './temporal.js';
import { Watcher } from './watcher.js';

export async function runWatcher(temporal: Client, kubeconfigFile?: string): Promise<number> {
  const kc = new KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
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
