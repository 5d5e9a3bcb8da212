// Activities that talk to a workload cluster's API: wait for it to answer, find a machine's
// Node, watch it turn Ready, drain and delete it. They poll the workload API (not Temporal)
// and heartbeat, so waiting costs the Temporal server only throttled heartbeats.
import { Context } from '@temporalio/activity';
import { PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SecretStore } from '../providers/secrets/store.js';
import type { ObjectKey } from '../workflows/ids.js';
import { DEFAULT_BOOTSTRAP_TOKEN_TTL_SECONDS as TTL_SECONDS, rfc3339, tokenNeedsRefresh } from '../providers/kubeadm/bootstrap-token.js';
import { describeError, waitTrouble } from './errors.js';
import { elapsedSinceFirstAttemptMs, pause } from './heartbeat.js';
import { NodeWatches } from './node-watch.js';
import { apiStatus, workloadClient, type WorkloadClient } from './workload-client.js';
import { workloadWrite } from './workload-limit.js';

export interface WorkloadDeps {
  secrets: SecretStore;
  /** How often to look again while waiting (ms). */
  pollMs?: number;
  /**
   * How long a wait tolerates a workload API that does not answer before it fails (retryable),
   * so the reason reaches the object's condition instead of only the heartbeat (ms).
   */
  unreachableGraceMs?: number;
  /** The worker's Node watches (one per workload cluster), shared by every wait on a Node. */
  nodeWatches?: NodeWatches;
}

