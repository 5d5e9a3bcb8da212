// The CRD watcher: capstan's objects in a management cluster drive the workflows.
// One informer per kind (list + watch from a resourceVersion, re-list on 410 Gone: the
// kubernetes-client informer; restarted with backoff after an error, client/watch-restart.ts). Whatever changes in a
// namespace, the watcher reconciles the namespace as a whole, level-triggered as a controller is:
// every live Cluster there, with the objects it references and the objects that name it, becomes
// the same plan `capstan apply -f` makes (client/apply.ts), so both paths meet in one place. A new
// Cluster gets the finalizer `capstan.dev/lifecycle` before its workflow starts; a Cluster being
// deleted has its workflow delete it (workers, control plane, infrastructure) and loses the
// finalizer only once that workflow has finished; so do a Cluster's deployments, sets and health
// checks. What the workflows make, and every kind's status, is written back by the mirror
// (client/object-mirror.ts), on a timer.
import { CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type Informer } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { stringify } from 'yaml';
import { customObjectAt, PLURAL } from '../api/crd.js';
import { canonicalJson } from '../workflows/spec-diff.js';
import { KINDS, type KindName } from '../api/kinds.js';
import { VERSION } from '../api/meta.js';
import { clusterWorkflowId, controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId } from '../workflows/ids.js';
import { hasPausedAnnotation, PAUSED_ANNOTATION } from '../workflows/pause.js';
import { annotateMachineUpdate, applyClusterUpdate, machineSetStatusQuery, pauseSignal, deleteClusterUpdate, deleteMachineDeploymentSignal, deleteMachineHealthCheckSignal, deleteMachineSetSignal, deleteMachineSignal, remediateControlPlaneMachineSignal } from '../workflows/messages.js';
import { executePlan, loadPlan, rejection, type ApplyLine } from './apply.js';
import type { ApplyPlan } from './manifests.js';
import { asManifest, type CapstanObject, madeByOwner, templateAnnotationKeys, userAnnotations } from './object-manifest.js';
import { keepWatching } from './watch-restart.js';
import { FINALIZER, ObjectMirror, objectKey, RUN_ID_ANNOTATION, WORKFLOW_ID_ANNOTATION } from './object-mirror.js';

export { FINALIZER, RUN_ID_ANNOTATION, WORKFLOW_ID_ANNOTATION };

/** Objects that belong to one Cluster by `spec.clusterName`. */
const OWNED_BY_CLUSTER = new Set<string>(['Machine', 'MachineSet', 'MachineDeployment', 'MachineHealthCheck']);

/** What a reconcile acts on: spec (generation), deletion, finalizers, labels and the user's annotations; not status. */
const intent = (o: CapstanObject) =>
  JSON.stringify([
    o.metadata?.generation,
    o.metadata?.deletionTimestamp,
    o.metadata?.finalizers,
    o.metadata?.labels,
    Object.entries(o.metadata?.annotations ?? {}).filter(([k]) => !k.startsWith('capstan.dev/')),
  ]);

export interface WatcherOptions {
  kubeconfig: KubeConfig;
  temporal: Client;
  taskQueue: string;
  log?: (line: string) => void;
  /** How often Cluster statuses are compared with their workflows' (default 2 s). */
  statusIntervalMs?: number;
  /** Default true; false writes every pass (only to show a test's write counter works). */
  writeOnlyChanges?: boolean;
  /** How long a deployment or health check is asked again after a change (client/object-mirror.ts; default 10 s). */
  settleMs?: number;
  /** How long a machine may stay in a passing phase before its workflow is asked why (client/object-mirror.ts; default 30 s). */
  stuckMs?: number;
  /** How long changes are gathered into one pass (default 20 ms: the documents of one `kubectl apply -f` arrive together). */
  debounceMs?: number;
  /** Told after each pass over a Cluster's objects, with what it did (for the watch benchmark's lag). */
  onReconciled?: (cluster: string, lines: ApplyLine[]) => void;
}

