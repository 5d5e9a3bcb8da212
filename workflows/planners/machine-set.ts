// The MachineSet's one decision per round: how many machines to create and which to delete so
// the set keeps `replicas`, as Cluster API's MachineSet controller (syncReplicas,
// machineset_preflight.go) decides it. It returns intents and never acts: MachineSetWorkflow
// creates and deletes, then calls it again with what it observes. Workflow code: deterministic,
// no I/O, clock, random or module state; plain JSON in and out.
//
// Decisions this file makes where the references leave room (tests pin each one):
// - The set counts every machine it owns, deleting ones included, as Cluster API's
//   syncReplicas does: a machine being deleted (out of band, or by a scale-down) is replaced
//   only once it is gone, so a set never holds more than `replicas` machines and a
//   MachineDeployment's maxSurge holds while drains run. A machine gone from `machines` is
//   replaced.
// - Scaling down picks `diff` victims among all machines with deletion-order.ts, where the
//   "already deleting" tier comes first: those count as victims but are not deleted again.
// - Creation is gated, deletion never: Cluster API runs its preflight checks only before
//   creating machines (createMachines), so a set scales down whatever the control plane does.
//   `blocked` is therefore set only on a plan that wanted to create and may not.
// - Gates, in order: the init gate (no worker before ControlPlaneInitialized: capstan's rule,
//   reason WaitingForControlPlaneInitialized), then Cluster API's preflight checks in its order
//   — control plane stable (reason ControlPlaneIsUpgrading), kubernetes version skew, kubeadm
//   version skew. Every failing preflight check is reported in the message, joined by "; " as
//   Cluster API joins them; the reason is the first one's. Cluster API has no reason named
//   ControlPlaneIsUpgrading (its check is "ControlPlaneIsStable" and the v1beta1 reason is
//   PreflightCheckFailed); capstan's reasons name the failing rule, the messages keep Cluster
//   API's words, check name included.
// - Version skew as Cluster API words and checks it: only minor versions count (a template
//   at 1.30.3 under a control plane at 1.30.2 is fine); the kubernetes check refuses a template
//   minor above the control plane's or more than 3 below it; the kubeadm check (on by default:
//   capstan's bootstrap provider is kubeadm) refuses any other minor. A template or control
//   plane without a version skips the skew checks, as Cluster API does. Majors are compared
//   too (Cluster API ignores them; Kubernetes has only 1).
// - A version that does not parse blocks creation with reason PreflightCheckFailed and Cluster
//   API's error words, rather than throwing: a throw in workflow code retries the task forever.

import { machinesToDelete, type DeletionCandidate, type DeletionOrder } from './deletion-order.js';

export interface MachineSetPlanInput {
  replicas: number; // spec.replicas
  machines: DeletionCandidate[]; // every machine the set owns, as observed
  deletionOrder?: DeletionOrder; // default Random
  gateOpen: boolean; // the cluster's ControlPlaneInitialized
  controlPlaneUpgrading: boolean;
  controlPlaneVersion?: string; // e.g. "v1.30.2"; absent: skew checks skipped
  templateVersion?: string; // the machine template's version; absent: skew checks skipped
  kubeadmBootstrap?: boolean; // the template's bootstrap is a KubeadmConfigTemplate (default true)
  controlPlaneName?: string; // how messages name it, e.g. "KubeadmControlPlane default/demo"
}

export interface Blocked {
  reason: string;
  message: string;
}

export interface MachineSetPlan {
  create: number; // machines to create now
  delete: string[]; // names of machines to delete now, in order
  blocked?: Blocked; // creation wanted but held; says why
}

export const BlockedReason = {
  WaitingForControlPlaneInitialized: 'WaitingForControlPlaneInitialized',
  ControlPlaneIsUpgrading: 'ControlPlaneIsUpgrading',
  KubernetesVersionSkew: 'KubernetesVersionSkew',
  KubeadmVersionSkew: 'KubeadmVersionSkew',
  PreflightCheckFailed: 'PreflightCheckFailed',
} as const;

/** One round of the MachineSet: create, delete, or hold with a reason. */
export function planMachineSet(input: MachineSetPlanInput): MachineSetPlan {
  if (!Number.isSafeInteger(input.replicas) || input.replicas < 0) {
    throw new Error(`replicas: ${input.replicas} is not a non-negative integer`);
  }
  const diff = input.machines.length - input.replicas;
  if (diff > 0) {
    const deleting = new Set(input.machines.filter((m) => m.deleting).map((m) => m.name));
    return { create: 0, delete: machinesToDelete(input.machines, input.deletionOrder, diff).filter((n) => !deleting.has(n)) };
  }
  if (diff < 0) {
    const blocked = scaleUpBlocked(input);
    if (blocked) return { create: 0, delete: [], blocked };
    return { create: -diff, delete: [] };
  }
  return { create: 0, delete: [] };
}

