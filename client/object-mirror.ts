// The objects the workflows create, mirrored into the management cluster as Cluster API's
// controllers would have created them: a MachineDeployment's MachineSets (owned by it), every
// set's and control plane's Machines (owned by their set or KubeadmControlPlane) and each Machine's
// KubeadmConfig and SimMachine (owned by it), with capstan's cluster-name label and the workflow ID
// and run annotations; and the status of Clusters, SimClusters, Machines, MachineSets,
// MachineDeployments, KubeadmControlPlanes and MachineHealthChecks. `kubectl get machines` and
// `kubectl describe` show what the workflows do. Some conditions the watcher computes itself from
// what it has, as Cluster API's controllers compute them from their objects: a set's and
// deployment's Remediating (remediating-condition.ts), a Machine's UpToDate and Available
// (machine-up-to-date.ts), a Cluster's aggregates of its descendants (cluster-aggregates.ts).
//
// What it costs Temporal: Machines come from visibility (their phase, Node and provider ID are
// search attributes, their labels and owner a memo written at start; their Nodes' health is in
// their Cluster's memo): a list, no action. A deployment or health check is asked (one query)
// only when one of its machines changed (its Node's health included) or its object did, or the
// health check's memo shows another set of unhealthy machines; a deployment's set whenever its
// deployment is (its conditions), a set of the user's own when it or its machines changed. A
// converged fleet costs nothing, and writes nothing to the management API: every write is
// compared with what the object already says.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1OwnerReference } from '@kubernetes/client-node';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { customObjectAt } from '../api/crd.js';
import type { KindName } from '../api/kinds.js';
import { ANNOTATIONS, type Condition, GROUPS, LABELS, VERSION } from '../api/meta.js';
import { clusterWorkflowId, controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, parseWorkflowId } from '../workflows/ids.js';
import { annotationsIfAny, type ClusterListMemo, LIST_MEMO, MACHINE_FACTS_MEMO, type MachineFacts, type MachineListMemo, remediationShown, UNHEALTHY_MEMO } from '../workflows/list-memo.js';
import { ConditionType, Reason } from '../workflows/conditions.js';
import { HEALTHY_NODE_KEY, nodeConditionsFromKey } from '../workflows/planners/node-conditions.js';
import { connectionDownKey, probeFailedSince } from '../workflows/planners/remote-connection.js';
import { controlPlaneStatusQuery, machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery, machineStatusQuery } from '../workflows/messages.js';
import { SA_CLUSTER, SA_KIND, SA_NODE_NAME, SA_PHASE, SA_PROVIDER_ID } from '../workflows/search-attributes.js';
import { compareVersions } from '../workflows/planners/control-plane-rollout.js';
import { canonicalJson } from '../workflows/spec-diff.js';
import type { MachineDeploymentView, MachineHealthCheckView, MachineSetView } from '../workflows/types.js';
import { machineDeploymentPhase } from './machine-deployments.js';
import { TEMPLATE_ANNOTATIONS_ANNOTATION } from './object-manifest.js';
import { aggregateCondition, type Descendant, type MachineSeen, machinesCondition } from './cluster-aggregates.js';
import { withCondition } from './condition-merge.js';
import { hasPausedAnnotation, pausedCondition } from '../workflows/pause.js';
import { availableCondition, controlPlaneUpToDate, rollingOutMessage, templateDifferences, upToDateCondition } from './machine-up-to-date.js';
import { remediatingCondition, remediationKey, remediationSeen } from './remediating-condition.js';
import { clusterStatusFrom, mirroredPart } from './status-mirror.js';

export const FIELD_MANAGER = 'capstan';
/** Where an operator finds the object in the Temporal UI: its workflow, and that workflow's current run. */
export const WORKFLOW_ID_ANNOTATION = 'capstan.dev/workflow-id';
export const RUN_ID_ANNOTATION = 'capstan.dev/run-id';
/** Held by every object capstan drives until its workflow has finished deleting it. */
export const FINALIZER = 'capstan.dev/lifecycle';

export interface MirroredObject extends KubernetesObject {
  kind?: string;
  spec?: Record<string, any>;
  status?: Record<string, any>;
}

/** What one visibility list shows: running Machines, Clusters' list data, every workflow's current run. */
export interface Visible {
  machines: VisibleMachine[];
  clusters: Map<string, { phase: string; memo: ClusterListMemo }>;
  /** Each health check's unhealthy machines as its memo shows them (revision 5), by workflow ID. */
  healthChecks: Map<string, string>;
  runs: Map<string, string>;
}

/** A running Machine workflow as visibility lists it. */
export interface VisibleMachine {
  workflowId: string;
  runId: string;
  namespace: string;
  name: string;
  cluster: string;
  phase: string;
  nodeName?: string;
  providerID?: string;
  version?: string;
  facts: MachineFacts;
  /**
   * A Running machine's NodeReady/NodeHealthy key (planners/node-conditions.ts), from its
   * Cluster's list memo (revision 5); Unknown/ConnectionDown while the Cluster's workload API
   * does not answer (revision 6); undefined when its Cluster does not say.
   */
  nodeKey?: string;
  /** Revision 6: since when its Cluster's workload API has not answered (nodeKey says Unknown/ConnectionDown). */
  connectionDownSince?: string;
  /** Its remediation annotations, from its memo (list-memo.ts REMEDIATION_MEMO): they change its health checks' targets. */
  remediation?: string[];
}

export interface ObjectMirrorOptions {
  objects: CustomObjectsApi;
  temporal: Client;
  /** The informers' cache: every capstan object the watcher sees. */
  cached: () => MirroredObject[];
  /** The generation of each object (`Kind/namespace/name`) last applied to its workflow. */
  applied: Map<string, number>;
  writeOnlyChanges: boolean;
  /**
   * How long an object is asked again after its machines changed (default 10 s): a workflow learns
   * of a change a moment after visibility shows it (a set's report, a health check's Node event),
   * so one answer right after a change may be stale. Asking stops once this long brought no write.
   */
  settleMs?: number;
  /** How long a machine may stay in a passing phase before its workflow is asked why (default 30 s). */
  stuckMs?: number;
}

/** `Kind/namespace/name`: how the watcher and the mirror name an object (e.g. the generations applied). */
export const objectKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
/** How long a KubeadmConfig or SimMachine whose Machine is gone is left to the garbage collector. */
const ORPHAN_GRACE_MS = 5 * 60_000;
/** The kinds whose objects show their Cluster's pause (Paused); the Cluster's own comes from its workflow. */
const PAUSABLE = new Set<KindName>(['MachineDeployment', 'MachineSet', 'Machine', 'KubeadmControlPlane', 'MachineHealthCheck']);
/** The kinds whose workflow honours Cluster API's paused annotation on its own object (pause.ts; not yet a Machine's). */
const ANNOTATION_PAUSABLE = new Set<KindName>(['KubeadmControlPlane', 'MachineDeployment', 'MachineSet', 'MachineHealthCheck']);
/** Machine writes in flight at once: a wave of changes (a whole set created) reaches Kubernetes in parallel. */
const WRITE_CONCURRENCY = 8;

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// Key order aside: the API server gives objects back with their keys sorted.
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
/** Running with a Node: its kubelet has joined (whatever it says since). */
const running = (m: Pick<VisibleMachine, 'phase' | 'nodeName'>) => m.phase === 'Running' && !!m.nodeName;
/** Ready as Cluster API counts it: Running with a Node that is healthy (or not known to be otherwise). */
const ready = (m: VisibleMachine) => running(m) && (m.nodeKey === undefined || m.nodeKey === HEALTHY_NODE_KEY);

/**
 * A Running machine's Node conditions as its Cluster told them (NodeReady, NodeHealthy) and the
 * Ready that follows NodeHealthy, as the Machine workflow sets them; none when the Cluster does not say.
 */
export function nodeHealthConditions(m: Pick<VisibleMachine, 'phase' | 'nodeName' | 'nodeKey'>): Omit<Condition, 'lastTransitionTime'>[] {
  if (!running(m) || m.nodeKey === undefined) return [];
  const { nodeReady, nodeHealthy } = nodeConditionsFromKey(m.nodeKey);
  const machineReady = nodeHealthy.status === 'True' ? { type: ConditionType.Ready, status: 'True' as const, reason: Reason.Ready } : { ...nodeHealthy, type: ConditionType.Ready };
  return [nodeReady, nodeHealthy, machineReady].map((c) => ({ ...c, message: c.message ?? '' }));
}

/** What a health check said at its last answer: its targets, and why each unhealthy one is. */
export interface HealthVerdictSeen {
  name: string;
  namespace: string;
  targets: Set<string>;
  unhealthy: Record<string, { reason: string; message: string }>;
  /** Targets not unhealthy with a timeout running: the check leaves their condition as it was. */
  pending?: Set<string>;
  /** Unhealthy machines waiting for their deployment's maxInFlight, and why (their OwnerRemediated). */
  deferred?: Record<string, string>;
}

/**
 * A machine's HealthCheckSucceeded, as Cluster API's MachineHealthCheck sets it on its targets:
 * False with the reason when a check found it unhealthy; as `written` while a check's timeout on it
 * is running (Cluster API's "likely to go unhealthy" leaves the condition alone: a Node just gone
 * NotReady is neither healthy nor yet unhealthy); True (HealthCheckSucceeded) when it is a Running
 * target with a Node that no check found unhealthy; none when no check targets it.
 */
