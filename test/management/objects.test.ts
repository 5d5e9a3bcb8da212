// What the workflows make, as objects in the management cluster (a real kube-apiserver): the
// demo's MachineDeployment gets its MachineSet (owned by it), every set and the control plane
// their Machines (owned by them, with capstan's cluster-name label), and each kind its status, so
// `kubectl get machines` shows what Cluster API's shows. `kubectl scale` rolls machines, a restart
// replaces the set, and deleting the Cluster leaves no object behind. Converged, the mirror writes
// nothing and asks no workflow anything.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { Watcher } from '../../client/watcher.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { crds, fetchJson, installCrds } from '../support/management.js';

type Obj = { kind: string; metadata: { name: string; uid: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] }; spec: Record<string, any>; status?: Record<string, any> };

describe('objects the workflows make, in the management cluster', () => {
  let env: CapstanEnv;
  let api: ManagementApi;
  let work: string;
  let watcher: Watcher;
  let objects: CustomObjectsApi;
  let kc: KubeConfig;
  const log: string[] = [];
  const plural = Object.fromEntries(crds().map((c) => [c.spec.names.kind, { group: c.spec.group, plural: c.spec.names.plural }]));
  const list = async (kind: string) => ((await objects.listNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default' })) as { items: Obj[] }).items;
  const get = (kind: string, name: string) => objects.getNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default', name }) as Promise<Obj>;
  const table = async (resource: string) =>
    (((await fetchJson(kc, `/apis/cluster.capstan.dev/v1alpha1/namespaces/default/${resource}`, 'application/json;as=Table;v=v1;g=meta.k8s.io')).rows as { cells: unknown[] }[]) ?? []).map((r) => r.cells);
  const workers = async () => (await list('Machine')).filter((m) => m.metadata.labels?.['cluster.capstan.dev/deployment-name'] === 'demo-md-0');

  beforeAll(async () => {
    env = await startCapstanEnv();
    work = mkdtempSync(path.join(os.tmpdir(), 'capstan-objects-'));
    api = await startManagementApi(work);
    kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig);
    await installCrds(kc);
    objects = kc.makeApiClient(CustomObjectsApi);
    watcher = new Watcher({ kubeconfig: kc, temporal: env.client, taskQueue: env.taskQueue, log: (l) => log.push(l), statusIntervalMs: 500 });
    await watcher.start();
  }, 120_000);
  afterAll(async () => {
    await watcher?.stop();
    await api?.stop();
    await env?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('makes the MachineSet and the Machines as objects with owners, labels and status', async () => {
    // The demo with one control-plane machine and two workers.
    const text = DEMO_CLUSTER.replace(/^( {2}replicas:) 3$/m, '$1 1').replace(/^( {2}replicas:) 3$/m, '$1 2');
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
    await waitForAvailable(env.client, 'demo');
    const md = await eventually('the MachineDeployment to report 2 ready', async () => {
      const o = await get('MachineDeployment', 'demo-md-0');
      return o.status?.readyReplicas === 2 && o.status.upToDateReplicas === 2 ? o : undefined;
    }, 180_000, 250);
    expect(md.status).toMatchObject({ replicas: 2, availableReplicas: 2, phase: 'Running', observedGeneration: md.metadata.generation, selector: 'cluster.capstan.dev/cluster-name=demo,cluster.capstan.dev/deployment-name=demo-md-0' });

    const sets = await list('MachineSet');
    expect(sets).toHaveLength(1);
    const set = sets[0]!;
    expect(set.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'MachineDeployment', name: 'demo-md-0', uid: md.metadata.uid, controller: true })]);
    expect(set.metadata.labels).toMatchObject({ 'cluster.capstan.dev/cluster-name': 'demo', 'cluster.capstan.dev/deployment-name': 'demo-md-0' });
    expect(set.metadata.annotations).toMatchObject({ 'machinedeployment.cluster.capstan.dev/revision': '1', 'capstan.dev/workflow-id': `machineset/default/${set.metadata.name}` });
    expect(set.spec).toMatchObject({ clusterName: 'demo', replicas: 2, template: { spec: { version: 'v1.37.2', infrastructureRef: { kind: 'SimMachineTemplate', name: 'demo-md-0' } } } });

    const machines = await eventually('three Running Machine objects', async () => {
      const all = await list('Machine');
      return all.length === 3 && all.every((m) => m.status?.phase === 'Running' && m.spec.providerID) ? all : undefined;
    }, 60_000, 250);
    const [cp] = machines.filter((m) => m.metadata.labels?.['cluster.capstan.dev/control-plane-name'] === 'demo-control-plane');
    expect(cp!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'KubeadmControlPlane', name: 'demo-control-plane', controller: true })]);
    for (const w of machines.filter((m) => m !== cp)) {
      expect(w.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'MachineSet', name: set.metadata.name, uid: set.metadata.uid })]);
      expect(w.metadata.labels).toMatchObject({ 'cluster.capstan.dev/cluster-name': 'demo', 'cluster.capstan.dev/set-name': set.metadata.name });
      expect(w.spec).toMatchObject({ clusterName: 'demo', version: 'v1.37.2', bootstrap: { configRef: { kind: 'KubeadmConfig', name: w.metadata.name } } });
    }
    // `kubectl get machines`: NAME CLUSTER NODE NAME PROVIDER ID PHASE AGE VERSION, every cell filled.
    const rows = await table('machines');
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r[1]).toBe('demo');
      expect(r[2]).toBeTruthy();
      expect(String(r[3])).toMatch(/^sim:\/\//);
      expect(r[4]).toBe('Running');
      expect(r[6]).toBe('v1.37.2');
    }
    const kcp = await eventually('the control plane\'s status', async () => {
      const o = await get('KubeadmControlPlane', 'demo-control-plane');
      return o.status?.readyReplicas === 1 ? o : undefined;
    }, 30_000, 250);
    expect(kcp.status).toMatchObject({ replicas: 1, upToDateReplicas: 1, version: 'v1.37.2', initialization: { controlPlaneInitialized: true } });
  }, 420_000);

  it('writes nothing and asks no workflow anything once converged', async () => {
    const [writes, queries] = [watcher.writes, watcher.mirror.queries];
    await new Promise((r) => setTimeout(r, 4 * 500 + 300));
    expect([watcher.writes - writes, watcher.mirror.queries - queries]).toEqual([0, 0]);
  }, 30_000);

  it('scales through the scale subresource (kubectl scale), and a restart replaces the set', async () => {
    await objects.patchNamespacedCustomObjectScale(
      { ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name: 'demo-md-0', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually('a third Running worker Machine', async () => {
      const w = await workers();
      return w.length === 3 && w.every((m) => m.status?.phase === 'Running');
    }, 180_000, 250);
    const first = (await list('MachineSet'))[0]!;
    expect(first.spec.replicas).toBe(3);

    // `capstan rollout restart` / Cluster API's rollout.after: every machine is replaced by a new set.
    await objects.patchNamespacedCustomObject(
      { ...plural.MachineDeployment!, version: 'v1alpha1', namespace: 'default', name: 'demo-md-0', body: { spec: { rollout: { after: new Date().toISOString() } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const second = await eventually('the rollout to end with one new set', async () => {
      const sets = await list('MachineSet');
      const w = await workers();
      const md = await get('MachineDeployment', 'demo-md-0');
      const done = sets.length === 1 && sets[0]!.metadata.name !== first.metadata.name && w.length === 3 && w.every((m) => m.status?.phase === 'Running' && m.metadata.ownerReferences?.[0]?.uid === sets[0]!.metadata.uid);
      return done && md.status?.upToDateReplicas === 3 && md.status.observedGeneration === md.metadata.generation ? sets[0] : undefined;
    }, 300_000, 250);
    expect(second!.metadata.annotations?.['machinedeployment.cluster.capstan.dev/revision']).toBe('2');
  }, 480_000);

  it('leaves no Machine, MachineSet or VM behind when the Cluster is deleted', async () => {
    await objects.deleteNamespacedCustomObject({ ...plural.Cluster!, version: 'v1alpha1', namespace: 'default', name: 'demo' });
    await eventually('the Cluster object to be gone', async () => get('Cluster', 'demo').then(() => false, (err: { code?: number }) => err.code === 404), 240_000, 250);
    await eventually('no Machine or MachineSet object left', async () => (await list('Machine')).length === 0 && (await list('MachineSet')).length === 0, 30_000, 250);
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
  }, 300_000);
});
