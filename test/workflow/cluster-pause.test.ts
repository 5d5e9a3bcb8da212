// Cluster API's pause on real servers: a one-control-plane cluster with a MachineDeployment of 2
// workers and a MachineHealthCheck over them. Paused (the Cluster's spec.paused), a template
// change, a scale of the control plane and a worker whose Node goes NotReady past its health
// check's timeout all wait: the cloud's own log shows no VM created, shut down or terminated.
// Resumed, the rollout and the scale go on. A paused Cluster's deletion waits
// until it is resumed, as Cluster API's does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { clusterWorkflowId, controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId } from '../../workflows/ids.js';
import { applyClusterUpdate, controlPlaneStatusQuery, deleteClusterUpdate, machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery } from '../../workflows/messages.js';
import type { ClusterStatus } from '../../api/cluster.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { actedOn, allEvents, clusterView, liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER, DEMO_CONTROL_PLANE, workerHealthCheck } from '../support/demo-manifests.js';

/** The demo with one control-plane machine (or `cpReplicas`), 2 workers of `workerType`, the health check, paused or not. */
function manifest(o: { paused?: boolean; workerType?: string; cpReplicas?: number } = {}): string {
  let text = DEMO_CLUSTER.replace('replicas: 3', `replicas: ${o.cpReplicas ?? 1}`)
    .replace(/(kind: MachineDeployment[\s\S]*?)replicas: 3/, '$1replicas: 2')
    .replace('instanceType: sim.medium', `instanceType: ${o.workerType ?? 'sim.medium'}`);
  if (o.paused) text = text.replace('spec:\n  clusterNetwork:', 'spec:\n  paused: true\n  clusterNetwork:');
  if (o.paused && !text.includes('  paused: true\n')) throw new Error('the demo Cluster changed shape: fix manifest()');
  return `${text}\n---\n${workerHealthCheck()}`;
}