/** A wait's failures over time (see waitTrouble): since when the workload API has been failing. */
function apiTrouble(graceMs: number) {
  let since: number | undefined;
  return {
    ok() {
      since = undefined;
    },
    /** Returns a reason to put in the heartbeat, or throws when waiting no longer helps. */
    failed(err: unknown): string {
      const from = since ?? Date.now();
      const why = waitTrouble(err, from, graceMs);
      since = from;
      return why;
    },
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Extends a joining machine's bootstrap token while it has not joined (Cluster API refreshes at 1/3 TTL). */
async function refreshToken(client: WorkloadClient, tokenId: string): Promise<void> {
  const name = `bootstrap-token-${tokenId}`;
  try {
    const secret = await client.core.readNamespacedSecret({ name, namespace: 'kube-system' });
    const exp = secret.data?.expiration ? Buffer.from(secret.data.expiration, 'base64').toString() : undefined;
    if (!exp || !tokenNeedsRefresh(exp, new Date(), TTL_SECONDS)) return;
    const expiration = rfc3339(new Date(Date.now() + TTL_SECONDS * 1000));
    await client.core.patchNamespacedSecret({ name, namespace: 'kube-system', body: { stringData: { expiration } } }, mergePatch);
  } catch (err) {
    if (apiStatus(err) === 404) return; // already used up and cleaned, or never created
    throw err;
  }
}

/** How often a machine waiting for its Node checks that its bootstrap token will not expire first. */
const TOKEN_CHECK_MS = 30_000;

export function workloadActivities({ secrets, pollMs = 1000, unreachableGraceMs = 60_000, nodeWatches }: WorkloadDeps) {
  const nodes = nodeWatches ?? new NodeWatches(secrets);
  return {
    /** Returns once the workload cluster's API answers /readyz through the admin kubeconfig. */
    async waitForWorkloadAPI(input: { cluster: ObjectKey }): Promise<{ gitVersion: string }> {
      const client = await workloadClient(secrets, input.cluster);
      const trouble = apiTrouble(unreachableGraceMs);
      for (;;) {
        let why: string;
        try {
          const r = await client.get('/readyz');
          if (r.status === 200) {
            const v = await client.get('/version');
            return { gitVersion: (JSON.parse(v.body) as { gitVersion: string }).gitVersion };
          }
          // Not ready yet (its post-start hooks are running) is an answer: still a wait.
          trouble.ok();
          why = `workload API not ready yet: readyz ${r.status}`;
        } catch (err) {
          why = trouble.failed(err);
        }
        await pause(pollMs, why);
      }
    },

    /**
     * Cluster API's UpdateKubernetesVersionInKubeadmConfigMap: before the first machine of a new
     * version joins, kubeadm's ClusterConfiguration in kube-system/kubeadm-config names that
     * version, so `kubeadm join --control-plane` runs its static pods at it. Idempotent.
     */
    async setKubeadmConfigVersion(input: { cluster: ObjectKey; version: string }): Promise<{ previous?: string }> {
      const client = await workloadClient(secrets, input.cluster);
      const cm = await client.core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' });
      const text = cm.data?.ClusterConfiguration;
      if (!text) throw new Error('kube-system/kubeadm-config has no ClusterConfiguration');
      const config = parseYaml(text) as Record<string, unknown>;
      const previous = typeof config.kubernetesVersion === 'string' ? config.kubernetesVersion : undefined;
      if (previous === input.version) return { previous };
      config.kubernetesVersion = input.version;
      // With its resourceVersion: a concurrent writer makes this attempt fail (409) and the retry read again.
      await client.core.replaceNamespacedConfigMap({
        name: 'kubeadm-config',
        namespace: 'kube-system',
        body: { ...cm, data: { ...cm.data, ClusterConfiguration: stringifyYaml(config) } },
      });
      return previous ? { previous } : {};
    },

    /** Returns the name of the Node whose spec.providerID matches (from the cluster's Node watch). */
    async waitForNode(input: { cluster: ObjectKey; providerID: string; tokenId?: string }, also?: AlsoWhileWaiting): Promise<{ nodeName: string }> {
      const tokenId = input.tokenId;
      let client: WorkloadClient | undefined;
      const refresh = tokenId ? async () => refreshToken((client ??= await workloadClient(secrets, input.cluster)), tokenId).catch(() => undefined) : undefined;
      return nodes.waitFor(
        input.cluster,
        (list) => {
          const name = list.find((n) => n.spec?.providerID === input.providerID)?.metadata?.name;
          return name ? { nodeName: name } : undefined;
        },
        {
          waiting: () => `no Node with providerID ${input.providerID} yet`,
          graceMs: unreachableGraceMs,
          // A machine that takes long to join keeps its bootstrap token alive (Cluster API refreshes at 1/3 TTL).
          ...(refresh || also
            ? {
                periodic: {
                  everyMs: Math.min(refresh ? TOKEN_CHECK_MS : Infinity, also?.everyMs ?? Infinity),
                  run: async () => {
                    await also?.run();
                    await refresh?.();
                  },
                },
              }
            : {}),
        },
      );
    },

    /** Returns once the Node's Ready condition is True (from the cluster's Node watch). */
    async waitForNodeReady(input: { cluster: ObjectKey; nodeName: string }, also?: AlsoWhileWaiting): Promise<void> {
      await nodes.waitFor(input.cluster, (list) => (list.some((n) => n.metadata?.name === input.nodeName && isReady(n)) ? true : undefined), {
        ...(also ? { periodic: also } : {}),
        waiting: (list) => {
          const node = list.find((n) => n.metadata?.name === input.nodeName);
          const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
          return node ? `Node ${input.nodeName} not Ready yet${ready?.reason ? ` (${ready.reason})` : ''}` : `Node ${input.nodeName} not found`;
        },
        graceMs: unreachableGraceMs,
      });
    },

    /**
     * Cordons the Node and evicts its pods (not DaemonSet or mirror pods), honouring
     * PodDisruptionBudgets through the Eviction API; gives up after timeoutSeconds (0 = never),
     * counted from the drain's first attempt (`startedAt`, so it survives slices and retries).
     * A drain that is not done after `sliceSeconds` returns what blocks it (pods left, the
     * budgets that refused their eviction), so the Machine's condition can say so; the workflow
     * calls it again.
     */
    async drainNode(input: {
      cluster: ObjectKey;
      nodeName: string;
      timeoutSeconds: number;
      startedAt?: string;
      sliceSeconds?: number;
      /** The budgets the caller already shows: a change to them returns at once. */
      knownBudgets?: string[];
    }): Promise<DrainResult> {
      const startedAt = input.startedAt ? Date.parse(input.startedAt) : Date.now() - elapsedSinceFirstAttemptMs();
      const timedOut = () => input.timeoutSeconds > 0 && Date.now() - startedAt > input.timeoutSeconds * 1000;
      const sliceEnds = Date.now() + (input.sliceSeconds ?? 60) * 1000;
      const trouble = apiTrouble(unreachableGraceMs);
      let client: WorkloadClient | undefined;
      let cordoned = false;
      let evicted = 0;
      let blocked: DrainBlocked = { pods: [], budgets: [] };
      for (;;) {
        let why: string;
        try {
          client ??= await workloadClient(secrets, input.cluster);
          if (!cordoned) {
            await client.core.patchNode({ name: input.nodeName, body: { spec: { unschedulable: true } } }, mergePatch);
            cordoned = true;
          }
          const pods = await client.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${input.nodeName}` });
          // A Node whose kubelet is unreachable never confirms a deletion: as Cluster API does
          // (SkipWaitForDeleteTimeoutSeconds = 1), a pod whose deletionTimestamp (eviction time +
          // its grace period) is more than 1 s past is not waited for.
          const node = await client.core.readNode({ name: input.nodeName }).catch((err: unknown) => {
            if (apiStatus(err) === 404) return undefined;
            throw err;
          });
          if (!node) return { evicted, done: true, timedOut: false }; // the Node is gone: nothing left to drain
          const unreachable = isUnreachable(node);
          const evictable = pods.items.filter((p) => !isDaemonSetPod(p) && !isMirrorPod(p) && !isTerminal(p) && !(unreachable && deletedLongerThan(p, 1000)));
          if (evictable.length === 0) return { evicted, done: true, timedOut: false };
          if (timedOut()) return { evicted, done: false, timedOut: true, blocked };
          const budgets = new Set<string>();
          for (const p of evictable) {
            if (p.metadata?.deletionTimestamp) continue; // evicted already: it is terminating
            try {
              await client.core.createNamespacedPodEviction({
                name: p.metadata!.name!,
                namespace: p.metadata!.namespace!,
                body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata!.name!, namespace: p.metadata!.namespace! } },
              });
              evicted++;
            } catch (err) {
              // 429: a PodDisruptionBudget forbids it right now; 404: already gone.
              if (apiStatus(err) === 429) budgets.add(disruptionBudget(err) ?? 'a PodDisruptionBudget');
              else if (apiStatus(err) !== 404) throw err;
            }
          }
          blocked = { pods: evictable.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).sort(), budgets: [...budgets].sort() };
          trouble.ok();
          why = `draining ${input.nodeName}: ${blocked.pods.length} pod(s) left${blocked.budgets.length ? `, eviction refused by ${blocked.budgets.join(', ')}` : ''}`;
        } catch (err) {
          if (apiStatus(err) === 404 && !cordoned) return { evicted: 0, done: true, timedOut: false }; // no such Node: nothing to drain
          if (timedOut()) return { evicted, done: false, timedOut: true, blocked };
          why = trouble.failed(err);
        }
        // Back to the workflow when the slice is up, or at once when what blocks the drain changed
        // (a budget refuses, or stops refusing), so the Machine's condition says so.
        const budgetsChanged = blocked.budgets.join('\n') !== (input.knownBudgets ?? []).join('\n');
        if (Date.now() >= sliceEnds || budgetsChanged) return { evicted, done: false, timedOut: false, blocked };
        await pause(pollMs, why);
      }
    },

    /** Deletes the Node; gives up after timeoutSeconds (0 = keep trying), as Cluster API's nodeDeletionTimeout. */
    async deleteNode(input: { cluster: ObjectKey; nodeName: string; timeoutSeconds: number; /** When the timeout starts (ms since the epoch; default: the activity's first attempt). */ sinceMs?: number }): Promise<{ deleted: boolean }> {
      const since = input.sinceMs ?? Date.now() - elapsedSinceFirstAttemptMs();
      const trouble = apiTrouble(unreachableGraceMs);
      let client: WorkloadClient | undefined;
      for (;;) {
        let why: string;
        try {
          const c = (client ??= await workloadClient(secrets, input.cluster));
          await workloadWrite(input.cluster, () => c.core.deleteNode({ name: input.nodeName }));
          return { deleted: true };
        } catch (err) {
          if (apiStatus(err) === 404) return { deleted: true };
          if (input.timeoutSeconds > 0 && Date.now() - since > input.timeoutSeconds * 1000) return { deleted: false };
          why = trouble.failed(err);
          Context.current().log.info('node deletion failed; retrying', { node: input.nodeName, error: describeError(err) });
        }
        await pause(pollMs, `deleting Node ${input.nodeName}: ${why}`);
      }
    },
  };
}

/** A check run every `everyMs` while a Node wait lasts (e.g. that the instance still runs); throwing ends the wait. */
export interface AlsoWhileWaiting {
  everyMs: number;
  run: () => Promise<void>;
}

export interface DrainBlocked {
  /** Pods still on the Node, namespace/name. */
  pods: string[];
  /** The budgets whose eviction answered 429 in the last pass. */
  budgets: string[];
}

export interface DrainResult {
  evicted: number;
  done: boolean;
  timedOut: boolean;
  blocked?: DrainBlocked;
}

/** The budget a 429 eviction names ("The disruption budget demo-app needs 5 healthy pods …"). */
function disruptionBudget(err: unknown): string | undefined {
  const body = (err as { body?: unknown }).body;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  const m = /disruption budget ([a-z0-9.-]+)/i.exec(text);
  return m ? `PodDisruptionBudget ${m[1]}` : undefined;
}

const isDaemonSetPod = (p: V1Pod) => p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') ?? false;
const isMirrorPod = (p: V1Pod) => 'kubernetes.io/config.mirror' in (p.metadata?.annotations ?? {});
const isUnreachable = (n: V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'Unknown') ?? false;
const deletedLongerThan = (p: V1Pod, ms: number) => p.metadata?.deletionTimestamp !== undefined && Date.now() - new Date(p.metadata.deletionTimestamp).getTime() > ms;
const isTerminal = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