export class Watcher {
  private readonly informers: (Informer<CapstanObject> & { list(namespace?: string): CapstanObject[] })[] = [];
  private readonly objects: CustomObjectsApi;
  private readonly core: CoreV1Api;
  /** The refusal last told on each object (by UID): its generation and message. */
  private readonly refused = new Map<string, string>();
  private readonly pending = new Set<string>();
  private readonly deleting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Reconciles, one at a time. */
  private running: Promise<void> = Promise.resolve();
  /** The mirror's passes, one at a time. */
  private mirroring: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: (line: string) => void;
  /** What the last reconcile of each namespace did, for tests and the log. */
  readonly lastLines = new Map<string, ApplyLine[]>();
  private statusTimer: NodeJS.Timeout | undefined;
  /** The generation of each object (`Kind/namespace/name`) last applied to its workflow: status.observedGeneration. */
  private readonly applied = new Map<string, number>();
  /** The object (UID) and manifest of each generation in `applied`: a new generation that changes neither applies nothing. */
  private readonly appliedManifests = new Map<string, { uid: string | undefined; manifest: string; annotated: boolean }>();
  /** Whether each object being deleted (by UID) last had the paused annotation, as delivered to its workflow. */
  private readonly pauseToldWhileDeleting = new Map<string, boolean>();
  /** Whether each deployment's set (by UID) has the paused annotation, as last told to its workflow. */
  private readonly setPauseTold = new Map<string, boolean>();
  /** The deployment's sets (by UID) whose annotation is being told now. */
  private readonly setPauseSyncing = new Set<string>();
  /** What each object's last reconcile-worthy state was (by UID): status writes reconcile nothing. */
  private readonly intents = new Map<string, string>();
  /** The user's annotations of each workflow-made Machine (by UID), as last delivered to its workflow. */
  private readonly machineAnnotations = new Map<string, Record<string, string>>();
  /** Workflow-made objects and the status of every kind (client/object-mirror.ts). */
  readonly mirror: ObjectMirror;

  constructor(private readonly o: WatcherOptions) {
    this.objects = o.kubeconfig.makeApiClient(CustomObjectsApi);
    this.core = o.kubeconfig.makeApiClient(CoreV1Api);
    this.log = o.log ?? (() => undefined);
    this.mirror = new ObjectMirror({
      objects: this.objects,
      temporal: o.temporal,
      cached: () => this.informers.flatMap((i) => i.list()),
      applied: this.applied,
      writeOnlyChanges: o.writeOnlyChanges !== false,
      ...(o.settleMs !== undefined ? { settleMs: o.settleMs } : {}),
      ...(o.stuckMs !== undefined ? { stuckMs: o.stuckMs } : {}),
    });
  }

