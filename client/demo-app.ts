// The demo's workload (config/samples/demo-app.yaml: a Deployment and a PodDisruptionBudget),
// installed into the demo cluster through its admin kubeconfig once the cluster is Available,
// and what `capstan dev` prints of it: where the pods run, and while it runs, each change of the
// workload cluster's nodes and pods (a rollout drains nodes and moves pods).
import { parseAllDocuments } from 'yaml';
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import { renderTable } from './table.js';

// Loaded on demand: @kubernetes/client-node takes seconds to import.
const k8s = () => import('@kubernetes/client-node');

async function kubeConfig(kubeconfig: string): Promise<KubeConfig> {
  const kc = new (await k8s()).KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc;
}

/**
 * Server-side apply of every document (field manager `capstan-dev`), so a second run (a second
 * `npm start` on the same cluster) changes nothing. Returns kubectl-style lines.
 */
export async function applyManifest(kubeconfig: string, text: string): Promise<string[]> {
  const { KubernetesObjectApi, PatchStrategy } = await k8s();
  const api = KubernetesObjectApi.makeApiClient(await kubeConfig(kubeconfig));
  const lines: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as KubernetesObject | null;
    if (!o) continue;
    const before = await api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata!.name!, namespace: o.metadata?.namespace ?? 'default' } }).catch(() => undefined);
    const after = await api.patch(o, undefined, undefined, 'capstan-dev', true, PatchStrategy.ServerSideApply);
    const group = o.apiVersion!.includes('/') ? `.${o.apiVersion!.split('/')[0]}` : '';
    const what = `${o.kind!.toLowerCase()}${group}/${o.metadata!.name}`;
    lines.push(`${what} ${!before ? 'created' : before.metadata?.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'configured'}`);
  }
  return lines;
}

const podReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** kubectl's STATUS column, as far as the simulated kubelet goes. */
const podStatus = (p: V1Pod) => (p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Unknown'));

export async function listPods(kubeconfig: string, namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const { CoreV1Api } = await k8s();
  const pods = await (await kubeConfig(kubeconfig)).makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector });
  return pods.items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** `kubectl get pods -o wide`, the columns that matter here: NAME READY STATUS NODE. */
export function podsTable(pods: V1Pod[]): string {
  if (!pods.length) return 'No resources found';
  return renderTable(
    ['NAME', 'READY', 'STATUS', 'NODE'],
    pods.map((p) => {
      const containers = p.spec?.containers.length ?? 0;
      const ready = p.status?.containerStatuses?.filter((c) => c.ready).length ?? 0;
      return [p.metadata!.name!, `${ready}/${containers}`, podStatus(p), p.spec?.nodeName ?? '<none>'];
    }),
  );
}

/** Waits (polling the workload API, not Temporal) until `count` pods are Ready; returns the pods either way. */
export async function waitForReadyPods(kubeconfig: string, namespace: string, labelSelector: string, count: number, timeoutMs: number): Promise<{ pods: V1Pod[]; ready: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = await listPods(kubeconfig, namespace, labelSelector).catch(() => [] as V1Pod[]);
    const ready = pods.filter((p) => podReady(p) && !p.metadata?.deletionTimestamp).length === count && pods.length === count;
    if (ready || Date.now() > deadline) return { pods, ready };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const nodeStatus = (n: V1Node) =>
  (n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady') + (n.spec?.unschedulable ? ',SchedulingDisabled' : '');

/**
 * Each change of the workload cluster's nodes and of the selected pods, as one line, once a
 * second until `stop` resolves: a node that joins, is cordoned or goes; a pod that is scheduled,
 * becomes Ready, is evicted. Read from the workload API only (no Temporal query, so no action).
 */
export async function watchWorkload(kubeconfig: string, namespace: string, labelSelector: string, say: (line: string) => void, stop: Promise<void>): Promise<void> {
  const { CoreV1Api } = await k8s();
  const core = (await kubeConfig(kubeconfig)).makeApiClient(CoreV1Api);
  let stopped = false;
  void stop.then(() => (stopped = true));
  let nodes = new Map<string, string>();
  let pods = new Map<string, string>();
  let first = true;
  while (!stopped) {
    try {
      const nextNodes = new Map((await core.listNode({})).items.map((n) => [n.metadata!.name!, nodeStatus(n)] as const));
      const nextPods = new Map(
        (await core.listNamespacedPod({ namespace, labelSelector })).items.map((p) => [p.metadata!.name!, `${podStatus(p)}${podReady(p) ? ' and Ready' : ''} on ${p.spec?.nodeName ?? '<no node yet>'}`] as const),
      );
      if (!first) {
        for (const [n, s] of nextNodes) if (nodes.get(n) !== s) say(`node ${n} ${nodes.has(n) ? '' : 'joined: '}${s}`);
        for (const n of nodes.keys()) if (!nextNodes.has(n)) say(`node ${n} deleted`);
        for (const [p, s] of nextPods) if (pods.get(p) !== s) say(`pod ${p} ${s}`);
        for (const [p, s] of pods) if (!nextPods.has(p)) say(`pod ${p} gone (was ${s})`);
      }
      nodes = nextNodes;
      pods = nextPods;
      first = false;
    } catch {
      // The workload API can be briefly unreachable (a control-plane machine replaced): try again.
    }
    await Promise.race([stop, new Promise((r) => setTimeout(r, 1000))]);
  }
}
