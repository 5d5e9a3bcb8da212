// Builds the capstan worker: the workflows bundle plus the activities over their providers.
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { NodeWatches } from '../activities/node-watch.js';
import { ObserverWaker } from '../activities/observer-waker.js';
import { SimCloudClient } from '../providers/sim/client.js';
import { loadManagementConfig, openSecretStore, type WorkerSettings } from './config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  settings: WorkerSettings;
  connection: NativeConnection;
  namespace: string;
  /** Tests pass a shorter poll interval for waits on workload clusters. */
  pollMs?: number;
  /** A prebuilt workflow bundle (tests share one across workers). */
  workflowBundle?: { code: string };
  /** A Temporal client for the activities that read visibility (MachineHealthChecks) and the observer waker. */
  client?: Client;
  /** How often the observer waker lists quiet workflows (ms; tests pass a shorter one). */
  wakerListEveryMs?: number;
  /** How long a workload API may fail before a wait fails and a quiet observer is woken to say so (ms; default 60 s). */
  unreachableGraceMs?: number;
}

function managementConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  loadManagementConfig(kc, file);
  return kc;
}

export async function createWorker(o: CreateWorkerOptions): Promise<Worker> {
  const secrets = await openSecretStore(o.settings);
  const nodeWatches = new NodeWatches(secrets);
  const activities = createActivities({
    sim: new SimCloudClient(o.settings.simUrl),
    secrets,
    pollMs: o.pollMs,
    nodeWatches,
    ...(o.unreachableGraceMs ? { unreachableGraceMs: o.unreachableGraceMs } : {}),
    temporal: o.client,
    ...(o.settings.observerQuietSeconds ? { observerQuietMs: o.settings.observerQuietSeconds * 1000 } : {}),
    ...(o.settings.managementKubeconfig ? { management: managementConfig(o.settings.managementKubeconfig) } : {}),
  });
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.settings.taskQueue,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath }),
    activities,
    maxConcurrentActivityTaskExecutions: o.settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: o.settings.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: o.settings.maxCachedWorkflows,
    // The SDK sends a heartbeat at most every 0.8 × heartbeatTimeout, capped at this: a long
    // observer (heartbeatTimeout 2 min, activity-proxies.ts) heartbeats every 96 s, not every 60 s.
    maxHeartbeatThrottleInterval: '100s',
    ...(o.settings.maxActivitiesPerSecond ? { maxTaskQueueActivitiesPerSecond: o.settings.maxActivitiesPerSecond } : {}),
  });
  // The waker of quiet observers (activities/observer-waker.ts) and the workload clusters' Node
  // watches live as long as the worker: run() ends after they are stopped.
  const waker = o.client
    ? new ObserverWaker({
        temporal: o.client,
        nodeWatches,
        taskQueue: o.settings.taskQueue,
        ...(o.wakerListEveryMs ? { listEveryMs: o.wakerListEveryMs } : {}),
        ...(o.unreachableGraceMs ? { unreachableGraceMs: o.unreachableGraceMs } : {}),
      })
    : undefined;
  const run = worker.run.bind(worker);
  worker.run = () => {
    waker?.start();
    return run().finally(async () => {
      await waker?.stop();
      await nodeWatches.close();
    });
  };
  return worker;
}
