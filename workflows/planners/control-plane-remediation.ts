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
}

export type ControlPlaneRemediationDecision =
  | { allowed: true }
  | { allowed: false; wait: boolean; reason: 'RemediationInProgress' | 'WaitingForReplicas' | 'RemediationNotAllowed'; message: string };

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
  if (members.length <= 1) {
    return { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: `cannot remediate ${target}: a control plane of ${members.length} machine would lose its only etcd member` };
  }
  const healthy = members.filter((m) => m.healthy).length;
  const healthyAfter = members.filter((m) => m.healthy && m.machine !== target).length;
  if (healthyAfter < quorum(members.length - 1)) {
    return { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: `${healthy} of ${members.length} etcd members healthy; remediating ${target} would lose quorum` };
  }
  return { allowed: true };
}
