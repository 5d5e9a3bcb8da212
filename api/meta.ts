// Shared pieces of every kind: object metadata, references between objects and conditions.
// Schemas are built by functions, never at module top level, because workflow code imports
// this module (see DESIGN.md: zod schemas are not built at module top level in workflows).
import { z } from 'zod';

export const GROUPS = {
  cluster: 'cluster.capstan.dev',
  controlPlane: 'controlplane.capstan.dev',
  bootstrap: 'bootstrap.capstan.dev',
  infrastructure: 'infrastructure.capstan.dev',
} as const;
export const VERSION = 'v1alpha1';

/** Labels with Cluster API's meaning, in capstan's group. */
export const ANNOTATIONS = {
  /** Cluster API's cluster.x-k8s.io/delete-machine: this machine goes first when its set scales down. */
  deleteMachine: 'cluster.capstan.dev/delete-machine',
  /** Cluster API's machinedeployment.clusters.x-k8s.io/revision: on a deployment's sets. */
  revision: 'machinedeployment.cluster.capstan.dev/revision',
  /** Cluster API's machinedeployment.clusters.x-k8s.io/revision-history: the revisions a set had before a rollback. */
  revisionHistory: 'machinedeployment.cluster.capstan.dev/revision-history',
  /** Cluster API's cluster.x-k8s.io/remediate-machine: a health check that selects this machine remediates it (manual remediation). */
  remediateMachine: 'cluster.capstan.dev/remediate-machine',
  /** Cluster API's cluster.x-k8s.io/skip-remediation: no health check counts or remediates this machine. */
  skipRemediation: 'cluster.capstan.dev/skip-remediation',
  /** Cluster API's cluster.x-k8s.io/paused: this object alone acts on nothing while it has it (workflows/pause.ts). */
  paused: 'cluster.capstan.dev/paused',
} as const;

/**
 * The annotations a Machine's health checks read, as Cluster API's MachineHealthCheck reads its own
 * (a paused Machine, like one with skip-remediation, is no target: its shouldSkipRemediation).
 */
export const REMEDIATION_ANNOTATIONS = [ANNOTATIONS.remediateMachine, ANNOTATIONS.skipRemediation, ANNOTATIONS.paused] as const;

export const LABELS = {
  clusterName: 'cluster.capstan.dev/cluster-name',
  controlPlane: 'cluster.capstan.dev/control-plane',
  controlPlaneName: 'cluster.capstan.dev/control-plane-name',
  /** On a MachineDeployment's sets and machines (Cluster API's cluster.x-k8s.io/deployment-name). */
  deploymentName: 'cluster.capstan.dev/deployment-name',
  /** On a MachineSet's machines (Cluster API's cluster.x-k8s.io/set-name). */
  setName: 'cluster.capstan.dev/set-name',
} as const;

// RFC 1123 subdomain, as Kubernetes object names; Cluster API additionally keeps cluster names
// to a DNS label (63) because they prefix generated object names.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function objectName(maxLength = 253) {
  return z
    .string()
    .min(1, { error: 'is required', abort: true })
    .max(maxLength, { error: `must be no more than ${maxLength} characters` })
    .regex(DNS1123_SUBDOMAIN, {
      error:
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    });
}

export function namespaceName() {
  return z
    .string()
    .max(63, { error: 'must be no more than 63 characters' })
    .regex(DNS1123_LABEL, {
      error: "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    });
}

export function objectMetaSchema(nameMaxLength = 253) {
  return z.strictObject({
    name: objectName(nameMaxLength),
    namespace: namespaceName().default('default'),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
  });
}
export type ObjectMeta = z.infer<ReturnType<typeof objectMetaSchema>>;

/** Cluster API v1beta2's ContractVersionedObjectReference: group, kind and name (same namespace). */
export function objectRefSchema() {
  return z.strictObject({
    apiGroup: z.string().min(1, { error: 'is required' }),
    kind: z.string().min(1, { error: 'is required' }),
    name: objectName(),
  });
}
export type ObjectRef = z.infer<ReturnType<typeof objectRefSchema>>;

export type ConditionStatus = 'True' | 'False' | 'Unknown';
/** metav1.Condition, as Cluster API v1beta2 uses it. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A duration in whole seconds, as Cluster API v1beta2's `*Seconds` fields. */
export function seconds() {
  return z.number().int({ error: 'must be an integer', abort: true }).min(0, { error: 'must be >= 0' });
}

/** `key: value` pairs as the kubeadm v1beta4 API writes extra args: a list of name/value. */
export function argListSchema() {
  return z
    .array(z.strictObject({ name: z.string().min(1, { error: 'is required' }), value: z.string() }))
    .default([]);
}

export function kubernetesVersion() {
  return z.string().regex(/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/, {
    error: 'must be a Kubernetes semantic version such as v1.37.2',
  });
}
