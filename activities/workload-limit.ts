// How many writes this worker sends to one workload cluster's API at once. A fleet created or
// deleted in one go (a MachineSet of 1,000 starts every machine in the same second) would
// otherwise open a connection per machine at the same moment; the apiserver, slow to accept
// them all, let connects time out and every provisioning step retry after a backoff. Cluster
// API's controllers meet the same bound through MaxConcurrentReconciles (10 by default).
import pLimit, { type LimitFunction } from 'p-limit';
import type { ObjectKey } from '../workflows/ids.js';

/** Writes in flight to one workload cluster from this worker (bootstrap tokens, Node and token deletions). */
export const WORKLOAD_WRITES_PER_CLUSTER = 16;

const limits = new Map<string, LimitFunction>();

/** Runs `write` once fewer than WORKLOAD_WRITES_PER_CLUSTER of the cluster's writes are in flight. */
export function workloadWrite<T>(cluster: ObjectKey, write: () => Promise<T>): Promise<T> {
  const key = `${cluster.namespace}/${cluster.name}`;
  let limit = limits.get(key);
  if (!limit) limits.set(key, (limit = pLimit(WORKLOAD_WRITES_PER_CLUSTER)));
  return limit(write);
}
