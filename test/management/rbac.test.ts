// config/rbac on a real management kube-apiserver: the watcher and the worker (secrets in the
// management cluster) run as the capstan ServiceAccount through a whole Cluster's life — created
// from objects, its status mirrored, deleted — and the API server's audit log shows not one
// request of theirs refused. A request outside the role is refused and seen in that log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { Watcher } from '../../client/watcher.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { installCapstan } from '../../client/management-install.js';
import { crdResources } from '../support/management.js';

const SA_USER = 'system:serviceaccount:capstan-system:capstan';

describe('config/rbac: least privilege', () => {
  let api: ManagementApi;
  let env: CapstanEnv;
  let work: string;
  let watcher: Watcher;
  let auditLog: string;
  const admin = new KubeConfig();
  const asCapstan = new KubeConfig();
  /** The audit log's requests by the capstan identity that were refused. */
  const refused = () =>
    readFileSync(auditLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { user?: { username?: string }; verb: string; requestURI: string; responseStatus?: { code?: number } })
      .filter((e) => e.user?.username === SA_USER && (e.responseStatus?.code === 403 || e.responseStatus?.code === 401))
      .map((e) => `${e.verb} ${e.requestURI}`);

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'capstan-rbac-'));
    auditLog = path.join(work, 'audit.log');
    api = await startManagementApi(path.join(work, 'management'), { auditLogFile: auditLog });
    admin.loadFromString(api.kubeconfig);
    // The CRDs and config/rbac, as an operator installs them (client/management-install.ts).
    await installCapstan(admin, { rbac: true });
    const saKubeconfig = await api.kubeconfigFor(SA_USER, ['system:serviceaccounts', 'system:serviceaccounts:capstan-system']);
    const saFile = path.join(work, 'capstan.kubeconfig');
    writeFileSync(saFile, saKubeconfig, { mode: 0o600 });
    asCapstan.loadFromString(saKubeconfig);
    env = await startCapstanEnv({ managementKubeconfig: saFile, secretStore: 'kubernetes' });
    watcher = new Watcher({ kubeconfig: asCapstan, temporal: env.client, taskQueue: env.taskQueue, statusIntervalMs: 500 });
    await watcher.start();
  }, 180_000);
  afterAll(async () => {
    await watcher?.stop();
    await env?.stop();
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a Cluster created, mirrored and deleted with the capstan identity: nothing refused', async () => {
    const objects = admin.makeApiClient(CustomObjectsApi);
    const plural = crdResources();
    // One control-plane machine and one worker: the watcher makes the worker's MachineSet and both Machines as objects.
    for (const doc of parseAllDocuments(DEMO_CLUSTER.replace('  replicas: 3\n', '  replicas: 1\n').replace('  replicas: 3\n', '  replicas: 1\n'))) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
    await waitForAvailable(env.client, 'demo');
    const cluster = () => objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' }) as Promise<{ status?: { phase?: string } }>;
    await eventually('the status mirrored', async () => (await cluster()).status?.phase === 'Provisioned', 60_000, 250);
    const machines = async () => ((await objects.listNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machines' })) as { items: { status?: { phase?: string } }[] }).items;
    await eventually('both Machine objects Running', async () => (await machines()).filter((m) => m.status?.phase === 'Running').length === 2, 120_000, 250);
    // The worker kept the cluster's secrets in the management cluster.
    const secrets = await admin.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'default', labelSelector: 'cluster.capstan.dev/cluster-name=demo' });
    expect(secrets.items.map((s) => s.metadata!.name)).toEqual(expect.arrayContaining(['demo-ca', 'demo-kubeconfig']));
    // Owned by the Cluster object, so the garbage collector takes what is left when it goes.
    const uid = ((await objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' })) as { metadata: { uid: string } }).metadata.uid;
    for (const s of secrets.items) expect(s.metadata!.ownerReferences, s.metadata!.name).toEqual([expect.objectContaining({ kind: 'Cluster', name: 'demo', uid })]);
    await objects.deleteNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' });
    await eventually('the Cluster object to be gone', async () => cluster().then(() => false, (err: { code?: number }) => err.code === 404), 180_000, 250);
    await eventually('the Machine objects to be gone', async () => (await machines()).length === 0, 30_000, 250);
    expect(refused()).toEqual([]);
  }, 300_000);

  it('refuses what the role does not grant, and the audit log shows it', async () => {
    const err = await asCapstan.makeApiClient(CoreV1Api).listNode().catch((e: { code?: number }) => e);
    expect((err as { code?: number }).code).toBe(403);
    await eventually('the refusal in the audit log', async () => refused().some((r) => r.startsWith('list /api/v1/nodes')), 10_000, 100);
  });
});