/**
 * Why the set may not create machines now, or undefined when it may. Exported so the status
 * pass can say "scaling up would be blocked" with the same words.
 */
export function scaleUpBlocked(input: Omit<MachineSetPlanInput, 'replicas' | 'machines' | 'deletionOrder'>): Blocked | undefined {
  // Safety rule: no worker joins before the control plane is initialized — the bootstrap
  // provider's init gate holds every other node until then (kubeadm join has nothing to join).
  if (!input.gateOpen) {
    return {
      reason: BlockedReason.WaitingForControlPlaneInitialized,
      message: 'Scale up on hold until the control plane is initialized (ControlPlaneInitialized)',
    };
  }
  const cp = input.controlPlaneName ?? 'ControlPlane';
  const failed: Blocked[] = [];
  // Cluster API's ControlPlaneIsStable preflight check: a worker must not join a control plane
  // that is replacing its machines (its version may change under the joining node).
  if (input.controlPlaneUpgrading) {
    failed.push({ reason: BlockedReason.ControlPlaneIsUpgrading, message: `${cp} is upgrading ("ControlPlaneIsStable" preflight check failed)` });
  }
  if (input.controlPlaneVersion !== undefined && input.templateVersion !== undefined) {
    const cpv = parseVersion(input.controlPlaneVersion);
    if (!cpv) return unparseable(`failed to parse version ${JSON.stringify(input.controlPlaneVersion)} of ${cp}`);
    const msv = parseVersion(input.templateVersion);
    if (!msv) return unparseable(`failed to parse version ${JSON.stringify(input.templateVersion)} of the MachineSet's template`);
    failed.push(...versionSkew(cpv, msv, input.kubeadmBootstrap ?? true));
  }
  if (failed.length === 0) return undefined;
  return { reason: failed[0]!.reason, message: failed.map((f) => f.message).join('; ') };
}

function unparseable(what: string): Blocked {
  return { reason: BlockedReason.PreflightCheckFailed, message: `failed to perform "Scale up": failed to perform preflight checks: ${what}` };
}

interface Version {
  major: number;
  minor: number;
  text: string; // as semver prints it: 1.30.2, no leading v
}

// Tolerant like blang/semver's ParseTolerant: a leading "v", missing minor or patch as 0.
function parseVersion(s: string): Version | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(s.trim());
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2] ?? 0);
  const patch = Number(m[3] ?? 0);
  return { major, minor, text: `${major}.${minor}.${patch}${m[4] ?? ''}${m[5] ?? ''}` };
}

// Safety rules from the Kubernetes and kubeadm version skew policies, as Cluster API's
// MachineSet preflight checks word them: a kubelet never newer than the API server, at most 3
// minors older; kubeadm joins only at the control plane's major+minor.
const MAX_KUBELET_MINOR_SKEW = 3;

function versionSkew(cp: Version, ms: Version, kubeadm: boolean): Blocked[] {
  const out: Blocked[] = [];
  const pair = `MachineSet version (${ms.text}) and ControlPlane version (${cp.text})`;
  const cmp = ms.major !== cp.major ? ms.major - cp.major : ms.minor - cp.minor;
  const olderBy = ms.major !== cp.major ? Infinity : cp.minor - ms.minor;
  if (cmp > 0) {
    out.push({
      reason: BlockedReason.KubernetesVersionSkew,
      message: `${pair} do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)`,
    });
  } else if (olderBy > MAX_KUBELET_MINOR_SKEW) {
    out.push({
      reason: BlockedReason.KubernetesVersionSkew,
      message: `${pair} do not conform to the kubernetes version skew policy as MachineSet version is more than ${MAX_KUBELET_MINOR_SKEW} minor versions older than the ControlPlane version ("KubernetesVersionSkew" preflight check failed)`,
    });
  }
  if (kubeadm && cmp !== 0) {
    out.push({
      reason: BlockedReason.KubeadmVersionSkew,
      message: `${pair} do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ("KubeadmVersionSkew" preflight check failed)`,
    });
  }
  return out;
}
