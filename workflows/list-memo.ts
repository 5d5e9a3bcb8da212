// What `capstan get clusters|machines` shows, kept in each workflow's memo so one visibility
// list answers the table without a query per object. Phase, kind, namespace and cluster are
// search attributes already; the memo holds the rest, as the strings the table prints.
// A memo upsert is a billed action: workflows write it only when a shown value changed, and
// the values shown only change a few times in an object's life (none while it idles).
import type { ClusterStatus } from '../api/cluster.js';
import type { MachineStatus } from '../api/machine.js';
import { ANNOTATIONS, type Condition, type ConditionStatus, REMEDIATION_ANNOTATIONS } from '../api/meta.js';
import { heedsPausedAnnotation } from './pause.js';
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
  /**
   * Revision 9: the Cluster's conditions, each `[type, status, reason, lastTransitionTime, message]`
   * (the message left out when empty, and when it is the machine count that `controlPlane` and
   * `workers` already carry: see countMessage), so the watcher writes them on the Cluster object as
   * the workflow keeps them and `kubectl describe cluster` shows them. Absent on a Cluster started
   * before it: the watcher shows Available alone.
   */
  conditions?: MemoCondition[];
}

/** A condition in a Cluster's list memo: type, status, reason, lastTransitionTime and, when not derived, the message. */
export type MemoCondition = [type: string, status: ConditionStatus, reason: string, lastTransitionTime: string, message?: string];

/** The longest condition message a memo carries (an activity's error can be long; a memo is small). */
export const MEMO_MESSAGE_MAX = 512;

/**
 * The message of a Cluster's ControlPlaneAvailable or WorkersAvailable while not available for
 * want of ready machines (workflows/cluster.ts), from the counts the memo carries (`ready/desired`);
 * undefined for any other condition. The memo leaves these messages out: they change with every
 * machine, and the counts are in it already.
 */
