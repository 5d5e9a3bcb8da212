// What the workflow and end-to-end tests check about a cluster: that it is Available, that its
// workload API has Ready Nodes for every VM, and what the cloud's event log says about
// ordering. (That no secret reached a workflow history or a log: secret-scan.ts.)
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { readKubeconfig } from '../../client/commands.js';
import type { SimCloudClient } from '../../providers/sim/client.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { clusterWorkflowId } from '../../workflows/ids.js';
import { clusterStatusQuery } from '../../workflows/messages.js';
import type { ClusterView } from '../../workflows/types.js';
import { eventually } from './capstan-env.js';

export async function clusterView(client: Client, name: string, namespace = 'default'): Promise<ClusterView> {
  return client.workflow.getHandle(clusterWorkflowId({ namespace, name })).query(clusterStatusQuery);
}

export const isAvailable = (v: ClusterView) => v.status.conditions.some((c) => c.type === 'Available' && c.status === 'True');

export async function waitForAvailable(client: Client, name: string, timeoutMs = 300_000): Promise<ClusterView> {
  return eventually(`cluster ${name} to be Available`, async () => {
    const v = await clusterView(client, name);
    return isAvailable(v) ? v : undefined;
  }, timeoutMs, 500);
}

export async function workloadNodes(dataDir: string, cluster: string, namespace = 'default'): Promise<V1Node[]> {
  const kc = new KubeConfig();
  kc.loadFromString(await readKubeconfig(dataDir, namespace, cluster));
  return (await kc.makeApiClient(CoreV1Api).listNode({})).items;
}

export const nodeReady = (n: V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** What the cloud did to VMs (a VM made, shut down, terminated): what a paused cluster or object must not cause. */
export const actedOn = (events: readonly SimEvent[]) => events.filter((e) => ['vm.created', 'vm.shutting-down', 'vm.terminated'].includes(e.type)).map((e) => `${e.type} ${e.message}`);

export async function allEvents(sim: SimCloudClient): Promise<SimEvent[]> {
  const out: SimEvent[] = [];
  for (;;) {
    const batch = await sim.events(out.at(-1)?.seq ?? 0);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** Live (not terminated) VMs of a provider cluster, or of all clusters. */
export async function liveVms(sim: SimCloudClient, clusterId?: string) {
  return (await sim.listVms(clusterId ? { clusterId } : {})).filter((v) => v.state !== 'terminated');
}

/**
 * The most VMs whose name starts with `prefix` alive at once, and the fewest of them running
 * after event `fromSeq`, from the cloud's event log (a rollout's surge and availability).
 */
export function vmExtremes(events: SimEvent[], prefix: string, fromSeq: number) {
  const names = new Map<string, string>();
  const alive = new Set<string>();
  const running = new Set<string>();
  let maxAlive = 0;
  let minRunning = Infinity;
  for (const e of events) {
    const name = e.type === 'vm.created' ? /^VM (\S+) created/.exec(e.message)?.[1] : e.vmId ? names.get(e.vmId) : undefined;
    if (e.type === 'vm.created' && e.vmId && name) names.set(e.vmId, name);
    if (!name?.startsWith(prefix) || !e.vmId) continue;
    if (e.type === 'vm.created') alive.add(e.vmId);
    if (e.type === 'vm.running') running.add(e.vmId);
    if (e.type === 'vm.shutting-down' || e.type === 'vm.terminated') running.delete(e.vmId);
    if (e.type === 'vm.terminated') alive.delete(e.vmId);
    maxAlive = Math.max(maxAlive, alive.size);
    if (e.seq > fromSeq) minRunning = Math.min(minRunning, running.size);
  }
  return { maxAlive, minRunning };
}

/**
 * The fewest Ready Nodes of VMs whose name starts with `prefix` at any moment after event
 * `fromSeq`, from the cloud's event log: a node counts from its kubelet's `node.ready` until
 * `node.not-ready` or its VM starts shutting down.
 */
export function fewestReadyNodes(events: SimEvent[], prefix: string, fromSeq: number): number {
  return readyNodesLow(events, prefix, fromSeq).fewest;
}

/** `fewestReadyNodes`, with the event at which the count first fell that low (to explain a dip). */
export function readyNodesLow(events: SimEvent[], prefix: string, fromSeq: number): { fewest: number; seq?: number } {
  const names = new Map<string, string>();
  const ready = new Set<string>();
  let fewest = Infinity;
  let seq: number | undefined;
  for (const e of events) {
    if (e.type === 'vm.created' && e.vmId) {
      const name = /^VM (\S+) created/.exec(e.message)?.[1];
      if (name) names.set(e.vmId, name);
    }
    if (!e.vmId || !names.get(e.vmId)?.startsWith(prefix)) continue;
    if (e.type === 'node.ready') ready.add(e.vmId);
    if (e.type === 'node.not-ready' || e.type === 'vm.shutting-down' || e.type === 'vm.terminated') ready.delete(e.vmId);
    if (e.seq > fromSeq && ready.size < fewest) {
      fewest = ready.size;
      seq = e.seq;
    }
  }
  return { fewest, seq };
}

/**
 * The activities that took longest (scheduled → closed, with their attempts) among workflows
 * whose ID starts with `idPrefix` and that ran after `sinceMs`: what to look at when a test was
 * slow. Read from the histories; for logs only, never for an assertion on time.
 */
export async function slowestActivities(client: Client, idPrefix: string, sinceMs: number, top = 5): Promise<string[]> {
  const rows: { ms: number; line: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${idPrefix}"` })) {
    if ((wf.closeTime?.getTime() ?? Date.now()) < sinceMs) continue;
    const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const scheduled = new Map<string, { name: string; at: number }>();
    const started = new Map<string, number>();
    const time = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    for (const e of h.events ?? []) {
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: time(e) });
      if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), e.activityTaskStartedEventAttributes.attempt ?? 1);
      const closed =
        e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
      if (closed && 'scheduledEventId' in closed) {
        const s = scheduled.get(String(closed.scheduledEventId));
        if (!s || s.at < sinceMs) continue;
        const ms = time(e) - s.at;
        const how = e.activityTaskCompletedEventAttributes ? 'completed' : e.activityTaskFailedEventAttributes ? 'failed' : e.activityTaskTimedOutEventAttributes ? 'timed out' : 'cancelled';
        rows.push({ ms, line: `${wf.workflowId} ${s.name}: ${(ms / 1000).toFixed(1)} s, ${how} at attempt ${started.get(String(closed.scheduledEventId)) ?? '?'}` });
      }
    }
  }
  return rows.sort((a, b) => b.ms - a.ms).slice(0, top).map((r) => r.line);
}
