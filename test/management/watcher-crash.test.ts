// The CRD watcher killed (SIGKILL, its own process: `capstan watch`) mid-creation and mid-rollout,
// and started again: the workflows never depended on it, and the new watcher picks up where the
// management cluster says things are — a spec change made while it was down is delivered, every
// object ends mirrored, and nothing is made twice (one VM per Machine object, one KubeadmConfig and
// SimMachine each, one workflow run per object).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagementApi } from '../../client/management-api.js';
import { eventually, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { crdResources, type Management, noneLeft, startManagement, workflowRuns } from '../support/management.js';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));

type Obj = { metadata: { name: string; uid: string; generation?: number; labels?: Record<string, string>; ownerReferences?: { kind: string; uid: string }[] }; spec: Record<string, any>; status?: Record<string, any> };

describe('the CRD watcher killed and started again', () => {
  let m: Management;
  let env: CapstanEnv;
  let api: ManagementApi;
  let work: string;
  let objects: CustomObjectsApi;
  let watcher: ChildProcess | undefined;
  const output: string[] = [];
  const plural = crdResources();
  const list = async (kind: string) => ((await objects.listNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default' })) as { items: Obj[] }).items;
  const get = (kind: string, name: string) => objects.getNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default', name }) as Promise<Obj>;
  const patch = (kind: string, name: string, body: unknown) =>
    objects.patchNamespacedCustomObject({ ...plural[kind]!, version: 'v1alpha1', namespace: 'default', name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const workers = async () => (await list('Machine')).filter((m) => m.metadata.labels?.['cluster.capstan.dev/deployment-name'] === 'demo-md-0');

  const startWatcher = async () => {
    const kubeconfig = path.join(work, 'management.kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfig, { mode: 0o600 });
    const child = spawn(process.execPath, [cli, 'watch', '--kubeconfig', kubeconfig], { env: { ...process.env, ...env.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = output.length;
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean)));
    watcher = child;
    await eventually('the watcher to start', async () => output.slice(started).some((l) => l.includes('watching capstan')), 60_000, 100);
  };
  /** SIGKILL: no stop(), no informer closed cleanly, whatever was in flight is lost. */
  const killWatcher = async () => {
    const child = watcher!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    watcher = undefined;
  };
  /** How many runs each workflow of the demo has had, by workflow ID (a second start would be a second run). */
  const runsById = async () => {
    const ids = ['cluster/default/demo', 'kubeadmcontrolplane/default/demo-control-plane', 'machinedeployment/default/demo-md-0'];
    return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await workflowRuns(env.client, id)] as const)));
  };

  beforeAll(async () => {
    m = await startManagement('capstan-watcher-crash-');
    ({ env, api, work, objects } = m);
  }, 120_000);
  afterAll(async () => {
    watcher?.kill('SIGKILL');
    await m?.stop();
  });

  it('killed mid-creation: the cluster comes up, and a restarted watcher mirrors it', async () => {
    await startWatcher();
    // The demo with one control-plane machine and two workers.
    const text = DEMO_CLUSTER.replace(/^( {2}replicas:) 3$/m, '$1 1').replace(/^( {2}replicas:) 3$/m, '$1 2');
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { kind: string };
      await objects.createNamespacedCustomObject({ ...plural[o.kind]!, version: 'v1alpha1', namespace: 'default', body: o });
    }
    // Mid-creation: the control plane's machine is being made, nothing is Available yet.
    await eventually('the control-plane Machine object', async () => (await list('Machine')).length > 0, 120_000, 100);
    expect((await get('Cluster', 'demo')).status?.conditions?.find((c: { type: string }) => c.type === 'Available')?.status).not.toBe('True');
    await killWatcher();

    // The workflows go on without it.
    await waitForAvailable(env.client, 'demo');
    await startWatcher();
    await eventually('two Running workers and the deployment\'s status mirrored', async () => {
      const w = await workers();
      const md = await get('MachineDeployment', 'demo-md-0');
      return w.length === 2 && w.every((m) => m.status?.phase === 'Running') && md.status?.readyReplicas === 2;
    }, 240_000, 250);
    await eventually('the Cluster\'s status mirrored as Available', async () => (await get('Cluster', 'demo')).status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Available' && c.status === 'True'), 30_000, 250);
  }, 420_000);

  it('killed mid-rollout, with a scale made while it was down: the rollout ends at the new size, nothing made twice', async () => {
    const [first] = await list('MachineSet');
    await patch('MachineDeployment', 'demo-md-0', { spec: { rollout: { after: new Date().toISOString() } } });
    // Mid-rollout: the new set exists.
    await eventually('the new MachineSet object', async () => (await list('MachineSet')).length === 2, 120_000, 100);
    await killWatcher();
    // Changed while nobody watches: the deployment's size.
    await patch('MachineDeployment', 'demo-md-0', { spec: { replicas: 3 } });
    await startWatcher();

    const done = await eventually('the rollout to end with three Running workers of one new set', async () => {
      const sets = await list('MachineSet');
      const w = await workers();
      const md = await get('MachineDeployment', 'demo-md-0');
      const ok =
        sets.length === 1 &&
        sets[0]!.metadata.name !== first!.metadata.name &&
        w.length === 3 &&
        w.every((m) => m.status?.phase === 'Running' && m.metadata.ownerReferences?.[0]?.uid === sets[0]!.metadata.uid) &&
        md.status?.upToDateReplicas === 3 &&
        md.status.observedGeneration === md.metadata.generation;
      return ok ? { set: sets[0]!, workers: w } : undefined;
    }, 420_000, 250);
    expect(done.set.spec.replicas).toBe(3);

    // Nothing made twice: one VM per worker object, one KubeadmConfig and SimMachine per Machine.
    const names = done.workers.map((m) => m.metadata.name).sort();
    const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-')).map((v) => v.name).sort();
    expect(vms).toEqual(names);
    await eventually('one KubeadmConfig and one SimMachine per Machine, no other', async () => {
      const machines = (await list('Machine')).map((m) => m.metadata.name).sort();
      const configs = (await list('KubeadmConfig')).map((c) => c.metadata.name).sort();
      const instances = (await list('SimMachine')).map((c) => c.metadata.name).sort();
      return JSON.stringify(configs) === JSON.stringify(machines) && JSON.stringify(instances) === JSON.stringify(machines);
    }, 90_000, 250); // the garbage collector learns of new kinds every 30 s
    // One run each of the Cluster's, control plane's and deployment's workflows: no restart started one again.
    expect(await runsById()).toEqual({ 'cluster/default/demo': 1, 'kubeadmcontrolplane/default/demo-control-plane': 1, 'machinedeployment/default/demo-md-0': 1 });
  }, 600_000);

  it('deleted with the watcher down in between: the object goes, and nothing is left', async () => {
    await killWatcher();
    await objects.deleteNamespacedCustomObject({ ...plural.Cluster!, version: 'v1alpha1', namespace: 'default', name: 'demo' });
    await startWatcher();
    await eventually('the Cluster object to be gone', async () => get('Cluster', 'demo').then(() => false, (err: { code?: number }) => err.code === 404), 240_000, 250);
    await eventually('no Machine, MachineSet, KubeadmConfig or SimMachine object left', () => noneLeft(list, ['Machine', 'MachineSet', 'KubeadmConfig', 'SimMachine']), 90_000, 250); // the garbage collector learns of new kinds every 30 s
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
  }, 300_000);
});