describe('a paused Cluster (spec.paused)', () => {
  let env: CapstanEnv;
  const md = () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));
  const kcp = () => env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
  const mhc = () => env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-workers' }));
  const cluster = () => env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'demo' }));
  const apply = async (text: string) => (await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text }]))).map((l) => `${l.object} ${l.result}`);
  /** Every object of the cluster says it is paused (or not): the control plane, the deployment, its set and the health check. */
  const allPaused = (paused: boolean) =>
    eventually(`every object ${paused ? 'paused' : 'resumed'}`, async () => {
      const d = await md().query(machineDeploymentStatusQuery);
      const views = [d, await kcp().query(controlPlaneStatusQuery), await mhc().query(machineHealthCheckStatusQuery), ...(await Promise.all(d.sets.map((s) => env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: s.name })).query(machineSetStatusQuery))))];
      return views.every((v) => !!v.clusterPaused === paused) ? true : undefined;
    }, 30_000, 200);
  const workerVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));

  beforeAll(async () => {
    env = await startCapstanEnv({ observerQuietSeconds: 3, wakerListEveryMs: 500, unreachableGraceMs: 3000 });
    const lines = await apply(manifest());
    expect(lines).toContain('machinehealthcheck.cluster.capstan.dev/demo-workers created');
    await waitForAvailable(env.client, 'demo');
    await eventually('2 available workers', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('the check sees a VM made, shut down or terminated (planted)', () => {
    const ev = (type: string): SimEvent => ({ seq: 1, time: '', type, vmId: 'i-1', message: `VM demo-md-0-x ${type}` }) as SimEvent;
    expect(actedOn([ev('vm.running'), ev('vm.created')])).toEqual(['vm.created VM demo-md-0-x vm.created']);
    expect(actedOn([ev('vm.shutting-down'), ev('vm.terminated')])).toHaveLength(2);
  });

  it('paused: a template change, a control-plane scale and a NotReady worker past its timeout all wait; no VM is made or goes', async () => {
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    const before = (await workerVms()).map((v) => v.name).sort();
    const paused = await apply(manifest({ paused: true }));
    expect(paused).toContain('cluster.cluster.capstan.dev/demo configured');
    expect(paused).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane unchanged');
    await allPaused(true);
    expect((await clusterView(env.client, 'demo')).status.conditions.find((c) => c.type === 'Paused')).toMatchObject({ status: 'True', reason: 'Paused', message: 'Cluster spec.paused is set to true' });
    // Changes are taken (and kept for later) while nothing acts on them.
    const lines = await apply(manifest({ paused: true, workerType: 'sim.large', cpReplicas: 3 }));
    expect(lines).toContain('cluster.cluster.capstan.dev/demo unchanged');
    expect(lines).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured');
    expect(lines).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
    const victim = before[0]!;
    await env.simClient.vmAction((await workerVms()).find((v) => v.name === victim)!.id, 'node-not-ready');
    // Well past the health check's 3 s, and long enough for a rollout's first VM.
    await new Promise((r) => setTimeout(r, 8000));
    expect(actedOn((await allEvents(env.simClient)).filter((e) => e.seq > fromSeq))).toEqual([]);
    expect((await workerVms()).map((v) => v.name).sort()).toEqual(before);
    const d = await md().query(machineDeploymentStatusQuery);
    expect(d.sets).toHaveLength(1);
    expect(d.generation).toBe(2);
    expect((await kcp().query(controlPlaneStatusQuery)).machines).toHaveLength(1);
  }, 120_000);

  it('resumed: the rollout (which replaces the NotReady worker too) and the scale go on', async () => {
    const lines = await apply(manifest({ workerType: 'sim.large', cpReplicas: 3 }));
    expect(lines).toContain('cluster.cluster.capstan.dev/demo configured');
    await allPaused(false);
    expect((await clusterView(env.client, 'demo')).status.conditions.find((c) => c.type === 'Paused')).toMatchObject({ status: 'False', reason: 'NotPaused' });
    await eventually('the rollout done on sim.large and 3 control-plane machines ready', async () => {
      const d = await md().query(machineDeploymentStatusQuery);
      const cp = await kcp().query(controlPlaneStatusQuery);
      const vms = await workerVms();
      return d.sets.length === 1 && d.sets[0]!.revision === 2 && d.status?.availableReplicas === 2 && vms.length === 2 && vms.every((v) => v.instanceType === 'sim.large') && cp.status.readyReplicas === 3
        ? true
        : undefined;
    }, 240_000, 500);
    await waitForAvailable(env.client, 'demo');
  }, 300_000);

  it('a Cluster created paused makes nothing until it is resumed', async () => {
    const frozen = (paused: boolean) => {
      const text = DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1').replace(/\bdemo\b/g, 'frozen').replace(/demo-control-plane/g, 'frozen-control-plane');
      return paused ? text.replace('spec:\n  clusterNetwork:', 'spec:\n  paused: true\n  clusterNetwork:') : text;
    };
    expect(frozen(true)).toContain('  paused: true\n');
    expect(await apply(frozen(true))).toContain('cluster.cluster.capstan.dev/frozen created');
    await new Promise((r) => setTimeout(r, 3000));
    const v = await clusterView(env.client, 'frozen');
    expect(v.status.conditions.find((c) => c.type === 'Paused')).toMatchObject({ status: 'True', reason: 'Paused' });
    expect(v.status.initialization.infrastructureProvisioned).toBe(false);
    expect((await liveVms(env.simClient)).filter((x) => x.name.startsWith('frozen-'))).toEqual([]);
    expect(await apply(frozen(false))).toContain('cluster.cluster.capstan.dev/frozen configured');
    await waitForAvailable(env.client, 'frozen');
    await env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'frozen' })).executeUpdate(deleteClusterUpdate, { args: [] });
    expect(((await env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'frozen' })).result()) as ClusterStatus).phase).toBe('Deleted');
  }, 240_000);

  it("a paused Cluster's deletion waits until it is resumed", async () => {
    expect(await apply(manifest({ paused: true, workerType: 'sim.large', cpReplicas: 3 }))).toContain('cluster.cluster.capstan.dev/demo configured');
    await allPaused(true);
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    await cluster().executeUpdate(deleteClusterUpdate, { args: [] });
    await new Promise((r) => setTimeout(r, 5000));
    expect(actedOn((await allEvents(env.simClient)).filter((e) => e.seq > fromSeq))).toEqual([]);
    expect((await clusterView(env.client, 'demo')).status.phase).not.toBe('Deleting');
    // Being deleted, it takes a resume (and nothing else), and goes.
    const resume = loadPlan([{ file: 'demo.yaml', text: manifest({ workerType: 'sim.large', cpReplicas: 3 }) }]).clusters[0]!;
    expect(await cluster().executeUpdate(applyClusterUpdate, { args: [resume] })).toMatchObject({ result: 'configured' });
    const result = (await cluster().result()) as ClusterStatus;
    expect(result.phase).toBe('Deleted');
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
  }, 180_000);
});
