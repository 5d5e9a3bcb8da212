// MachineSet (cluster.capstan.dev/v1alpha1): Cluster API v1beta2's MachineSet, which keeps
// `replicas` Machines made from its template. Also the pieces MachineDeployment shares with it:
// the label selector, the machine template and the rules that tie them to the spec.
import { z } from 'zod';
import { machineSpecSchema } from './machine.js';
import { type Condition, GROUPS, LABELS, objectMetaSchema, objectName, VERSION } from './meta.js';

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/**
 * Bounds of label maps and selectors. Kubernetes bounds a label value at 63 characters and a key
 * at 317 (a 253-character prefix, '/', a 63-character name); the counts are capstan's, and give
 * the API server what it needs to cost the CRDs' selector rules (api/crd.ts), which it refuses
 * over unbounded maps and lists.
 */
export const MAX_LABELS = 64;
export const MAX_SELECTOR_EXPRESSIONS = 16;
export const MAX_SELECTOR_VALUES = 64;
const labelKey = () => z.string().min(1, { error: 'is required' }).max(317, { error: 'a label key is at most 317 characters' });
const labelValue = () => z.string().max(63, { error: 'a label value is at most 63 characters' });

/** A map of labels: at most MAX_LABELS, each value at most 63 characters. */
export function labelMapSchema() {
  return z
    .record(labelKey(), labelValue())
    .refine((r) => Object.keys(r).length <= MAX_LABELS, { error: `at most ${MAX_LABELS} labels` })
    .meta({ maxProperties: MAX_LABELS });
}

/** metav1.LabelSelector. */
export function labelSelectorSchema() {
  return z.strictObject({
    matchLabels: labelMapSchema().default({}),
    matchExpressions: z
      .array(
        z.strictObject({
          key: labelKey(),
          operator: z.enum(LABEL_SELECTOR_OPERATORS, { error: `must be one of ${LABEL_SELECTOR_OPERATORS.join(', ')}` }),
          values: z.array(labelValue()).max(MAX_SELECTOR_VALUES, { error: `at most ${MAX_SELECTOR_VALUES} values` }).default([]),
        }),
      )
      .max(MAX_SELECTOR_EXPRESSIONS, { error: `at most ${MAX_SELECTOR_EXPRESSIONS} expressions` })
      .default([]),
  });
}
export type LabelSelector = z.infer<ReturnType<typeof labelSelectorSchema>>;

/** Whether `labels` are selected, as metav1.LabelSelectorAsSelector reads the selector. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  if (!Object.entries(selector.matchLabels).every(([k, v]) => has(k) && labels[k] === v)) return false;
  return selector.matchExpressions.every((e) => {
    switch (e.operator) {
      case 'In':
        return has(e.key) && e.values.includes(labels[e.key]!);
      case 'NotIn':
        return !has(e.key) || !e.values.includes(labels[e.key]!);
      case 'Exists':
        return has(e.key);
      case 'DoesNotExist':
        return !has(e.key);
    }
  });
}

/** Cluster API's MachineTemplateSpec: the labels and annotations of each Machine, and its spec. */
export function machineTemplateSchema() {
  return z.strictObject({
    metadata: z
      .strictObject({
        labels: labelMapSchema().default({}).describe('labels of every Machine made from this template; the selector must match them.'),
        annotations: z.record(z.string(), z.string()).default({}).describe('annotations of every Machine made from this template.'),
      })
      .default({ labels: {}, annotations: {} })
      .describe('metadata of every Machine made from this template.'),
    spec: machineSpecSchema().describe('spec of every Machine made from this template: a change makes new Machines (Machines are replaced, never updated).'),
  });
}
export type MachineTemplate = z.infer<ReturnType<typeof machineTemplateSchema>>;

export const DELETION_ORDERS = ['Random', 'Newest', 'Oldest'] as const;
export type DeletionOrder = (typeof DELETION_ORDERS)[number];

export function setDeletionSchema() {
  return z
    .strictObject({
      order: z
        .enum(DELETION_ORDERS, { error: `must be one of ${DELETION_ORDERS.join(', ')}` })
        .default('Random')
        .describe('order is which machines go first when scaling down, after those already deleting, annotated delete-machine or unhealthy: Random (default), Newest or Oldest.'),
    })
    .default({ order: 'Random' })
    .describe('deletion says which machines go first when the set scales down.');
}

/** spec.replicas of a MachineSet or MachineDeployment: Cluster API defaults it to 1. */
export function setReplicasSchema() {
  return z.number().int({ error: 'must be an integer', abort: true }).min(0, { error: 'must be >= 0' }).default(1).describe('replicas is the number of machines wanted. Default 1.');
}

