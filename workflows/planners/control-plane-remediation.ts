// Whether a KubeadmControlPlane may remediate (delete, then replace) one of its machines that a
// MachineHealthCheck found unhealthy, as Cluster API's KCP decides (reconcileUnhealthyMachines):
// one remediation at a time, none while the control plane is short of its replicas, none with a
// single machine, and never one that would leave fewer healthy etcd members than a majority of
// the members that remain. Each control-plane machine runs one etcd member; a member is healthy
// when its machine's Node is Ready (the simulated cloud runs no etcd per machine).

export interface ControlPlaneMember {
  machine: string;
  healthy: boolean;
  /** Being deleted (a remediation or a scale-down under way). */
  deleting?: boolean;
}

export interface ControlPlaneRemediationInput {
  /** spec.replicas */
  replicas: number;
  members: ControlPlaneMember[];
  /** The machine to remediate. */
  target: string;
  /** For the retry limits (spec.remediation): now, when the target was created, and the last remediation. */
  retry?: RetryInput;
}

export interface RetryInput {
  now: string;
  targetCreatedAt: string;
  last?: LastRemediation;
  settings?: { maxRetry?: number; retryPeriodSeconds?: number; minHealthyPeriodSeconds?: number };
}

/** The control plane's last remediation: when, and how many times in a row its slot had been remediated before. */
export interface LastRemediation {
  machine: string;
  at: string;
  retryCount: number;
}

/** Cluster API's default minHealthyPeriod: a replacement healthy for an hour starts the count over. */
export const DEFAULT_MIN_HEALTHY_PERIOD_SECONDS = 3600;

export type RetryDecision =
  | { allowed: true; retryCount: number }
  | { allowed: false; wait: boolean; reason: 'WaitingForRetryPeriod' | 'RemediationNotAllowed'; message: string };

/**
 * Cluster API's retry limits (checkRetryLimits): a target created after the last remediation is
 * that machine's replacement, so remediating it is a retry — unless the last remediation is
 * older than minHealthyPeriodSeconds. A retry waits out retryPeriodSeconds after the last one,
 * and is refused past maxRetry.
 */
export function retryLimits(target: string, r: RetryInput): RetryDecision {
  const last = r.last;
  if (!last || Date.parse(r.targetCreatedAt) < Date.parse(last.at)) return { allowed: true, retryCount: 0 };
  const since = (Date.parse(r.now) - Date.parse(last.at)) / 1000;
  if (since > (r.settings?.minHealthyPeriodSeconds ?? DEFAULT_MIN_HEALTHY_PERIOD_SECONDS)) return { allowed: true, retryCount: 0 };
  const retryCount = last.retryCount + 1;
  const max = r.settings?.maxRetry;
  if (max !== undefined && retryCount > max) {
    return { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: `cannot remediate ${target}: the machines it replaced were remediated ${retryCount} time(s) in a row; remediation.maxRetry is ${max}` };
  }
  const period = r.settings?.retryPeriodSeconds ?? 0;
  if (since < period) {
    const at = new Date(Date.parse(last.at) + period * 1000).toISOString();
    return { allowed: false, wait: true, reason: 'WaitingForRetryPeriod', message: `waiting until ${at} (remediation.retryPeriodSeconds ${period}) before remediating ${target}, a replacement of ${last.machine}` };
  }
  return { allowed: true, retryCount };
}

export type ControlPlaneRemediationDecision =
  | { allowed: true; retryCount: number }
  | { allowed: false; wait: boolean; reason: 'RemediationInProgress' | 'WaitingForReplicas' | 'WaitingForRetryPeriod' | 'RemediationNotAllowed'; message: string };

/** The majority of `members` etcd members. */
export const quorum = (members: number) => Math.floor(members / 2) + 1;

export function controlPlaneRemediation(input: ControlPlaneRemediationInput): ControlPlaneRemediationDecision {
  const { members, target } = input;
  const deleting = members.filter((m) => m.deleting).map((m) => m.machine);
  if (deleting.length) {
    return { allowed: false, wait: true, reason: 'RemediationInProgress', message: `waiting for ${deleting.sort().join(', ')} to be deleted before remediating ${target}` };
  }
  if (members.length < input.replicas) {
    return { allowed: false, wait: true, reason: 'WaitingForReplicas', message: `waiting for ${input.replicas} control-plane machines (${members.length} now) before remediating ${target}` };
  }
  const retry = input.retry ? retryLimits(target, input.retry) : ({ allowed: true, retryCount: 0 } as const);
  if (!retry.allowed) return retry;
  if (members.length <= 1) {
    return { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: `cannot remediate ${target}: a control plane of ${members.length} machine would lose its only etcd member` };
  }
  const healthy = members.filter((m) => m.healthy).length;
  const healthyAfter = members.filter((m) => m.healthy && m.machine !== target).length;
  if (healthyAfter < quorum(members.length - 1)) {
    return { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: `${healthy} of ${members.length} etcd members healthy; remediating ${target} would lose quorum` };
  }
  return { allowed: true, retryCount: retry.retryCount };
}
