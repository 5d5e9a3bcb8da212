// Conditions as Cluster API v1beta2 keeps them: one entry per type, lastTransitionTime moves
// only when the status flips, and a write that changes nothing is reported as no change so
// callers mirror status only when it changed (cluster-api #5945).
import type { Condition, ConditionStatus } from '../api/meta.js';

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** Returns true when the list changed. `now` is passed in: workflow code reads Temporal's clock. */
export function setCondition(conditions: Condition[], c: ConditionInput, now: Date, observedGeneration?: number): boolean {
  const message = c.message ?? '';
  const i = conditions.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? conditions[i] : undefined;
  if (prev && prev.status === c.status && prev.reason === c.reason && prev.message === message && prev.observedGeneration === observedGeneration) {
    return false;
  }
  const next: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message,
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString(),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
  return true;
}

export function getCondition(conditions: Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: Condition[], type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** Condition types and reasons, with Cluster API's names. */
export const ConditionType = {
  Available: 'Available',
  Ready: 'Ready',
  Deleting: 'Deleting',
  Paused: 'Paused',
  InfrastructureReady: 'InfrastructureReady',
  BootstrapConfigReady: 'BootstrapConfigReady',
  NodeReady: 'NodeReady',
  NodeHealthy: 'NodeHealthy',
  ControlPlaneInitialized: 'ControlPlaneInitialized',
  ControlPlaneAvailable: 'ControlPlaneAvailable',
  WorkersAvailable: 'WorkersAvailable',
  MachinesReady: 'MachinesReady',
  CertificatesAvailable: 'CertificatesAvailable',
  HealthCheckSucceeded: 'HealthCheckSucceeded',
  OwnerRemediated: 'OwnerRemediated',
  RemoteConnectionProbe: 'RemoteConnectionProbe',
} as const;

export const Reason = {
  Ready: 'Ready',
  NotReady: 'NotReady',
  Available: 'Available',
  NotAvailable: 'NotAvailable',
  Provisioned: 'Provisioned',
  NotProvisioned: 'NotProvisioned',
  Provisioning: 'Provisioning',
  Initialized: 'Initialized',
  NotInitialized: 'NotInitialized',
  WaitingForControlPlaneInitialized: 'WaitingForControlPlaneInitialized',
  WaitingForInfrastructure: 'WaitingForInfrastructure',
  WaitingForNode: 'WaitingForNode',
  NodeDoesNotExist: 'NodeDoesNotExist',
  DataSecretAvailable: 'DataSecretAvailable',
  InvalidConfiguration: 'InvalidConfiguration',
  ProviderFailed: 'ProviderFailed',
  Deleting: 'Deleting',
  NotDeleting: 'NotDeleting',
  DrainingNode: 'DrainingNode',
  WaitingForPreDrainHook: 'WaitingForPreDrainHook',
  WaitingForPreTerminateHook: 'WaitingForPreTerminateHook',
  DrainTimedOut: 'DrainTimedOut',
  Deleted: 'Deleted',
  ScalingUp: 'ScalingUp',
  MachineDeleting: 'MachineDeleting',
  ProbeSucceeded: 'ProbeSucceeded',
  ProbeFailed: 'ProbeFailed',
  ConnectionDown: 'ConnectionDown',
} as const;

/**
 * The condition a step's retries are shown on: its status and reason stay (the step is still
 * under way), the message says how often it failed and why (`renderBootstrapData: 5 attempts:
 * secret default/demo-ca not found`).
 */
export function retryingCondition(conditions: Condition[], type: string, r: { activity: string; attempts: number; message: string }): ConditionInput {
  const prev = getCondition(conditions, type);
  return { type, status: prev?.status ?? 'Unknown', reason: prev?.reason ?? 'Retrying', message: `${r.activity}: ${r.attempts} attempts: ${r.message}` };
}
