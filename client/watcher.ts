// The CRD watcher (first slice): capstan's objects in a management cluster drive the workflows.
// One informer per kind (list + watch from a resourceVersion, re-list on 410 Gone: the
// kubernetes-client informer; restarted with backoff after an error). Whatever changes in a
// namespace, the watcher reconciles the namespace as a whole, level-triggered as a controller is:
// every live Cluster there, with the objects it references and the objects that name it, becomes
// the same plan `capstan apply -f` makes (client/apply.ts), so both paths meet in one place. A new
// Cluster gets the finalizer `capstan.dev/lifecycle` before its workflow starts; a Cluster being
// deleted has its workflow delete it (workers, control plane, infrastructure) and loses the
// finalizer only once that workflow has finished.
import { CustomObjectsApi, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type KubernetesObject } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { stringify } from 'yaml';
import { KINDS, type KindName } from '../api/kinds.js';
import { VERSION } from '../api/meta.js';
import { clusterWorkflowId } from '../workflows/ids.js';
import { deleteClusterUpdate } from '../workflows/messages.js';
import { executePlan, loadPlan, type ApplyLine } from './apply.js';

export const FINALIZER = 'capstan.dev/lifecycle';

/** Plurals of the kinds, as in config/crd (api/crd.ts). */
const PLURAL: Record<KindName, string> = {
  Cluster: 'clusters',
  Machine: 'machines',
  MachineSet: 'machinesets',
  MachineDeployment: 'machinedeployments',
  MachineHealthCheck: 'machinehealthchecks',
  KubeadmControlPlane: 'kubeadmcontrolplanes',
  KubeadmConfig: 'kubeadmconfigs',
  KubeadmConfigTemplate: 'kubeadmconfigtemplates',
  SimCluster: 'simclusters',
  SimMachine: 'simmachines',
  SimMachineTemplate: 'simmachinetemplates',
};
/** Objects that belong to one Cluster by `spec.clusterName`. */
const OWNED_BY_CLUSTER = new Set<string>(['Machine', 'MachineSet', 'MachineDeployment', 'MachineHealthCheck']);

interface CapstanObject extends KubernetesObject {
  kind?: string;
  spec?: Record<string, unknown> & { clusterName?: string };
}

export interface WatcherOptions {
  kubeconfig: KubeConfig;
  temporal: Client;
  taskQueue: string;
  log?: (line: string) => void;
}

export class Watcher {
  private readonly informers: (Informer<CapstanObject> & { list(namespace?: string): CapstanObject[] })[] = [];
  private readonly objects: CustomObjectsApi;
  private readonly pending = new Set<string>();
  private readonly deleting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: (line: string) => void;
  /** What the last reconcile of each namespace did, for tests and the log. */
  readonly lastLines = new Map<string, ApplyLine[]>();

