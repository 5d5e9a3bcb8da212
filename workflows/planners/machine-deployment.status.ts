// A MachineDeployment's status in one pass, from what its MachineSets last reported: replica
// counts summed over the sets, upToDate from the new set, and Cluster API v1beta2's conditions
// (Available, RollingOut, ScalingUp, ScalingDown, Paused), each always set. Pure workflow code:
// `now` is passed in; the caller writes (reports) the status only when it changed.
import type { MachineDeploymentStatus } from '../../api/machine-deployment.js';
import { setCondition } from '../conditions.js';
import { canonicalJson } from '../spec-diff.js';

export interface DeploymentStatusSet {
  name: string;
  isNew: boolean;
  /** spec.replicas as the deployment set it. */
  specReplicas: number;
  replicas: number; // the set's machines, deleting ones included
  readyReplicas: number;
  availableReplicas: number;
  /** Why the set creates no machine it lacks, as it reported (Cluster API's MachineSet ScalingUp). */
  scaleUpBlocked?: { reason: string; message: string };
}

export interface DeploymentStatusInput {
  replicas: number; // the deployment's spec.replicas
  maxUnavailable: number; // resolved; 0 for OnDelete
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
  else set('Available', 'False', 'NotAvailable', `${availableReplicas} available replicas, at least ${minAvailable} required (spec.replicas ${input.replicas}, maxUnavailable ${input.maxUnavailable})`);

  const old = input.sets.filter((s) => !s.isNew && s.replicas > 0);
  const notUpToDate = replicas - upToDateReplicas;
  if (notUpToDate > 0 || old.length > 0) set('RollingOut', 'True', 'RollingOut', `Rolling out ${notUpToDate} not up-to-date replicas`);
  else set('RollingOut', 'False', 'NotRollingOut');

  const specTotal = sum((s) => s.specReplicas);
  // As Cluster API's: a set that cannot create its machines says why, under the deployment's own line.
  const blocked = input.sets.filter((s) => s.scaleUpBlocked).map((s) => `* MachineSet ${s.name}: ${s.scaleUpBlocked!.message}`);
  if (replicas < input.replicas) set('ScalingUp', 'True', 'ScalingUp', `Scaling up from ${replicas} to ${input.replicas} replicas${blocked.length ? ` is blocked because:\n${blocked.join('\n')}` : ''}`);
  else set('ScalingUp', 'False', 'NotScalingUp');
  if (replicas > input.replicas || specTotal < replicas) set('ScalingDown', 'True', 'ScalingDown', `Scaling down from ${replicas} to ${input.replicas} replicas`);
  else set('ScalingDown', 'False', 'NotScalingDown');

  if (input.paused) set('Paused', 'True', 'Paused', 'The rollout is paused');
  else set('Paused', 'False', 'NotPaused');

  return { replicas, readyReplicas, availableReplicas, upToDateReplicas, conditions, observedGeneration: input.observedGeneration };
}

/** Whether a new status differs from the last one written (Cluster API writes only changes: #5945). */
export function deploymentStatusChanged(previous: MachineDeploymentStatus | undefined, next: MachineDeploymentStatus): boolean {
  return !previous || canonicalJson(previous) !== canonicalJson(next);
}
