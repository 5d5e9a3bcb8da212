// The object commands of the CLI: apply, get, describe, delete. Each returns its output
// lines; the dispatcher in cli.ts prints them and maps errors to exit codes.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { stringify } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { cliSecretStore } from '../workers/config.js';
import type { ClusterWorkflow } from '../workflows/cluster.js';
import { clusterWorkflowId, controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId, type ObjectKey, parseWorkflowId } from '../workflows/ids.js';
import { clusterListMemo, type ClusterListMemo, LIST_MEMO, machineRow, type MachineListMemo, type MachineRow } from '../workflows/list-memo.js';
import { clusterStatusQuery, controlPlaneStatusQuery, deleteClusterUpdate, machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery, machineStatusQuery } from '../workflows/messages.js';
import { SA_CLUSTER, SA_NAMESPACE, SA_NODE_NAME, SA_PHASE, SA_PROVIDER_ID } from '../workflows/search-attributes.js';
import type { ClusterView, ControlPlaneView, MachineDeploymentView, MachineHealthCheckView, MachineSetView, MachineView } from '../workflows/types.js';
import { executePlan, describePlan, loadApplyPlan, loadPlan, ApplyError } from './apply.js';
import { describeMachineDeployment, machineDeploymentRow, machineSetRow } from './machine-deployments.js';
import { age, columnWidths, conditionsTable, fields, formatLine, indent, renderTable } from './table.js';
import type { Output } from './usage.js';

export async function readManifestFiles(files: string[], stdin: () => Promise<string>): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const f of files) {
    out.push({ file: f === '-' ? '<stdin>' : f, text: f === '-' ? await stdin() : await readFile(f, 'utf8') });
  }
  return out;
}

export async function applyCommand(opts: {
  files: { file: string; text: string }[];
  dryRun: boolean;
  connect: () => Promise<Client>;
  taskQueue: string;
}): Promise<string[]> {
  const plan = loadApplyPlan(opts.files);
  if (opts.dryRun) return describePlan(plan).map((o) => `${o} validated (dry run)`);
  const client = await opts.connect();
  const lines = await executePlan(client, opts.taskQueue, plan);
  const resolved = plan.resolved.map((d) => `${d.object.kind.toLowerCase()}.${d.object.apiVersion.split('/')[0]}/${d.object.metadata.name} resolved`);
  return [...lines.map((l) => `${l.object} ${l.result}`), ...resolved];
}

/** An object as the visibility list reports it: search attributes and memo, no query. */
export interface Listed {
  workflowId: string;
  namespace: string;
  name: string;
  cluster: string;
  phase: string;
  startTime: Date;
  /** The list memo; for a Machine, completed with its Node and provider ID search attributes. */
  memo?: ClusterListMemo | MachineRow;
}

export interface ListOptions {
  /** undefined: every namespace (-A). */
  namespace?: string;
  name?: string;
  /** get machines|machinedeployments|machinesets --cluster */
  cluster?: string;
}

export type Kind = 'Cluster' | 'Machine' | 'MachineDeployment' | 'MachineSet' | 'MachineHealthCheck' | 'KubeadmControlPlane';
const API_VERSION = 'cluster.capstan.dev/v1alpha1';
const apiVersionOf = (kind: Kind) => (kind === 'KubeadmControlPlane' ? 'controlplane.capstan.dev/v1alpha1' : API_VERSION);

const WORKFLOW_ID: Record<Kind, (key: ObjectKey) => string> = {
  Cluster: clusterWorkflowId,
  Machine: machineWorkflowId,
  MachineDeployment: machineDeploymentWorkflowId,
  MachineSet: machineSetWorkflowId,
  MachineHealthCheck: machineHealthCheckWorkflowId,
  KubeadmControlPlane: controlPlaneWorkflowId,
};

/**
 * Kinds whose table rows come from a query per listed object rather than from the list memo:
 * a cluster has few MachineDeployments and, outside a rollout, one MachineSet each, so the
 * queries are few; they write nothing to the workflows' histories.
 */
const QUERIED: ReadonlySet<Kind> = new Set<Kind>(['MachineDeployment', 'MachineSet', 'MachineHealthCheck', 'KubeadmControlPlane']);

