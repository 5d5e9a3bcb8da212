// The object commands of the CLI: apply, get, describe, delete. Each returns its output
// lines; the dispatcher in cli.ts prints them and maps errors to exit codes.
import { readFile } from 'node:fs/promises';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { stringify } from 'yaml';
import { FileSecretStore } from '../providers/secrets/file-store.js';
import { secretsDir } from '../workers/config.js';
import type { ClusterWorkflow } from '../workflows/cluster.js';
import { clusterWorkflowId, machineWorkflowId } from '../workflows/ids.js';
import { clusterStatusQuery, deleteClusterUpdate, machineStatusQuery } from '../workflows/messages.js';
import type { ClusterView, MachineView } from '../workflows/types.js';
import { executePlan, describePlan, loadPlan, ApplyError } from './apply.js';
import { age, renderTable } from './table.js';

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
  const plan = loadPlan(opts.files);
  if (opts.dryRun) return describePlan(plan).map((o) => `${o} validated (dry run)`);
  const client = await opts.connect();
  const lines = await executePlan(client, opts.taskQueue, plan);
  const resolved = plan.resolved.map((d) => `${d.object.kind.toLowerCase()}.${d.object.apiVersion.split('/')[0]}/${d.object.metadata.name} resolved`);
  return [...lines.map((l) => `${l.object} ${l.result}`), ...resolved];
}

async function listObjects(client: Client, kind: string, extra = ''): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  const query = `CapstanKind = "${kind}" AND ExecutionStatus = "Running"${extra}`;
  for await (const wf of client.workflow.list({ query })) out.push(wf);
  return out.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

const nsFilter = (ns: string | undefined) => (ns ? ` AND CapstanNamespace = "${ns}"` : '');

export async function getClusters(client: Client, namespace?: string): Promise<string> {
  const rows: string[][] = [];
  for (const wf of await listObjects(client, 'Cluster', nsFilter(namespace))) {
    const v = await client.workflow.getHandle(wf.workflowId).query(clusterStatusQuery);
    const s = v.status;
    const available = s.conditions.find((c) => c.type === 'Available')?.status ?? 'Unknown';
    rows.push([
      ...(namespace ? [] : [v.namespace]),
      v.name,
      s.phase,
      available,
      `${s.controlPlane.readyReplicas}/${s.controlPlane.desiredReplicas}`,
      `${s.workers.readyReplicas}/${s.workers.desiredReplicas}`,
      s.controlPlaneEndpoint ? `${s.controlPlaneEndpoint.host}:${s.controlPlaneEndpoint.port}` : '',
      age(wf.startTime),
      v.controlPlane.version,
    ]);
  }
  const headers = [...(namespace ? [] : ['NAMESPACE']), 'NAME', 'PHASE', 'AVAILABLE', 'CP READY', 'WORKERS READY', 'ENDPOINT', 'AGE', 'VERSION'];
  return rows.length ? renderTable(headers, rows) : `No clusters found${namespace ? ` in ${namespace} namespace` : ''}.`;
}

export async function getMachines(client: Client, namespace?: string, cluster?: string): Promise<string> {
  const rows: string[][] = [];
  const extra = nsFilter(namespace) + (cluster ? ` AND CapstanCluster = "${cluster}"` : '');
  for (const wf of await listObjects(client, 'Machine', extra)) {
    const v = await client.workflow.getHandle(wf.workflowId).query(machineStatusQuery);
    const ready = v.status.conditions.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
    rows.push([
      ...(namespace ? [] : [v.namespace]),
      v.name,
      v.clusterName,
      v.role === 'worker-join' ? 'worker' : 'control-plane',
      v.status.nodeRef?.name ?? '',
      v.status.providerID ?? '',
      v.status.phase,
      ready,
      age(wf.startTime),
      v.version ?? '',
    ]);
  }
  const headers = [...(namespace ? [] : ['NAMESPACE']), 'NAME', 'CLUSTER', 'ROLE', 'NODENAME', 'PROVIDERID', 'PHASE', 'READY', 'AGE', 'VERSION'];
  return rows.length ? renderTable(headers, rows) : 'No machines found.';
}

/** The workload cluster's admin kubeconfig (a secret: printed only on request, never logged). */
export async function readKubeconfig(dataDir: string, namespace: string, cluster: string): Promise<string> {
  const secret = await new FileSecretStore(secretsDir(dataDir)).get(namespace, `${cluster}-kubeconfig`);
  if (!secret?.data.value) throw new ApplyError(`no kubeconfig for cluster "${cluster}" in namespace "${namespace}" (is the control plane initialized?)`);
  return secret.data.value;
}

/** `kubectl get nodes` for a workload cluster, for users without kubectl. */
export async function getNodes(dataDir: string, namespace: string, cluster: string): Promise<string> {
  // Loaded on demand: @kubernetes/client-node takes seconds to import, and only this command needs it.
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(await readKubeconfig(dataDir, namespace, cluster));
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

export async function describe(client: Client, kind: string, namespace: string, name: string): Promise<string> {
  if (kind === 'cluster' || kind === 'clusters') {
    const v: ClusterView = await client.workflow.getHandle(clusterWorkflowId({ namespace, name })).query(clusterStatusQuery);
    return stringify(v);
  }
  if (kind === 'machine' || kind === 'machines') {
    const v: MachineView = await client.workflow.getHandle(machineWorkflowId({ namespace, name })).query(machineStatusQuery);
    return stringify(v);
  }
  throw new ApplyError(`describe: unknown kind "${kind}" (cluster, machine)`);
}

export async function deleteCluster(client: Client, namespace: string, name: string, wait: boolean, progress: (line: string) => void): Promise<string> {
  const handle = client.workflow.getHandle<typeof ClusterWorkflow>(clusterWorkflowId({ namespace, name }));
  await handle.executeUpdate(deleteClusterUpdate);
  if (!wait) return `cluster.cluster.capstan.dev "${name}" deletion started`;
  progress(`cluster.cluster.capstan.dev "${name}" deleting (workers, then control plane, then infrastructure)...`);
  await handle.result();
  return `cluster.cluster.capstan.dev "${name}" deleted`;
}
