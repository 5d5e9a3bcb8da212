// `capstan apply`: validate every document, resolve references, then start or update the
// workflows. Clusters go first (update-with-start: a second apply of the same manifest
// starts nothing), then their Machines (an update to the Cluster's workflow), then their
// MachineDeployments and MachineSets (a change to a running one's workflow, or a new one to its Cluster).
import { type Client, type WorkflowHandle, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { ClusterWorkflow } from '../workflows/cluster.js';
import { clusterWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId } from '../workflows/ids.js';
import { addMachineDeploymentUpdate, addMachineHealthCheckUpdate, addMachineSetUpdate, applyMachineHealthCheckUpdate, applyClusterUpdate, applyMachineDeploymentUpdate, applyMachineSetUpdate, applyMachineUpdate } from '../workflows/messages.js';
import { flowMemo } from '../workflows/flow.js';
import { clusterListMemo, startMemo } from '../workflows/list-memo.js';
import { objectSearchAttributes } from '../workflows/search-attributes.js';
import type { ApplyResult } from '../workflows/types.js';
import { type ApplyPlan, planApply, readDocuments, validateDocuments } from './manifests.js';

export interface ApplyLine {
  /** kubectl's `kind.group/name`. */
  object: string;
  result: ApplyResult['result'] | 'resolved';
}

const withoutOmitted = ({ omitted: _o, ...a }: ApplyPlan['machineDeployments'][number]) => a;

export function loadPlan(files: { file: string; text: string }[]): ApplyPlan {
  const docs = files.flatMap((f) => readDocuments(f.file, f.text));
  return planApply(validateDocuments(docs));
}

/**
 * The plan `capstan apply -f` sends to Temporal directly: a MachineDeployment whose manifest does
 * not say `spec.paused` or `spec.rollout.after` keeps them as they are on the running deployment
 * (as kubectl's apply leaves alone what `rollout pause` or `restart` set), instead of the defaults.
 */
export function loadApplyPlan(files: { file: string; text: string }[]): ApplyPlan {
  const plan = loadPlan(files);
  const raw = files.flatMap((f) => readDocuments(f.file, f.text)).map((d) => d.content as { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: { paused?: unknown; rollout?: { after?: unknown } } });
  for (const a of plan.machineDeployments) {
    const m = a.machineDeployment.metadata;
    const doc = raw.find((o) => o?.kind === 'MachineDeployment' && o.metadata?.name === m.name && (o.metadata?.namespace ?? 'default') === m.namespace);
    const omitted = [...(doc?.spec?.paused === undefined ? (['paused'] as const) : []), ...(doc?.spec?.rollout?.after === undefined ? (['rollout.after'] as const) : [])];
    if (omitted.length) a.omitted = omitted;
  }
  return plan;
}

const ref = (kind: string, group: string, name: string) => `${kind.toLowerCase()}.${group}/${name}`;

export function describePlan(plan: ApplyPlan): string[] {
  return [
    ...plan.clusters.map((c) => ref('Cluster', 'cluster.capstan.dev', c.cluster.metadata.name)),
    ...plan.machines.map((m) => ref('Machine', 'cluster.capstan.dev', m.machine.metadata.name)),
    ...plan.machineDeployments.map((m) => ref('MachineDeployment', 'cluster.capstan.dev', m.machineDeployment.metadata.name)),
    ...plan.machineSets.map((m) => ref('MachineSet', 'cluster.capstan.dev', m.machineSet.metadata.name)),
    ...plan.machineHealthChecks.map((m) => ref('MachineHealthCheck', 'cluster.capstan.dev', m.metadata.name)),
    ...plan.resolved.map((d) => ref(d.object.kind, d.object.apiVersion.split('/')[0]!, d.object.metadata.name)),
  ];
}

export class ApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplyError';
  }
}

/** The message a workflow's update validator refused with, without the SDK's wrapping. */
export function rejection(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError) return (err.cause as Error | undefined)?.message ?? err.message;
  return undefined;
}

