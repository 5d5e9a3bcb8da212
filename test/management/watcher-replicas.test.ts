// Two CRD watchers on one management cluster never double-drive anything (each pass is
// idempotent: update-with-start with USE_EXISTING, finalizer patches guarded by resourceVersion, a
// deletion started once per workflow), and a watcher started after downtime reconciles what
// changed meanwhile: a Cluster created while none ran starts, and one deleted meanwhile (held by
// its finalizer) is deleted.
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER, Watcher } from '../../client/watcher.js';
import { clusterWorkflowId } from '../../workflows/ids.js';
import { eventually, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { crdResources, type Management, startManagement, workflowRuns } from '../support/management.js';

/** The demo's control plane as cluster `name` with one control-plane machine. */
const manifest = (name: string) => DEMO_CONTROL_PLANE.replace(/demo/g, name).replace('  replicas: 3\n', '  replicas: 1\n');

describe('CRD watchers: two at once, and one after downtime', () => {
  let m: Management;
  let env: CapstanEnv;
  let kc: KubeConfig;
  let objects: CustomObjectsApi;
  const watchers: Watcher[] = [];
  const log: string[] = [];
  const plural = crdResources();
  const startWatcher = async (name: string) => {
    const w = new Watcher({ kubeconfig: kc, temporal: env.client, taskQueue: env.taskQueue, log: (l) => log.push(`${name}: ${l}`) });
    await w.start();
    watchers.push(w);
    return w;
  };
  const createAll = async (text: string) => {
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
  };
  const clusterObject = (name: string) => objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name }) as Promise<{ metadata: { finalizers?: string[] } }>;
  const runs = (name: string) => workflowRuns(env.client, clusterWorkflowId({ namespace: 'default', name }));

  beforeAll(async () => {
    m = await startManagement('capstan-watchers-');
    ({ env, kc, objects } = m);
  }, 120_000);
  afterAll(async () => {
    for (const w of watchers) await w.stop();
    await m?.stop();
  });

  it('two watchers drive one Cluster once: one workflow run, one finalizer', async () => {
    const a = await startWatcher('a');
    const b = await startWatcher('b');
    await createAll(manifest('first'));
    await waitForAvailable(env.client, 'first');
    // Both saw it and applied it; the second apply of each was `unchanged`.
    await eventually('both watchers to have applied it', async () => a.lastLines.has('default/first') && b.lastLines.has('default/first'), 30_000, 100);
    expect(await runs('first')).toBe(1);
    expect((await clusterObject('first')).metadata.finalizers).toEqual([FINALIZER]);
    // Both mirror the machine's status; converged, neither writes: each takes the conditions'
    // transition times the other wrote instead of writing its own over them.
    await eventually('the Machine object Running, with its Node\'s conditions', async () => {
      const ms = (await objects.listNamespacedCustomObject({ ...plural.Machine!, version: 'v1alpha1', namespace: 'default' })) as { items: { status?: { phase?: string; conditions?: { type: string }[] } }[] };
      return ms.items.some((o) => o.status?.phase === 'Running' && o.status.conditions?.some((c) => c.type === 'NodeHealthy'));
    }, 60_000, 250);
    // Two 5 s windows in a row without a write (each watcher passes every 2 s).
    let last = -1;
    let quietWindows = 0;
    await eventually('the two watchers to stop writing', async () => {
      const now = a.writes + b.writes;
      quietWindows = now === last ? quietWindows + 1 : 0;
      last = now;
      return quietWindows >= 2;
    }, 60_000, 5000);
    for (const w of [a, b]) await w.stop();
  }, 300_000);

  it('a watcher started after downtime starts what was created and deletes what was deleted meanwhile', async () => {
    // Nobody watches: a new Cluster, and the old one deleted (its finalizer holds it).
    await createAll(manifest('second'));
    await objects.deleteNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'clusters', name: 'first' });
    expect((await clusterObject('first')).metadata.finalizers).toEqual([FINALIZER]);
    expect(await runs('second')).toBe(0);

    await startWatcher('c');
    await waitForAvailable(env.client, 'second');
    expect((await clusterObject('second')).metadata.finalizers).toEqual([FINALIZER]);
    await eventually('the deleted Cluster object to be gone', async () => clusterObject('first').then(() => false, (err: { code?: number }) => err.code === 404), 180_000, 250);
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('first-'))).toEqual([]);
    expect(await runs('second')).toBe(1);
  }, 300_000);
});
