// The CRD watcher on a real management kube-apiserver: the demo's objects created there start the
// Cluster's workflow (with the finalizer capstan.dev/lifecycle on the object first), a spec change
// made there reaches the running workflow, and deleting the Cluster object deletes the workload
// cluster — the object goes only once the workflow has finished, and no VM is left.
import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER, Watcher } from '../../client/watcher.js';
import { controlPlaneWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery } from '../../workflows/messages.js';
import { eventually, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { crdResources, fetchJson, startWatchedManagement, type WatchedManagement } from '../support/management.js';

describe('CRD watcher', () => {
  let m: WatchedManagement;
  let env: CapstanEnv;
  let watcher: Watcher;
  let objects: CustomObjectsApi;
  let log: string[];
  const kubeconfig = () => m.kc;
  const plural = crdResources();
  const clusterObject = () => objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' }) as Promise<{ metadata: { finalizers?: string[] } }>;

  beforeAll(async () => {
    m = await startWatchedManagement('capstan-watcher-');
    ({ env, objects, watcher, log } = m);
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
      return c.status?.phase === 'Provisioned' && c.status.conditions?.[0]?.status === 'True' && c.status.controlPlane?.readyReplicas === 3 ? c : undefined;
    }, 60_000, 250);
    expect(o.status).toMatchObject({ version: 'v1.37.2', controlPlane: { desiredReplicas: 3 }, observedGeneration: o.metadata.generation });
    expect(o.metadata.annotations?.['capstan.dev/workflow-id']).toBe('cluster/default/demo');
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

  it('deletes the workload cluster when the Cluster object is deleted, and lets the object go only then', async () => {
    await objects.deleteNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'demo' });
    // Held by the finalizer while the workflow deletes…
    expect((await clusterObject()).metadata.finalizers).toEqual([FINALIZER]);
    // …and gone once it has.
    await eventually('the Cluster object to be gone', async () => clusterObject().then(() => false, (err: { code?: number }) => err.code === 404), 180_000, 250);
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
    expect(log.join('\n')).toContain('cluster default/demo: deleted');
  }, 240_000);
});
