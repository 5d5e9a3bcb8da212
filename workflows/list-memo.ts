// What `capstan get clusters|machines` shows, kept in each workflow's memo so one visibility
// list answers the table without a query per object. Phase, kind, namespace and cluster are
// search attributes already; the memo holds the rest, as the strings the table prints.
// A memo upsert is a billed action: workflows write it only when a shown value changed, and
// the values shown only change a few times in an object's life (none while it idles).
import type { ClusterStatus } from '../api/cluster.js';
import type { MachineStatus } from '../api/machine.js';
import type { BootstrapRole } from './types.js';

/** The memo field that holds the shown values. */
export const LIST_MEMO = 'list';

export interface ClusterListMemo {
  available: string;
  controlPlane: string;
  workers: string;
  endpoint: string;
  version: string;
  /**
   * Revision 5: the machines whose Nodes are not healthy, each with the key of the NodeReady and
   * NodeHealthy it was told, without their messages (planners/node-conditions.ts nodeHealthKey);
   * every other Running machine's Node is healthy. Absent on a Cluster started before it: its
   * machines' Node conditions are unknown here.
   */
  nodes?: Record<string, string>;
  /**
   * Revision 6, once the control plane is initialized: `ok` while the workload API answers, else
   * since when it has not (ISO 8601; planners/remote-connection.ts). Absent before: unknown here.
   */
  probe?: string;
}

/**
 * A Machine's memo holds only what never changes (it is written once, with the start). What
 * changes — its Node and provider ID — are search attributes upserted together with the phase
 * they arrive with (Provisioned, Running), so a Machine's list data costs no action of its own.
 */
export interface MachineListMemo {
  role: 'control-plane' | 'worker';
  version: string;
}

/** A row of `capstan get machines`. */
export interface MachineRow extends MachineListMemo {
  nodeName: string;
  providerID: string;
}

const conditionStatus = (s: { conditions: { type: string; status: string }[] }, type: string) => s.conditions.find((c) => c.type === type)?.status ?? 'Unknown';

export function clusterListMemo(status: Pick<ClusterStatus, 'controlPlane' | 'workers' | 'conditions' | 'controlPlaneEndpoint'>, version: string, nodes?: Record<string, string>, probe?: string): ClusterListMemo {
  return {
    available: conditionStatus(status, 'Available'),
    controlPlane: `${status.controlPlane.readyReplicas}/${status.controlPlane.desiredReplicas}`,
    workers: `${status.workers.readyReplicas}/${status.workers.desiredReplicas}`,
    endpoint: status.controlPlaneEndpoint ? `${status.controlPlaneEndpoint.host}:${status.controlPlaneEndpoint.port}` : '',
    version,
    // Sorted, so the memo compares equal whatever order the machines were told in.
    ...(nodes ? { nodes: Object.fromEntries(Object.entries(nodes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {}),
    ...(probe ? { probe } : {}),
  };
}

export function machineListMemo(role: BootstrapRole, version: string | undefined): MachineListMemo {
  return { role: role === 'worker-join' ? 'worker' : 'control-plane', version: version ?? '' };
}

export function machineRow(role: BootstrapRole, version: string | undefined, status: Pick<MachineStatus, 'nodeRef' | 'providerID'>): MachineRow {
  return { ...machineListMemo(role, version), nodeName: status.nodeRef?.name ?? '', providerID: status.providerID ?? '' };
}

/** Whether the workflow was started with a list memo (see memoChange): only then does it keep list data. */
export const keepsListData = (memo: Record<string, unknown> | undefined) => memo?.[LIST_MEMO] !== undefined;

/** The memo a workflow is started with, so its first status pass has nothing to write. */
export const startMemo = (memo: ClusterListMemo | MachineListMemo) => ({ [LIST_MEMO]: memo });

/**
 * The memo update to send, or undefined when the shown values are as last written.
 * Only a workflow started with a list memo writes one: a workflow started before the list memo
 * existed has none in its start event, so its history replays with no new command (no
 * `patched()` needed, whose marker and TemporalChangeVersion upsert would cost two actions per
 * workflow), and `capstan get` queries it instead. Temporal carries the memo across
 * continue-as-new, so the choice holds for the object's whole life.
 */
export function memoChange(current: Record<string, unknown> | undefined, next: ClusterListMemo): Record<string, unknown> | undefined {
  if (!keepsListData(current)) return undefined;
  return JSON.stringify(current![LIST_MEMO]) === JSON.stringify(next) ? undefined : { [LIST_MEMO]: next };
}

/**
 * What a MachineHealthCheck needs to know of a Machine without asking it (a query is a billed
 * action): its labels (for the selector), who owns it (only machines a MachineSet or control
 * plane will replace are remediated) and when it was created. Static, written once with the start.
 */
export const MACHINE_FACTS_MEMO = 'machine';
export interface MachineFacts {
  labels: Record<string, string>;
  ownerKind?: 'MachineSet' | 'KubeadmControlPlane';
  createdAt: string;
}
export const machineFactsMemo = (facts: MachineFacts) => ({ [MACHINE_FACTS_MEMO]: facts });

/**
 * Revision 5: a MachineHealthCheck's unhealthy machines (sorted), upserted when one becomes
 * unhealthy or recovers (not when an unhealthy one is gone: the watcher sees that in the
 * machines' list), so the watcher knows to ask the health check for its status again.
 */
export const UNHEALTHY_MEMO = 'unhealthy';