export function healthCheckConditions(
  m: Pick<VisibleMachine, 'namespace' | 'name' | 'phase' | 'nodeName'>,
  verdicts: Iterable<HealthVerdictSeen>,
  written?: Pick<Condition, 'type' | 'status' | 'reason' | 'message'>,
): Omit<Condition, 'lastTransitionTime'>[] {
  let targeted = false;
  let pending = false;
  for (const v of [...verdicts].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (v.namespace !== m.namespace || !v.targets.has(m.name)) continue;
    const why = v.unhealthy[m.name];
    if (why) {
      const failed: Omit<Condition, 'lastTransitionTime'> = { type: ConditionType.HealthCheckSucceeded, status: 'False', reason: why.reason, message: `${why.message} (MachineHealthCheck ${v.name})` };
      // Waiting for its deployment's maxInFlight: Cluster API's MachineSet says so on OwnerRemediated.
      const waiting = v.deferred?.[m.name];
      return waiting ? [failed, { type: ConditionType.OwnerRemediated, status: 'False', reason: 'RemediationDeferred', message: waiting }] : [failed];
    }
    targeted = true;
    if (v.pending?.has(m.name)) pending = true;
  }
  // (Neither Running with a Node nor unhealthy — starting, being deleted — it is left as it was too.)
  if (pending || (targeted && !running(m))) return written?.type === ConditionType.HealthCheckSucceeded ? [{ type: written.type, status: written.status, reason: written.reason, message: written.message ?? '' }] : [];
  return targeted ? [{ type: ConditionType.HealthCheckSucceeded, status: 'True', reason: 'HealthCheckSucceeded', message: '' }] : [];
}

/**
 * A machine its set deletes as a remediation: Cluster API's MachineSet says so on its
 * OwnerRemediated (False, MachineDeleting) until it is gone.
 */
export function ownerRemediated(m: Pick<VisibleMachine, 'phase'>, remediating: boolean): Omit<Condition, 'lastTransitionTime'>[] {
  return remediating && m.phase === 'Deleting' ? [{ type: ConditionType.OwnerRemediated, status: 'False', reason: 'MachineDeleting', message: 'Machine is deleting' }] : [];
}

/**
 * A deployment's conditions while its cluster's workload API does not answer: not Available (no
 * machine is known to be), since the probe failed — a fixed time, so passes write nothing new.
 */
export function blindAvailable(conditions: Condition[] | undefined, since: string, cluster: string): Condition[] {
  const available: Condition = { type: ConditionType.Available, status: 'False', reason: Reason.NotAvailable, message: `0 available replicas: the workload API of cluster ${cluster} is not answering`, lastTransitionTime: since };
  return [available, ...(conditions ?? []).filter((c) => c.type !== ConditionType.Available)];
}

/** A label selector as `kubectl get -l` and the scale subresource's status.selector write it. */
export function selectorString(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }): string {
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const expressions = (selector.matchExpressions ?? []).map((e) => {
    switch (e.operator) {
      case 'In':
        return `${e.key} in (${(e.values ?? []).join(',')})`;
      case 'NotIn':
        return `${e.key} notin (${(e.values ?? []).join(',')})`;
      case 'Exists':
        return e.key;
      default:
        return `!${e.key}`;
    }
  });
  return [...labels, ...expressions].join(',');
}

/**
 * A deployment's set as Cluster API's object says it: the deployment's selector narrowed to the
 * set (its set-name label, which every machine of the set carries), its template as the set's
 * workflow has it.
 */
export function setObjectSpec(name: string, view: Pick<MachineDeploymentView, 'spec'>, spec: MachineSetView['spec'] | undefined): Record<string, unknown> | undefined {
  if (!spec) return undefined;
  const selector = view.spec.selector;
  return {
    clusterName: spec.clusterName,
    replicas: spec.replicas,
    selector: { matchLabels: { ...selector.matchLabels, [LABELS.setName]: name }, ...(selector.matchExpressions.length ? { matchExpressions: selector.matchExpressions } : {}) },
    template: { metadata: { labels: { ...spec.template.metadata.labels, [LABELS.setName]: name }, ...annotationsIfAny(spec.template.metadata.annotations) }, spec: spec.template.spec },
    ...(spec.deletion?.order ? { deletion: { order: spec.deletion.order } } : {}),
  };
}

/**
 * A deployment's set's spec as written, with what the deployment changes in place on its sets
 * (the template's labels, annotations, deletion timeouts and minReadySeconds: Cluster API's in-place
 * propagation) taken from the deployment; undefined when the object shows them already.
 */
export function setSpecInPlace(written: Record<string, any>, view: Pick<MachineDeploymentView, 'name' | 'spec'>, setName: string): Record<string, unknown> | undefined {
  const template = written.template ?? {};
  const want = setInPlace(view, setName);
  const have = { labels: template.metadata?.labels ?? {}, annotations: template.metadata?.annotations ?? {}, deletion: template.spec?.deletion ?? {}, minReadySeconds: template.spec?.minReadySeconds ?? 0 };
  if (canonicalJson(want) === canonicalJson(have)) return undefined;
  const { annotations: _a, labels: _l, ...metadata } = template.metadata ?? {};
  return {
    ...written,
    template: {
      ...template,
      metadata: { ...metadata, labels: want.labels, ...annotationsIfAny(want.annotations) },
      spec: { ...template.spec, deletion: want.deletion, minReadySeconds: want.minReadySeconds },
    },
  };
}

/** What a deployment gives its set's template in place: labels, annotations, deletion timeouts and order, minReadySeconds. */
export function setInPlace(view: Pick<MachineDeploymentView, 'name' | 'spec'>, setName: string) {
  return {
    labels: { ...view.spec.template.metadata.labels, [LABELS.deploymentName]: view.name, [LABELS.setName]: setName },
    annotations: view.spec.template.metadata.annotations ?? {},
    deletion: view.spec.template.spec.deletion ?? {},
    minReadySeconds: view.spec.minReadySeconds || view.spec.template.spec.minReadySeconds || 0,
  };
}

/** A 404: what was to go is gone already. */
function unlessGone(err: { code?: number }): void {
  if (err.code !== 404) throw err;
}

const ownedBy = (o: MirroredObject, owner: MirroredObject) => o.metadata?.ownerReferences?.some((r) => r.uid === owner.metadata?.uid) ?? false;

/**
 * The specs a machine's KubeadmConfig and SimMachine are cloned from: its set's templates
 * (spec.template.spec.bootstrap.configRef, .infrastructureRef) or its control plane's
 * (spec.kubeadmConfigSpec, spec.machineTemplate.spec.infrastructureRef). A template that is not
 * in the management cluster leaves the schema's defaults.
 */
export function partTemplates(owner: MirroredObject, find: (kind: KindName, name: string) => MirroredObject | undefined): { config: Record<string, unknown>; infrastructure: Record<string, unknown> } {
  const templateSpec = (kind: KindName, name: string | undefined) => (name ? find(kind, name)?.spec?.template?.spec : undefined) ?? {};
  if (owner.kind === 'KubeadmControlPlane') {
    return { config: owner.spec?.kubeadmConfigSpec ?? {}, infrastructure: templateSpec('SimMachineTemplate', owner.spec?.machineTemplate?.spec?.infrastructureRef?.name) };
  }
  const spec = owner.spec?.template?.spec;
  return { config: templateSpec('KubeadmConfigTemplate', spec?.bootstrap?.configRef?.name), infrastructure: templateSpec('SimMachineTemplate', spec?.infrastructureRef?.name) };
}

/**
 * The labels and annotations of a workflow-made machine's KubeadmConfig and SimMachine: its own
 * (Cluster API's MachineSet creates them with the Machine's), the template annotations listed as on it.
 */
export function partMetadata(m: Pick<VisibleMachine, 'cluster' | 'facts'>): { labels: Record<string, string>; annotations?: Record<string, string> } {
  const keys = Object.keys(m.facts.annotations ?? {}).sort();
  return {
    labels: { ...m.facts.labels, [LABELS.clusterName]: m.cluster },
    ...(keys.length ? { annotations: { ...m.facts.annotations, [TEMPLATE_ANNOTATIONS_ANNOTATION]: keys.join(',') } } : {}),
  };
}

/** The Machine whose object key `key` (any of its objects': `Kind/namespace/name`) names. */
function machineKeyOf(key: string): string {
  return key.replace(/^[^/]+\//, 'Machine/');
}

/** The Machine object a workflow-created machine is: Cluster API's spec, owned by its set or control plane. */
export function machineObject(m: VisibleMachine, owner: MirroredObject): MirroredObject {
  return {
    apiVersion: `${GROUPS.cluster}/${VERSION}`,
    kind: 'Machine',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      ...machineMetadata(m),
      // `kubectl delete machine` waits, as Cluster API's does, until the machine is drained and its instance gone.
      finalizers: [FINALIZER],
      ownerReferences: [ownerReference(owner)],
    },
    spec: {
      clusterName: m.cluster,
      bootstrap: { configRef: { apiGroup: GROUPS.bootstrap, kind: 'KubeadmConfig', name: m.name } },
      infrastructureRef: { apiGroup: GROUPS.infrastructure, kind: 'SimMachine', name: m.name },
      ...(m.version ? { version: m.version } : {}),
      ...(m.providerID ? { providerID: m.providerID } : {}),
      ...machineSpecInPlace(owner),
    },
  };
}

