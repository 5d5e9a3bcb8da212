// The CRD watcher on a real management kube-apiserver: the demo's objects created there start the
// Cluster's workflow (with the finalizer capstan.dev/lifecycle on the object first), a spec change
// made there reaches the running workflow, and deleting the Cluster object deletes the workload
// cluster — the object goes only once the workflow has finished, and no VM is left.
import { readFileSync } from 'node:fs';
import { CoreV1Api, type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER, Watcher } from '../../client/watcher.js';
import { controlPlaneWorkflowId, machineDeploymentWorkflowId, machineSetWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery, machineDeploymentStatusQuery, machineSetStatusQuery } from '../../workflows/messages.js';
import { PAUSED_ANNOTATION } from '../../workflows/pause.js';
import { eventually, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE, DEMO_WORKER_MACHINES } from '../support/demo-manifests.js';
import { crdResources, fetchJson, startWatchedManagement, type WatchedManagement } from '../support/management.js';

const MD_SAMPLE = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');
type Obj = { kind: string; metadata: { name: string; uid?: string; deletionTimestamp?: string; finalizers?: string[]; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] }; spec: Record<string, any> };

describe('CRD watcher', () => {
  let m: WatchedManagement;
  let env: CapstanEnv;
  let watcher: Watcher;
  let objects: CustomObjectsApi;
  let log: string[];
  const kubeconfig = () => m.kc;
  const plural = crdResources();
  const get = (kind: string, name: string) => objects.getNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default', name });
  let core: CoreV1Api;
  /** The sample MachineDeployment (and its templates) as `name`, with `replicas`. */
  const sampleDeployment = (name: string, replicas: number) => {
    const [md, ...templates] = parseAllDocuments(MD_SAMPLE).map((d) => d.toJS() as Obj & { apiVersion: string });
    md!.spec.replicas = replicas;
    md!.metadata.name = name;
    md!.spec.template.metadata.labels['cluster.capstan.dev/deployment-name'] = name;
    md!.spec.selector.matchLabels['cluster.capstan.dev/deployment-name'] = name;
    return { md: md!, templates };
  };
  /** `kubectl annotate KIND NAME cluster.capstan.dev/paused=` (value ''), or its removal (null). */
  const annotatePaused = (kind: string, name: string, value: string | null) =>
    objects.patchNamespacedCustomObject(
      { ...plural[kind]!, version: 'v1alpha1', namespace: 'default', name, body: { metadata: { annotations: { [PAUSED_ANNOTATION]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const clusterObject = () => objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' }) as Promise<{ metadata: { finalizers?: string[] } }>;

  beforeAll(async () => {
    m = await startWatchedManagement('capstan-watcher-');
    ({ env, objects, watcher, log } = m);
    core = m.kc.makeApiClient(CoreV1Api);
  }, 120_000);
  afterAll(async () => {
    await m?.stop();
  });

  it('starts the Cluster\'s workflow from the objects created in the management cluster, finalizer first', async () => {
    for (const doc of parseAllDocuments(DEMO_CONTROL_PLANE)) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
    await waitForAvailable(env.client, 'demo');
    expect((await clusterObject()).metadata.finalizers).toEqual([FINALIZER]);
    expect(log.join('\n')).toContain('cluster.cluster.capstan.dev/demo created');
  }, 300_000);

  it('mirrors the Cluster\'s status into the object, writing only what changed', async () => {
    const o = await eventually('the status to say Provisioned and Available', async () => {
      const c = (await clusterObject()) as { metadata: { annotations?: Record<string, string>; generation?: number }; status?: Record<string, any> };
      return c.status?.phase === 'Provisioned' && c.status.conditions?.find((x: { type: string }) => x.type === 'Available')?.status === 'True' && c.status.controlPlane?.readyReplicas === 3 ? c : undefined;
    }, 60_000, 250);
    expect(o.status).toMatchObject({ version: 'v1.37.2', controlPlane: { desiredReplicas: 3 }, observedGeneration: o.metadata.generation });
    expect(o.metadata.annotations?.['capstan.dev/workflow-id']).toBe('cluster/default/demo');
    // Cluster API's Cluster conditions, as the workflow keeps them (revision 9), for `kubectl describe cluster`.
    const conditions = o.status!.conditions as { type: string; status: string; reason: string; lastTransitionTime?: string; observedGeneration?: number }[];
    for (const [type, reason] of [['InfrastructureReady', 'Provisioned'], ['ControlPlaneInitialized', 'Initialized'], ['ControlPlaneAvailable', 'Available'], ['WorkersAvailable', 'Available'], ['RemoteConnectionProbe', 'ProbeSucceeded'], ['Available', 'Available']]) {
      expect(conditions.find((c) => c.type === type), type).toMatchObject({ status: 'True', reason, observedGeneration: o.metadata.generation });
    }
    expect(conditions.every((c) => !Number.isNaN(Date.parse(c.lastTransitionTime ?? '')))).toBe(true);
    // What `kubectl get clusters` prints.
    const table = await fetchJson(kubeconfig(), '/apis/cluster.capstan.dev/v1alpha1/namespaces/default/clusters', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    const row = (table.rows as { cells: unknown[] }[])[0]!.cells;
    expect([row[0], row[1], row[2], row[3], row[6]]).toEqual(['demo', 'Provisioned', 'True', 3, 'v1.37.2']);
    // Converged: three passes of the mirror in a row write nothing. The Cluster's status is written
    // before its machines' (they follow the Cluster's memo), so convergence is waited for here, not
    // assumed from the Cluster object.
    const quietPasses = (w: Watcher, timeoutMs: number) => {
      let last = -1;
      return eventually('three passes of the mirror without a write', async () => {
        const now = w.writes;
        const quiet = now === last;
        last = now;
        return quiet;
      }, timeoutMs, 3 * 500 + 300);
    };
    await quietPasses(watcher, 30_000);
    // The check can fail: a mirror that writes every pass is seen writing, and never quiet.
    const careless = new Watcher({ kubeconfig: kubeconfig(), temporal: env.client, taskQueue: env.taskQueue, statusIntervalMs: 500, writeOnlyChanges: false });
    await careless.start();
    await eventually('the careless mirror to write', async () => careless.writes > 1, 10_000, 100);
    await expect(quietPasses(careless, 6_000)).rejects.toThrow(/without a write/);
    await careless.stop();
  }, 120_000);

  it('delivers a spec change made in the management cluster to the running workflow', async () => {
    await objects.patchNamespacedCustomObject(
      { group: 'controlplane.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'kubeadmcontrolplanes', name: 'demo-control-plane', body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const kcp = env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
    await eventually('the control plane to scale to 1', async () => {
      const v = await kcp.query(controlPlaneStatusQuery);
      return v.spec.replicas === 1 && v.machines.length === 1;
    }, 180_000, 250);
  }, 240_000);

  it('a Machine the user created: owned by its Cluster (its parts by it), drained and deleted with its object, which goes only then', async () => {
    for (const doc of parseAllDocuments(DEMO_WORKER_MACHINES).slice(0, 3)) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
    await eventually('its VM', async () => ((await liveVms(env.simClient)).some((v) => v.name === 'demo-worker-1') ? true : undefined), 180_000, 250);
    const machine = await eventually('its finalizer and its Cluster as owner', async () => {
      const o = (await get('Machine', 'demo-worker-1')) as Obj;
      return o.metadata.finalizers?.includes(FINALIZER) && o.metadata.ownerReferences?.some((r) => r.kind === 'Cluster' && r.name === 'demo' && !r.controller) ? o : undefined;
    }, 30_000, 250);
    for (const kind of ['KubeadmConfig', 'SimMachine']) {
      await eventually(`its ${kind} owned by it`, async () => (((await get(kind, 'demo-worker-1')) as Obj).metadata.ownerReferences?.some((r) => r.uid === machine.metadata.uid) ? true : undefined), 30_000, 250);
    }
    // Completed as Cluster API's controllers complete them: the provider ID on the Machine and the
    // SimMachine, their parts' status; and that new generation is no change for its workflow.
    const vm = (await liveVms(env.simClient)).find((v) => v.name === 'demo-worker-1')!;
    await eventually('the provider ID and the parts\' status', async () => {
      const [m, sm, kc] = (await Promise.all(['Machine', 'SimMachine', 'KubeadmConfig'].map((k) => get(k, 'demo-worker-1')))) as (Obj & { status?: Record<string, any> })[];
      return m!.spec.providerID === vm.providerID && sm!.spec.providerID === vm.providerID && sm!.status?.initialization?.provisioned === true && kc!.status?.dataSecretName === 'demo-worker-1' ? true : undefined;
    }, 60_000, 250);
    await new Promise((r) => setTimeout(r, 3000));
    expect(log.join('\n')).not.toMatch(/demo-worker-1.*(immutable|refused)/);
    await objects.deleteNamespacedCustomObject({ ...plural.Machine!, version: 'v1alpha1', namespace: 'default', name: 'demo-worker-1' });
    expect(((await get('Machine', 'demo-worker-1')) as Obj).metadata.deletionTimestamp).toBeDefined();
    await eventually('the Machine object to be gone', async () => get('Machine', 'demo-worker-1').then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined), 180_000, 250);
    // Gone only once its workflow deleted the instance; its parts go with it (the garbage collector).
    expect((await liveVms(env.simClient)).some((v) => v.name === 'demo-worker-1')).toBe(false);
    for (const kind of ['KubeadmConfig', 'SimMachine']) {
      await eventually(`its ${kind} to be gone`, async () => get(kind, 'demo-worker-1').then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined), 90_000, 250);
    }
  }, 300_000);

  it('refuses one object without holding the others back: a MachineDeployment whose template is missing gets a Warning Event, another is still started', async () => {
    const { md, templates } = sampleDeployment('demo-md-0', 0);
    const { md: bad } = sampleDeployment('bad-md', 0);
    bad.spec.template.spec.bootstrap.configRef.name = 'nowhere';
    const create = (o: Obj) => objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    const events = async () => (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=bad-md' })).items;
    for (const t of templates) await create(t);
    await create(bad);
    const [event] = await eventually('a Warning Event on the refused deployment', async () => ((await events()).length ? events() : undefined), 30_000, 250);
    expect(event).toMatchObject({ type: 'Warning', reason: 'ReconcileError', involvedObject: { kind: 'MachineDeployment', name: 'bad-md' } });
    expect(event!.message).toBe('MachineDeployment "bad-md": spec.template.spec.bootstrap.configRef: KubeadmConfigTemplate "nowhere" not found in namespace "default" of the applied documents');
    // The cluster's other objects still reach their workflows: a deployment created next starts.
    await create(md!);
    await eventually('the good deployment\'s workflow', () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' })).describe().then((d) => d.status.name === 'RUNNING' || undefined, () => undefined), 60_000, 250);
    // Told once, though the refused object was tried again with the others.
    expect((await events()).map((e) => e.message)).toEqual([event!.message]);
    for (const name of ['bad-md', 'demo-md-0']) await objects.deleteNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name });
    for (const name of ['bad-md', 'demo-md-0']) {
      await eventually(`${name} to be gone`, async () => get('MachineDeployment', name).then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined), 120_000, 250);
    }
  }, 240_000);

  it("pauses one MachineDeployment by Cluster API's paused annotation (kubectl annotate), shows why, and holds its deletion until the annotation goes", async () => {
    const { md } = sampleDeployment('held-md', 0);
    await objects.createNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', body: md });
    const handle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'held-md' }));
    await eventually('its workflow', () => handle.describe().then((d) => d.status.name === 'RUNNING' || undefined, () => undefined), 60_000, 250);
    const annotate = (value: string | null) => annotatePaused('MachineDeployment', 'held-md', value);
    const paused = async () => (((await get('MachineDeployment', 'held-md')) as { status?: ClusterObjectStatus }).status?.conditions ?? []).find((c) => c.type === 'Paused');
    await annotate('');
    // Metadata, not spec: no new generation, and yet its workflow is told, and the object says why.
    await eventually('the workflow paused by its annotation', async () => ((await handle.query(machineDeploymentStatusQuery)).annotationPaused ? true : undefined), 30_000, 200);
    await eventually('the object to show Paused', async () => ((await paused())?.status === 'True' ? true : undefined), 30_000, 200);
    expect(await paused()).toMatchObject({ status: 'True', reason: 'Paused', message: 'MachineDeployment has the cluster.capstan.dev/paused annotation' });
    expect(((await get('MachineDeployment', 'held-md')) as { metadata: { generation?: number } }).metadata.generation).toBe(1);
    // Deleted while it has the annotation, it waits (Cluster API's paused deployment does)…
    await objects.deleteNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name: 'held-md' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(((await get('MachineDeployment', 'held-md')) as Obj).metadata.finalizers).toEqual([FINALIZER]);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // …until the annotation is removed from the object being deleted.
    await annotate(null);
    await eventually('the resume to reach the workflow', async () => (log.join('\n').includes('machinedeployment.cluster.capstan.dev/held-md resumed (its cluster.capstan.dev/paused annotation, while being deleted)') ? true : undefined), 30_000, 100);
    await eventually('held-md to be gone', async () => get('MachineDeployment', 'held-md').then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined), 60_000, 250);
  }, 180_000);

  it("pauses one of a deployment's MachineSets by the annotation on its object: the set makes no machine for its deployment's scale until it goes", async () => {
    const { md } = sampleDeployment('set-md', 1);
    await objects.createNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', body: md });
    const handle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'set-md' }));
    const vms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('set-md-'));
    const setName = await eventually('its set with 1 available machine', () => handle.query(machineDeploymentStatusQuery).then((v) => (v.status?.availableReplicas === 1 ? v.sets[0]!.name : undefined), () => undefined), 180_000, 300);
    await eventually('its set object', () => get('MachineSet', setName).then(() => true, () => undefined), 30_000, 200);
    const annotateSet = (value: string | null) => annotatePaused('MachineSet', setName, value);
    const set = env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: setName }));
    await annotateSet('');
    await eventually('the set paused by its annotation', async () => ((await set.query(machineSetStatusQuery)).annotationPaused ? true : undefined), 30_000, 200);
    const paused = async () => (((await get('MachineSet', setName)) as { status?: ClusterObjectStatus }).status?.conditions ?? []).find((c) => c.type === 'Paused');
    await eventually('the set object to say why it is paused', async () => ((await paused())?.status === 'True' ? true : undefined), 30_000, 200);
    expect(await paused()).toMatchObject({ reason: 'Paused', message: 'MachineSet has the cluster.capstan.dev/paused annotation' });
    expect((await handle.query(machineDeploymentStatusQuery)).annotationPaused).toBeUndefined();
    // Its deployment scales it; the set takes the replicas and makes nothing.
    await objects.patchNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name: 'set-md', body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually('the set told 2 replicas', async () => ((await set.query(machineSetStatusQuery)).replicas === 2 ? true : undefined), 30_000, 200);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await vms()).toHaveLength(1);
    await annotateSet(null);
    await eventually('2 available machines', async () => ((await handle.query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
    expect(log.join('\n')).toContain(`machineset.cluster.capstan.dev/${setName} resumed (its cluster.capstan.dev/paused annotation)`);
    await objects.deleteNamespacedCustomObject({ ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name: 'set-md' });
    await eventually('set-md to be gone', async () => get('MachineDeployment', 'set-md').then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined), 120_000, 250);
    expect(await vms()).toEqual([]);
  }, 300_000);

  const patchCluster = (spec: Record<string, unknown>) =>
    objects.patchNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo', body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  type ClusterObjectStatus = { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  const clusterStatus = async () => ((await clusterObject()) as { status?: ClusterObjectStatus }).status;

  it('pauses the cluster when its object says spec.paused (kubectl patch), and shows it (Paused, as Cluster API)', async () => {
    await patchCluster({ paused: true });
    await eventually('the Cluster object to show Paused', async () => ((await clusterStatus())?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True' && c.reason === 'Paused') ? true : undefined), 60_000, 200);
    expect(log.join('\n')).toContain('cluster.cluster.capstan.dev/demo configured');
    // …and so do its control plane and machines (the watcher writes their Paused from the Cluster's spec).
    const pausedShown = (o: unknown) => ((o as { status?: ClusterObjectStatus }).status?.conditions ?? []).some((c) => c.type === 'Paused' && c.status === 'True');
    await eventually('the control plane and its machines to show Paused', async () => {
      const machines = ((await objects.listNamespacedCustomObject({ ...plural.Machine!, version: 'v1alpha1', namespace: 'default' })) as { items: unknown[] }).items;
      return pausedShown(await get('KubeadmControlPlane', 'demo-control-plane')) && machines.length > 0 && machines.every(pausedShown) ? true : undefined;
    }, 60_000, 200);
  }, 120_000);

  it('deletes the workload cluster when the Cluster object is deleted, and lets the object go only then (a paused one once it is resumed, its paused control plane once the annotation goes)', async () => {
    const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-')).length;
    expect(vms).toBeGreaterThan(0);
    // Its control plane paused too, by Cluster API's annotation on its own object.
    const annotateKcp = (value: string | null) => annotatePaused('KubeadmControlPlane', 'demo-control-plane', value);
    const kcp = env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
    await annotateKcp('');
    await eventually('the control plane paused by its annotation', async () => ((await kcp.query(controlPlaneStatusQuery)).annotationPaused ? true : undefined), 30_000, 200);
    // Its object says both reasons, as Cluster API joins them.
    const kcpPaused = async () => (((await get('KubeadmControlPlane', 'demo-control-plane')) as { status?: ClusterObjectStatus }).status?.conditions ?? []).find((c) => c.type === 'Paused');
    await eventually('the control plane object to say why it is paused', async () => ((await kcpPaused())?.message?.includes('annotation') ? true : undefined), 30_000, 200);
    expect(await kcpPaused()).toMatchObject({ status: 'True', reason: 'Paused', message: 'Cluster spec.paused is set to true, KubeadmControlPlane has the cluster.capstan.dev/paused annotation' });
    const controlPlaneVms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-control-plane-')).length;
    expect(controlPlaneVms).toBeGreaterThan(0);
    await objects.deleteNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' });
    // Paused, its deletion waits (Cluster API's): nothing goes, the object stays.
    await eventually('the deletion to reach the workflow', async () => (log.join('\n').includes('cluster default/demo: deleting') ? true : undefined), 30_000, 100);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await clusterStatus())?.phase).not.toBe('Deleting');
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toHaveLength(vms);
    // Resumed (the object being deleted takes that change), it goes.
    await patchCluster({ paused: false });
    await eventually('the resume to reach the workflow', async () => (log.join('\n').includes('cluster.cluster.capstan.dev/demo configured (resumed while being deleted)') ? true : undefined), 30_000, 100);
    // Its workers go; its control plane waits for its own annotation to go.
    await eventually('no worker left', async () => ((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-') && !v.name.startsWith('demo-control-plane-')).length === 0 ? true : undefined), 120_000, 250);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-control-plane-'))).toHaveLength(controlPlaneVms);
    await annotateKcp(null);
    await eventually('the control plane\'s resume to reach the workflow', async () => (log.join('\n').includes('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured (resumed while being deleted)') ? true : undefined), 30_000, 100);
    // Held by the finalizer while the workflow deletes…
    expect((await clusterObject()).metadata.finalizers).toEqual([FINALIZER]);
    // …showing it, as Cluster API's does: phase Deleting and the Deleting condition (revision 9)…
    await eventually('the Cluster object to say Deleting', async () => {
      const status = ((await clusterObject()) as { status?: { phase?: string; conditions?: { type: string; status: string }[] } }).status;
      return status?.phase === 'Deleting' && status.conditions?.some((c) => c.type === 'Deleting' && c.status === 'True') ? true : undefined;
    }, 60_000, 100);
    // …and gone once it has.
    await eventually('the Cluster object to be gone', async () => clusterObject().then(() => false, (err: { code?: number }) => err.code === 404), 180_000, 250);
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
    expect(log.join('\n')).toContain('cluster default/demo: deleted');
    // What the Cluster was made of goes with it (the garbage collector, through the owners the
    // watcher set): its control plane, infrastructure and templates.
    for (const kind of ['KubeadmControlPlane', 'SimCluster', 'SimMachineTemplate', 'KubeadmConfigTemplate']) {
      await eventually(`no ${kind} left`, async () => ((await objects.listNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default' })) as { items: unknown[] }).items.length === 0 || undefined, 90_000, 250);
    }
  }, 240_000);
});
