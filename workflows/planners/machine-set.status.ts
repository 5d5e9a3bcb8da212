// The MachineSet's status in one pass, from what the round observed, as Cluster API's
// machineset_controller_status.go computes it: replica counters, then one setter per v1beta2
// condition (MachinesReady, MachinesUpToDate, ScalingUp, ScalingDown, Remediating, Deleting),
// each always set. Pure: `now` is passed in (Temporal's clock in the workflow); the previous
// status is passed in so a condition's lastTransitionTime moves only when its status flips and
// an unchanged status is reported as unchanged (write only changes: cluster-api #5945).
//
// Decisions this file makes where the reference leaves room (tests pin each one):
// - `machines: null` means the round could not observe them: the counters keep their previous
//   values (Cluster API leaves them untouched too) and every condition that needs the machines
//   turns Unknown with reason InternalError, saying what is missing.
// - A fact missing on a machine (ready or upToDate undefined) counts as not ready / not up to
//   date in the counters and makes the aggregate condition Unknown (reason *Unknown), unless
//   another machine is definitely False, which wins (Cluster API's merge: False > Unknown > True).
// - Available: Ready for at least minReadySeconds (readySince + minReadySeconds ≤ now). Ready
//   with no readySince is available only when minReadySeconds is 0. `nextStatusChangeAt` says
//   when the next machine becomes available (or a deletion turns stale), so the workflow sleeps
//   on a durable timer until then instead of polling.
// - MachinesUpToDate ignores a machine whose upToDate is still unknown in its first 10 s, as
//   Cluster API does, so a fresh machine does not flicker the condition. nextStatusChangeAt does
//   not wake the workflow for that 10 s mark: the verdict normally arrives with the machine's
//   own report, and a timer per new machine would cost an action each.
// - ScalingUp and ScalingDown compare all machines, deleting ones included, with spec.replicas,
//   as Cluster API does and as planMachineSet counts (see machine-set.ts): a machine on its way
//   out is still being scaled down, and is replaced only once gone. A MachineSet being deleted
//   wants 0.
// - ScalingUp carries planMachineSet's `blocked` in its message ("… is blocked because: …"),
//   as Cluster API carries its failed preflight checks.
// - Machine lists in messages are sorted and cut after 3 names ("a, b, c, ... (2 more)"), as
//   Cluster API's ListToString does, so a message does not change with listing order.

import type { Condition, ConditionStatus } from '../../api/meta.js';
import { setCondition } from '../conditions.js';

export interface StatusMachine {
  name: string;
  creationTimestamp: string; // RFC 3339
  deleting: boolean;
  deletingSince?: string; // deletionTimestamp, RFC 3339
  ready?: boolean; // the Machine's Ready condition; undefined: unknown
  readySince?: string; // when Ready last became True, RFC 3339
  upToDate?: boolean; // the Machine matches the set's template; undefined: unknown
  healthy?: boolean; // false: a MachineHealthCheck found it unhealthy
  remediating?: boolean; // the set was asked to remediate it (OwnerRemediated False)
}

export interface MachineSetStatusInput {
  replicas?: number; // spec.replicas; undefined: not set yet
  machines: StatusMachine[] | null; // null: not observed this round
  minReadySeconds?: number;
  deleting: boolean; // the MachineSet itself is being deleted
  scaleUpBlocked?: { reason: string; message: string }; // planMachineSet's `blocked`
  observedGeneration?: number;
  now: string; // RFC 3339
}

export interface MachineSetStatus {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  upToDateReplicas: number;
  observedGeneration?: number;
  conditions: Condition[];
}

export const MachineSetCondition = {
  MachinesReady: 'MachinesReady',
  MachinesUpToDate: 'MachinesUpToDate',
  ScalingUp: 'ScalingUp',
  ScalingDown: 'ScalingDown',
  Remediating: 'Remediating',
  Deleting: 'Deleting',
} as const;

export const MachineSetReason = {
  InternalError: 'InternalError',
  NoReplicas: 'NoReplicas',
  Ready: 'Ready',
  NotReady: 'NotReady',
  ReadyUnknown: 'ReadyUnknown',
  UpToDate: 'UpToDate',
  NotUpToDate: 'NotUpToDate',
  UpToDateUnknown: 'UpToDateUnknown',
  ScalingUp: 'ScalingUp',
  NotScalingUp: 'NotScalingUp',
  ScalingDown: 'ScalingDown',
  NotScalingDown: 'NotScalingDown',
  WaitingForReplicasSet: 'WaitingForReplicasSet',
  Remediating: 'Remediating',
  NotRemediating: 'NotRemediating',
  Deleting: 'Deleting',
  NotDeleting: 'NotDeleting',
} as const;

const NOT_OBSERVED = 'Machines could not be observed this round';
const UP_TO_DATE_GRACE_MS = 10_000;
const STALE_DELETION_MS = 15 * 60_000;