export async function executePlan(client: Client, taskQueue: string, plan: ApplyPlan): Promise<ApplyLine[]> {
  const lines: ApplyLine[] = [];
  for (const c of plan.clusters) {
    const key = { namespace: c.cluster.metadata.namespace, name: c.cluster.metadata.name };
    const workflowId = clusterWorkflowId(key);
    try {
      const r = await client.workflow.executeUpdateWithStart(applyClusterUpdate, {
        args: [c],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof ClusterWorkflow>('ClusterWorkflow', {
          workflowId,
          taskQueue,
          args: [{ apply: c }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: objectSearchAttributes('Cluster', key.namespace, key.name, 'Pending'),
          // What `capstan get clusters` shows until the workflow's first status pass.
          memo: {
            ...startMemo(clusterListMemo({ controlPlane: { desiredReplicas: c.controlPlane.spec.replicas, replicas: 0, readyReplicas: 0 }, workers: { desiredReplicas: 0, replicas: 0, readyReplicas: 0 }, conditions: [] }, c.controlPlane.spec.version, {}, undefined, true)),
            ...flowMemo(),
          },
        }),
      });
      // `configured` is a change of the control plane's spec unless it says which changed (a pause
      // or a resume of the Cluster: spec.paused).
      const changed = (kind: 'Cluster' | 'KubeadmControlPlane') => (r.changed ? r.changed.includes(kind) : kind === 'KubeadmControlPlane');
      const result = (kind: 'Cluster' | 'KubeadmControlPlane') => (r.result === 'configured' && !changed(kind) ? 'unchanged' : r.result);
      lines.push({ object: ref('Cluster', 'cluster.capstan.dev', key.name), result: result('Cluster') });
      lines.push({ object: ref('KubeadmControlPlane', 'controlplane.capstan.dev', c.controlPlane.metadata.name), result: result('KubeadmControlPlane') });
    } catch (err) {
      const msg = rejection(err);
      if (msg) throw new ApplyError(`Cluster "${key.name}": ${msg}`);
      throw err;
    }
  }
  for (const m of plan.machines) {
    const { namespace, name } = m.machine.metadata;
    const cluster = m.machine.spec.clusterName;
    try {
      const r = await client.workflow.getHandle(clusterWorkflowId({ namespace, name: cluster })).executeUpdate(applyMachineUpdate, { args: [m] });
      lines.push({ object: ref('Machine', 'cluster.capstan.dev', name), result: r.result });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new ApplyError(`Machine "${name}": spec.clusterName: Cluster "${cluster}" not found in namespace "${namespace}"`);
      }
      const msg = rejection(err);
      if (msg) throw new ApplyError(msg);
      throw err;
    }
  }
  for (const d of plan.machineDeployments) {
    // A running deployment takes the change itself (a template change rolls out); a new one is
    // added to its Cluster, which starts it (its owner, as in Cluster API).
    const { namespace, name } = d.machineDeployment.metadata;
    lines.push(
      await applyOwnedByCluster(client, 'MachineDeployment', { namespace, name, cluster: d.machineDeployment.spec.clusterName }, {
        running: (id) => client.workflow.getHandle(id).executeUpdate(applyMachineDeploymentUpdate, { args: [d] }),
        runningId: machineDeploymentWorkflowId({ namespace, name }),
        // (A new one takes the manifest as it is: what it omits is defaulted.)
        add: (h) => h.executeUpdate(addMachineDeploymentUpdate, { args: [withoutOmitted(d)] }),
      }),
    );
  }
  for (const m of plan.machineSets) {
    // A running set takes a change of replicas itself (a set a deployment owns refuses: change
    // the deployment); a new one is added to its Cluster, which starts it and owns it.
    const { namespace, name } = m.machineSet.metadata;
    lines.push(
      await applyOwnedByCluster(client, 'MachineSet', { namespace, name, cluster: m.machineSet.spec.clusterName }, {
        running: (id) => client.workflow.getHandle(id).executeUpdate(applyMachineSetUpdate, { args: [m] }),
        runningId: machineSetWorkflowId({ namespace, name }),
        add: (h) => h.executeUpdate(addMachineSetUpdate, { args: [m] }),
      }),
    );
  }
  for (const h of plan.machineHealthChecks) {
    const { namespace, name } = h.metadata;
    lines.push(
      await applyOwnedByCluster(client, 'MachineHealthCheck', { namespace, name, cluster: h.spec.clusterName }, {
        running: (id) => client.workflow.getHandle(id).executeUpdate(applyMachineHealthCheckUpdate, { args: [h] }),
        runningId: machineHealthCheckWorkflowId({ namespace, name }),
        add: (c) => c.executeUpdate(addMachineHealthCheckUpdate, { args: [h] }),
      }),
    );
  }
  return lines;
}

/**
 * An object whose workflow its Cluster starts: a change goes to its running workflow; when there
 * is none, it is added to its Cluster. A refusal of either comes back as an ApplyError.
 */
async function applyOwnedByCluster(
  client: Client,
  kind: string,
  o: { namespace: string; name: string; cluster: string },
  to: { runningId: string; running: (id: string) => Promise<{ result: string }>; add: (cluster: WorkflowHandle) => Promise<{ result: string }> },
): Promise<ApplyLine> {
  const object = ref(kind, 'cluster.capstan.dev', o.name);
  try {
    return { object, result: (await to.running(to.runningId)).result as ApplyLine['result'] };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw refused(err);
  }
  try {
    return { object, result: (await to.add(client.workflow.getHandle(clusterWorkflowId({ namespace: o.namespace, name: o.cluster })))).result as ApplyLine['result'] };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new ApplyError(`${kind} "${o.name}": spec.clusterName: Cluster "${o.cluster}" not found in namespace "${o.namespace}"`);
    }
    throw refused(err);
  }
}

/** A workflow's refusal as an ApplyError with its message; anything else as it is. */
function refused(err: unknown): unknown {
  const msg = rejection(err);
  return msg ? new ApplyError(msg) : err;
}
