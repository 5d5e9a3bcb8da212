// What a Cluster object's status says, from what its workflow keeps for `capstan get clusters`
// (the phase search attribute and the list memo, read from visibility: no query, no action per
// object). The watcher writes it to the status subresource only when it differs from what the
// object already says, so a converged fleet costs the management API nothing.
import { countMessage, type ClusterListMemo } from '../workflows/list-memo.js';
import { probeFailedSince, remoteConnectionProbe } from '../workflows/planners/remote-connection.js';

export interface MirroredClusterStatus {
  phase: string;
  observedGeneration?: number;
  version: string;
  controlPlane: { readyReplicas: number; desiredReplicas: number };
  workers: { readyReplicas: number; desiredReplicas: number };
  controlPlaneEndpoint?: { host: string; port: number };
  /**
   * A revision-9 Cluster's conditions as its workflow keeps them (Cluster API's Cluster conditions:
   * InfrastructureReady, ControlPlaneInitialized, ControlPlaneAvailable, WorkersAvailable,
   * RemoteConnectionProbe, Available, Deleting). From an earlier Cluster: Available (its status
   * alone), and RemoteConnectionProbe from a revision-6 Cluster's memo.
   */
  conditions: MirroredClusterCondition[];
}

export interface MirroredClusterCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

const counts = (readyOfDesired: string) => {
  const [ready, desired] = readyOfDesired.split('/').map(Number);
  return { readyReplicas: ready ?? 0, desiredReplicas: desired ?? 0 };
};

export function clusterStatusFrom(phase: string, memo: ClusterListMemo, observedGeneration?: number): MirroredClusterStatus {
  const [host, port] = memo.endpoint ? [memo.endpoint.slice(0, memo.endpoint.lastIndexOf(':')), Number(memo.endpoint.slice(memo.endpoint.lastIndexOf(':') + 1))] : [];
  const generation = observedGeneration !== undefined ? { observedGeneration } : {};
  return {
    phase,
    ...generation,
    version: memo.version,
    controlPlane: counts(memo.controlPlane),
    workers: counts(memo.workers),
    ...(host && port ? { controlPlaneEndpoint: { host, port } } : {}),
    conditions: memo.conditions
      ? memo.conditions.map(([type, status, reason, lastTransitionTime, message]) => ({
          type,
          status,
          reason,
          message: message ?? countMessage(type, reason, memo) ?? '',
          lastTransitionTime,
          ...generation,
        }))
      : [{ type: 'Available', status: memo.available || 'Unknown' }, ...(memo.probe ? [probeCondition(memo.probe)] : [])],
  };
}

/**
 * The mirrored fields of a status as it stands, in the shape of what would be written (`want`),
 * to compare the two: its conditions of the types `want` has, each with the fields `want`'s has.
 */
export function mirroredPart(status: Record<string, unknown> | undefined, want: MirroredClusterStatus): Partial<MirroredClusterStatus> {
  if (!status) return {};
  const s = status as Partial<MirroredClusterStatus>;
  const shapes = new Map(want.conditions.map((c) => [c.type, Object.keys(c) as (keyof MirroredClusterCondition)[]]));
  return {
    ...(s.phase !== undefined ? { phase: s.phase } : {}),
    ...(s.observedGeneration !== undefined ? { observedGeneration: s.observedGeneration } : {}),
    ...(s.version !== undefined ? { version: s.version } : {}),
    ...(s.controlPlane ? { controlPlane: { readyReplicas: s.controlPlane.readyReplicas, desiredReplicas: s.controlPlane.desiredReplicas } } : {}),
    ...(s.workers ? { workers: { readyReplicas: s.workers.readyReplicas, desiredReplicas: s.workers.desiredReplicas } } : {}),
    ...(s.controlPlaneEndpoint ? { controlPlaneEndpoint: { host: s.controlPlaneEndpoint.host, port: s.controlPlaneEndpoint.port } } : {}),
    ...(s.conditions
      ? {
          conditions: s.conditions
            .filter((c) => shapes.has(c.type))
            .map((c) => Object.fromEntries(shapes.get(c.type)!.filter((k) => c[k] !== undefined).map((k) => [k, c[k]])) as unknown as MirroredClusterCondition),
        }
      : {}),
  };
}

function probeCondition(probe: string): MirroredClusterCondition {
  const c = remoteConnectionProbe(probeFailedSince(probe));
  return { type: 'RemoteConnectionProbe', status: c.status, reason: c.reason, message: c.message ?? '' };
}