interface C {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** The whole status from this round's observation; `previous` keeps transition times and counters. */
export function computeMachineSetStatus(input: MachineSetStatusInput, previous?: MachineSetStatus): MachineSetStatus {
  const now = Date.parse(input.now);
  if (!Number.isFinite(now)) throw new Error(`now: ${JSON.stringify(input.now)} is not an RFC 3339 time`);
  const machines = input.machines === null ? null : [...input.machines].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const counters = machines ? countReplicas(machines, input.minReadySeconds ?? 0, now) : {
    replicas: previous?.replicas ?? 0,
    readyReplicas: previous?.readyReplicas ?? 0,
    availableReplicas: previous?.availableReplicas ?? 0,
    upToDateReplicas: previous?.upToDateReplicas ?? 0,
  };

  const conditions = (previous?.conditions ?? []).map((c) => ({ ...c }));
  const at = new Date(now);
  for (const c of [
    machinesReady(machines),
    machinesUpToDate(machines, now),
    scalingUp(input, machines),
    scalingDown(input, machines, now),
    remediating(machines),
    deletingCondition(input, machines, now),
  ]) {
    setCondition(conditions, c, at, input.observedGeneration);
  }

  return {
    ...counters,
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
    conditions,
  };
}

/** True when `next` differs from `previous` in anything a reader would see (key and condition order aside). */
export function machineSetStatusChanged(previous: MachineSetStatus | undefined, next: MachineSetStatus): boolean {
  if (!previous) return true;
  return canonical(previous) !== canonical(next);
}

/**
 * The earliest time the status would change with no new observation: a ready machine reaching
 * minReadySeconds, or a deletion turning stale (15 minutes). Undefined when nothing is pending.
 */
export function nextStatusChangeAt(input: MachineSetStatusInput): string | undefined {
  const now = Date.parse(input.now);
  const minReadyMs = (input.minReadySeconds ?? 0) * 1000;
  let next = Infinity;
  for (const m of input.machines ?? []) {
    const since = m.readySince !== undefined ? Date.parse(m.readySince) : NaN;
    if (m.ready === true && minReadyMs > 0 && Number.isFinite(since) && since + minReadyMs > now) next = Math.min(next, since + minReadyMs);
    const del = m.deletingSince !== undefined ? Date.parse(m.deletingSince) : NaN;
    if (m.deleting && Number.isFinite(del) && del + STALE_DELETION_MS >= now) next = Math.min(next, del + STALE_DELETION_MS + 1);
  }
  return Number.isFinite(next) ? new Date(next).toISOString() : undefined;
}

function countReplicas(machines: StatusMachine[], minReadySeconds: number, now: number) {
  let readyReplicas = 0;
  let availableReplicas = 0;
  let upToDateReplicas = 0;
  for (const m of machines) {
    if (m.ready === true) readyReplicas++;
    if (isAvailable(m, minReadySeconds, now)) availableReplicas++;
    if (m.upToDate === true) upToDateReplicas++;
  }
  return { replicas: machines.length, readyReplicas, availableReplicas, upToDateReplicas };
}

function isAvailable(m: StatusMachine, minReadySeconds: number, now: number): boolean {
  if (m.ready !== true) return false;
  if (minReadySeconds === 0) return true;
  const since = m.readySince !== undefined ? Date.parse(m.readySince) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

// Cluster API's aggregate of one boolean fact per machine: any False wins, then any Unknown.
function aggregate(
  type: string,
  machines: StatusMachine[] | null,
  fact: (m: StatusMachine) => boolean | undefined,
  words: { no: string; unknown: string },
  reasons: { yes: string; no: string; unknown: string },
): C {
  if (machines === null) return { type, status: 'Unknown', reason: MachineSetReason.InternalError, message: NOT_OBSERVED };
  if (machines.length === 0) return { type, status: 'True', reason: MachineSetReason.NoReplicas };
  const no = machines.filter((m) => fact(m) === false).map((m) => m.name);
  const unknown = machines.filter((m) => fact(m) === undefined).map((m) => m.name);
  const lines: string[] = [];
  if (no.length > 0) lines.push(`* ${machineList(no)} ${no.length === 1 ? 'is' : 'are'} ${words.no}`);
  if (unknown.length > 0) lines.push(`* ${machineList(unknown)}: ${words.unknown}`);
  if (no.length > 0) return { type, status: 'False', reason: reasons.no, message: lines.join('\n') };
  if (unknown.length > 0) return { type, status: 'Unknown', reason: reasons.unknown, message: lines.join('\n') };
  return { type, status: 'True', reason: reasons.yes };
}

function machinesReady(machines: StatusMachine[] | null): C {
  return aggregate(
    MachineSetCondition.MachinesReady,
    machines,
    (m) => m.ready,
    { no: 'not ready', unknown: 'readiness not reported yet' },
    { yes: MachineSetReason.Ready, no: MachineSetReason.NotReady, unknown: MachineSetReason.ReadyUnknown },
  );
}

function machinesUpToDate(machines: StatusMachine[] | null, now: number): C {
  // A fresh machine whose UpToDate is not known yet is left out for its first 10 s.
  const considered = machines?.filter((m) => m.upToDate !== undefined || !(Date.parse(m.creationTimestamp) + UP_TO_DATE_GRACE_MS > now)) ?? null;
  return aggregate(
    MachineSetCondition.MachinesUpToDate,
    considered,
    (m) => m.upToDate,
    { no: 'not up to date', unknown: 'up-to-date not reported yet' },
    { yes: MachineSetReason.UpToDate, no: MachineSetReason.NotUpToDate, unknown: MachineSetReason.UpToDateUnknown },
  );
}

function scalingUp(input: MachineSetStatusInput, machines: StatusMachine[] | null): C {
  const type = MachineSetCondition.ScalingUp;
  if (machines === null) return { type, status: 'Unknown', reason: MachineSetReason.InternalError, message: NOT_OBSERVED };
  if (input.replicas === undefined) return { type, status: 'Unknown', reason: MachineSetReason.WaitingForReplicasSet, message: 'Waiting for spec.replicas set' };
  const desired = input.deleting ? 0 : input.replicas;
  const current = machines.length;
  if (current >= desired) return { type, status: 'False', reason: MachineSetReason.NotScalingUp };
  let message = `Scaling up from ${current} to ${desired} replicas`;
  if (input.scaleUpBlocked) message += ` is blocked because:\n* ${input.scaleUpBlocked.message}`;
  return { type, status: 'True', reason: MachineSetReason.ScalingUp, message };
}

function scalingDown(input: MachineSetStatusInput, machines: StatusMachine[] | null, now: number): C {
  const type = MachineSetCondition.ScalingDown;
  if (machines === null) return { type, status: 'Unknown', reason: MachineSetReason.InternalError, message: NOT_OBSERVED };
  if (input.replicas === undefined) return { type, status: 'Unknown', reason: MachineSetReason.WaitingForReplicasSet, message: 'Waiting for spec.replicas set' };
  const desired = input.deleting ? 0 : input.replicas;
  if (machines.length <= desired) return { type, status: 'False', reason: MachineSetReason.NotScalingDown };
  let message = `Scaling down from ${machines.length} to ${desired} replicas`;
  const stale = staleDeletions(machines, now);
  if (stale) message += `\n* ${stale}`;
  return { type, status: 'True', reason: MachineSetReason.ScalingDown, message };
}

function remediating(machines: StatusMachine[] | null): C {
  const type = MachineSetCondition.Remediating;
  if (machines === null) return { type, status: 'Unknown', reason: MachineSetReason.InternalError, message: NOT_OBSERVED };
  const toRemediate = machines.filter((m) => m.remediating === true).map((m) => m.name);
  if (toRemediate.length > 0) {
    return { type, status: 'True', reason: MachineSetReason.Remediating, message: `* ${machineList(toRemediate)}: Machine is deleting` }; // Cluster API's aggregate of their OwnerRemediated
  }
  const unhealthy = machines.filter((m) => m.healthy === false).map((m) => m.name);
  const message = unhealthy.length > 0 ? `${machineList(unhealthy)} ${unhealthy.length === 1 ? 'is' : 'are'} not healthy (not to be remediated by MachineSet)` : undefined;
  return { type, status: 'False', reason: MachineSetReason.NotRemediating, message };
}

function deletingCondition(input: MachineSetStatusInput, machines: StatusMachine[] | null, now: number): C {
  const type = MachineSetCondition.Deleting;
  if (!input.deleting) return { type, status: 'False', reason: MachineSetReason.NotDeleting };
  if (machines === null) return { type, status: 'Unknown', reason: MachineSetReason.InternalError, message: NOT_OBSERVED };
  if (machines.length === 0) return { type, status: 'True', reason: MachineSetReason.Deleting, message: 'Deletion completed' };
  let message = `Deleting ${machines.length} Machine${machines.length === 1 ? '' : 's'}`;
  const stale = staleDeletions(machines, now);
  if (stale) message += `\n* ${stale}`;
  return { type, status: 'True', reason: MachineSetReason.Deleting, message };
}

function staleDeletions(machines: StatusMachine[], now: number): string | undefined {
  const stale = machines
    .filter((m) => m.deleting && m.deletingSince !== undefined && now - Date.parse(m.deletingSince) > STALE_DELETION_MS)
    .map((m) => m.name);
  if (stale.length === 0) return undefined;
  return `${machineList(stale)} ${stale.length === 1 ? 'is' : 'are'} in deletion since more than 15m`;
}

/** "Machine a" / "Machines a, b, c, ... (2 more)": names sorted, at most 3 shown (Cluster API's ListToString), of any kind. */
export function objectList(kind: string, names: readonly string[]): string {
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = sorted.slice(0, 3).join(', ');
  const more = sorted.length > 3 ? `, ... (${sorted.length - 3} more)` : '';
  return `${kind}${sorted.length === 1 ? '' : 's'} ${shown}${more}`;
}

const machineList = (names: string[]) => objectList('Machine', names);

function canonical(s: MachineSetStatus): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .reduce<Record<string, unknown>>((acc, k) => ((acc[k] = sortKeys(o[k])), acc), {});
    }
    return v;
  };
  const conditions = [...s.conditions].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return JSON.stringify(sortKeys({ ...s, conditions }));
}
