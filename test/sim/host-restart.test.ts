// kill -9 of the simulated cloud with a running workload cluster, then a restart on the same data
// dir: the runtime ends servers left behind, restarts etcd, the cluster's API server (same
// endpoint, certificates from disk), controller manager and scheduler, and the kubelets; the Node
// stays Ready with a fresh Lease, running pods are left as they were, and new pods still start.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUserData } from '../../providers/sim/client.js';
import { findOurServers } from '../../providers/sim/host/pids.js';
import { clusterBootstrap } from './host-fixtures.js';
import { CloudUnderTest, until, workloadClients } from './host-harness.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'capstan-host-restart-'));
const dataDir = path.join(work, 'cloud');
const runtimeDir = path.join(dataDir, 'runtime');
let cloud: CloudUnderTest | undefined;

const readyPod = (p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  await cloud?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('a cloud restart after kill -9', () => {
  it('brings the API back on the same endpoint, with the Node still Ready and its Lease renewed', async () => {
    cloud = await CloudUnderTest.start(dataDir);
    const cluster = await cloud.client.createCluster({ clientToken: 'c-restart', name: 'restart', region: 'sim-1' });
    const boot = await clusterBootstrap(cluster);
    const api = await workloadClients(cluster, boot.pki);
    const init = await cloud.client.createVm({ clientToken: 'v-cp', clusterId: cluster.id, name: 'restart-cp-0', instanceType: 'sim.medium', userData: encodeUserData(boot.init('restart-cp-0')) });
    const worker = await cloud.client.createVm({ clientToken: 'v-w', clusterId: cluster.id, name: 'restart-worker-0', instanceType: 'sim.small', userData: encodeUserData(boot.workerJoin('restart-worker-0')) });
    await cloud.waitForEvent('worker Ready', (e) => e.vmId === worker.id && e.type === 'node.ready', 150_000);
    await cloud.waitForEvent('init bootstrap succeeded', (e) => e.vmId === init.id && e.type === 'bootstrap.succeeded', 30_000);
    const firstApiserver = cloud.events.find((e) => e.clusterId === cluster.id && e.type === 'apiserver.ready')!;
    const firstScheduler = cloud.events.find((e) => e.clusterId === cluster.id && e.type === 'scheduler.ready')!;
    expect((await api.get('/readyz')).status).toBe(200);
    const deployment = (replicas: number) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'sim/web:1' }] } },
      },
    });
    const webPods = async () => (await api.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items;
    await api.apps.createNamespacedDeployment({ namespace: 'default', body: deployment(2) });
    const podsBefore = await until('2 Ready pods', async () => {
      const items = await webPods();
      return items.length === 2 && items.every(readyPod) ? items : undefined;
    }, 60_000);

    await cloud.kill9();
    cloud = undefined;
    // A server a previous run left behind (as if setpriv's parent-death signal were unavailable):
    // named like our etcd, pointing into this cloud's runtime dir.
    const stale = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', `--data-dir=${runtimeDir}/etcd`], {
      argv0: path.join(work, 'bin', 'etcd'),
      stdio: 'ignore',
    });
    await until('the stale process to be listed', () => findOurServers(runtimeDir).includes(stale.pid!), 10_000);
    const staleExit = new Promise((r) => stale.once('exit', r));

    const restartedAt = Date.now();
    cloud = await CloudUnderTest.start(dataDir);
    await staleExit;
    expect(alive(stale.pid!)).toBe(false);
    const started = await cloud.waitForEvent('cloud.started', (e) => e.type === 'cloud.started' && e.data?.restarted === true, 30_000);
    const ready = await cloud.waitForEvent('apiserver.ready after restart', (e) => e.clusterId === cluster.id && e.type === 'apiserver.ready', 120_000, started.seq);
    expect(ready.data).toMatchObject({ reason: 'resume', endpoint: firstApiserver.data!.endpoint });
    expect(ready.data!.pid).not.toBe(firstApiserver.data!.pid);
    expect(alive(firstApiserver.data!.pid as number)).toBe(false);
    const scheduler = await cloud.waitForEvent('scheduler.ready after restart', (e) => e.clusterId === cluster.id && e.type === 'scheduler.ready', 60_000, started.seq);
    expect(scheduler.data!.pid).not.toBe(firstScheduler.data!.pid);
    expect(alive(firstScheduler.data!.pid as number)).toBe(false);
    expect((await cloud.client.getCluster(cluster.id)).endpoint).toEqual(cluster.endpoint);
    expect((await api.get('/readyz')).status).toBe(200);

    const node = await api.core.readNode({ name: 'restart-worker-0' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    await until(
      'a Lease renewed after the restart',
      async () => {
        const lease = await api.coordination.readNamespacedLease({ name: 'restart-worker-0', namespace: 'kube-node-lease' });
        return Date.parse(String(lease.spec?.renewTime)) > restartedAt;
      },
      30_000,
    );
    // The pods that ran before run on, untouched (same UIDs and IPs, not started again) …
    const podsAfter = await webPods();
    const key = (p: V1Pod) => `${p.metadata?.uid} ${p.status?.podIP}`;
    expect(podsAfter.map(key).sort()).toEqual(podsBefore.map(key).sort());
    expect(podsAfter.every(readyPod)).toBe(true);
    // … and a new one is scheduled and started by the restarted scheduler, controllers and kubelet.
    await api.apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: 'default', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const grown = await until('3 Ready pods after the restart', async () => {
      const items = await webPods();
      return items.length === 3 && items.every(readyPod) ? items : undefined;
    }, 60_000);
    expect(new Set(grown.map((p) => p.status?.podIP)).size).toBe(3);
    expect(cloud.events.filter((e) => e.seq > started.seq && e.type === 'pod.running')).toHaveLength(1);

    // Both VMs' bootstraps had succeeded: nothing was rerun.
    expect(cloud.events.filter((e) => e.seq > started.seq && e.type === 'bootstrap.started')).toEqual([]);

    await cloud.stop();
    cloud = undefined;
    expect(findOurServers(runtimeDir)).toEqual([]);
  }, 300_000);
});