/** One visibility list call (paged by the server); no query per object. */
async function listObjects(client: Client, kind: Kind, o: ListOptions): Promise<Listed[]> {
  let query = `CapstanKind = "${kind}" AND ExecutionStatus = "Running"`;
  if (o.namespace) query += ` AND CapstanNamespace = "${o.namespace}"`;
  if (o.cluster) query += ` AND CapstanCluster = "${o.cluster}"`;
  if (o.name && o.namespace) query += ` AND WorkflowId = "${WORKFLOW_ID[kind]({ namespace: o.namespace, name: o.name })}"`;
  const out: Listed[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const id = parseWorkflowId(wf.workflowId);
    if (!id || (o.name && id.name !== o.name)) continue;
    out.push({
      workflowId: wf.workflowId,
      namespace: wf.typedSearchAttributes.get(SA_NAMESPACE) ?? id.namespace,
      name: id.name,
      cluster: wf.typedSearchAttributes.get(SA_CLUSTER) ?? '',
      phase: wf.typedSearchAttributes.get(SA_PHASE) ?? '',
      startTime: wf.startTime,
      memo: QUERIED.has(kind) ? undefined : listData(kind, wf.memo?.[LIST_MEMO] as ClusterListMemo | MachineListMemo | undefined, wf.typedSearchAttributes),
    });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

function listData(kind: Kind, memo: ClusterListMemo | MachineListMemo | undefined, sa: TypedSearchAttributes): Listed['memo'] {
  if (!memo || kind === 'Cluster') return memo as ClusterListMemo | undefined;
  return { ...(memo as MachineListMemo), nodeName: sa.get(SA_NODE_NAME) ?? '', providerID: sa.get(SA_PROVIDER_ID) ?? '' };
}

/** The memo of a workflow started before the list memo existed comes from a query instead. */
async function withMemo(client: Client, kind: 'Cluster' | 'Machine', o: Listed): Promise<Listed & { memo: ClusterListMemo | MachineRow }> {
  if (o.memo) return o as Listed & { memo: ClusterListMemo | MachineRow };
  const h = client.workflow.getHandle(o.workflowId);
  if (kind === 'Cluster') {
    const v = await h.query(clusterStatusQuery);
    return { ...o, phase: v.status.phase, memo: clusterListMemo(v.status, v.controlPlane.version) };
  }
  const v = await h.query(machineStatusQuery);
  return { ...o, phase: v.status.phase, memo: machineRow(v.role, v.version, v.status) };
}

/** The object as the workflow reports it, kubectl-style with apiVersion and kind. */
export async function fullView(client: Client, kind: Kind, workflowId: string): Promise<Record<string, unknown>> {
  const h = client.workflow.getHandle(workflowId);
  const queries = {
    Cluster: clusterStatusQuery,
    Machine: machineStatusQuery,
    MachineDeployment: machineDeploymentStatusQuery,
    MachineSet: machineSetStatusQuery,
    MachineHealthCheck: machineHealthCheckStatusQuery,
    KubeadmControlPlane: controlPlaneStatusQuery,
  };
  const view: ClusterView | MachineView | MachineDeploymentView | MachineSetView | MachineHealthCheckView | ControlPlaneView = await h.query(queries[kind] as typeof clusterStatusQuery);
  return { apiVersion: apiVersionOf(kind), kind, ...view };
}

export function formatObjects(objects: Record<string, unknown>[], output: 'json' | 'yaml', single: boolean): string {
  const doc = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  return output === 'json' ? JSON.stringify(doc, null, 2) : stringify(doc).trimEnd();
}

const COLUMNS: Record<Kind, string[]> = {
  Cluster: ['NAME', 'PHASE', 'AVAILABLE', 'CP READY', 'WORKERS READY', 'ENDPOINT', 'AGE', 'VERSION'],
  Machine: ['NAME', 'CLUSTER', 'ROLE', 'NODENAME', 'PROVIDERID', 'PHASE', 'AGE', 'VERSION'],
  // As Cluster API's printer columns for `kubectl get machinedeployments|machinesets`.
  MachineDeployment: ['NAME', 'CLUSTER', 'REPLICAS', 'READY', 'UPDATED', 'UNAVAILABLE', 'PHASE', 'AGE', 'VERSION'],
  MachineSet: ['NAME', 'CLUSTER', 'DESIRED', 'CURRENT', 'READY', 'AVAILABLE', 'UP-TO-DATE', 'AGE', 'VERSION'],
  // As Cluster API's printer columns for `kubectl get machinehealthchecks`.
  MachineHealthCheck: ['NAME', 'CLUSTER', 'EXPECTEDMACHINES', 'MAXUNHEALTHY', 'CURRENTHEALTHY', 'AGE'],
  // As Cluster API's printer columns for `kubectl get kubeadmcontrolplanes`.
  KubeadmControlPlane: ['NAME', 'CLUSTER', 'INITIALIZED', 'API SERVER AVAILABLE', 'REPLICAS', 'READY', 'UPDATED', 'UNAVAILABLE', 'AGE', 'VERSION'],
};

/** A table row: from the list memo (clusters, machines) or from one query (deployments, sets). */
async function rowOf(client: Client, kind: Kind, l: Listed, allNamespaces: boolean): Promise<string[]> {
  if (kind === 'Cluster' || kind === 'Machine') return row(kind, await withMemo(client, kind, l), allNamespaces);
  const ns = allNamespaces ? [l.namespace] : [];
  const h = client.workflow.getHandle(l.workflowId);
  if (kind === 'MachineDeployment') return [...ns, ...machineDeploymentRow(await h.query(machineDeploymentStatusQuery), l.startTime)];
  if (kind === 'MachineHealthCheck') return [...ns, ...machineHealthCheckRow(await h.query(machineHealthCheckStatusQuery), l.startTime)];
  if (kind === 'KubeadmControlPlane') return [...ns, ...controlPlaneRow(await h.query(controlPlaneStatusQuery), l.startTime)];
  return [...ns, ...machineSetRow(await h.query(machineSetStatusQuery), l.startTime)];
}

/** A row of `get kubeadmcontrolplanes`: Cluster API's columns (UNAVAILABLE: desired replicas not ready). */
export function controlPlaneRow(v: ControlPlaneView, started: Date | undefined, now?: Date): string[] {
  const available = v.status.conditions.some((c) => c.type === 'Available' && c.status === 'True');
  const desired = v.spec.replicas;
  return [
    v.name,
    v.clusterName,
    String(v.status.initialization.controlPlaneInitialized),
    String(available),
    String(v.status.replicas),
    String(v.status.readyReplicas),
    String(v.status.upToDateReplicas),
    String(Math.max(0, desired - v.status.readyReplicas)),
    age(started, now),
    v.spec.version,
  ];
}

/** A row of `get machinehealthchecks`: Cluster API's columns (MAXUNHEALTHY: the trigger as given, or its range). */
export function machineHealthCheckRow(v: MachineHealthCheckView, started: Date | undefined, now?: Date): string[] {
  const t = v.spec.remediation.triggerIf;
  const max = t.unhealthyInRange ?? String(t.unhealthyLessThanOrEqualTo ?? '100%');
  return [v.name, v.clusterName, String(v.status?.expectedMachines ?? 0), max, String(v.status?.currentHealthy ?? 0), age(started, now)];
}

function row(kind: 'Cluster' | 'Machine', o: Listed & { memo: ClusterListMemo | MachineRow }, allNamespaces: boolean, now?: Date): string[] {
  const ns = allNamespaces ? [o.namespace] : [];
  if (kind === 'Cluster') {
    const m = o.memo as ClusterListMemo;
    return [...ns, o.name, o.phase, m.available, m.controlPlane, m.workers, m.endpoint, age(o.startTime, now), m.version];
  }
  const m = o.memo as MachineRow;
  return [...ns, o.name, o.cluster, m.role, m.nodeName, m.providerID, o.phase, age(o.startTime, now), m.version];
}

const headers = (kind: Kind, allNamespaces: boolean) => [...(allNamespaces ? ['NAMESPACE'] : []), ...COLUMNS[kind]];
const plural = (kind: Kind) => `${kind.toLowerCase()}s`;
/** kubectl's spelling of an object in messages: machinedeployment.cluster.capstan.dev/NAME. */
export const qualified = (kind: Kind, name: string) => `${kind.toLowerCase()}.${apiVersionOf(kind).split('/')[0]}/${name}`;

function notFound(kind: Kind, o: ListOptions): string {
  if (o.name) return `${plural(kind)} "${o.name}" not found${o.namespace ? ` in namespace "${o.namespace}"` : ''}`;
  return `No ${plural(kind)} found${o.namespace ? ` in ${o.namespace} namespace` : ''}.`;
}

/**
 * `capstan get clusters|machines|machinedeployments|machinesets`: a table from one visibility
 * list (plus one query per deployment or set), or the full views (-o json|yaml).
 */
export async function getObjects(client: Client, kind: Kind, o: ListOptions, output: Output): Promise<string> {
  const listed = await listObjects(client, kind, o);
  if (o.name && !listed.length) throw new ApplyError(notFound(kind, o));
  if (output !== 'table') {
    const views = await Promise.all(listed.map((l) => fullView(client, kind, l.workflowId)));
    return formatObjects(views, output, !!o.name);
  }
  if (!listed.length) return notFound(kind, o);
  const rows = await Promise.all(listed.map((l) => rowOf(client, kind, l, o.namespace === undefined)));
  return renderTable(headers(kind, o.namespace === undefined), rows);
}

/**
 * `get -w`: the list, then each object whose shown values changed, until `signal` aborts.
 * One visibility list per interval (not a billed action; no query unless a workflow predates
 * the list memo, the output is json/yaml, or the kind is a deployment or set, whose rows are
 * one query each); AGE alone changing is not a change.
 */
export async function watchObjects(
  client: Client,
  kind: Kind,
  o: ListOptions,
  output: Output,
  print: (text: string) => void,
  signal: AbortSignal,
  intervalMs = 2000,
): Promise<void> {
  const all = o.namespace === undefined;
  const ageAt = headers(kind, all).indexOf('AGE');
  const last = new Map<string, string[]>();
  let widths: number[] | undefined;
  for (let first = true; !signal.aborted; first = false) {
    const now = await listObjects(client, kind, o);
    const changed: { id: string; row: string[] }[] = [];
    const seen = new Set<string>();
    for (const l of now) {
      seen.add(l.workflowId);
      const r = await rowOf(client, kind, l, all);
      const prev = last.get(l.workflowId);
      if (!prev || prev.some((c, i) => i !== ageAt && c !== r[i])) changed.push({ id: l.workflowId, row: r });
      last.set(l.workflowId, r);
    }
    for (const [id, prev] of last) {
      if (seen.has(id)) continue;
      // Gone from the running list: its workflow finished (Deleted) or was terminated.
      last.delete(id);
      const r = [...prev];
      const phaseAt = headers(kind, all).indexOf('PHASE');
      // A MachineSet has no PHASE column: an emptied set of a finished rollout just goes.
      if (phaseAt >= 0) r[phaseAt] = 'Deleted';
      if (output === 'table' && phaseAt >= 0) changed.push({ id, row: r });
    }
    if (output === 'table') {
      if (first) {
        widths = columnWidths(headers(kind, all), changed.map((c) => c.row));
        print(changed.length ? formatLine(headers(kind, all), widths) : notFound(kind, o));
      }
      for (const c of changed) print(formatLine(c.row, widths!));
    } else {
      for (const c of changed) print(formatObjects([await fullView(client, kind, c.id)], output, true) + (output === 'yaml' ? '\n---' : ''));
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/** The workload cluster's admin kubeconfig (a secret: printed only on request, never logged). */
/**
 * A workload cluster's admin kubeconfig: the Secret `<cluster>-kubeconfig` of the management
 * cluster when one is given (as Cluster API keeps it; a worker with CAPSTAN_SECRETS=kubernetes
 * writes it there), else, or when it is not there, the worker's own store.
 */
export async function readKubeconfig(dataDir: string, namespace: string, cluster: string, management?: KubeConfig): Promise<string> {
  const name = `${cluster}-kubeconfig`;
  let looked = '';
  if (management) {
    const { KubernetesSecretStore } = await import('../providers/secrets/kubernetes-store.js');
    const found = await new KubernetesSecretStore(management).get(namespace, name).catch((err: unknown) => {
      looked = ` (the management cluster's Secret ${namespace}/${name} could not be read: ${(err as Error).message})`;
      return undefined;
    });
    if (found?.data.value) return found.data.value;
    looked ||= ` (no Secret ${namespace}/${name} in the management cluster either)`;
  }
  const secret = await (await cliSecretStore(dataDir)).get(namespace, name);
  if (!secret?.data.value) throw new ApplyError(`no kubeconfig for cluster "${cluster}" in namespace "${namespace}"${looked} (is the control plane initialized?)`);
  return secret.data.value;
}

/** `kubectl get nodes` for a workload cluster, for users without kubectl. */
export async function getNodes(dataDir: string, namespace: string, cluster: string, management?: KubeConfig): Promise<string> {
  // Loaded on demand: @kubernetes/client-node takes seconds to import, and only this command needs it.
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(await readKubeconfig(dataDir, namespace, cluster, management));
  const nodes = await kc.makeApiClient(CoreV1Api).listNode({});
  const rows = nodes.items
    .map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const roles = Object.keys(n.metadata?.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length));
      const status = (ready?.status === 'True' ? 'Ready' : 'NotReady') + (n.spec?.unschedulable ? ',SchedulingDisabled' : '');
      return [n.metadata!.name!, status, roles.join(',') || '<none>', age(n.metadata?.creationTimestamp ? new Date(n.metadata.creationTimestamp) : undefined), n.status?.nodeInfo?.kubeletVersion ?? ''];
    })
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
  return rows.length ? renderTable(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], rows) : 'No resources found';
}

export async function describe(client: Client, kind: 'cluster' | 'machine' | 'machinedeployment', namespace: string, name: string, output: Output): Promise<string> {
  const k: Kind = kind === 'cluster' ? 'Cluster' : kind === 'machine' ? 'Machine' : 'MachineDeployment';
  const id = WORKFLOW_ID[k]({ namespace, name });
  let view: Record<string, unknown>;
  try {
    view = await fullView(client, k, id);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApplyError(notFound(k, { namespace, name }));
    throw err;
  }
  if (output !== 'table') return formatObjects([view], output, true);
  if (k === 'MachineDeployment') return describeMachineDeployment(view as unknown as MachineDeploymentView);
  return k === 'Cluster' ? describeCluster(view as unknown as ClusterView) : describeMachine(view as unknown as MachineView);
}

function describeCluster(v: ClusterView): string {
  const s = v.status;
  const cp = v.controlPlaneStatus;
  return [
    ...fields([
      ['Name', v.name],
      ['Namespace', v.namespace],
      ['UID', v.uid],
      ['Phase', s.phase],
      ['Endpoint', s.controlPlaneEndpoint ? `${s.controlPlaneEndpoint.host}:${s.controlPlaneEndpoint.port}` : '<none>'],
      ['Control Plane', `${v.controlPlane.kind}/${v.controlPlane.name} ${v.controlPlane.version}: ${s.controlPlane.readyReplicas}/${s.controlPlane.desiredReplicas} ready${cp?.initialized ? ', initialized' : ''}`],
      ['Workers', `${s.workers.readyReplicas}/${s.workers.desiredReplicas} ready`],
    ]),
    ...conditionsTable(s.conditions),
    ...(v.machines.length
      ? ['Worker Machines:', ...indent(renderTable(['NAME', 'PHASE', 'NODE', 'NODE READY'], v.machines.map((m) => [m.name, m.phase, m.nodeRef ?? '', String(m.nodeReady)])))]
      : ['Worker Machines:   <none>']),
  ].join('\n');
}

function describeMachine(v: MachineView): string {
  const s = v.status;
  return [
    ...fields([
      ['Name', v.name],
      ['Namespace', v.namespace],
      ['Cluster', v.clusterName],
      ['Role', v.role],
      ['Version', v.version ?? ''],
      ['Phase', s.phase],
      ['Provider ID', s.providerID ?? '<none>'],
      ['Node', s.nodeRef?.name ?? '<none>'],
      ['Addresses', s.addresses.map((a) => `${a.type}=${a.address}`).join(', ') || '<none>'],
      ['Failure', s.failureMessage ? `${s.failureReason ?? ''}: ${s.failureMessage}` : undefined],
    ]),
    ...conditionsTable(s.conditions),
  ].join('\n');
}

export async function deleteCluster(client: Client, namespace: string, name: string, wait: boolean, progress: (line: string) => void): Promise<string> {
  const handle = client.workflow.getHandle<typeof ClusterWorkflow>(clusterWorkflowId({ namespace, name }));
  try {
    await handle.executeUpdate(deleteClusterUpdate);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApplyError(notFound('Cluster', { namespace, name }));
    throw err;
  }
  if (!wait) return `cluster.cluster.capstan.dev "${name}" deletion started`;
  progress(`cluster.cluster.capstan.dev "${name}" deleting (workers, then control plane, then infrastructure)...`);
  await handle.result();
  return `cluster.cluster.capstan.dev "${name}" deleted`;
}
