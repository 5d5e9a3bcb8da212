// Every activity the worker registers, built over their dependencies (the Temporal
// samples' dependency-injection pattern). Workflows import only the type.
import type { SecretStore } from '../providers/secrets/store.js';
import type { SimCloudClient } from '../providers/sim/client.js';
import type { Client } from '@temporalio/client';
import type { KubeConfig } from '@kubernetes/client-node';
import { bootstrapActivities } from './bootstrap.js';
import { classifiedActivities } from './errors.js';
import { etcdActivities } from './etcd.js';
import { remediationRequestActivities } from './remediation-requests.js';
import { healthActivities } from './health.js';
import { infrastructureActivities } from './infrastructure.js';
import { machineStepActivities } from './machine-steps.js';
import { nodeConditionActivities } from './node-conditions.js';
import { NodeWatches } from './node-watch.js';
import { workloadActivities } from './workload.js';

export interface ActivityDeps {
  sim: SimCloudClient;
  secrets: SecretStore;
  /** Poll interval while waiting on a workload cluster (ms). */
  pollMs?: number;
  /** How long a wait tolerates an unreachable workload API before the attempt fails (ms). */
  unreachableGraceMs?: number;
  /** One Node watch per workload cluster, shared by the worker's waits (created if absent). */
  nodeWatches?: NodeWatches;
  /** A Temporal client, for the activities that read visibility (MachineHealthChecks list their machines). */
  temporal?: Client;
  /** The management cluster, where external remediation requests are created (absent: none). */
  management?: KubeConfig;
  /** How long an observer (Node conditions, health targets) sees nothing change before it returns quiet (ms). */
  observerQuietMs?: number;
}

/** Every activity leaves through one error boundary (activities/errors.ts). */
export function createActivities(given: ActivityDeps) {
  const deps = { ...given, nodeWatches: given.nodeWatches ?? new NodeWatches(given.secrets) };
  return classifiedActivities({
    ...infrastructureActivities(deps),
    ...bootstrapActivities(deps),
    ...workloadActivities(deps),
    ...machineStepActivities(deps),
    ...healthActivities(deps),
    ...nodeConditionActivities(deps),
    ...etcdActivities(deps),
    ...remediationRequestActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
