// Real pods on the simulated cloud's workload clusters: the cluster's kube-controller-manager
// (deployment, replicaset, disruption controllers) and kube-scheduler do their real work, and the
// simulated kubelets run what is bound to their node — so a drain through the Eviction API moves
// pods and a PodDisruptionBudget holds it, as in a real cluster.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUserData } from '../../providers/sim/client.js';
import type { SimCluster, SimVm } from '../../providers/sim/types.js';
import { clusterBootstrap, type ClusterBootstrap } from './host-fixtures.js';
import { CloudUnderTest, rssMiB, until, workloadClients, type WorkloadClients } from './host-harness.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'capstan-pods-'));
const figures: string[] = [];
const NS = 'default';
const SELECTOR = 'app=web';
let cloud: CloudUnderTest;
let cluster: SimCluster;
let boot: ClusterBootstrap;
let api: WorkloadClients;
const workers: SimVm[] = [];

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function createVm(name: string, userData: string): Promise<SimVm> {
  return cloud.client.createVm({ clientToken: `v-${name}`, clusterId: cluster.id, name, instanceType: 'sim.medium', userData: encodeUserData(userData) });
}

async function booted(vm: SimVm): Promise<void> {
  const outcome = await cloud.waitForEvent(`bootstrap of ${vm.name}`, (e) => e.vmId === vm.id && (e.type === 'bootstrap.succeeded' || e.type === 'bootstrap.failed'), 120_000);
  expect(outcome.type, outcome.message).toBe('bootstrap.succeeded');
}

const ready = (p: V1Pod) =>
  p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function webPods(): Promise<V1Pod[]> {
  return (await api.core.listNamespacedPod({ namespace: NS, labelSelector: SELECTOR })).items;
}

/** Evicts a pod through the Eviction API: the HTTP status (201, or the refusal's code). */
async function evict(name: string): Promise<number> {
  try {
    await api.core.createNamespacedPodEviction({ name, namespace: NS, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS } } });
    return 201;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

function nodeCredentials(vm: SimVm): CoreV1Api {
  const dir = path.join(cloud.proc.dataDir, 'runtime', 'clusters', cluster.id, 'vms', vm.id);
  const b64 = (f: string) => readFileSync(path.join(dir, f)).toString('base64');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: api.server, caData: b64('ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'node', certData: b64('kubelet-client.crt'), keyData: b64('kubelet-client.key') }],
    contexts: [{ name: 'c', cluster: 'c', user: 'node' }],
    currentContext: 'c',
  });
  return kc.makeApiClient(CoreV1Api);
}

beforeAll(async () => {
  cloud = await CloudUnderTest.start(path.join(work, 'cloud'));
  cluster = await cloud.client.createCluster({ clientToken: 'c-pods', name: 'pods', region: 'sim-1' });
  boot = await clusterBootstrap(cluster);
  api = await workloadClients(cluster, boot.pki);
  const init = await createVm('pods-cp-0', boot.init('pods-cp-0'));
  await booted(init);
  for (const name of ['pods-worker-0', 'pods-worker-1']) workers.push(await createVm(name, boot.workerJoin(name)));
  await Promise.all(workers.map(booted));
  await Promise.all(workers.map((w) => cloud.waitForEvent(`${w.name} Ready`, (e) => e.vmId === w.id && e.type === 'node.ready', 60_000)));
  // The node-lifecycle controller lifts the not-ready taint it put on each new Node once it is Ready.
  await until('workers untainted', async () => {
    const nodes = await Promise.all(workers.map((w) => api.core.readNode({ name: w.name })));
    return nodes.every((n) => !(n.spec?.taints ?? []).length);
  }, 60_000);
}, 240_000);

