// The generated CRDs (config/crd, from the zod schemas) on a real kube-apiserver + etcd: they are
// accepted and Established; the demo's manifests are valid objects, defaulted as the schemas say;
// the cross-field and immutability rules refuse what Cluster API's webhooks refuse, naming the
// field; `kubectl get capstan`, the short names, the printer columns and `kubectl scale` work.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { staleFiles } from '../../scripts/generate.js';
import { eventually } from '../support/capstan-env.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { crds, fetchJson, installCrds } from '../support/management.js';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);
const PLURALS: Record<string, string> = Object.fromEntries(crds().map((c) => [c.spec.names.kind, c.spec.names.plural]));
const GROUP_OF: Record<string, string> = Object.fromEntries(crds().map((c) => [c.spec.names.kind, c.spec.group]));

describe('generated CRDs', () => {
  it('are up to date with the schemas (npm run generate)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('the staleness check sees a planted edit', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'capstan-crd-'));
    try {
      const dir = path.join(root, 'config', 'crd');
      // A copy of the real files with one of them changed by hand.
      const files = readdirSync(CRD_DIR);
      mkdirSync(dir, { recursive: true });
      for (const f of files) writeFileSync(path.join(dir, f), readFileSync(new URL(f, CRD_DIR), 'utf8').replace('minimum: 1', 'minimum: 2'));
      expect(staleFiles(root).length).toBeGreaterThan(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('CRDs on a real kube-apiserver', () => {
  let api: ManagementApi;
  let work: string;
  let objects: CustomObjectsApi;
  const kc = new KubeConfig();

  /** Creates an object; returns the API server's error message, or undefined when it was accepted. */
  const create = async (obj: Record<string, any>): Promise<string | undefined> => {
    const kind = obj.kind as string;
    try {
      await objects.createNamespacedCustomObject({ group: GROUP_OF[kind]!, version: 'v1alpha1', namespace: 'default', plural: PLURALS[kind]!, body: obj });
      return undefined;
    } catch (err) {
      return (err as { body?: string }).body ?? String(err);
    }
  };
  const get = (kind: string, name: string) => objects.getNamespacedCustomObject({ group: GROUP_OF[kind]!, version: 'v1alpha1', namespace: 'default', plural: PLURALS[kind]!, name }) as Promise<Record<string, any>>;
  const replace = async (obj: Record<string, any>): Promise<string | undefined> => {
    try {
      await objects.replaceNamespacedCustomObject({ group: GROUP_OF[obj.kind]!, version: 'v1alpha1', namespace: 'default', plural: PLURALS[obj.kind]!, name: obj.metadata.name, body: obj });
      return undefined;
    } catch (err) {
      return (err as { body?: string }).body ?? String(err);
    }
  };
  const demo = () => parseAllDocuments(DEMO_CLUSTER).map((d) => d.toJS() as Record<string, any>);
  const demoObject = (kind: string) => structuredClone(demo().find((o) => o.kind === kind)!);

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'capstan-mgmt-'));
    api = await startManagementApi(work);
    kc.loadFromString(api.kubeconfig);
    objects = kc.makeApiClient(CustomObjectsApi);
    await installCrds(kc);
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('accepts every object of the demo manifest, defaulted as the schemas say', async () => {
    for (const obj of demo()) expect(await create(obj), `${obj.kind} ${obj.metadata.name}`).toBeUndefined();
    const kcp = await get('KubeadmControlPlane', 'demo-control-plane');
    // Defaults from the schema: written by the API server, as zod writes them.
    expect(kcp.spec.machineTemplate.spec.deletion).toEqual({ nodeDeletionTimeoutSeconds: 10 });
    expect(kcp.spec.kubeadmConfigSpec.format).toBe('cloud-config');
  });

  it('refuses what Cluster API refuses, naming the field', async () => {
    const even = demoObject('KubeadmControlPlane');
    even.metadata.name = 'even';
    even.spec.replicas = 2;
    expect(await create(even)).toMatch(/spec\.replicas: Invalid value: .*cannot be an even number when etcd is stacked/);

    const scaleIn = demoObject('KubeadmControlPlane');
    scaleIn.metadata.name = 'scale-in';
    scaleIn.spec.replicas = 1;
    scaleIn.spec.rollout = { strategy: { rollingUpdate: { maxSurge: 0 } } };
    expect(await create(scaleIn)).toMatch(/replica count needs to be at least 3/);

    const stuck = demoObject('MachineDeployment');
    stuck.metadata.name = 'stuck';
    stuck.spec.rollout.strategy.rollingUpdate = { maxSurge: 0, maxUnavailable: '0%' };
    expect(await create(stuck)).toMatch(/maxSurge and maxUnavailable cannot both be 0/);

    const percent = demoObject('MachineDeployment');
    percent.metadata.name = 'percent';
    percent.spec.rollout.strategy.rollingUpdate = { maxSurge: '25 percent' };
    expect(await create(percent)).toMatch(/spec\.rollout\.strategy\.rollingUpdate\.maxSurge.*non-negative integer or a percentage/);

    const badVersion = demoObject('MachineDeployment');
    badVersion.metadata.name = 'bad-version';
    badVersion.spec.template.spec.version = '1.37';
    expect(await create(badVersion)).toMatch(/spec\.template\.spec\.version/);
  });

  let goodCount = 0;
  // What the zod schemas refuse across fields, the API server refuses too: an object `kubectl
  // apply` lets in would otherwise reach the watcher and be refused only there.
  it.each([
    { name: 'zero written "00%" for both fenceposts', kind: 'MachineDeployment', edit: (o: any) => (o.spec.rollout.strategy.rollingUpdate = { maxSurge: '00%', maxUnavailable: 0 }), error: /spec\.rollout\.strategy\.rollingUpdate: Invalid value: .*maxSurge and maxUnavailable cannot both be 0/ },
    { name: 'OnDelete with rollingUpdate', kind: 'MachineDeployment', edit: (o: any) => (o.spec.rollout.strategy.type = 'OnDelete'), error: /spec\.rollout\.strategy\.rollingUpdate: Invalid value: .*must not be set when type is OnDelete/ },
    { name: 'a template for another cluster', kind: 'MachineDeployment', edit: (o: any) => (o.spec.template.spec.clusterName = 'other'), error: /spec\.template\.spec\.clusterName: Invalid value: .*a template for another cluster/ },
    { name: 'a selector that misses the template\'s labels', kind: 'MachineDeployment', edit: (o: any) => (o.spec.selector.matchLabels = { pool: 'a' }), error: /spec\.selector: Invalid value: .*does not match spec\.template\.metadata\.labels/ },
    { name: 'a selector expression the labels fail', kind: 'MachineDeployment', edit: (o: any) => (o.spec.selector.matchExpressions = [{ key: 'cluster.capstan.dev/cluster-name', operator: 'NotIn', values: ['demo'] }]), error: /spec\.selector: Invalid value: .*does not match/ },
    { name: 'an empty selector', kind: 'MachineDeployment', edit: (o: any) => (o.spec.selector = {}), error: /spec\.selector: Invalid value: .*must not be empty/ },
    { name: 'a health check selecting everything', kind: 'MachineHealthCheck', edit: (o: any) => (o.spec.selector = {}), error: /spec\.selector: Invalid value: .*must not be empty/ },
    { name: 'a template labelled for another cluster', kind: 'MachineDeployment', edit: (o: any) => { o.spec.template.metadata.labels['cluster.capstan.dev/cluster-name'] = 'other'; o.spec.selector.matchLabels['cluster.capstan.dev/cluster-name'] = 'other'; }, error: /spec\.template\.metadata\.labels\[.*cluster-name.*\]: Invalid value: .*must be spec\.clusterName/ },
    { name: 'a template labelled for another deployment', kind: 'MachineDeployment', edit: (o: any) => { o.spec.template.metadata.labels['cluster.capstan.dev/deployment-name'] = 'other'; o.spec.selector.matchLabels['cluster.capstan.dev/deployment-name'] = 'other'; }, error: /Invalid value: .*must be the deployment's name/ },
    { name: 'a Machine without bootstrap', kind: 'Machine', edit: (o: any) => (o.spec.bootstrap = {}), error: /spec\.bootstrap: Invalid value: .*one of configRef or dataSecretName is required/ },
  ])('refuses $name, naming the field', async ({ kind, edit, error }) => {
    const o =
      kind === 'Machine'
        ? { apiVersion: 'cluster.capstan.dev/v1alpha1', kind, metadata: { name: 'bad' }, spec: { clusterName: 'demo', bootstrap: { configRef: { apiGroup: 'bootstrap.capstan.dev', kind: 'KubeadmConfig', name: 'bad' } }, infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachine', name: 'bad' } } }
        : kind === 'MachineHealthCheck'
          ? { apiVersion: 'cluster.capstan.dev/v1alpha1', kind, metadata: { name: 'bad' }, spec: { clusterName: 'demo', selector: { matchLabels: { a: 'b' } } } }
          : { ...demoObject(kind), metadata: { name: 'bad' } };
    // Renamed, a deployment cannot keep the demo's deployment-name label (its machines carry their deployment's name).
    if (kind === 'MachineDeployment') {
      delete (o as any).spec.template.metadata.labels['cluster.capstan.dev/deployment-name'];
      delete (o as any).spec.selector.matchLabels['cluster.capstan.dev/deployment-name'];
    }
    // The unedited object is accepted (a rule that refuses everything would pass the check below).
    const good = `good-${++goodCount}`;
    expect(await create(structuredClone({ ...o, metadata: { name: good } })), good).toBeUndefined();
    edit(o);
    expect(await create(o)).toMatch(error);
  });

  it('config/deploy is a Deployment the API server takes (a server-side dry run)', async () => {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'capstan-system' } } });
    const [deployment] = parseAllDocuments(readFileSync(new URL('../../config/deploy/capstan.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as V1Deployment);
    const created = await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: 'capstan-system', body: deployment!, dryRun: 'All' });
    expect(created.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['worker', 'watcher']);
  });

  it('keeps a Machine\'s spec and a MachineDeployment\'s clusterName immutable', async () => {
    const machine = {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'm1', labels: { 'cluster.capstan.dev/cluster-name': 'demo' } },
      spec: { clusterName: 'demo', version: 'v1.37.2', bootstrap: { configRef: { apiGroup: 'bootstrap.capstan.dev', kind: 'KubeadmConfig', name: 'm1' } }, infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachine', name: 'm1' } },
    };
    expect(await create(machine)).toBeUndefined();
    const m = await get('Machine', 'm1');
    m.spec.version = 'v1.36.3';
    expect(await replace(m)).toMatch(/Machine spec is immutable: Machines are replaced, not updated/);
    // Labels are not the spec: they may change.
    const again = await get('Machine', 'm1');
    again.metadata.labels.extra = 'yes';
    expect(await replace(again)).toBeUndefined();
    // providerID is set once, when the infrastructure has it (as Cluster API's controller does)…
    const provisioned = await get('Machine', 'm1');
    provisioned.spec.providerID = 'sim://demo/m1';
    expect(await replace(provisioned)).toBeUndefined();
    // …and never changed after.
    const moved = await get('Machine', 'm1');
    moved.spec.providerID = 'sim://demo/other';
    expect(await replace(moved)).toMatch(/Machine spec is immutable/);

    const md = await get('MachineDeployment', 'demo-md-0');
    md.spec.clusterName = 'other';
    expect(await replace(md)).toMatch(/spec\.clusterName is immutable/);
  });

  it('serves the field docs `kubectl explain machinedeployment.spec.rollout` prints (the OpenAPI v3 it reads)', async () => {
    const doc = await eventually('the OpenAPI v3 of cluster.capstan.dev', async () => fetchJson(kc, '/openapi/v3/apis/cluster.capstan.dev/v1alpha1').catch(() => undefined), 30_000, 250);
    const schemas = (doc.components as { schemas: Record<string, any> }).schemas;
    const md = Object.entries(schemas).find(([k]) => k.endsWith('.MachineDeployment'))![1];
    expect(md.description).toMatch(/^MachineDeployment rolls its template out through MachineSets/);
    const rollout = md.properties.spec.properties.rollout;
    expect(rollout.description).toMatch(/^rollout says how and when a MachineDeployment replaces its machines/);
    expect(rollout.properties.strategy.properties.rollingUpdate.properties.maxSurge.description).toMatch(/^maxSurge is how many machines/);
    expect(rollout.properties.after.description).toMatch(/capstan rollout restart/);
    // …and `kubectl explain machinedeployment.status`: the status the watcher writes, documented.
    expect(md.properties.status.properties.unavailableReplicas.description).toMatch(/^unavailableReplicas is replicas/);
    expect(md.properties.status.properties.conditions.items.properties.lastTransitionTime.description).toMatch(/^lastTransitionTime/);
  });

  it('keeps the status fields the schema declares, and prunes what it does not (a structural status)', async () => {
    const name = 'status-schema';
    await objects.createNamespacedCustomObject({
      group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments',
      body: (() => {
        const o = demoObject('MachineDeployment');
        o.metadata = { name };
        for (const labels of [o.spec.selector.matchLabels, o.spec.template.metadata.labels]) labels['cluster.capstan.dev/deployment-name'] = name;
        return o;
      })(),
    });
    const written = (await objects.patchNamespacedCustomObjectStatus(
      { group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name, body: { status: { replicas: 2, phase: 'Running', unexpected: 'x', conditions: [{ type: 'Available', status: 'True', reason: 'Available', message: '', lastTransitionTime: '2026-12-02T00:00:00Z', observedGeneration: 1 }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { status: Record<string, unknown> };
    expect(written.status).toEqual({ replicas: 2, phase: 'Running', conditions: [{ type: 'Available', status: 'True', reason: 'Available', message: '', lastTransitionTime: '2026-12-02T00:00:00Z', observedGeneration: 1 }] });
    // A field of the wrong type is refused, naming it.
    await expect(
      objects.patchNamespacedCustomObjectStatus(
        { group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name, body: { status: { replicas: 'two' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ).rejects.toThrow(/status\.replicas/);
    await objects.deleteNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name });
  });

  it('serves the category, short names, printer columns and the scale subresource', async () => {
    const discovery = ((await fetchJson(kc, '/apis/cluster.capstan.dev/v1alpha1')).resources) as { name: string; shortNames?: string[]; categories?: string[] }[];
    const machines = discovery.find((r) => r.name === 'machines')!;
    expect(machines.shortNames).toEqual(['ma']);
    expect(machines.categories).toEqual(['capstan']);
    expect(discovery.map((r) => r.name)).toEqual(expect.arrayContaining(['machinedeployments/scale', 'machinesets/scale', 'machinedeployments/status']));

    // What `kubectl get machines` prints: the Table the API server makes from the printer columns.
    const table = await fetchJson(kc, '/apis/cluster.capstan.dev/v1alpha1/namespaces/default/machines', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    const columns = table.columnDefinitions as { name: string; priority: number }[];
    expect(columns.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Cluster', 'Node Name', 'Provider ID', 'Phase', 'Age', 'Version']);
    // `-o wide` adds Cluster API v1beta2's condition columns.
    expect(columns.filter((c) => c.priority > 0).map((c) => c.name)).toEqual(['Ready', 'Available', 'Up-to-date']);
    const mds = await fetchJson(kc, '/apis/cluster.capstan.dev/v1alpha1/namespaces/default/machinedeployments', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    expect((mds.columnDefinitions as { name: string }[]).map((c) => c.name)).toEqual(['Name', 'Cluster', 'Replicas', 'Ready', 'Updated', 'Unavailable', 'Phase', 'Age', 'Version']);
    const clusters = await fetchJson(kc, '/apis/cluster.capstan.dev/v1alpha1/namespaces/default/clusters', 'application/json;as=Table;v=v1;g=meta.k8s.io');
    expect((clusters.columnDefinitions as { name: string }[]).map((c) => c.name)).toEqual(['Name', 'Phase', 'Available', 'CP Ready', 'Workers Ready', 'Age', 'Version']);

    // `kubectl scale machinedeployment demo-md-0 --replicas 5`
    await objects.patchNamespacedCustomObjectScale(
      { group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name: 'demo-md-0', body: { spec: { replicas: 5 } } },
      mergePatch(),
    );
    expect((await get('MachineDeployment', 'demo-md-0')).spec.replicas).toBe(5);
  });
});

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