export function countMessage(type: string, reason: string, memo: Pick<ClusterListMemo, 'controlPlane' | 'workers'>): string | undefined {
  if (reason !== 'NotAvailable') return undefined;
  const of = (readyOfDesired: string, what: string) => {
    const [ready, desired] = readyOfDesired.split('/');
    return `${ready ?? 0} of ${desired ?? 0} ${what} machines ready`;
  };
  if (type === 'ControlPlaneAvailable') return of(memo.controlPlane, 'control-plane');
  if (type === 'WorkersAvailable') return of(memo.workers, 'worker');
  return undefined;
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

export function clusterListMemo(
  status: Pick<ClusterStatus, 'controlPlane' | 'workers' | 'conditions' | 'controlPlaneEndpoint'>,
  version: string,
  nodes?: Record<string, string>,
  probe?: string,
  withConditions = false,
): ClusterListMemo {
  const shown = {
    controlPlane: `${status.controlPlane.readyReplicas}/${status.controlPlane.desiredReplicas}`,
    workers: `${status.workers.readyReplicas}/${status.workers.desiredReplicas}`,
  };
  const memoCondition = (c: Condition): MemoCondition => {
    const derived = countMessage(c.type, c.reason, shown) === c.message;
    const message = derived || !c.message ? undefined : c.message.length > MEMO_MESSAGE_MAX ? `${c.message.slice(0, MEMO_MESSAGE_MAX - 1)}…` : c.message;
    return message === undefined ? [c.type, c.status, c.reason, c.lastTransitionTime] : [c.type, c.status, c.reason, c.lastTransitionTime, message];
  };
  return {
    available: conditionStatus(status, 'Available'),
    ...shown,
    endpoint: status.controlPlaneEndpoint ? `${status.controlPlaneEndpoint.host}:${status.controlPlaneEndpoint.port}` : '',
    version,
    // Sorted, so the memo compares equal whatever order the machines were told in.
    ...(nodes ? { nodes: Object.fromEntries(Object.entries(nodes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {}),
    ...(probe ? { probe } : {}),
    ...(withConditions ? { conditions: status.conditions.map(memoCondition) } : {}),
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
 * plane will replace are remediated) and when it was created. Written with the start; a set's
 * change of its template's labels or annotations is upserted (rare).
 */
export const MACHINE_FACTS_MEMO = 'machine';
export interface MachineFacts {
  labels: Record<string, string>;
  ownerKind?: 'MachineSet' | 'KubeadmControlPlane';
  createdAt: string;
  /** Its set's template annotations (absent: none), which its Machine object shows. */
  annotations?: Record<string, string>;
  /**
   * How many times its set changed its labels or template annotations in place (absent: never):
   * the facts that change, upserted together, so a quiet health check and the watcher's mirror see it.
   */
  changedInPlace?: number;
}
export const machineFactsMemo = (facts: MachineFacts) => ({ [MACHINE_FACTS_MEMO]: facts });

/**
 * Revision 5: a MachineHealthCheck's unhealthy machines (sorted), upserted when one becomes
 * unhealthy or recovers (not when an unhealthy one is gone: the watcher sees that in the
 * machines' list), so the watcher knows to ask the health check for its status again.
 */
export const UNHEALTHY_MEMO = 'unhealthy';

/**
 * Revision 10: a MachineDeployment's current set — its newest revision, the new set once a
 * rollout made one — upserted when it changes (once per rollout). A health check does not
 * remediate a machine of the deployment's other sets, as Cluster API's MachineSet does not
 * ("pending removal due to rollout"): the rollout replaces it.
 */
export const CURRENT_SET_MEMO = 'currentSet';

/**
 * A MachineDeployment's spec.remediation.maxInFlight, resolved to a number of machines (a
 * percentage of its replicas, rounded up), upserted when it changes; absent: no limit. Its health
 * checks read it from visibility with the current set.
 */
export const MAX_IN_FLIGHT_MEMO = 'maxInFlight';
/** And, when maxInFlight is a percentage, the percentage (Cluster API's messages show the spec's value). */
export const MAX_IN_FLIGHT_SPEC_MEMO = 'maxInFlightSpec';

/**
 * A Machine's remediation annotations (api/meta.ts REMEDIATION_ANNOTATIONS) that are
 * set, sorted: in its start memo when it starts with any, upserted when they change (a user's
 * `kubectl annotate`; rare), for its health checks and the worker's observer waker to read from
 * visibility. Absent: none.
 */
export const REMEDIATION_MEMO = 'remediation';

/**
 * The remediation annotations among `annotations`, sorted. Workflow code only: the paused
 * annotation is behind its patch (a `patched()` call), so a machine or owner of a history recorded
 * before shows what it showed then.
 */
export function remediationMarks(annotations: Record<string, string> | undefined): string[] {
  return REMEDIATION_ANNOTATIONS.filter((k) => annotations?.[k] !== undefined && (k !== ANNOTATIONS.paused || heedsPausedAnnotation(true))).sort();
}

/** The start memo entry for a machine with `annotations`: none when it has no remediation annotation. */
export function remediationMemo(annotations: Record<string, string> | undefined): Record<string, string[]> {
  const marks = remediationMarks(annotations);
  return marks.length ? { [REMEDIATION_MEMO]: marks } : {};
}

/** The remediation annotations a machine's memo shows (sorted; absent when none), as visibility returns the memo. */
export function remediationShown(memo: Record<string, unknown> | undefined): string[] | undefined {
  const v = memo?.[REMEDIATION_MEMO];
  return Array.isArray(v) && v.length ? v.map(String).sort() : undefined;
}

/** Annotations for a set's or a machine's input: none when empty (so the inputs of those without any are as before). */
export function annotationsIfAny(annotations: Record<string, string> | undefined): { annotations?: Record<string, string> } {
  return annotations && Object.keys(annotations).length ? { annotations } : {};
}