/** The fields a MachineSet and a MachineDeployment share. */
export function machineSetLikeFields() {
  return {
    clusterName: objectName(63).describe('clusterName is the name of the Cluster this object belongs to. Immutable.'),
    replicas: setReplicasSchema(),
    selector: labelSelectorSchema().describe('selector selects the Machines this object owns; it must match the template\'s labels.'),
    template: machineTemplateSchema().describe('template is what each Machine is made from: its labels and its spec (version, bootstrap config template, infrastructure template).'),
    deletion: setDeletionSchema(),
  };
}

interface SetLikeSpec {
  clusterName: string;
  selector: LabelSelector;
  template: MachineTemplate;
}

/**
 * The rules between fields of a MachineSet's or MachineDeployment's spec, each refused with
 * the path (relative to spec) of the field to change.
 */
export function setLikeProblems(spec: SetLikeSpec): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  spec.selector.matchExpressions.forEach((e, i) => {
    const wantsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (wantsValues && e.values.length === 0) out.push({ path: ['selector', 'matchExpressions', i, 'values'], message: `must be non-empty when operator is ${e.operator}` });
    if (!wantsValues && e.values.length > 0) out.push({ path: ['selector', 'matchExpressions', i, 'values'], message: `must be empty when operator is ${e.operator}` });
  });
  // An empty selector would select every Machine of the namespace (Kubernetes refuses it for
  // Deployments and ReplicaSets for the same reason).
  if (Object.keys(spec.selector.matchLabels).length === 0 && spec.selector.matchExpressions.length === 0) {
    out.push({ path: ['selector'], message: 'must not be empty (it would select every Machine of the namespace)' });
  } else if (!selectorMatches(spec.selector, spec.template.metadata.labels)) {
    // The set would never count the machines it creates, and would create them forever.
    out.push({ path: ['selector'], message: 'does not match spec.template.metadata.labels' });
  }
  if (spec.template.spec.clusterName !== spec.clusterName) {
    out.push({
      path: ['template', 'spec', 'clusterName'],
      message: `must be the set's spec.clusterName "${spec.clusterName}" (a template for cluster "${spec.template.spec.clusterName}")`,
    });
  }
  // The machines are labelled with their cluster's name whatever the template says: a template
  // (and a selector) that says another would never select them.
  const named = spec.template.metadata.labels[LABELS.clusterName];
  if (named !== undefined && named !== spec.clusterName) {
    out.push({ path: ['template', 'metadata', 'labels', LABELS.clusterName], message: `must be spec.clusterName "${spec.clusterName}" (the machines carry their cluster's name), not "${named}"` });
  }
  return out;
}

/**
 * The label an owner puts on what it makes, named after itself (a deployment's
 * `cluster.capstan.dev/deployment-name`, a set's `cluster.capstan.dev/set-name`): a template that
 * says another name would select none of the machines made.
 */
export function ownerLabelProblem(spec: SetLikeSpec, label: string, name: string): { path: (string | number)[]; message: string } | undefined {
  const v = spec.template.metadata.labels[label];
  if (v === undefined || v === name) return undefined;
  return { path: ['spec', 'template', 'metadata', 'labels', label], message: `must be this object's name "${name}" (its machines carry it), not "${v}"` };
}

export function machineSetSpecSchema() {
  return z.strictObject(machineSetLikeFields()).superRefine((spec, ctx) => {
    for (const p of setLikeProblems(spec)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });
}
export type MachineSetSpec = z.infer<ReturnType<typeof machineSetSpecSchema>>;

export function machineSetSchema() {
  return z
    .strictObject({
      apiVersion: z.literal(`${GROUPS.cluster}/${VERSION}`),
      kind: z.literal('MachineSet'),
      metadata: objectMetaSchema(),
      spec: machineSetSpecSchema(),
    })
    .superRefine((o, ctx) => {
      const p = ownerLabelProblem(o.spec, LABELS.setName, o.metadata.name);
      if (p) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    });
}
export type MachineSet = z.infer<ReturnType<typeof machineSetSchema>>;

/** Cluster API v1beta2's MachineSet condition types. */
export const MACHINE_SET_CONDITIONS = ['MachinesReady', 'MachinesUpToDate', 'ScalingUp', 'ScalingDown', 'Remediating', 'Deleting'] as const;

export interface MachineSetStatus {
  selector?: string;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  upToDateReplicas: number;
  conditions: Condition[];
  observedGeneration: number;
}