afterAll(async () => {
  await cloud?.stop().catch(() => undefined);
  if (figures.length) console.log(figures.join('\n'));
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('pods on a simulated workload cluster', () => {
  it('runs a 6-replica Deployment as 6 Running and Ready pods spread over both workers', async () => {
    const started = Date.now();
    await api.apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 6,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              // Long enough that only the kubelet's own grace-0 delete can remove an evicted pod within the test.
              terminationGracePeriodSeconds: 3600,
              containers: [{ name: 'web', image: 'sim/web:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
            },
          },
        },
      },
    });
    const pods = await until('6 Ready pods', async () => {
      const items = await webPods();
      return items.length === 6 && items.every(ready) ? items : undefined;
    }, 60_000);
    figures.push(`Deployment created → 6 pods Running and Ready: ${Date.now() - started} ms`);
    const deployment = await until('Deployment available', async () => {
      const d = await api.apps.readNamespacedDeployment({ name: 'web', namespace: NS });
      return d.status?.availableReplicas === 6 ? d : undefined;
    }, 30_000);
    expect(deployment.status?.readyReplicas).toBe(6);

    const byNode = new Map<string, number>();
    for (const p of pods) byNode.set(p.spec!.nodeName!, (byNode.get(p.spec!.nodeName!) ?? 0) + 1);
    figures.push(`pods per node: ${[...byNode].map(([n, c]) => `${n} ${c}`).join(', ')}`);
    expect([...byNode.keys()].sort()).toEqual(workers.map((w) => w.name).sort()); // both workers, never the tainted control plane

    const ips = new Set<string>();
    for (const p of pods) {
      const worker = workers.find((w) => w.name === p.spec?.nodeName)!;
      const s = p.status!;
      expect(s.hostIP).toBe(worker.addresses.find((a) => a.type === 'InternalIP')!.address);
      expect(s.podIP).toMatch(/^100\.\d+\.\d+\.\d+$/);
      ips.add(s.podIP!);
      expect(s.startTime).toBeTruthy();
      for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
        expect(s.conditions?.find((c) => c.type === type), type).toMatchObject({ status: 'True' });
      }
      expect(s.containerStatuses).toEqual([expect.objectContaining({ name: 'web', image: 'sim/web:1', ready: true, started: true, restartCount: 0 })]);
      expect(s.containerStatuses![0]!.state?.running?.startedAt).toBeTruthy();
    }
    expect(ips.size).toBe(6);

    const starts = cloud.events.filter((e) => e.clusterId === cluster.id && e.type === 'pod.running').map((e) => e.data!.sinceSeenMs as number);
    expect(starts.length).toBeGreaterThanOrEqual(6);
    starts.sort((a, b) => a - b);
    figures.push(`pod seen bound by its kubelet → reported Running and Ready (the 50–150 ms test start delay + one status patch): median ${starts[starts.length >> 1]} ms, max ${starts.at(-1)} ms`);

    const pid = (type: string) => cloud.events.find((e) => e.clusterId === cluster.id && e.type === type)!.data!.pid as number;
    const [a, k, s] = await Promise.all([rssMiB(pid('apiserver.ready')), rssMiB(pid('controller-manager.ready')), rssMiB(pid('scheduler.ready'))]);
    figures.push(`RSS of one cluster (3 nodes, 6 pods): kube-apiserver ${a.toFixed(0)} MiB + kube-controller-manager ${k.toFixed(0)} MiB + kube-scheduler ${s.toFixed(0)} MiB = ${(a + k + s).toFixed(0)} MiB`);
  }, 120_000);

  it('lets a node update only the status of pods bound to it', async () => {
    const [w0, w1] = workers as [SimVm, SimVm];
    const other = (await webPods()).find((p) => p.spec?.nodeName === w1.name)!;
    const asW0 = nodeCredentials(w0);
    const err = await asW0
      .patchNamespacedPodStatus({ name: other.metadata!.name!, namespace: NS, body: { status: { phase: 'Failed' } } }, mergePatch)
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(403);
    const deleteErr = await asW0.deleteNamespacedPod({ name: other.metadata!.name!, namespace: NS }).then(() => undefined, (e: unknown) => e);
    expect((deleteErr as ApiException<unknown>).code).toBe(403);
  }, 30_000);

  it('drains a cordoned worker through the Eviction API within a PodDisruptionBudget (minAvailable 5)', async () => {
    await api.policy.createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 5, selector: { matchLabels: { app: 'web' } } } },
    });
    await until('the disruption controller to allow 1 disruption', async () => {
      const pdb = await api.policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: NS });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === 6 && pdb.status.disruptionsAllowed === 1;
    }, 30_000);

    // Drain the worker with more pods (at least 3 of 6), so the second eviction meets the budget.
    const before = await webPods();
    const count = (n: string) => before.filter((p) => p.spec?.nodeName === n).length;
    const [drained, kept] = [...workers].sort((x, y) => count(y.name) - count(x.name)) as [SimVm, SimVm];
    const victims = before.filter((p) => p.spec?.nodeName === drained.name).map((p) => p.metadata!.name!);
    expect(victims.length).toBeGreaterThanOrEqual(3);
    await api.core.patchNode({ name: drained.name, body: { spec: { unschedulable: true } } }, mergePatch);
    // The kept worker is cordoned too for the first two evictions, so the first one's replacement
    // cannot become Ready in between (the simulated kubelet starts a pod in ~0.2 s, and the
    // disruption controller would then allow a second disruption): the budget must refuse.
    await api.core.patchNode({ name: kept.name, body: { spec: { unschedulable: true } } }, mergePatch);

    const drainStarted = Date.now();
    expect(await evict(victims[0]!)).toBe(201);
    // 5 healthy left and minAvailable 5: the next eviction would break the budget.
    expect(await evict(victims[1]!)).toBe(429);
    await api.core.patchNode({ name: kept.name, body: { spec: { unschedulable: false } } }, mergePatch);
    for (const name of victims.slice(1)) {
      // As `kubectl drain` does: retry while the budget refuses, until the replacement is Ready.
      await until(`eviction of ${name}`, async () => (await evict(name)) === 201, 60_000, 100);
    }
    const after = await until('6 Ready pods, all on the kept worker, the evicted ones gone', async () => {
      const items = await webPods();
      const names = new Set(items.map((p) => p.metadata!.name!));
      const done = items.length === 6 && items.every((p) => ready(p) && p.spec?.nodeName === kept.name) && victims.every((v) => !names.has(v));
      return done ? items : undefined;
    }, 60_000);
    figures.push(`drain of ${victims.length} pods through the Eviction API under minAvailable 5: ${Date.now() - drainStarted} ms`);
    // Recreated by the ReplicaSet controller (new names, owned by the Deployment's ReplicaSet).
    for (const p of after) expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    const d = await until('Deployment available again', async () => {
      const x = await api.apps.readNamespacedDeployment({ name: 'web', namespace: NS });
      return x.status?.availableReplicas === 6 ? x : undefined;
    }, 30_000);
    expect(d.status?.readyReplicas).toBe(6);
  }, 180_000);
});