/**
 * A workflow-made Machine's labels and annotations: its set's template's, as Cluster API's
 * MachineSet sets them (the annotations' keys listed so the watcher does not take them for a
 * user's and send them back), its workflow and run.
 */
export function machineMetadata(m: Pick<VisibleMachine, 'facts' | 'workflowId' | 'runId'>): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: m.facts.labels,
    annotations: {
      ...m.facts.annotations,
      [WORKFLOW_ID_ANNOTATION]: m.workflowId,
      [RUN_ID_ANNOTATION]: m.runId,
      ...(m.facts.annotations && Object.keys(m.facts.annotations).length ? { [TEMPLATE_ANNOTATIONS_ANNOTATION]: Object.keys(m.facts.annotations).sort().join(',') } : {}),
    },
  };
}

/**
 * The label and annotation keys an object's metadata holds under capstan's server-side apply (its
 * managedFields): what the mirror applied last, whichever watcher it was.
 */
export function appliedMetadataKeys(obj: MirroredObject): { labels: string[]; annotations: string[] } {
  const keys = (fields: unknown) => Object.keys((fields ?? {}) as object).filter((k) => k.startsWith('f:')).map((k) => k.slice(2));
  const mine = (obj.metadata?.managedFields ?? []).filter((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply');
  const metadata = (f: (typeof mine)[number]) => (f.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:metadata'];
  return { labels: mine.flatMap((f) => keys(metadata(f)?.['f:labels'])), annotations: mine.flatMap((f) => keys(metadata(f)?.['f:annotations'])) };
}

/** Whether capstan's last apply of an object set a label or annotation `want` no longer has (a template dropped it while no watcher ran). */
export function droppedSinceApplied(obj: MirroredObject, want: { labels: Record<string, string>; annotations?: Record<string, string> }): boolean {
  const applied = appliedMetadataKeys(obj);
  return applied.labels.some((k) => !(k in want.labels)) || applied.annotations.some((k) => !(k in (want.annotations ?? {})));
}

/**
 * What a Machine's spec takes in place from its owner's template, as Cluster API's MachineSet and
 * KubeadmControlPlane change it on their machines: the deletion timeouts, and a set's
 * minReadySeconds (each only when the owner's object has it).
 */
export function machineSpecInPlace(owner: MirroredObject): { minReadySeconds?: number; deletion?: Record<string, unknown> } {
  const spec = owner.kind === 'KubeadmControlPlane' ? owner.spec?.machineTemplate?.spec : owner.spec?.template?.spec;
  return {
    ...(owner.kind !== 'KubeadmControlPlane' && typeof spec?.minReadySeconds === 'number' ? { minReadySeconds: spec.minReadySeconds } : {}),
    ...(spec?.deletion ? { deletion: spec.deletion } : {}),
  };
}

/** Whether a Machine object shows other in-place fields than its owner's template has (only those the owner has are compared). */
export function specInPlaceChanged(machine: MirroredObject, owner: MirroredObject): boolean {
  return Object.entries(machineSpecInPlace(owner)).some(([k, v]) => canonicalJson(v) !== canonicalJson(machine.spec?.[k]));
}

export function ownerReference(owner: MirroredObject): V1OwnerReference {
  return { apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** A Machine's status as its workflow shows it: phase, Node and conditions. */
export function machineStatus(m: VisibleMachine, generation: number | undefined, conditions: Condition[]): Record<string, unknown> {
  return { phase: m.phase, ...(m.nodeName ? { nodeRef: { name: m.nodeName } } : {}), ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions };
}

/**
 * The conditions a Machine's phase alone tells (no action): its bootstrap data exists from
 * Provisioning on, its instance from Provisioned on, and Deleting is Deleting. Its Node's
 * conditions are the workflow's to tell (see ObjectMirror's stuck machines).
 */
export function phaseConditions(phase: string): Omit<Condition, 'lastTransitionTime'>[] {
  const made = phase === 'Provisioning' || phase === 'Provisioned' || phase === 'Running' || phase === 'Deleting';
  const up = phase === 'Provisioned' || phase === 'Running' || phase === 'Deleting';
  return [
    ...(made ? [{ type: ConditionType.BootstrapConfigReady, status: 'True' as const, reason: Reason.DataSecretAvailable, message: '' }] : []),
    ...(made
      ? [up ? { type: ConditionType.InfrastructureReady, status: 'True' as const, reason: Reason.Provisioned, message: '' } : { type: ConditionType.InfrastructureReady, status: 'False' as const, reason: Reason.Provisioning, message: 'Creating the instance' }]
      : []),
    ...(phase === 'Deleting' ? [{ type: ConditionType.Deleting, status: 'True' as const, reason: Reason.Deleting, message: '' }] : []),
  ];
}

/** Phases a machine passes through on its way: one it stays in for long is stuck, and its workflow says why. */
const PASSING_PHASES = new Set(['Pending', 'Provisioning', 'Provisioned', 'Deleting']);

/** Counts of a set's or control plane's machines, as Cluster API's controllers count them. */
export function machineCounts(machines: VisibleMachine[], upToDate: (m: VisibleMachine) => boolean) {
  const live = machines.filter((m) => m.phase !== 'Deleting');
  const readyReplicas = live.filter(ready).length;
  return { replicas: machines.length, readyReplicas, availableReplicas: readyReplicas, upToDateReplicas: live.filter(upToDate).length };
}

/** A workflow's conditions as observing the object's generation (not the workflow's own count). */
const atGeneration = (conditions: Condition[] | undefined, generation: { observedGeneration?: number }) => (conditions ?? []).map((c) => ({ ...c, ...generation }));

/** The part of a status the mirror writes, to compare with what it would write. */
const mirrored = (status: Record<string, any> | undefined, want: Record<string, unknown>) => Object.fromEntries(Object.keys(want).map((k) => [k, status?.[k]]));

export class ObjectMirror {
  /** Writes to the management API so far (objects and statuses). */
  writes = 0;
  /** Workflow queries so far (each is a billed action). */
  queries = 0;
  private readonly seen = new Map<string, string>();
  /** Until when each object is asked again (see settleMs). */
  private readonly settling = new Map<string, number>();

  constructor(private readonly o: ObjectMirrorOptions) {}

  /**
   * One visibility list of every running workflow: the Machines (those started with list data: all
   * since revision 2), the Clusters' list memos, and each workflow's current run.
   */
  async visible(): Promise<Visible> {
    const out: Visible = { machines: [], clusters: new Map(), healthChecks: new Map(), runs: new Map() };
    for await (const wf of this.o.temporal.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      const id = parseWorkflowId(wf.workflowId);
      if (!id) continue;
      out.runs.set(wf.workflowId, wf.runId);
      const sa = wf.typedSearchAttributes;
      const kind = sa.get(SA_KIND);
      if (kind === 'Cluster') {
        const memo = wf.memo?.[LIST_MEMO] as ClusterListMemo | undefined;
        if (memo) out.clusters.set(wf.workflowId, { phase: sa.get(SA_PHASE) ?? '', memo });
        continue;
      }
      if (kind === 'MachineHealthCheck') {
        if (wf.memo?.[UNHEALTHY_MEMO]) out.healthChecks.set(wf.workflowId, JSON.stringify(wf.memo[UNHEALTHY_MEMO]));
        continue;
      }
      const facts = wf.memo?.[MACHINE_FACTS_MEMO] as MachineFacts | undefined;
      if (kind !== 'Machine' || !facts) continue;
      const list = wf.memo?.[LIST_MEMO] as MachineListMemo | undefined;
      const remediation = remediationShown(wf.memo);
      out.machines.push({
        workflowId: wf.workflowId,
        runId: wf.runId,
        namespace: id.namespace,
        name: id.name,
        cluster: sa.get(SA_CLUSTER) ?? '',
        phase: sa.get(SA_PHASE) ?? 'Pending',
        ...(sa.get(SA_NODE_NAME) ? { nodeName: sa.get(SA_NODE_NAME) } : {}),
        ...(sa.get(SA_PROVIDER_ID) ? { providerID: sa.get(SA_PROVIDER_ID) } : {}),
        ...(list?.version ? { version: list.version } : {}),
        ...(remediation ? { remediation } : {}),
        facts,
      });
    }
    // A Running machine's Node conditions, as its Cluster's mirror told them (revision 5).
    for (const m of out.machines) {
      const memo = out.clusters.get(clusterWorkflowId({ namespace: m.namespace, name: m.cluster }))?.memo;
      if (!memo?.nodes || !running(m)) continue;
      // While the cluster's workload API does not answer, its Nodes' state is unknown (revision 6).
      const since = probeFailedSince(memo.probe);
      if (since) {
        m.nodeKey = connectionDownKey(since);
        m.connectionDownSince = since;
      } else m.nodeKey = memo.nodes[m.name] ?? HEALTHY_NODE_KEY;
    }
    return out;
  }

  /** One pass: Clusters; sets and deployments (machines' owners), health checks, then machines, then control planes. */
  async pass(): Promise<void> {
    this.index = new Map(this.o.cached().map((o) => [objectKey(o.kind ?? '', o.metadata?.namespace ?? '', o.metadata?.name ?? ''), o]));
    const { machines, clusters, healthChecks, runs } = await this.visible();
    await this.clusters(clusters, machines);
    await this.deployments(machines);
    await this.standaloneSets(machines);
    // The health checks before the machines: a machine's HealthCheckSucceeded is what they found.
    await this.healthChecks(machines, healthChecks);
    await this.machines(machines);
    await this.orphanedParts();
    await this.controlPlanes(machines);
    await this.runAnnotations(runs);
  }

  /**
   * A Cluster's RollingOut, ScalingUp and ScalingDown from its control plane's and deployments'
   * (as last mirrored: a pass behind them at most), its Remediating from its machines, and its
   * ControlPlane/WorkerMachinesReady and …UpToDate from its Machine objects'.
   */
  private clusterAggregates(cluster: MirroredObject, machines: VisibleMachine[]): Omit<Condition, 'lastTransitionTime'>[] {
    const namespace = cluster.metadata!.namespace!;
    const name = cluster.metadata!.name!;
    const cpRef = cluster.spec?.controlPlaneRef as { kind?: string; name?: string } | undefined;
    const cpConditions = cpRef?.kind === 'KubeadmControlPlane' && cpRef.name ? (this.controlPlaneConditions.get(objectKey('KubeadmControlPlane', namespace, cpRef.name)) ?? (this.find('KubeadmControlPlane', namespace, cpRef.name)?.status?.conditions as Condition[] | undefined)) : undefined;
    const deployments = this.o.cached().filter((o) => o.kind === 'MachineDeployment' && o.metadata?.namespace === namespace && o.spec?.clusterName === name && !o.metadata?.deletionTimestamp);
    // (A set no deployment owns: Cluster API counts it for scaling.)
    const sets = this.o.cached().filter((o) => o.kind === 'MachineSet' && o.metadata?.namespace === namespace && o.spec?.clusterName === name && !o.metadata?.ownerReferences?.some((r) => r.controller) && !o.metadata?.deletionTimestamp);
    const conditionOf = (o: MirroredObject, type: string) => (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
    const of = (type: string): Descendant[] => [
      ...(cpRef?.name ? [{ kind: 'KubeadmControlPlane' as const, name: cpRef.name, condition: cpConditions?.find((c) => c.type === type) }] : []),
      ...deployments.map((d) => ({ kind: 'MachineDeployment' as const, name: d.metadata!.name!, condition: conditionOf(d, type) })),
      ...(type === 'RollingOut' ? [] : sets.map((x) => ({ kind: 'MachineSet' as const, name: x.metadata!.name!, condition: conditionOf(x, type) }))),
    ];
    const remediating = machines.filter((m) => this.remediating.has(objectKey('Machine', namespace, m.name))).map((m) => m.name);
    const seen = remediationSeen(namespace, machines.map((m) => m.name), remediating, this.healthVerdicts.values());
    // Its machines' Ready and UpToDate, as their objects show them.
    const seenAs = (m: VisibleMachine, type: string): MachineSeen => {
      const o = this.find('Machine', namespace, m.name);
      const created = o?.metadata?.creationTimestamp;
      return { name: m.name, condition: (o?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type), ...(created ? { created: Date.parse(String(created)) } : {}) };
    };
    const cp = machines.filter((m) => m.facts.labels[LABELS.controlPlaneName]);
    const workers = machines.filter((m) => !m.facts.labels[LABELS.controlPlaneName]);
    const now = Date.now();
    return [
      ...['RollingOut', 'ScalingUp', 'ScalingDown'].map((t) => aggregateCondition(t, of(t))),
      remediatingCondition('Cluster', seen),
      machinesCondition('ControlPlaneMachinesReady', 'Ready', cp.map((m) => seenAs(m, 'Ready')), now),
      machinesCondition('WorkerMachinesReady', 'Ready', workers.map((m) => seenAs(m, 'Ready')), now),
      machinesCondition('ControlPlaneMachinesUpToDate', 'UpToDate', cp.map((m) => seenAs(m, 'UpToDate')), now),
      machinesCondition('WorkerMachinesUpToDate', 'UpToDate', workers.map((m) => seenAs(m, 'UpToDate')), now),
    ];
  }

  /** Each Cluster's status from its workflow's phase and list memo (client/status-mirror.ts), read from visibility. */
  private async clusters(visible: Visible['clusters'], machines: VisibleMachine[]): Promise<void> {
    for (const obj of this.o.cached().filter((o) => o.kind === 'Cluster')) {
      const { namespace, name } = obj.metadata as { namespace: string; name: string };
      const wf = visible.get(clusterWorkflowId({ namespace, name }));
      if (!wf) continue;
      const want = clusterStatusFrom(wf.phase, wf.memo, this.o.applied.get(objectKey('Cluster', namespace, name)));
      // (A revision-9 Cluster's conditions: with those Cluster API aggregates from its descendants.)
      if (wf.memo.conditions) {
        const generation = want.observedGeneration !== undefined ? { observedGeneration: want.observedGeneration } : {};
        const merged = this.clusterAggregates(obj, machines.filter((m) => m.namespace === namespace && m.cluster === name)).reduce(
          (all, c) => withCondition(all, { ...c, ...generation }, obj.status?.conditions, new Date()),
          want.conditions as Condition[],
        );
        want.conditions = merged;
      }
      const written = this.writeStatus('Cluster', obj, want as unknown as Record<string, unknown>, (status) => mirroredPart(status, want));
      // A Cluster being deleted shows it too (phase Deleting, its Deleting condition) until its
      // finalizer goes, as Cluster API's does; it may be gone by the time the status is written.
      if (obj.metadata?.deletionTimestamp) {
        await written.catch(unlessGone);
        continue;
      }
      await written;
      const referenced = (ref: { kind?: KindName; name?: string } | undefined) => (ref?.kind && ref.name ? this.find(ref.kind, namespace, ref.name) : undefined);
      const infra = referenced(obj.spec?.infrastructureRef);
      // As Cluster API's Cluster controller labels them: `kubectl get kcp,simclusters` shows the cluster.
      for (const part of [referenced(obj.spec?.controlPlaneRef), infra]) {
        if (part && part.metadata?.labels?.[LABELS.clusterName] !== name) await this.label(part.kind as KindName, part, { [LABELS.clusterName]: name });
      }
      // The infrastructure cluster's endpoint, once its load balancer exists.
      if (infra?.kind === 'SimCluster' && want.controlPlaneEndpoint) {
        await this.writeStatus('SimCluster', infra, { initialization: { provisioned: true }, controlPlaneEndpoint: want.controlPlaneEndpoint, observedGeneration: infra.metadata?.generation });
      }
    }
  }

  /**
   * Every object with a workflow says which run is current (`capstan.dev/run-id`), next to its
   * workflow ID: the Temporal UI's address of what it is doing. A run changes only when the
   * workflow continues as new, so this writes once per run.
   */
  private async runAnnotations(runs: Visible['runs']): Promise<void> {
    for (const obj of this.o.cached()) {
      const { namespace, name } = obj.metadata as { namespace: string; name: string };
      if (obj.kind === 'Machine' || obj.metadata?.deletionTimestamp) continue;
      const workflowId = obj.metadata?.annotations?.[WORKFLOW_ID_ANNOTATION] ?? (obj.kind === 'KubeadmControlPlane' ? controlPlaneWorkflowId({ namespace, name }) : undefined);
      const runId = workflowId ? runs.get(workflowId) : undefined;
      if (!workflowId || !runId || obj.metadata?.annotations?.[RUN_ID_ANNOTATION] === runId) continue;
      await this.annotate(obj.kind as KindName, obj, { [WORKFLOW_ID_ANNOTATION]: workflowId, [RUN_ID_ANNOTATION]: runId });
    }
  }

  /** The generation a status observed is the object's (named `id`), as last applied to its workflow. */
  private generationOf(id: string): { observedGeneration?: number } {
    const g = this.o.applied.get(id);
    return g === undefined ? {} : { observedGeneration: g };
  }

  /** A workflow's status query, or undefined when the workflow is gone (and `id` is asked again next pass). */
  private async ask<T>(id: string, query: () => Promise<T>): Promise<T | undefined> {
    try {
      this.queries++;
      return await query();
    } catch (err) {
      this.seen.delete(id);
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** The informers' objects by `Kind/namespace/name`, as of the pass's start (and what it wrote since). */
  private index = new Map<string, MirroredObject>();

  private find(kind: KindName, namespace: string, name: string): MirroredObject | undefined {
    return this.index.get(objectKey(kind, namespace, name));
  }

  private ownedBy(kind: KindName, owner: MirroredObject): MirroredObject[] {
    return this.o.cached().filter((o) => o.kind === kind && ownedBy(o, owner));
  }

  /**
   * Whether to look at `obj` (named `id`) now: what its status depends on changed — its
   * generation, the generation applied to its workflow, its machines' phases and Nodes — or did
   * (or a write followed) less than settleMs ago.
   */
  private changed(id: string, obj: MirroredObject, machines: VisibleMachine[], also?: string): boolean {
    const f = JSON.stringify([obj.metadata?.generation, this.o.applied.get(id), machines.map((m) => [m.name, m.phase, m.nodeName, m.nodeKey, ...(m.remediation ? [m.remediation] : []), ...(m.facts.changedInPlace ? [m.facts.changedInPlace] : [])]).sort(), also, this.clusterPaused(obj), hasPausedAnnotation(obj.metadata)]);
    if (this.seen.get(id) !== f) {
      this.seen.set(id, f);
      this.unsettled(id);
      return true;
    }
    if ((this.settling.get(id) ?? 0) > Date.now()) return true;
    this.settling.delete(id);
    return false;
  }

  private unsettled(id: string): void {
    this.settling.set(id, Date.now() + (this.o.settleMs ?? 10_000));
  }

  private async apply(kind: KindName, body: MirroredObject): Promise<MirroredObject> {
    this.writes++;
    const written = (await this.o.objects.patchNamespacedCustomObject(
      { ...customObjectAt(kind, body.metadata!.namespace!, body.metadata!.name!), body, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as MirroredObject;
    this.index.set(objectKey(kind, body.metadata!.namespace!, body.metadata!.name!), written);
    return written;
  }

  /** Whether the object's Cluster is paused (its spec.paused, as the cache has it). */
  private clusterPaused(obj: MirroredObject): boolean {
    const cluster = (obj.spec?.clusterName as string | undefined) ?? obj.metadata?.labels?.[LABELS.clusterName];
    return !!cluster && this.find('Cluster', obj.metadata?.namespace ?? '', cluster)?.spec?.paused === true;
  }

  /**
   * A Cluster's objects show whether it is paused (Cluster API v1beta2's Paused condition), and
   * why (its Cluster's spec.paused, the object's own paused annotation): from the first pause on
   * (an object never paused has none, so nothing is written for it).
   */
  private withPaused(kind: KindName, obj: MirroredObject, want: Record<string, unknown>): Record<string, unknown> {
    if (!PAUSABLE.has(kind) || !Array.isArray(want.conditions)) return want;
    const paused = this.clusterPaused(obj);
    const annotated = ANNOTATION_PAUSABLE.has(kind) && hasPausedAnnotation(obj.metadata);
    const shown = (obj.status?.conditions as Condition[] | undefined)?.some((c) => c.type === 'Paused');
    if (!paused && !annotated && !shown) return want;
    const { observedGeneration } = (want.conditions as Condition[]).find((c) => c.observedGeneration !== undefined) ?? {};
    const c = { ...pausedCondition(paused, annotated ? { kind } : undefined), ...(observedGeneration !== undefined ? { observedGeneration } : {}) } as Omit<Condition, 'lastTransitionTime'>;
    return { ...want, conditions: withCondition(want.conditions as Condition[], c, obj.status?.conditions as Condition[] | undefined, new Date()) };
  }

  /**
   * Writes the status where it differs; whether it wrote. `have` is the part of the status as it
   * stands to compare with (default: the fields `wanted` has); its Paused added first (withPaused).
   */
  private async writeStatus(kind: KindName, obj: MirroredObject, wanted: Record<string, unknown>, have = (status: Record<string, any> | undefined): unknown => mirrored(status, wanted)): Promise<boolean> {
    const want = this.withPaused(kind, obj, wanted);
    if (this.o.writeOnlyChanges && same(have(obj.status), want)) return false;
    this.writes++;
    await this.o.objects.patchNamespacedCustomObjectStatus(
      { ...customObjectAt(kind, obj.metadata!.namespace!, obj.metadata!.name!), body: { status: want } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // The informer brings the written status back; until then, the cache says what was written.
    obj.status = { ...(obj.status ?? {}), ...want };
    return true;
  }

  /** Merges metadata (labels, annotations, or the finalizers as a whole) into an object. */
  private async patchMetadata(kind: KindName, obj: MirroredObject, metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] }): Promise<void> {
    this.writes++;
    await this.o.objects.patchNamespacedCustomObject(
      { ...customObjectAt(kind, obj.metadata!.namespace!, obj.metadata!.name!), body: { metadata } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    obj.metadata = {
      ...obj.metadata,
      ...(metadata.labels ? { labels: { ...obj.metadata?.labels, ...metadata.labels } } : {}),
      ...(metadata.annotations ? { annotations: { ...obj.metadata?.annotations, ...metadata.annotations } } : {}),
      ...(metadata.finalizers ? { finalizers: metadata.finalizers } : {}),
    };
  }

  private label(kind: KindName, obj: MirroredObject, labels: Record<string, string>): Promise<void> {
    return this.patchMetadata(kind, obj, { labels });
  }

  private annotate(kind: KindName, obj: MirroredObject, annotations: Record<string, string>): Promise<void> {
    return this.patchMetadata(kind, obj, { annotations });
  }

  /** What each health check found at its last answer (by object key): its targets and why each unhealthy one is. */
  private readonly healthVerdicts = new Map<string, HealthVerdictSeen>();

  /** A health check's counts, from its workflow when a machine of its cluster changed, or what it found unhealthy. */
  private async healthChecks(machines: VisibleMachine[], unhealthy: Visible['healthChecks']): Promise<void> {
    const checks = this.o.cached().filter((o) => o.kind === 'MachineHealthCheck' && !o.metadata?.deletionTimestamp);
    const live = new Set(checks.map((o) => objectKey('MachineHealthCheck', o.metadata!.namespace!, o.metadata!.name!)));
    for (const id of this.healthVerdicts.keys()) if (!live.has(id)) this.healthVerdicts.delete(id);
    for (const mhc of checks) {
      const { namespace, name } = mhc.metadata as { namespace: string; name: string };
      const id = objectKey('MachineHealthCheck', namespace, name);
      const mine = machines.filter((m) => m.namespace === namespace && m.cluster === mhc.spec?.clusterName);
      if (!this.changed(id, mhc, mine, unhealthy.get(machineHealthCheckWorkflowId({ namespace, name })))) continue;
      const view: MachineHealthCheckView | undefined = await this.ask(id, () => this.o.temporal.workflow.getHandle(machineHealthCheckWorkflowId({ namespace, name })).query(machineHealthCheckStatusQuery));
      if (!view?.status) continue;
      this.healthVerdicts.set(id, {
        name,
        namespace,
        targets: new Set(view.status.targets),
        unhealthy: view.unhealthyReasons ?? Object.fromEntries(view.unhealthy.map((m) => [m, { reason: 'UnhealthyNode', message: 'Health check failed' }])),
        ...(view.pendingTimeouts?.length ? { pending: new Set(view.pendingTimeouts) } : {}),
        ...(view.deferred?.length ? { deferred: Object.fromEntries(view.deferred.map((d) => [d.machine, d.message])) } : {}),
      });
      const generation = this.generationOf(id);
      if (await this.writeStatus('MachineHealthCheck', mhc, { ...view.status, ...generation, conditions: atGeneration(view.status.conditions, generation) })) this.unsettled(id);
    }
  }

  private async remove(kind: KindName, obj: MirroredObject): Promise<void> {
    if (kind === 'MachineSet') this.setsInPlace.delete(objectKey(kind, obj.metadata!.namespace!, obj.metadata!.name!));
    this.writes++;
    await this.o.objects.deleteNamespacedCustomObject(customObjectAt(kind, obj.metadata!.namespace!, obj.metadata!.name!)).catch(unlessGone);
  }

  /** A deployment is asked again only when its object or one of its machines changed. */
  private async deployments(machines: VisibleMachine[]): Promise<void> {
    // Sets of a deployment whose object is gone go too (the garbage collector's job in a real
    // management cluster; done here so one without it is left clean).
    const deploymentUids = new Set(this.o.cached().filter((o) => o.kind === 'MachineDeployment').map((o) => o.metadata?.uid));
    for (const orphan of this.o.cached().filter((o) => o.kind === 'MachineSet' && o.metadata?.ownerReferences?.some((r) => r.kind === 'MachineDeployment' && !deploymentUids.has(r.uid)))) {
      await this.remove('MachineSet', orphan);
    }
    for (const md of this.o.cached().filter((o) => o.kind === 'MachineDeployment' && !o.metadata?.deletionTimestamp)) {
      const { namespace, name } = md.metadata as { namespace: string; name: string };
      const mine = machines.filter((m) => m.namespace === namespace && m.facts.labels[LABELS.deploymentName] === name);
      const id = objectKey('MachineDeployment', namespace, name);
      // (What the health checks say of its machines: a deferred remediation is on no machine's phase.)
      if (!this.changed(id, md, mine, this.verdictsOn(namespace, mine))) continue;
      const view = await this.ask(id, () => this.o.temporal.workflow.getHandle(machineDeploymentWorkflowId({ namespace, name })).query(machineDeploymentStatusQuery));
      if (!view) continue;
      for (const s of view.sets) if (await this.deploymentSet(md, view, s, mine.filter((m) => m.facts.labels[LABELS.setName] === s.name))) this.unsettled(id);
      for (const gone of this.ownedBy('MachineSet', md).filter((o) => !view.sets.some((s) => s.name === o.metadata?.name))) await this.remove('MachineSet', gone);
      const counts = machineCounts(mine, (m) => view.sets.some((s) => s.new && s.name === m.facts.labels[LABELS.setName]));
      const generation = this.generationOf(id);
      const replicas = view.status?.replicas ?? counts.replicas;
      // The deployment counts what its machines last reported; while its cluster's workload API does
      // not answer, none is known to be ready (Cluster API counts Machines whose Ready is True).
      const blindSince = mine.find((m) => m.connectionDownSince)?.connectionDownSince;
      const blind = blindSince !== undefined;
      const availableReplicas = blind ? counts.availableReplicas : (view.status?.availableReplicas ?? counts.availableReplicas);
      // (Which of its machines are being remediated each set's own view said, just above: setConditions.)
      const seen = remediationSeen(namespace, mine.map((m) => m.name), view.sets.flatMap((s) => s.remediating ?? []), this.healthVerdicts.values());
      const upToDate = this.deploymentUpToDate(namespace, view, mine);
      const rollingOut = view.status?.conditions.find((c) => c.type === 'RollingOut');
      const conditions =
        view.status &&
        [remediatingCondition('MachineDeployment', seen), ...(rollingOut?.status === 'True' ? [{ ...rollingOut, message: rollingOutMessage(rollingOut.message, upToDate) }] : [])].reduce(
          (all, c) => withCondition(all, c, md.status?.conditions, new Date()),
          view.status.conditions,
        );
      const wrote = await this.writeStatus('MachineDeployment', md, {
        selector: selectorString(view.spec.selector),
        phase: machineDeploymentPhase(view),
        replicas,
        readyReplicas: blind ? counts.readyReplicas : (view.status?.readyReplicas ?? counts.readyReplicas),
        availableReplicas,
        upToDateReplicas: view.status?.upToDateReplicas ?? counts.upToDateReplicas,
        // Cluster API's: replicas − available, never below 0.
        unavailableReplicas: Math.max(0, replicas - availableReplicas),
        ...generation,
        conditions: atGeneration(blind ? blindAvailable(conditions, blindSince, mine[0]!.cluster) : conditions, generation),
      });
      if (wrote) this.unsettled(id);
    }
  }

  /** What each deployment's set object was last written (or seen) with of the deployment's in-place fields. */
  private readonly setsInPlace = new Map<string, string>();

  /**
   * One of a deployment's sets: its object (spec from the set's workflow, once), replicas and
   * status, its conditions from its workflow (asked whenever its deployment is). Whether it wrote a status.
   */
  private async deploymentSet(md: MirroredObject, view: MachineDeploymentView, s: MachineDeploymentView['sets'][number], machines: VisibleMachine[]): Promise<boolean> {
    const namespace = md.metadata!.namespace!;
    let obj = this.find('MachineSet', namespace, s.name);
    const annotations = setAnnotations(namespace, s);
    const shown = obj?.metadata?.annotations ?? {};
    // (What the deployment changes in place is written when it changed since the mirror last wrote
    // it, or at first sight where the object shows otherwise: a field another manager added is
    // not fought over every pass.)
    const setKey = objectKey('MachineSet', namespace, s.name);
    const inPlaceWant = canonicalJson(setInPlace(view, s.name));
    const inPlace = obj?.spec && this.setsInPlace.get(setKey) !== inPlaceWant && setSpecInPlace(obj.spec, view, s.name);
    if (obj?.spec && !inPlace) this.setsInPlace.set(setKey, inPlaceWant);
    const setView = await this.setView(namespace, s.name);
    if (!obj || inPlace || obj.spec?.replicas !== s.replicas || [ANNOTATIONS.revision, ANNOTATIONS.revisionHistory].some((k) => shown[k] !== annotations[k])) {
      const spec = inPlace || obj?.spec || setObjectSpec(s.name, view, setView?.spec);
      if (!spec) return false;
      obj = await this.apply('MachineSet', {
        apiVersion: `${GROUPS.cluster}/${VERSION}`,
        kind: 'MachineSet',
        metadata: {
          name: s.name,
          namespace,
          labels: { [LABELS.clusterName]: view.clusterName, [LABELS.deploymentName]: view.name },
          annotations,
          ownerReferences: [ownerReference(md)],
        },
        spec: { ...spec, replicas: s.replicas },
      });
      if (inPlace) this.setsInPlace.set(setKey, inPlaceWant);
    }
    const counts = machineCounts(machines, () => s.new);
    // A Ready machine is available only after minReadySeconds: the set's own count (as its
    // deployment last heard it) says which are; without minReadySeconds, every Ready one is.
    const minReady = view.spec.minReadySeconds || view.spec.template.spec.minReadySeconds || 0;
    const availableReplicas = minReady > 0 ? Math.min(counts.readyReplicas, s.availableReplicas) : counts.availableReplicas;
    const generation = { observedGeneration: obj.metadata!.generation };
    return this.writeStatus('MachineSet', obj, { selector: selectorString(obj.spec!.selector ?? {}), ...counts, availableReplicas, ...generation, ...this.setConditions(obj, setView, machines, generation) });
  }

  private setView(namespace: string, name: string): Promise<MachineSetView | undefined> {
    return this.ask(objectKey('MachineSet', namespace, name), () => this.o.temporal.workflow.getHandle(machineSetWorkflowId({ namespace, name })).query(machineSetStatusQuery));
  }

  /**
   * A set's conditions as its workflow says them (none while it does not answer), its Remediating
   * as Cluster API's: with the machines waiting for maxInFlight and the unhealthy ones the health checks found.
   */
  private setConditions(obj: MirroredObject, view: MachineSetView | undefined, machines: VisibleMachine[], generation: { observedGeneration?: number }): { conditions?: Condition[] } {
    if (!view?.status) return {};
    const namespace = obj.metadata!.namespace!;
    const seen = remediationSeen(namespace, machines.map((m) => m.name), view.machines.filter((m) => m.remediating).map((m) => m.name), this.healthVerdicts.values());
    for (const m of machines) this.remediating.delete(objectKey('Machine', namespace, m.name));
    for (const m of seen.remediating) this.remediating.add(objectKey('Machine', namespace, m));
    return { conditions: atGeneration(withCondition(view.status.conditions, remediatingCondition('MachineSet', seen), obj.status?.conditions, new Date()), generation) };
  }

  /**
   * Each of a deployment's machines' UpToDate (Cluster API's MachineSet sets it): True in its new
   * set, else why its set's template is not the deployment's. Kept for the machines' objects.
   */
  private deploymentUpToDate(namespace: string, view: MachineDeploymentView, machines: VisibleMachine[]): Omit<Condition, 'lastTransitionTime'>[] {
    const after = view.spec.rollout?.after;
    const out: Omit<Condition, 'lastTransitionTime'>[] = [];
    for (const s of view.sets) {
      const set = this.find('MachineSet', namespace, s.name);
      const created = set?.metadata?.creationTimestamp;
      const expired = after !== undefined && Date.parse(after) <= Date.now() && created !== undefined && Date.parse(String(created)) <= Date.parse(after);
      const current = set?.spec?.template?.spec;
      const c = upToDateCondition(s.new, s.new || !current ? [] : templateDifferences(current, view.spec.template.spec), !s.new && expired);
      for (const m of machines.filter((x) => x.facts.labels[LABELS.setName] === s.name)) {
        this.upToDate.set(objectKey('Machine', namespace, m.name), c);
        out.push(c);
      }
    }
    return out;
  }
  /** Each deployment's or control plane's machine's UpToDate, as its owner was last looked at (by object key). */
  private readonly upToDate = new Map<string, Omit<Condition, 'lastTransitionTime'>>();

  /** The machines their set is deleting as a remediation, as it last said (by object key): their OwnerRemediated says so. */
  private readonly remediating = new Set<string>();

  /** What the health checks last said of some machines, as a key for changed(). */
  private verdictsOn(namespace: string, machines: VisibleMachine[]): string {
    return remediationKey(remediationSeen(namespace, machines.map((m) => m.name), [], this.healthVerdicts.values()));
  }

  /** A set applied on its own: its status, from its workflow when one of its machines changed. */
  private async standaloneSets(machines: VisibleMachine[]): Promise<void> {
    // (A set of the user's own has no controller; its Cluster owns it, as an owner that is not one.)
    for (const ms of this.o.cached().filter((o) => o.kind === 'MachineSet' && !o.metadata?.ownerReferences?.some((r) => r.controller) && !o.metadata?.deletionTimestamp)) {
      const { namespace, name } = ms.metadata as { namespace: string; name: string };
      const mine = machines.filter((m) => m.namespace === namespace && m.facts.labels[LABELS.setName] === name);
      const id = objectKey('MachineSet', namespace, name);
      if (!this.changed(id, ms, mine, this.verdictsOn(namespace, mine))) continue;
      const counts = machineCounts(mine, () => true);
      const generation = this.generationOf(id);
      const conditions = this.setConditions(ms, await this.setView(namespace, name), mine, generation);
      if (await this.writeStatus('MachineSet', ms, { selector: selectorString(ms.spec?.selector ?? {}), ...counts, ...generation, ...conditions })) this.unsettled(id);
    }
  }

  /** Each machine's object (workflow-created ones are created and deleted here, with their KubeadmConfig and SimMachine) and status. */
  private async machines(machines: VisibleMachine[]): Promise<void> {
    const visible = new Set(machines.map((m) => objectKey('Machine', m.namespace, m.name)));
    await forEachLimit(machines, WRITE_CONCURRENCY, async (m) => {
      let obj = this.find('Machine', m.namespace, m.name);
      const ownerKind = m.facts.ownerKind;
      const ownerName = ownerKind && m.facts.labels[ownerKind === 'MachineSet' ? LABELS.setName : LABELS.controlPlaneName];
      const owner = ownerKind && ownerName ? this.find(ownerKind, m.namespace, ownerName) : undefined;
      if (ownerKind && (!obj || (m.providerID && obj.spec?.providerID !== m.providerID) || obj.metadata?.annotations?.[RUN_ID_ANNOTATION] !== m.runId || this.metadataChanged(m, obj, 'Machine', machineMetadata(m)) || (owner && specInPlaceChanged(obj, owner)))) {
        // Its owner's object first (a deployment's new set is written in the same pass, just before).
        if (!owner?.metadata?.uid) return;
        obj = await this.apply('Machine', machineObject(m, owner));
        // (Recorded once written: a failed write is tried again at the next pass.)
        this.labelChanges.set(objectKey('Machine', m.namespace, m.name), m.facts.changedInPlace ?? 0);
      }
      if (!obj) return;
      await this.writeStatus('Machine', obj, machineStatus(m, obj.metadata?.generation, await this.machineConditions(m, obj, obj.metadata?.generation)));
      if (owner && obj.metadata?.uid) await this.machineParts(m, obj, owner);
      else if (!ownerKind && !obj.metadata?.deletionTimestamp) await this.userMachineParts(m, obj);
    });
    // A machine the workflows created and have since deleted: its object goes too. (A Machine of
    // the user's own has no controller: the watcher lets it go once its workflow has deleted it.)
    const gone = this.o.cached().filter((o) => o.kind === 'Machine' && o.metadata?.annotations?.[WORKFLOW_ID_ANNOTATION] && o.metadata.ownerReferences?.some((r) => r.controller) && !visible.has(objectKey('Machine', o.metadata.namespace!, o.metadata.name!)));
    await forEachLimit(gone, WRITE_CONCURRENCY, async (obj) => {
      // Visibility trails a start by a moment: a machine is gone only when its workflow says so.
      const closed = await this.o.temporal.workflow
        .getHandle(obj.metadata!.annotations![WORKFLOW_ID_ANNOTATION]!)
        .describe()
        .then((d) => d.status.name !== 'RUNNING', (err: unknown) => (err instanceof WorkflowNotFoundError ? true : Promise.reject(err)));
      if (closed) await this.removeMachine(obj);
    });
    for (const key of this.machinePhases.keys()) if (!visible.has(key)) this.machinePhases.delete(key);
    for (const key of this.remediating) if (!visible.has(key)) this.remediating.delete(key);
    for (const key of this.upToDate.keys()) if (!visible.has(key)) this.upToDate.delete(key);
    for (const key of this.labelChanges.keys()) if (!visible.has(machineKeyOf(key))) this.labelChanges.delete(key);
  }

  /**
   * How many in-place metadata changes each machine had when the mirror last wrote (or first saw)
   * its object, by object key: its Machine's, its KubeadmConfig's and its SimMachine's.
   */
  private readonly labelChanges = new Map<string, number>();

  /**
   * Whether a machine's labels or template annotations changed in place (its set's template did)
   * since its object was written: its object is applied again, which also takes away what the
   * template dropped (server-side apply). Seen for the first time (a watcher just started), what
   * the object lacks or shows otherwise says so, or what capstan's last apply set that `want`
   * no longer has (its managedFields).
   */
  private metadataChanged(m: VisibleMachine, obj: MirroredObject, kind: 'Machine' | 'KubeadmConfig' | 'SimMachine', want: { labels: Record<string, string>; annotations?: Record<string, string> }): boolean {
    const key = objectKey(kind, m.namespace, m.name);
    const count = m.facts.changedInPlace ?? 0;
    const known = this.labelChanges.get(key);
    if (known === count) return false;
    if (known !== undefined) return true;
    const differs = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) => Object.entries(want ?? {}).some(([k, v]) => have?.[k] !== v);
    // (And the template annotations it lists: one the template dropped while no watcher ran.)
    const listed = obj.metadata?.annotations?.[TEMPLATE_ANNOTATIONS_ANNOTATION] ?? '';
    if (differs(m.facts.labels, obj.metadata?.labels) || differs(m.facts.annotations, obj.metadata?.annotations) || listed !== Object.keys(m.facts.annotations ?? {}).sort().join(',') || droppedSinceApplied(obj, want)) return true;
    this.labelChanges.set(key, count); // (seen as written: nothing to do)
    return false;
  }

  /**
   * A machine's conditions: what its phase tells, each with the time the mirror first saw it so;
   * for a machine in a passing phase (Provisioning, Deleting, …) longer than stuckMs, its
   * workflow's own conditions (one query, again every stuckMs while it stays): why it waits — a
   * drain blocked by a PodDisruptionBudget, a deletion hook, an instance that does not boot. A
   * machine that passes through in time costs no action.
   */
  private async machineConditions(m: VisibleMachine, obj: MirroredObject, generation: number | undefined): Promise<Condition[]> {
    const key = objectKey('Machine', m.namespace, m.name);
    const now = Date.now();
    const seen = this.machinePhases.get(key);
    const since = seen?.phase === m.phase ? seen.since : now;
    if (seen?.phase !== m.phase) this.machinePhases.set(key, { phase: m.phase, since });
    const stuckMs = this.o.stuckMs ?? 30_000;
    const lastAsked = seen?.phase === m.phase ? (seen.asked?.at ?? seen.unanswered) : undefined;
    if (PASSING_PHASES.has(m.phase) && now - since >= stuckMs && (lastAsked === undefined || now - lastAsked >= stuckMs)) {
      // A machine that does not answer (gone meanwhile, or not a capstan Machine workflow) keeps what its phase tells.
      const view = await this.ask(key, () => this.o.temporal.workflow.getHandle(m.workflowId).query(machineStatusQuery)).catch(() => undefined);
      this.machinePhases.set(key, { phase: m.phase, since, ...(view ? { asked: { at: now, conditions: view.status.conditions } } : { unanswered: now }) });
    }
    const current = this.machinePhases.get(key)!;
    const observed = generation === undefined ? {} : { observedGeneration: generation };
    if (current.asked) return atGeneration(current.asked.conditions, observed);
    // A condition's transition time: when it last changed status, as the object says (a restarted
    // watcher, or a second one, takes what is written rather than write its own) or as this mirror saw it.
    const written = (obj.status?.conditions ?? []) as Condition[];
    const stamps = (current.stamps ??= {});
    const stamp = (c: Omit<Condition, 'lastTransitionTime'>): Condition => {
      const w = written.find((x) => x.type === c.type);
      if (w?.status === c.status && w.lastTransitionTime) stamps[c.type] = { status: c.status, at: w.lastTransitionTime };
      const at = stamps[c.type]?.status === c.status ? stamps[c.type]! : (stamps[c.type] = { status: c.status, at: new Date(now).toISOString() });
      return { ...c, lastTransitionTime: at.at };
    };
    const stamped = [
      ...phaseConditions(m.phase),
      ...nodeHealthConditions(m),
      // (Deleting, it is no longer deferred, whatever a health check's last answer said.)
      ...healthCheckConditions(m, this.healthVerdicts.values(), written.find((c) => c.type === ConditionType.HealthCheckSucceeded)).filter((c) => c.type !== ConditionType.OwnerRemediated || m.phase !== 'Deleting'),
      ...ownerRemediated(m, this.remediating.has(key)),
      ...(this.upToDate.has(key) ? [this.upToDate.get(key)!] : []),
    ].map(stamp);
    // Available once Ready has held for minReadySeconds (its set's, in place: a pass after that time writes it).
    const ready = stamped.find((c) => c.type === ConditionType.Ready);
    const set = m.facts.ownerKind === 'MachineSet' ? this.find('MachineSet', m.namespace, m.facts.labels[LABELS.setName] ?? '') : undefined;
    stamped.push(stamp(availableCondition(ready, Number(set?.spec?.template?.spec?.minReadySeconds ?? 0), now)));
    return atGeneration(stamped, observed);
  }
  /** Each machine's phase as the mirror saw it first, its conditions' transitions, and what its workflow said when it was stuck. */
  private readonly machinePhases = new Map<string, { phase: string; since: number; asked?: { at: number; conditions: Condition[] }; unanswered?: number; stamps?: Record<string, { status: string; at: string }> }>();

  /**
   * A workflow-made machine's KubeadmConfig and SimMachine, owned by it, as Cluster API's
   * controllers clone them from the owner's templates: created with the Machine, with its labels
   * and template annotations (and applied again when those change in place, as Cluster API's
   * MachineSet and KubeadmControlPlane propagate them), the config's status once its bootstrap
   * data exists, the instance's provider ID and status once it does.
   */
  private async machineParts(m: VisibleMachine, machine: MirroredObject, owner: MirroredObject): Promise<void> {
    const metadata = partMetadata(m);
    const { labels, annotations } = metadata;
    const meta = (apiVersion: string, kind: string) => ({
      apiVersion,
      kind,
      metadata: { name: m.name, namespace: m.namespace, labels, ...(annotations ? { annotations } : {}), ownerReferences: [ownerReference(machine)] },
    });
    const written = (kind: 'KubeadmConfig' | 'SimMachine') => this.labelChanges.set(objectKey(kind, m.namespace, m.name), m.facts.changedInPlace ?? 0);
    // Read only when a part is written (each pass looks at every machine). Written again, a part
    // keeps the spec it has (its template may be gone by then).
    const templates = () => partTemplates(owner, (kind, name) => this.find(kind, m.namespace, name));
    let config = this.find('KubeadmConfig', m.namespace, m.name);
    if (!config || this.metadataChanged(m, config, 'KubeadmConfig', metadata)) {
      config = await this.apply('KubeadmConfig', { ...meta(`${GROUPS.bootstrap}/${VERSION}`, 'KubeadmConfig'), spec: config?.spec ?? templates().config });
      written('KubeadmConfig');
    }
    // The bootstrap data is made before the instance is asked for (phase Provisioning).
    if (m.phase !== 'Pending') await this.configReady(config, m.name);
    let instance = this.find('SimMachine', m.namespace, m.name);
    if (!instance || (m.providerID && instance.spec?.providerID !== m.providerID) || this.metadataChanged(m, instance, 'SimMachine', metadata)) {
      instance = await this.apply('SimMachine', { ...meta(`${GROUPS.infrastructure}/${VERSION}`, 'SimMachine'), spec: { ...(instance?.spec ?? templates().infrastructure), ...(m.providerID ? { providerID: m.providerID } : {}) } });
      written('SimMachine');
    }
    if (m.providerID) await this.instanceProvisioned(instance);
  }

  /** A KubeadmConfig's status once its bootstrap data exists (in the Secret `dataSecretName`). */
  private configReady(config: MirroredObject, dataSecretName: string): Promise<boolean> {
    return this.writeStatus('KubeadmConfig', config, { initialization: { dataSecretCreated: true }, dataSecretName, observedGeneration: config.metadata?.generation });
  }

  /** A SimMachine's status once its instance exists. */
  private instanceProvisioned(instance: MirroredObject): Promise<boolean> {
    return this.writeStatus('SimMachine', instance, { initialization: { provisioned: true }, observedGeneration: instance.metadata?.generation });
  }

  /**
   * A Machine of the user's own, with its KubeadmConfig and SimMachine (the user's too), as Cluster
   * API's controllers complete them: the Machine's and the SimMachine's `spec.providerID` once the
   * instance exists (set once; only that field, under capstan's field manager) and the SimMachine's
   * status then, the KubeadmConfig's status once its bootstrap data exists (the Secret named after
   * it, as the workflow wrote it).
   */
  private async userMachineParts(m: VisibleMachine, machine: MirroredObject): Promise<void> {
    const namespace = m.namespace;
    const providerID = (apiVersion: string, kind: KindName, name: string) =>
      this.apply(kind, { apiVersion, kind, metadata: { name, namespace }, spec: { providerID: m.providerID } } as MirroredObject);
    if (m.providerID && machine.spec?.providerID !== m.providerID) {
      machine = await providerID(`${GROUPS.cluster}/${VERSION}`, 'Machine', m.name);
    }
    const spec = machine.spec as { bootstrap?: { configRef?: { kind?: string; name?: string } }; infrastructureRef?: { kind?: string; name?: string } } | undefined;
    const configName = spec?.bootstrap?.configRef?.kind === 'KubeadmConfig' ? spec.bootstrap.configRef.name : undefined;
    const config = configName ? this.find('KubeadmConfig', namespace, configName) : undefined;
    if (config && !config.metadata?.deletionTimestamp && m.phase !== 'Pending') {
      await this.configReady(config, configName!);
    }
    const instanceName = spec?.infrastructureRef?.kind === 'SimMachine' ? spec.infrastructureRef.name : undefined;
    let instance = instanceName ? this.find('SimMachine', namespace, instanceName) : undefined;
    if (!instance || instance.metadata?.deletionTimestamp || !m.providerID) return;
    if (instance.spec?.providerID !== m.providerID) instance = await providerID(`${GROUPS.infrastructure}/${VERSION}`, 'SimMachine', instanceName!);
    await this.instanceProvisioned(instance);
  }

  /**
   * A deleted machine's object: its finalizer goes, and the object with it. Its KubeadmConfig and
   * SimMachine follow by garbage collection (their owner reference): the instance itself is gone
   * already, deleted by the machine's workflow.
   */
  private async removeMachine(obj: MirroredObject): Promise<void> {
    const finalizers = obj.metadata?.finalizers ?? [];
    if (finalizers.includes(FINALIZER)) await this.patchMetadata('Machine', obj, { finalizers: finalizers.filter((f) => f !== FINALIZER) }).catch(unlessGone);
    if (!obj.metadata?.deletionTimestamp) await this.remove('Machine', obj);
  }

  /**
   * KubeadmConfigs and SimMachines whose Machine has been gone for five minutes: the garbage
   * collector's job (it learns of new kinds every 30 s, and a wave of 1,000 deletions takes it a
   * minute or more on two cores), which a management cluster without one leaves undone. The
   * informers' cache may trail a Machine just written: its owner is read before anything goes.
   */
  private async orphanedParts(): Promise<void> {
    const candidates = new Map<string, number>();
    for (const part of this.o.cached().filter((o) => (o.kind === 'KubeadmConfig' || o.kind === 'SimMachine') && !o.metadata?.deletionTimestamp)) {
      const ref = part.metadata?.ownerReferences?.find((r) => r.kind === 'Machine' && r.controller);
      if (!ref) continue;
      const cached = this.find('Machine', part.metadata!.namespace!, ref.name);
      if (cached?.metadata?.uid === ref.uid) continue;
      const key = part.metadata!.uid!;
      const since = this.orphans.get(key) ?? Date.now();
      candidates.set(key, since);
      if (Date.now() - since < ORPHAN_GRACE_MS) continue;
      const machine = (await this.o.objects.getNamespacedCustomObject(customObjectAt('Machine', part.metadata!.namespace!, ref.name)).catch((err: { code?: number }) => (err.code === 404 ? undefined : Promise.reject(err)))) as MirroredObject | undefined;
      if (machine?.metadata?.uid !== ref.uid) await this.remove(part.kind as KindName, part);
    }
    this.orphans = candidates;
  }
  /** The parts (by UID) whose Machine was missing at the last pass, and since when. */
  private orphans = new Map<string, number>();

  /**
   * A control plane's replica counts and version, from its machines; its conditions (Cluster API's
   * KubeadmControlPlane conditions: CertificatesAvailable, Available, MachinesReady, RollingOut,
   * ScalingUp, Remediating, …) from its workflow, asked (one query) only when its object or one of
   * its machines changed, as a deployment is.
   */
  private async controlPlanes(machines: VisibleMachine[]): Promise<void> {
    for (const kcp of this.o.cached().filter((o) => o.kind === 'KubeadmControlPlane' && !o.metadata?.deletionTimestamp)) {
      const { namespace, name } = kcp.metadata as { namespace: string; name: string };
      const mine = machines.filter((m) => m.namespace === namespace && m.facts.labels[LABELS.controlPlaneName] === name);
      if (!mine.length && kcp.status === undefined) continue;
      const id = objectKey('KubeadmControlPlane', namespace, name);
      if (this.changed(id, kcp, mine)) {
        const view = await this.ask(id, () => this.o.temporal.workflow.getHandle(controlPlaneWorkflowId({ namespace, name })).query(controlPlaneStatusQuery));
        if (view) {
          this.controlPlaneConditions.set(id, view.status.conditions);
          for (const vm of view.machines) {
            const key = objectKey('Machine', namespace, vm.name);
            if (vm.upToDate !== undefined) this.upToDate.set(key, controlPlaneUpToDate(vm.upToDate, vm.version, view.spec.version, vm.infrastructureUpToDate));
            // (Its remediations: the machines' OwnerRemediated and the Cluster's Remediating.)
            if (vm.remediating) this.remediating.add(key);
            else this.remediating.delete(key);
          }
        }
      }
      const asked = this.controlPlaneConditions.get(id);
      const cluster = mine[0]?.cluster ?? kcp.metadata?.labels?.[LABELS.clusterName];
      const counts = machineCounts(mine, (m) => m.version === kcp.spec?.version);
      const versions = mine.map((m) => m.version).filter((v): v is string => !!v).sort(compareVersions);
      const generation = this.generationOf(objectKey('KubeadmControlPlane', namespace, name));
      // Its API server answers while a control-plane machine is Running with a Node, whatever that
      // Node's kubelet says (Cluster API's Available follows the control plane's components).
      const serving = mine.some(running);
      const initialized = serving || kcp.status?.initialization?.controlPlaneInitialized === true;
      await this.writeStatus('KubeadmControlPlane', kcp, {
        selector: selectorString({ matchLabels: { [LABELS.clusterName]: cluster ?? '', [LABELS.controlPlaneName]: name } }),
        replicas: counts.replicas,
        readyReplicas: counts.readyReplicas,
        upToDateReplicas: counts.upToDateReplicas,
        unavailableReplicas: Math.max(0, counts.replicas - counts.readyReplicas),
        ...(versions[0] ? { version: versions[0] } : {}),
        initialization: { controlPlaneInitialized: initialized },
        ...generation,
        // (Until its workflow has answered: whether its API server answers.)
        conditions: asked ? atGeneration(asked, generation) : [{ type: 'Available', status: serving ? 'True' : 'False', reason: serving ? 'Available' : 'NotAvailable', ...generation }],
      });
    }
  }
  /** Each control plane's conditions, as its workflow last told them. */
  private readonly controlPlaneConditions = new Map<string, Condition[]>();
}

/**
 * A deployment's set's annotations: its workflow, its revision and — once a rollback made it the new
 * set again — the revisions it had before, comma-separated (Cluster API's revision-history).
 */
export function setAnnotations(namespace: string, s: { name: string; revision: number; revisionHistory?: number[] }): Record<string, string> {
  return {
    [WORKFLOW_ID_ANNOTATION]: machineSetWorkflowId({ namespace, name: s.name }),
    [ANNOTATIONS.revision]: String(s.revision),
    ...(s.revisionHistory?.length ? { [ANNOTATIONS.revisionHistory]: s.revisionHistory.join(',') } : {}),
  };
}
