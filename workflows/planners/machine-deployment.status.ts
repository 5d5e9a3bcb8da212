// A MachineDeployment's status in one pass, from what its MachineSets last reported: replica
// counts summed over the sets, upToDate from the new set, and Cluster API v1beta2's conditions
// (Available, RollingOut, ScalingUp, ScalingDown, MachinesReady, MachinesUpToDate, Remediating,
// Deleting, Paused), each always set. Pure workflow code: `now` is passed in; the caller writes
// (reports) the status only when it changed.
//
// MachinesReady and MachinesUpToDate are Cluster API's aggregates of its machines' Ready and
// UpToDate conditions; a deployment knows its sets' counts, not each machine, so they say how
// many machines are not ready / not up to date, and which set holds them. They change exactly
// when the counts do, so they cost no report of their own. Remediating names the machines a
// health check's remediation is deleting, as their sets report them (a report when that changes).
import type { MachineDeploymentStatus } from '../../api/machine-deployment.js';
import { setCondition } from '../conditions.js';
import { canonicalJson } from '../spec-diff.js';
import { objectList } from './machine-set.status.js';

export interface DeploymentStatusSet {
  name: string;
  isNew: boolean;
  replicas: number; // the set's machines, deleting ones included
  readyReplicas: number;
  availableReplicas: number;
  /** Why the set creates no machine it lacks, as it reported (Cluster API's MachineSet ScalingUp). */
  scaleUpBlocked?: { reason: string; message: string };
  /** Its machines a health check's remediation is deleting, as it reported (their OwnerRemediated is False). */
  remediating?: string[];
}

export interface DeploymentStatusInput {
  replicas: number; // the deployment's spec.replicas
  maxUnavailable: number; // resolved; 0 for OnDelete
  /** maxUnavailable as the spec gives it (an integer or a percent), for Available's message; absent for OnDelete. */
  maxUnavailableSpec?: number | string;
  /** The deployment is being deleted: desired replicas 0, Deleting True. */
  deleting?: boolean;
  paused: boolean;
  sets: DeploymentStatusSet[];
  observedGeneration: number;
  now: string; // RFC 3339
}

export function computeDeploymentStatus(input: DeploymentStatusInput, previous?: MachineDeploymentStatus): MachineDeploymentStatus {
  const sum = (f: (s: DeploymentStatusSet) => number) => input.sets.reduce((a, s) => a + f(s), 0);
  const replicas = sum((s) => s.replicas);
  const readyReplicas = sum((s) => s.readyReplicas);
  const availableReplicas = sum((s) => s.availableReplicas);
  const upToDateReplicas = input.sets.filter((s) => s.isNew).reduce((a, s) => a + s.replicas, 0);
  const conditions = (previous?.conditions ?? []).map((c) => ({ ...c }));
  const now = new Date(input.now);
  const set = (type: string, status: 'True' | 'False', reason: string, message = '') =>
    setCondition(conditions, { type, status, reason, message }, now, input.observedGeneration);

  const minAvailable = Math.max(0, input.replicas - input.maxUnavailable);
  if (availableReplicas >= minAvailable) set('Available', 'True', 'Available');
  else if (input.deleting) set('Available', 'False', 'NotAvailable', 'Deletion in progress');
  else {
    const why = input.maxUnavailableSpec === undefined ? '' : ` (spec.rollout.strategy.rollingUpdate.maxUnavailable is ${input.maxUnavailableSpec}, spec.replicas is ${input.replicas})`;
    set('Available', 'False', 'NotAvailable', `${availableReplicas} available replicas, at least ${minAvailable} required${why}`);
  }

  const old = input.sets.filter((s) => !s.isNew && s.replicas > 0);
  const notUpToDate = replicas - upToDateReplicas;
  if (notUpToDate > 0 || old.length > 0) set('RollingOut', 'True', 'RollingOut', `Rolling out ${notUpToDate} not up-to-date replicas`);
  else set('RollingOut', 'False', 'NotRollingOut');

  // As Cluster API's: scaling is machines against the desired replicas (0 while deleting).
  const desired = input.deleting ? 0 : input.replicas;
  // As Cluster API's: a set that cannot create its machines says why, under the deployment's own line.
  const blocked = input.sets.filter((s) => s.scaleUpBlocked).map((s) => `* MachineSet ${s.name}: ${s.scaleUpBlocked!.message}`);
  if (replicas < desired) set('ScalingUp', 'True', 'ScalingUp', `Scaling up from ${replicas} to ${desired} replicas${blocked.length ? ` is blocked because:\n${blocked.join('\n')}` : ''}`);
  else set('ScalingUp', 'False', 'NotScalingUp');
  if (replicas > desired) set('ScalingDown', 'True', 'ScalingDown', `Scaling down from ${replicas} to ${desired} replicas`);
  else set('ScalingDown', 'False', 'NotScalingDown');

  const shortBy = (type: string, yes: string, no: string, words: string, missing: (s: DeploymentStatusSet) => number) => {
    if (replicas === 0) return set(type, 'True', 'NoReplicas');
    const lines = input.sets.filter((s) => missing(s) > 0).map((s) => `* MachineSet ${s.name}: ${missing(s)} of ${count(s.replicas, 'Machine')} ${words}`);
    if (lines.length === 0) set(type, 'True', yes);
    else set(type, 'False', no, lines.join('\n'));
  };
  shortBy('MachinesReady', 'Ready', 'NotReady', 'not ready', (s) => Math.max(0, s.replicas - s.readyReplicas));
  shortBy('MachinesUpToDate', 'UpToDate', 'NotUpToDate', 'not up to date', (s) => (s.isNew ? 0 : s.replicas));

  // As Cluster API's: the machines being remediated, with their OwnerRemediated message.
  const remediating = input.sets.flatMap((s) => s.remediating ?? []).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (remediating.length) set('Remediating', 'True', 'Remediating', `* ${objectList('Machine', remediating)}: Machine is deleting`);
  // (A status carried over from a run that did not set it gets it only once a set remediates: a
  // new condition would be a change, and a change is a report that run's history does not have.)
  else if (!previous || previous.conditions.some((c) => c.type === 'Remediating')) set('Remediating', 'False', 'NotRemediating');

  if (!input.deleting) set('Deleting', 'False', 'NotDeleting');
  else {
    const message = replicas > 0 ? `Deleting ${count(replicas, 'Machine')}` : input.sets.length > 0 ? `Deleting ${count(input.sets.length, 'MachineSet')}` : 'Deletion completed';
    set('Deleting', 'True', 'Deleting', message);
  }

  if (input.paused) set('Paused', 'True', 'Paused', 'The rollout is paused');
  else set('Paused', 'False', 'NotPaused');

  return { replicas, readyReplicas, availableReplicas, upToDateReplicas, conditions, observedGeneration: input.observedGeneration };
}

/** Names as Cluster API's aggregate messages list them: "a, b, c, ... (2 more)". */

/** "1 Machine", "3 Machines". */
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Whether a new status differs from the last one written (Cluster API writes only changes: #5945). */
export function deploymentStatusChanged(previous: MachineDeploymentStatus | undefined, next: MachineDeploymentStatus): boolean {
  return !previous || canonicalJson(previous) !== canonicalJson(next);
}