  constructor(private readonly o: WatcherOptions) {
    this.objects = o.kubeconfig.makeApiClient(CustomObjectsApi);
    this.log = o.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    for (const kind of Object.keys(KINDS) as KindName[]) {
      const group = KINDS[kind].group;
      const plural = PLURAL[kind];
      const informer = makeInformer<CapstanObject>(
        this.o.kubeconfig,
        `/apis/${group}/${VERSION}/${plural}`,
        () => this.objects.listClusterCustomObject({ group, version: VERSION, plural }) as never,
      );
      const changed = (obj: CapstanObject) => this.enqueue(obj.metadata?.namespace ?? 'default');
      informer.on('add', changed);
      informer.on('update', changed);
      informer.on('delete', changed);
      let backoffMs = 1000;
      informer.on('connect', () => (backoffMs = 1000));
      informer.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.log(`watch of ${plural} failed (${(err as Error)?.message ?? String(err)}); listing again in ${backoffMs} ms`);
        setTimeout(() => void (!this.stopped && informer.start().catch(() => undefined)), backoffMs);
        backoffMs = Math.min(backoffMs * 2, 30_000);
      });
      this.informers.push(informer as never);
      await informer.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.running.catch(() => undefined);
  }

  /** Reconciles the namespace soon (changes in one burst, e.g. `kubectl apply -f` of a manifest, make one pass). */
  private enqueue(namespace: string): void {
    this.pending.add(namespace);
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const namespaces = [...this.pending];
      this.pending.clear();
      this.running = this.running.then(async () => {
        for (const ns of namespaces) {
          try {
            await this.reconcile(ns);
          } catch (err) {
            // A conflict (the object changed meanwhile) or an API hiccup: look again shortly.
            this.log(`namespace ${ns}: ${(err as Error).message}; trying again in 2 s`);
            setTimeout(() => this.enqueue(ns), 2000);
          }
        }
      });
    }, 200);
  }

  private cached(namespace: string): CapstanObject[] {
    return this.informers.flatMap((i) => i.list(namespace));
  }

  /** One level-triggered pass over a namespace. */
  async reconcile(namespace: string): Promise<void> {
    const all = this.cached(namespace);
    const clusters = all.filter((o) => o.kind === 'Cluster');
    for (const c of clusters) {
      const name = c.metadata!.name!;
      if (c.metadata?.deletionTimestamp) {
        await this.deleteCluster(namespace, c);
        continue;
      }
      if (!c.metadata?.finalizers?.includes(FINALIZER)) {
        await this.setFinalizers(c, [...(c.metadata?.finalizers ?? []), FINALIZER]);
      }
      // The Cluster, everything that is not owned by a cluster (templates, control plane, infra),
      // and what names this one.
      const docs = all.filter((o) => (o.kind === 'Cluster' ? o === c : !OWNED_BY_CLUSTER.has(o.kind!) || o.spec?.clusterName === name) && !o.metadata?.deletionTimestamp);
      const text = docs.map((o) => stringify(asManifest(o))).join('---\n');
      try {
        const lines = await executePlan(this.o.temporal, this.o.taskQueue, loadPlan([{ file: `${namespace}/${name}`, text }]));
        this.lastLines.set(`${namespace}/${name}`, lines);
        const changed = lines.filter((l) => l.result !== 'unchanged' && l.result !== 'resolved');
        if (changed.length) this.log(changed.map((l) => `${l.object} ${l.result}`).join('\n'));
      } catch (err) {
        this.log(`Cluster ${namespace}/${name}: ${(err as Error).message}`);
      }
    }
  }

  /** Starts the workflow's deletion once; drops the finalizer when the workflow has finished. */
  private async deleteCluster(namespace: string, c: CapstanObject): Promise<void> {
    const key = `${namespace}/${c.metadata!.name!}`;
    if (this.deleting.has(key) || !c.metadata?.finalizers?.includes(FINALIZER)) return;
    this.deleting.add(key);
    const handle = this.o.temporal.workflow.getHandle(clusterWorkflowId({ namespace, name: c.metadata!.name! }));
    try {
      await handle.executeUpdate(deleteClusterUpdate).catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
      this.log(`cluster ${key}: deleting (workers, then control plane, then infrastructure)`);
      void (async () => {
        try {
          await handle.result().catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
          const now = (await this.objects.getNamespacedCustomObject({ group: KINDS.Cluster.group, version: VERSION, namespace, plural: PLURAL.Cluster, name: c.metadata!.name! })) as CapstanObject;
          await this.setFinalizers(now, (now.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER));
          this.log(`cluster ${key}: deleted`);
        } catch (err) {
          this.log(`cluster ${key}: ${(err as Error).message}`);
        } finally {
          this.deleting.delete(key);
        }
      })();
    } catch (err) {
      this.deleting.delete(key);
      throw err;
    }
  }

  private async setFinalizers(o: CapstanObject, finalizers: string[]): Promise<void> {
    const kind = o.kind as KindName;
    await this.objects.patchNamespacedCustomObject(
      {
        group: KINDS[kind].group,
        version: VERSION,
        namespace: o.metadata!.namespace!,
        plural: PLURAL[kind],
        name: o.metadata!.name!,
        // With its resourceVersion: a concurrent change makes this fail, and the next pass sees it.
        body: { metadata: { finalizers, resourceVersion: o.metadata!.resourceVersion } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** An object as a manifest: apiVersion, kind, name, namespace, labels, annotations and spec. */
function asManifest(o: CapstanObject): Record<string, unknown> {
  const m = o.metadata ?? {};
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'));
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: m.labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    ...(o.spec ? { spec: o.spec } : {}),
  };
}