  /** Management API writes of the mirror so far (the workflow-made objects and every kind's status). */
  get writes(): number {
    return this.mirror.writes;
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
      const changed = (obj: CapstanObject) => {
        if (madeByOwner(obj)) return this.madeObjectChanged(obj);
        const uid = obj.metadata?.uid ?? '';
        const now = intent(obj);
        if (this.intents.get(uid) === now) return;
        this.intents.set(uid, now);
        this.enqueue(obj.metadata?.namespace ?? 'default');
      };
      informer.on('add', changed);
      informer.on('update', changed);
      informer.on('delete', (obj: CapstanObject) => {
        this.intents.delete(obj.metadata?.uid ?? '');
        this.refused.delete(obj.metadata?.uid ?? '');
        this.pauseToldWhileDeleting.delete(obj.metadata?.uid ?? '');
        this.setPauseTold.delete(obj.metadata?.uid ?? '');
        if (!madeByOwner(obj)) this.enqueue(obj.metadata?.namespace ?? 'default');
        else if (obj.kind === 'Machine') {
          this.deleting.delete(objectKey('Machine', obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''));
          this.machineAnnotations.delete(obj.metadata?.uid ?? '');
        }
      });
      this.informers.push(informer as never);
      await keepWatching(informer, {
        stopped: () => this.stopped,
        onError: (err, ms) => this.log(`watch of ${plural} failed (${(err as Error)?.message ?? String(err)}); listing again in ${ms} ms`),
      });
    }
    // The mirror's passes run on their own: a reconcile (a user's change reaching its workflow)
    // never waits behind a pass over a thousand machines.
    const tick = () => {
      this.statusTimer = setTimeout(() => {
        this.mirroring = this.mirroring
          .then(() => this.mirror.pass())
          .catch((err: unknown) => this.log(`status: ${(err as Error).message}`))
          .finally(() => {
          if (!this.stopped) tick();
        });
      }, this.o.statusIntervalMs ?? 2000);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all([this.running.catch(() => undefined), this.mirroring.catch(() => undefined)]);
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
    }, this.o.debounceMs ?? 20);
  }

  private cached(namespace: string): CapstanObject[] {
    return this.informers.flatMap((i) => i.list(namespace));
  }

  /** One level-triggered pass over a namespace. */
  async reconcile(namespace: string): Promise<void> {
    const all = this.cached(namespace);
    // A deployment, set or health check of a Cluster's: its finalizer first; once it is deleted,
    // its workflow deletes its machines, and the object goes when that workflow has ended.
    const liveCluster = (name: string | undefined) => all.find((x) => x.kind === 'Cluster' && x.metadata?.name === name && !x.metadata?.deletionTimestamp && x.metadata?.uid);
    for (const o of all.filter((x) => DELETABLE[x.kind!] && !madeByOwner(x))) {
      if (o.metadata?.deletionTimestamp) {
        await this.deleteOwned(namespace, o, all);
        await this.pauseAnnotationWhileDeleting(namespace, o);
        continue;
      }
      // Its finalizer, and its Cluster as an owner (in one write).
      const cluster = liveCluster(o.spec?.clusterName);
      if (!cluster) await this.pauseAnnotationWhileDeleting(namespace, o);
      const owner = cluster && !ownedBy(o, cluster) ? cluster : undefined;
      if (!o.metadata?.finalizers?.includes(FINALIZER) || owner) {
        await this.setFinalizers(o, [...new Set([...(o.metadata?.finalizers ?? []), FINALIZER])], { [WORKFLOW_ID_ANNOTATION]: DELETABLE[o.kind!]!.id({ namespace, name: o.metadata!.name! }) }, owner);
      }
    }
    // What a live Cluster references (its control plane and infrastructure, and the templates its
    // objects are made from) is owned by it too, as Cluster API's controllers make it: deleting the
    // Cluster object leaves nothing behind (the garbage collector takes them once it is gone).
    for (const c of all.filter((x) => x.kind === 'Cluster' && !x.metadata?.deletionTimestamp && x.metadata?.uid)) {
      for (const [o, owner] of ownership(c, all)) if (!DELETABLE[o.kind!] && !ownedBy(o, owner)) await this.setFinalizers(o, o.metadata?.finalizers ?? [], undefined, owner);
    }
    const clusters = all.filter((o) => o.kind === 'Cluster');
    for (const c of clusters) {
      const name = c.metadata!.name!;
      if (c.metadata?.deletionTimestamp) {
        await this.deleteCluster(namespace, c);
        await this.pauseWhileDeleting(namespace, c, all);
        continue;
      }
      if (!c.metadata?.finalizers?.includes(FINALIZER)) {
        await this.setFinalizers(c, [...(c.metadata?.finalizers ?? []), FINALIZER], { [WORKFLOW_ID_ANNOTATION]: clusterWorkflowId({ namespace, name }) });
      }
      // The Cluster, everything that is not owned by a cluster (templates, control plane, infra),
      // and what names this one.
      const docs = all.filter((o) => (o.kind === 'Cluster' ? o === c : !OWNED_BY_CLUSTER.has(o.kind!) || o.spec?.clusterName === name) && !o.metadata?.deletionTimestamp && !madeByOwner(o));
      // Only what changed since it was last applied goes to the workflows (each Update is an
      // action): a deployment's change is one Update to its workflow, a label changes nothing.
      const changedDocs = docs.filter((d) => {
        const key = objectKey(d.kind!, namespace, d.metadata!.name!);
        if (d.metadata?.generation === undefined) return true;
        // (An object deleted and created again under its name is new, whatever its generation.)
        const was = this.appliedManifests.get(key);
        if (!was || was.uid !== d.metadata.uid) return true;
        // (Cluster API's paused annotation is metadata, no new generation, and yet it changes what the workflow does.)
        if (this.applied.get(key) === d.metadata.generation && was.annotated === hasPausedAnnotation(d.metadata)) return false;
        // A new generation that asks for nothing new (a provider ID the mirror set) is applied as it stands.
        if (was.manifest === canonicalJson(asManifest(d))) {
          this.applied.set(key, d.metadata.generation);
          return false;
        }
        return true;
      });
      if (!changedDocs.length) continue;
      try {
        await this.applyDocs(namespace, name, docs, changedDocs);
        for (const d of docs) this.refused.delete(d.metadata?.uid ?? '');
      } catch (err) {
        // One object refused must not hold back the others (each is reconciled on its own in
        // Cluster API): the Cluster's own objects (itself, its control plane, infrastructure and
        // templates) are applied together, then each deployment, set, health check and machine on
        // its own beside them; a refusal is told on the object refused (a Warning Event that
        // `kubectl describe` shows) and in the log.
        const owned = (d: CapstanObject) => OWNED_BY_CLUSTER.has(d.kind!);
        const base = docs.filter((d) => !owned(d));
        const baseChanges = changedDocs.filter((d) => !owned(d));
        // (The Cluster's own objects are refused together: on the one that changed, else on the Cluster.)
        const blame = baseChanges.length === 1 ? baseChanges[0]! : c;
        if (!docs.some(owned)) {
          await this.refuse(blame, err);
          continue;
        }
        if (baseChanges.length) {
          try {
            await this.applyDocs(namespace, name, base, base);
          } catch (baseErr) {
            await this.refuse(blame, baseErr);
            continue;
          }
        }
        const baseChanged = baseChanges.length > 0;
        // A changed template reaches every deployment that resolves it; else only what changed.
        for (const d of baseChanged ? docs.filter(owned) : changedDocs) {
          try {
            await this.applyDocs(namespace, name, [...base, d], [d]);
            this.refused.delete(d.metadata?.uid ?? '');
          } catch (oneErr) {
            await this.refuse(d, oneErr);
          }
        }
      }
    }
  }

  /**
   * Applies a Cluster's documents to the workflows, as `capstan apply -f` of them would: the whole
   * plan when the Cluster, its control plane, infrastructure or a template changed (a template is
   * what deployments resolve); else just the objects that changed. Throws what refused them.
   */
  private async applyDocs(namespace: string, cluster: string, docs: CapstanObject[], changedDocs: CapstanObject[]): Promise<void> {
    const plan = planOf(namespace, cluster, docs);
    if (changedDocs.every((d) => OWNED_BY_CLUSTER.has(d.kind!))) {
      const changed = new Set(changedDocs.map((d) => `${d.kind}/${d.metadata!.name}`));
      plan.clusters = [];
      plan.machines = plan.machines.filter((m) => changed.has(`Machine/${m.machine.metadata.name}`));
      plan.machineDeployments = plan.machineDeployments.filter((m) => changed.has(`MachineDeployment/${m.machineDeployment.metadata.name}`));
      plan.machineSets = plan.machineSets.filter((m) => changed.has(`MachineSet/${m.machineSet.metadata.name}`));
      plan.machineHealthChecks = plan.machineHealthChecks.filter((m) => changed.has(`MachineHealthCheck/${m.metadata.name}`));
      plan.resolved = [];
    }
    const lines = await executePlan(this.o.temporal, this.o.taskQueue, plan);
    this.lastLines.set(`${namespace}/${cluster}`, lines);
    this.o.onReconciled?.(`${namespace}/${cluster}`, lines);
    for (const d of docs) {
      if (d.metadata?.generation === undefined) continue;
      this.applied.set(objectKey(d.kind!, namespace, d.metadata.name!), d.metadata.generation);
      this.appliedManifests.set(objectKey(d.kind!, namespace, d.metadata.name!), { uid: d.metadata.uid, manifest: canonicalJson(asManifest(d)), annotated: hasPausedAnnotation(d.metadata) });
    }
    const changed = lines.filter((l) => l.result !== 'unchanged' && l.result !== 'resolved');
    if (changed.length) this.log(changed.map((l) => `${l.object} ${l.result}`).join('\n'));
  }

  /**
   * A Cluster being deleted takes a pause or a resume still (Cluster API's spec.paused: its deletion
   * waits while it is paused, so a user resumes it to let it go), and so does its control plane
   * (the paused annotation on the KubeadmControlPlane): a new generation of the Cluster, or a change
   * of that annotation, goes to its workflow with its own documents (not its deployments', sets' or
   * machines'), and one that changed nothing the workflow takes now ("is being deleted") is marked
   * applied.
   */
  private async pauseWhileDeleting(namespace: string, c: CapstanObject, all: CapstanObject[]): Promise<void> {
    const name = c.metadata!.name!;
    const key = objectKey('Cluster', namespace, name);
    const generation = c.metadata?.generation;
    const kcp = all.find((o) => o.kind === 'KubeadmControlPlane' && o.metadata?.name === c.spec?.controlPlaneRef?.name);
    const kcpKey = kcp && objectKey('KubeadmControlPlane', namespace, kcp.metadata!.name!);
    const kcpWas = kcpKey ? this.appliedManifests.get(kcpKey) : undefined;
    const kcpPauseChanged = !!kcp && (kcpWas?.uid !== kcp.metadata?.uid || kcpWas?.annotated !== hasPausedAnnotation(kcp.metadata));
    if (generation === undefined || (this.applied.get(key) === generation && !kcpPauseChanged)) return;
    const docs = all.filter((o) => (o.kind === 'Cluster' ? o === c : !OWNED_BY_CLUSTER.has(o.kind!) && !madeByOwner(o)));
    const apply = planOf(namespace, name, docs).clusters[0];
    // An Update, never an update-with-start: a workflow that has finished deleting is not started again.
    if (apply) {
      try {
        const r = await this.o.temporal.workflow.getHandle(clusterWorkflowId({ namespace, name })).executeUpdate(applyClusterUpdate, { args: [apply] });
        if (r.result === 'configured') {
          for (const kind of r.changed ?? ['Cluster']) {
            const paused = kind === 'Cluster' ? apply.cluster.spec.paused : hasPausedAnnotation(apply.controlPlane.metadata);
            this.log(`${kind === 'Cluster' ? `cluster.cluster.capstan.dev/${name}` : `kubeadmcontrolplane.controlplane.capstan.dev/${apply.controlPlane.metadata.name}`} configured (${paused ? 'paused' : 'resumed'} while being deleted)`);
          }
        }
      } catch (err) {
        // Nothing new for it (it takes only a pause or a resume now), or it has finished.
        const message = rejection(err) ?? (err as Error)?.message ?? '';
        if (!/is being deleted|already completed/i.test(message) && !(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    this.applied.set(key, generation);
    if (kcp && kcpKey) this.appliedManifests.set(kcpKey, { uid: kcp.metadata?.uid, manifest: kcpWas?.manifest ?? canonicalJson(asManifest(kcp)), annotated: hasPausedAnnotation(kcp.metadata) });
  }

  /**
   * A deployment or standalone set being deleted (itself, or its Cluster) takes its paused
   * annotation still (Cluster API's: its deletion waits while it has it, so a user removes it to let
   * it go): a change of it goes to its workflow as one pause signal (`annotated`), nothing else of
   * the object (which is no longer applied). After a restart of the watcher, once.
   */
  private async pauseAnnotationWhileDeleting(namespace: string, o: CapstanObject): Promise<void> {
    if (o.kind !== 'MachineDeployment' && o.kind !== 'MachineSet') return;
    const uid = o.metadata?.uid ?? '';
    const name = o.metadata!.name!;
    const annotated = hasPausedAnnotation(o.metadata);
    if (this.pauseToldWhileDeleting.get(uid) === annotated) return;
    // What was last applied says it already (a watcher that ran all along); else the workflow is told.
    const was = this.appliedManifests.get(objectKey(o.kind, namespace, name));
    if (!this.pauseToldWhileDeleting.has(uid) && was?.uid === uid && was.annotated === annotated) {
      this.pauseToldWhileDeleting.set(uid, annotated);
      return;
    }
    const id = o.kind === 'MachineDeployment' ? machineDeploymentWorkflowId({ namespace, name }) : machineSetWorkflowId({ namespace, name });
    try {
      await this.o.temporal.workflow.getHandle(id).signal(pauseSignal, { annotated });
      this.log(`${o.kind.toLowerCase()}.cluster.capstan.dev/${name} ${annotated ? 'paused' : 'resumed'} (its ${PAUSED_ANNOTATION} annotation, while being deleted)`);
    } catch (err) {
      // A workflow that has finished has nothing left to hold.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    this.pauseToldWhileDeleting.set(uid, annotated);
  }

  /**
   * A refusal, told where a Cluster API user looks: a Warning Event on the object (once per
   * generation and message) and the log. The object is not marked applied: its next change, or
   * the next change of its Cluster, tries again.
   */
  private async refuse(o: CapstanObject, err: unknown): Promise<void> {
    // Where in the watcher's own manifest a problem was found means nothing to the user: each
    // line names the object instead (`MachineDeployment "md": spec…`).
    const message = ((err as Error)?.message ?? String(err)).replace(/^\S+: document \d+ \(([^)]*)\): /gm, '$1: ');
    const m = o.metadata!;
    this.log(`${o.kind} ${m.namespace}/${m.name}: ${message}`);
    const key = `${m.generation ?? ''}\n${message}`;
    if (this.refused.get(m.uid ?? '') === key) return;
    this.refused.set(m.uid ?? '', key);
    const now = new Date();
    await this.core
      .createNamespacedEvent({
        namespace: m.namespace!,
        body: {
          metadata: { generateName: `${m.name}.` },
          involvedObject: { apiVersion: o.apiVersion, kind: o.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
          type: 'Warning',
          reason: 'ReconcileError',
          // An Event's message is at most 1 KiB.
          message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
          source: { component: 'capstan-watcher' },
          reportingComponent: 'capstan.dev/watcher',
          reportingInstance: hostname(),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((e: unknown) => this.log(`${o.kind} ${m.namespace}/${m.name}: the refusal could not be recorded as an Event: ${(e as Error).message}`));
  }

  /**
   * A workflow-made Machine deleted by a user (`kubectl delete machine`): as in Cluster API, it is
   * drained and deleted, and its set makes a new one (a control plane's is replaced through the
   * control plane, which takes the machine's etcd member away first). The mirror lets the object
   * go once the machine's workflow has ended. When its owner is going too, the owner deletes it.
   */
  private madeObjectChanged(o: CapstanObject): void {
    if (o.kind === 'MachineSet') return this.syncSetPause(o);
    if (o.kind !== 'Machine') return;
    this.syncAnnotations(o);
    if (!o.metadata?.deletionTimestamp || !o.metadata.finalizers?.includes(FINALIZER)) return;
    const workflowId = o.metadata.annotations?.[WORKFLOW_ID_ANNOTATION];
    const ref = o.metadata.ownerReferences?.find((r) => r.controller);
    const namespace = o.metadata.namespace!;
    const key = objectKey('Machine', namespace, o.metadata.name!);
    if (!workflowId || !ref || this.deleting.has(key)) return;
    const owner = this.cached(namespace).find((x) => x.metadata?.uid === ref.uid);
    const cluster = this.cached(namespace).find((x) => x.kind === 'Cluster' && x.metadata?.name === o.spec?.clusterName);
    if (!owner || owner.metadata?.deletionTimestamp || !cluster || cluster.metadata?.deletionTimestamp) return;
    // Its Cluster paused, a set's machine waits (a control plane's goes through its control plane,
    // which waits itself): told at the object's next change, its Paused going False on resume.
    if (cluster.spec?.paused === true && ref.kind !== 'KubeadmControlPlane') return;
    this.deleting.add(key);
    const name = o.metadata.name!;
    const tell =
      ref.kind === 'KubeadmControlPlane'
        ? this.o.temporal.workflow
            .getHandle(controlPlaneWorkflowId({ namespace, name: ref.name }))
            .signal(remediateControlPlaneMachineSignal, { machine: name, remediation: { healthCheck: '', reason: 'MachineDeleted', message: 'the Machine object was deleted' } })
        : this.o.temporal.workflow.getHandle(workflowId).signal(deleteMachineSignal);
    void tell.then(
      () => this.log(`machine ${namespace}/${name}: deleting (drain, then the instance); its ${ref.kind} replaces it`),
      (err: unknown) => {
        // A workflow already gone has nothing left to delete (the mirror lets the object go); else try again.
        if (err instanceof WorkflowNotFoundError || this.stopped) return;
        this.log(`machine ${namespace}/${name}: ${(err as Error).message}; trying again in 2 s`);
        this.deleting.delete(key);
        setTimeout(() => this.madeObjectChanged(o), 2000);
      },
    );
  }

  /**
   * A deployment's set paused by Cluster API's paused annotation on its own object (`kubectl
   * annotate machineset`): its workflow is told by one pause signal when the annotation comes or
   * goes; its deployment goes on (the set makes and deletes no machine meanwhile, as Cluster API's
   * paused MachineSet). First seen (a watcher just started), one with the annotation is told; one
   * without, only if its workflow says it is paused by one (removed while no watcher ran).
   */
  private syncSetPause(o: CapstanObject): void {
    const uid = o.metadata?.uid ?? '';
    // (One delivery at a time per set: the running one reads the object again when it is done.)
    if (this.setPauseSyncing.has(uid) || this.setPauseTold.get(uid) === hasPausedAnnotation(o.metadata)) return;
    this.setPauseSyncing.add(uid);
    void this.tellSetPause(o).finally(() => this.setPauseSyncing.delete(uid));
  }

  private async tellSetPause(o: CapstanObject): Promise<void> {
    const uid = o.metadata?.uid ?? '';
    const namespace = o.metadata!.namespace!;
    const name = o.metadata!.name!;
    const handle = this.o.temporal.workflow.getHandle(machineSetWorkflowId({ namespace, name }));
    try {
      for (;;) {
        // The object as the cache has it now (gone: nothing left to tell).
        const now = this.cached(namespace).find((x) => x.metadata?.uid === uid);
        if (!now) return;
        const annotated = hasPausedAnnotation(now.metadata);
        const told = this.setPauseTold.get(uid);
        if (told === annotated) return;
        if (told !== undefined || annotated || (await handle.query(machineSetStatusQuery)).annotationPaused) {
          await handle.signal(pauseSignal, { annotated });
          this.log(`machineset.cluster.capstan.dev/${name} ${annotated ? 'paused' : 'resumed'} (its ${PAUSED_ANNOTATION} annotation)`);
        }
        this.setPauseTold.set(uid, annotated);
      }
    } catch (err) {
      // A set that has ended has nothing left to hold; else it is tried again shortly.
      if (err instanceof WorkflowNotFoundError || this.stopped) return;
      this.log(`machineset ${namespace}/${name}: its ${PAUSED_ANNOTATION} annotation not delivered: ${(err as Error).message}; trying again in 2 s`);
      setTimeout(() => this.syncSetPause(o), 2000);
    }
  }

  /**
   * A workflow-made Machine's annotations, as a user sets them on its object (`kubectl annotate`),
   * reach its workflow (one Update when they change): Cluster API's delete-machine annotation (it
   * goes first when its set scales down) and the pre-drain / pre-terminate deletion hooks. Seen
   * for the first time (a watcher just started), any are sent once: they may have been set while
   * no watcher ran. (One removed while no watcher ran stays on the workflow.)
   */
  private syncAnnotations(o: CapstanObject): void {
    const uid = o.metadata?.uid ?? '';
    const workflowId = o.metadata?.annotations?.[WORKFLOW_ID_ANNOTATION];
    if (!workflowId) return;
    const now = userAnnotations(o);
    const seen = this.machineAnnotations.get(uid);
    if (seen && canonicalJson(seen) === canonicalJson(now)) return;
    this.machineAnnotations.set(uid, now);
    const set = Object.fromEntries(Object.entries(now).filter(([k, v]) => seen?.[k] !== v));
    // (A key the template now has is no longer the user's, not gone: the machine keeps it.)
    const fromTemplate = templateAnnotationKeys(o);
    const remove = Object.keys(seen ?? {}).filter((k) => !(k in now) && !fromTemplate.has(k));
    if (!Object.keys(set).length && !remove.length) return;
    const what = `machine ${o.metadata!.namespace}/${o.metadata!.name}`;
    void this.o.temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(annotateMachineUpdate, { args: [{ set, remove }] })
      .then(
        () => this.log(`${what}: annotations ${[...Object.keys(set).map((k) => `+${k}`), ...remove.map((k) => `-${k}`)].join(' ')}`),
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return;
          // Sent again at the object's next change, or the next watcher's start.
          this.log(`${what}: annotations not delivered: ${(err as Error).message}`);
          if (seen) this.machineAnnotations.set(uid, seen);
          else this.machineAnnotations.delete(uid);
        },
      );
  }

  /**
   * A deleted deployment, set or health check: its workflow is told to delete, unless its Cluster
   * is being deleted, which deletes it first (without draining).
   */
  private async deleteOwned(namespace: string, o: CapstanObject, all: CapstanObject[]): Promise<void> {
    const how = DELETABLE[o.kind!]!;
    const cluster = all.find((c) => c.kind === 'Cluster' && c.metadata?.name === o.spec?.clusterName);
    const tell = cluster && !cluster.metadata?.deletionTimestamp;
    // A Machine of the user's own waits while its Cluster is paused (its workflow is not; the
    // others' wait themselves): the Cluster's resume reconciles the namespace again.
    if (tell && o.kind === 'Machine' && cluster.spec?.paused === true) return;
    await this.deleteThrough(namespace, o, how.id({ namespace, name: o.metadata!.name! }), (h) => (tell ? how.signal(h) : Promise.resolve()), '');
  }

  private async deleteCluster(namespace: string, c: CapstanObject): Promise<void> {
    const id = clusterWorkflowId({ namespace, name: c.metadata!.name! });
    await this.deleteThrough(namespace, c, id, (h) => h.executeUpdate(deleteClusterUpdate).then(() => undefined), ' (workers, then control plane, then infrastructure)');
  }

  /**
   * An object being deleted, through its workflow: `start` tells the workflow once (a failure is the
   * reconcile's, retried); the finalizer goes once the workflow has finished.
   */
  private async deleteThrough(namespace: string, o: CapstanObject, workflowId: string, start: (h: WorkflowHandle) => Promise<void>, how: string): Promise<void> {
    const kind = o.kind as KindName;
    const name = o.metadata!.name!;
    const key = objectKey(kind, namespace, name);
    if (this.deleting.has(key) || !o.metadata?.finalizers?.includes(FINALIZER)) return;
    this.deleting.add(key);
    const what = `${kind.toLowerCase()} ${namespace}/${name}`;
    const handle = this.o.temporal.workflow.getHandle(workflowId);
    try {
      await start(handle).catch(unlessNotFound);
    } catch (err) {
      this.deleting.delete(key);
      throw err;
    }
    this.log(`${what}: deleting${how}`);
    void (async () => {
      try {
        await handle.result().catch(unlessNotFound);
        const now = (await this.objects.getNamespacedCustomObject(customObjectAt(kind, namespace, name))) as CapstanObject;
        await this.setFinalizers(now, (now.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER));
        this.log(`${what}: deleted`);
      } catch (err) {
        this.log(`${what}: ${(err as Error).message}`);
      } finally {
        this.deleting.delete(key);
      }
    })();
  }

  /** Sets an object's finalizers (and annotations); with `owner`, adds it to the object's owners (not as controller: the object stays the user's). */
  private async setFinalizers(o: CapstanObject, finalizers: string[], annotations?: Record<string, string>, owner?: CapstanObject): Promise<void> {
    const kind = o.kind as KindName;
    const ownerReferences = owner
      ? [...(o.metadata?.ownerReferences ?? []), { apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata!.name!, uid: owner.metadata!.uid! }]
      : undefined;
    await this.objects.patchNamespacedCustomObject(
      {
        ...customObjectAt(kind, o.metadata!.namespace!, o.metadata!.name!),
        // With its resourceVersion: a concurrent change makes this fail, and the next pass sees it.
        body: { metadata: { finalizers, resourceVersion: o.metadata!.resourceVersion, ...(annotations ? { annotations } : {}), ...(ownerReferences ? { ownerReferences } : {}) } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** A Cluster's objects as `capstan apply -f` of their manifests would plan them (validated, references resolved). */
function planOf(namespace: string, cluster: string, docs: CapstanObject[]): ApplyPlan {
  return loadPlan([{ file: `${namespace}/${cluster}`, text: docs.map((o) => stringify(asManifest(o))).join('---\n') }]);
}

/** A workflow that is not there has nothing left to delete. */
function unlessNotFound(err: unknown): void {
  if (!(err instanceof WorkflowNotFoundError)) throw err;
}

/** Whether `owner` is among the object's owners. */
const ownedBy = (o: CapstanObject, owner: CapstanObject) => o.metadata?.ownerReferences?.some((r) => r.uid === owner.metadata?.uid) ?? false;

/**
 * Who owns what a Cluster is made of, in its namespace, as Cluster API's controllers set it: the
 * Cluster owns its control plane, infrastructure and the control plane's machine template, its
 * deployments, sets, health checks and machines (named by spec.clusterName) and the templates they
 * are made from; a machine owns its KubeadmConfig and SimMachine, which go with it.
 */
function ownership(c: CapstanObject, all: CapstanObject[]): [CapstanObject, CapstanObject][] {
  const name = c.metadata!.name!;
  const find = (kind: string, ref: { name?: string } | undefined) => (ref?.name ? all.find((o) => o.kind === kind && o.metadata?.name === ref.name) : undefined);
  const kcp = find('KubeadmControlPlane', c.spec?.controlPlaneRef);
  const out: [CapstanObject | undefined, CapstanObject][] = [
    [find('SimCluster', c.spec?.infrastructureRef), c],
    [kcp, c],
    [find('SimMachineTemplate', kcp?.spec?.machineTemplate?.spec?.infrastructureRef), c],
  ];
  for (const o of all.filter((x) => OWNED_BY_CLUSTER.has(x.kind!) && x.spec?.clusterName === name && !madeByOwner(x) && !x.metadata?.deletionTimestamp)) {
    out.push([o, c]);
    if (o.kind === 'Machine') {
      if (o.metadata?.uid) out.push([find('KubeadmConfig', o.spec?.bootstrap?.configRef), o], [find('SimMachine', o.spec?.infrastructureRef), o]);
    } else {
      out.push([find('KubeadmConfigTemplate', o.spec?.template?.spec?.bootstrap?.configRef), c], [find('SimMachineTemplate', o.spec?.template?.spec?.infrastructureRef), c]);
    }
  }
  const seen = new Set<string>();
  return out.filter((p): p is [CapstanObject, CapstanObject] => {
    const [o, owner] = p;
    const key = `${o?.metadata?.uid}/${owner.metadata?.uid}`;
    if (!o || o.metadata?.deletionTimestamp || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The kinds a user deletes on their own (a Cluster's machines, deployments, sets and health checks): their workflow and how to tell it. */
const DELETABLE: Record<string, { id: (k: { namespace: string; name: string }) => string; signal: (h: WorkflowHandle) => Promise<void> } | undefined> = {
  // A Machine of the user's own (a workflow-made one is its owner's, see madeObjectChanged): drained and deleted.
  Machine: { id: machineWorkflowId, signal: (h) => h.signal(deleteMachineSignal) },
  MachineDeployment: { id: machineDeploymentWorkflowId, signal: (h) => h.signal(deleteMachineDeploymentSignal) },
  MachineSet: { id: machineSetWorkflowId, signal: (h) => h.signal(deleteMachineSetSignal) },
  MachineHealthCheck: { id: machineHealthCheckWorkflowId, signal: (h) => h.signal(deleteMachineHealthCheckSignal) },
};

