// What a Cluster object's status says, from what its workflow keeps for `capstan get clusters`
// (the phase search attribute and the list memo, read from visibility: no query, no action per
// object). The watcher writes it to the status subresource only when it differs from what the
// object already says, so a converged fleet costs the management API nothing.
import type { ClusterListMemo } from '../workflows/list-memo.js';
import { probeFailedSince, remoteConnectionProbe } from '../workflows/planners/remote-connection.js';

export interface MirroredClusterStatus {
  phase: string;
  observedGeneration?: number;
  version: string;
  controlPlane: { readyReplicas: number; desiredReplicas: number };
  workers: { readyReplicas: number; desiredReplicas: number };
  controlPlaneEndpoint?: { host: string; port: number };
  /** Available; and RemoteConnectionProbe (with its reason and message) from a revision-6 Cluster's memo. */
  conditions: MirroredClusterCondition[];
}

export type MirroredClusterCondition = { type: 'Available'; status: string } | { type: 'RemoteConnectionProbe'; status: string; reason: string; message: string };

/** The condition types the mirror writes on a Cluster object (the rest of a status is left alone). */
const MIRRORED_CONDITIONS = new Set(['Available', 'RemoteConnectionProbe']);

const counts = (readyOfDesired: string) => {
  const [ready, desired] = readyOfDesired.split('/').map(Number);
  return { readyReplicas: ready ?? 0, desiredReplicas: desired ?? 0 };
};

export function clusterStatusFrom(phase: string, memo: ClusterListMemo, observedGeneration?: number): MirroredClusterStatus {
  const [host, port] = memo.endpoint ? [memo.endpoint.slice(0, memo.endpoint.lastIndexOf(':')), Number(memo.endpoint.slice(memo.endpoint.lastIndexOf(':') + 1))] : [];
  return {
    phase,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    version: memo.version,
    controlPlane: counts(memo.controlPlane),
    workers: counts(memo.workers),
    ...(host && port ? { controlPlaneEndpoint: { host, port } } : {}),
    conditions: [
      { type: 'Available', status: memo.available || 'Unknown' },
      ...(memo.probe ? [probeCondition(memo.probe)] : []),
    ],
  };
}

/** The mirrored fields of a status as it stands, in the same shape (to compare with what would be written). */
export function mirroredPart(status: Record<string, unknown> | undefined): Partial<MirroredClusterStatus> {
  if (!status) return {};
  const s = status as Partial<MirroredClusterStatus>;
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
            .filter((c) => MIRRORED_CONDITIONS.has(c.type))
            .map((c): MirroredClusterCondition => (c.type === 'Available' ? { type: c.type, status: c.status } : { type: c.type, status: c.status, reason: c.reason, message: c.message })),
        }
      : {}),
  };
}

function probeCondition(probe: string): MirroredClusterCondition {
  const c = remoteConnectionProbe(probeFailedSince(probe));
  return { type: 'RemoteConnectionProbe', status: c.status, reason: c.reason, message: c.message ?? '' };
}
