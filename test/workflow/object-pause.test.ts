// Cluster API's paused annotation (cluster.capstan.dev/paused here, as capstan names Cluster API's annotations) on one object, on real servers: a
// one-control-plane cluster with a MachineDeployment of 2 workers and a MachineHealthCheck over
// them. The annotated object acts on nothing — a deployment rolls no new template and its deletion
// waits, a health check remediates no NotReady worker, a control plane scales not and its
// deletion (the Cluster's last step) waits — while its Cluster and everything else go on (the
// deployment's set is not paused). Removed, the object acts on what it was told meanwhile.
// The cloud's own log shows what was (not) done; its check is planted in cluster-pause.test.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan, rejection } from '../../client/apply.js';
import type { ClusterStatus } from '../../api/cluster.js';
import { clusterWorkflowId, controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import {
  annotateMachineUpdate,
  applyClusterUpdate,
  applyMachineDeploymentUpdate,
  applyMachineSetUpdate,
  controlPlaneStatusQuery,
  deleteClusterUpdate,
  deleteMachineDeploymentSignal,
  deleteMachineSetSignal,
  machineDeploymentStatusQuery,
  machineHealthCheckStatusQuery,
  machineSetStatusQuery,
} from '../../workflows/messages.js';
import { PAUSED_ANNOTATION } from '../../workflows/pause.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { actedOn, allEvents, clusterView, liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER, DEMO_CONTROL_PLANE, workerHealthCheck } from '../support/demo-manifests.js';

const MD_SAMPLE = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');
const ANNOTATED = `  annotations:\n    ${PAUSED_ANNOTATION}: ""\n`;

/** The demo with one control-plane machine, 2 workers of `workerType` and the health check; the deployment or the health check annotated. */
function manifest(o: { workerType?: string; pauseDeployment?: boolean; pauseHealthCheck?: boolean; pauseCluster?: boolean } = {}): string {
  let text = DEMO_CLUSTER.replace('replicas: 3', 'replicas: 1')
    .replace(/(kind: MachineDeployment[\s\S]*?)replicas: 3/, '$1replicas: 2')
    .replace('instanceType: sim.medium', `instanceType: ${o.workerType ?? 'sim.medium'}`);
  let check = workerHealthCheck();
  if (o.pauseDeployment) text = text.replace('kind: MachineDeployment\nmetadata:\n  name: demo-md-0\n', `kind: MachineDeployment\nmetadata:\n  name: demo-md-0\n${ANNOTATED}`);
  if (o.pauseCluster) text = text.replace('spec:\n  clusterNetwork:', 'spec:\n  paused: true\n  clusterNetwork:');
  if (o.pauseCluster && !text.includes('  paused: true\n')) throw new Error('the demo Cluster changed shape: fix manifest()');
  if (o.pauseHealthCheck) check = check.replace('  name: demo-workers\n', `  name: demo-workers\n${ANNOTATED}`);
  const out = `${text}\n---\n${check}`;
  if ((o.pauseDeployment ? 1 : 0) + (o.pauseHealthCheck ? 1 : 0) !== out.split(PAUSED_ANNOTATION).length - 1) throw new Error('the demo changed shape: fix manifest()');
  return out;
}

/** The demo's Cluster and control plane alone (`cpReplicas` machines), the control plane annotated or not. */
function controlPlane(o: { cpReplicas: number; paused?: boolean }): string {
  const text = DEMO_CONTROL_PLANE.replace('replicas: 3', `replicas: ${o.cpReplicas}`);
  if (!o.paused) return text;
  const out = text.replace('kind: KubeadmControlPlane\nmetadata:\n  name: demo-control-plane\n', `kind: KubeadmControlPlane\nmetadata:\n  name: demo-control-plane\n${ANNOTATED}`);
  if (!out.includes(PAUSED_ANNOTATION)) throw new Error('the demo changed shape: fix controlPlane()');
  return out;
}

describe("an object's own pause (the paused annotation)", () => {
  let env: CapstanEnv;
  const md = () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));
  const mhc = () => env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-workers' }));
  const kcp = () => env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
  const cluster = () => env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'demo' }));
  const controlPlaneVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-control-plane-'));
  const set = (name: string) => env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name }));
  const apply = async (text: string) => (await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text }]))).map((l) => `${l.object} ${l.result}`);
  const workerVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));
  const lastSeq = async () => (await allEvents(env.simClient)).at(-1)!.seq;
  const since = async (seq: number) => actedOn((await allEvents(env.simClient)).filter((e) => e.seq > seq));

  beforeAll(async () => {
    env = await startCapstanEnv({ observerQuietSeconds: 3, wakerListEveryMs: 500, unreachableGraceMs: 3000 });
    expect(await apply(manifest())).toContain('machinehealthcheck.cluster.capstan.dev/demo-workers created');
    await waitForAvailable(env.client, 'demo');
    await eventually('2 available workers', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('an annotated MachineDeployment rolls no new template; its set and its Cluster are not paused', async () => {
    const fromSeq = await lastSeq();
    const before = (await workerVms()).map((v) => v.name).sort();
    const lines = await apply(manifest({ pauseDeployment: true, workerType: 'sim.large' }));
    expect(lines).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
    expect(lines).toContain('cluster.cluster.capstan.dev/demo unchanged');
    const d = await md().query(machineDeploymentStatusQuery);
    expect(d.annotationPaused).toBe(true);
    expect(d.clusterPaused).toBeUndefined();
    const s = await set(d.sets[0]!.name).query(machineSetStatusQuery);
    expect(s.annotationPaused ?? s.clusterPaused).toBeUndefined();
    // Long enough for a rollout's first VM.
    await new Promise((r) => setTimeout(r, 6000));
    expect(await since(fromSeq)).toEqual([]);
    expect((await workerVms()).map((v) => v.name).sort()).toEqual(before);
    expect((await md().query(machineDeploymentStatusQuery)).sets).toHaveLength(1);
    expect((await clusterView(env.client, 'demo')).status.conditions.find((c) => c.type === 'Paused')).toBeUndefined();
  }, 60_000);

  it('the annotation removed, the rollout goes on', async () => {
    expect(await apply(manifest({ workerType: 'sim.large' }))).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
    expect((await md().query(machineDeploymentStatusQuery)).annotationPaused).toBeUndefined();
    await eventually('the rollout done on sim.large', async () => {
      const d = await md().query(machineDeploymentStatusQuery);
      const vms = await workerVms();
      return d.sets.length === 1 && d.sets[0]!.revision === 2 && d.status?.availableReplicas === 2 && vms.length === 2 && vms.every((v) => v.instanceType === 'sim.large') ? true : undefined;
    }, 240_000, 500);
  }, 300_000);

  it("a deployment held by its annotation still passes its Cluster's pause and resume to its sets", async () => {
    const setView = async () => set((await md().query(machineDeploymentStatusQuery)).sets[0]!.name).query(machineSetStatusQuery);
    expect(await apply(manifest({ workerType: 'sim.large', pauseDeployment: true }))).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
    expect(await apply(manifest({ workerType: 'sim.large', pauseDeployment: true, pauseCluster: true }))).toContain('cluster.cluster.capstan.dev/demo configured');
    await eventually('its set paused by the Cluster', async () => ((await setView()).clusterPaused ? true : undefined), 30_000, 200);
    expect(await apply(manifest({ workerType: 'sim.large', pauseDeployment: true }))).toContain('cluster.cluster.capstan.dev/demo configured');
    await eventually('its set resumed', async () => ((await setView()).clusterPaused ? undefined : true), 30_000, 200);
    expect((await md().query(machineDeploymentStatusQuery)).annotationPaused).toBe(true);
    expect(await apply(manifest({ workerType: 'sim.large' }))).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
  }, 120_000);

  it('an annotated MachineHealthCheck remediates no NotReady worker until the annotation is removed', async () => {
    expect(await apply(manifest({ workerType: 'sim.large', pauseHealthCheck: true }))).toContain('machinehealthcheck.cluster.capstan.dev/demo-workers configured');
    expect((await mhc().query(machineHealthCheckStatusQuery)).annotationPaused).toBe(true);
    const fromSeq = await lastSeq();
    const victim = (await workerVms())[0]!;
    await env.simClient.vmAction(victim.id, 'node-not-ready');
    // Well past the health check's 3 s.
    await new Promise((r) => setTimeout(r, 8000));
    expect(await since(fromSeq)).toEqual([]);
    expect(await apply(manifest({ workerType: 'sim.large' }))).toContain('machinehealthcheck.cluster.capstan.dev/demo-workers configured');
    await eventually(`${victim.name} remediated`, async () => (!(await workerVms()).some((v) => v.id === victim.id) ? true : undefined), 120_000, 500);
    await eventually('2 available workers again', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 500);
  }, 360_000);

  it("a Machine with the annotation is no target of its health checks (Cluster API's shouldSkipRemediation) until it is removed", async () => {
    const victim = (await workerVms())[0]!;
    const machine = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim.name }));
    await machine.executeUpdate(annotateMachineUpdate, { args: [{ set: { [PAUSED_ANNOTATION]: '' } }] });
    await eventually('its memo to carry it', async () => (((await machine.describe()).memo?.remediation as string[] | undefined)?.includes(PAUSED_ANNOTATION) ? true : undefined), 30_000, 200);
    const fromSeq = await lastSeq();
    await env.simClient.vmAction(victim.id, 'node-not-ready');
    // Well past the health check's 3 s.
    await new Promise((r) => setTimeout(r, 8000));
    expect(await since(fromSeq)).toEqual([]);
    await machine.executeUpdate(annotateMachineUpdate, { args: [{ remove: [PAUSED_ANNOTATION] }] });
    await eventually(`${victim.name} remediated`, async () => (!(await workerVms()).some((v) => v.id === victim.id) ? true : undefined), 120_000, 500);
    await eventually('2 available workers again', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 500);
  }, 360_000);

  it("an annotated MachineDeployment's deletion waits until the annotation is removed; being deleted, it takes nothing else", async () => {
    expect(await apply(manifest({ workerType: 'sim.large', pauseDeployment: true }))).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 configured');
    const fromSeq = await lastSeq();
    await md().signal(deleteMachineDeploymentSignal, {});
    await new Promise((r) => setTimeout(r, 5000));
    expect(await since(fromSeq)).toEqual([]);
    expect(await workerVms()).toHaveLength(2);
    const plan = (text: string) => loadPlan([{ file: 'demo.yaml', text }]).machineDeployments[0]!;
    const refusal = await md()
      .executeUpdate(applyMachineDeploymentUpdate, { args: [plan(manifest({ workerType: 'sim.small', pauseDeployment: true }))] })
      .then(() => 'taken', (err: unknown) => rejection(err) ?? String(err));
    expect(refusal).toMatch(/MachineDeployment "demo-md-0" is being deleted/);
    // (The annotation's removal with anything else is refused whole: nothing else is taken now.)
    const bundled = await md()
      .executeUpdate(applyMachineDeploymentUpdate, { args: [plan(manifest({ workerType: 'sim.small' }))] })
      .then(() => 'taken', (err: unknown) => rejection(err) ?? String(err));
    expect(bundled).toBe(`MachineDeployment "demo-md-0" is being deleted: only its ${PAUSED_ANNOTATION} annotation can change`);
    expect(await md().executeUpdate(applyMachineDeploymentUpdate, { args: [plan(manifest({ workerType: 'sim.large' }))] })).toMatchObject({ result: 'configured' });
    await md().result();
    expect(await workerVms()).toEqual([]);
    expect((await since(fromSeq)).filter((e) => e.startsWith('vm.created'))).toEqual([]);
  }, 240_000);

  it('an annotated MachineSet applied on its own scales not, and its deletion waits, until the annotation is removed', async () => {
    const solo = (replicas: number, paused = false) => {
      const text = MD_SAMPLE.replace('kind: MachineDeployment', 'kind: MachineSet')
        .replace(/\n {2}rollout:\n(?: {4,}.*\n)+/, '\n')
        .replace(/demo-md-0/g, 'solo')
        .replace('replicas: 3', `replicas: ${replicas}`);
      return paused ? text.replace('kind: MachineSet\nmetadata:\n  name: solo\n', `kind: MachineSet\nmetadata:\n  name: solo\n${ANNOTATED}`) : text;
    };
    expect(solo(1, true)).toContain(PAUSED_ANNOTATION);
    const soloVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('solo-'));
    const solo1 = set('solo');
    expect(await apply(solo(1))).toEqual(['machineset.cluster.capstan.dev/solo created']);
    await eventually('1 ready machine', async () => ((await solo1.query(machineSetStatusQuery)).status?.readyReplicas === 1 ? true : undefined), 180_000, 300);
    const fromSeq = await lastSeq();
    expect(await apply(solo(2, true))).toEqual(['machineset.cluster.capstan.dev/solo configured']);
    expect((await solo1.query(machineSetStatusQuery)).annotationPaused).toBe(true);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await since(fromSeq)).toEqual([]);
    expect(await apply(solo(2))).toEqual(['machineset.cluster.capstan.dev/solo configured']);
    await eventually('2 ready machines', async () => ((await solo1.query(machineSetStatusQuery)).status?.readyReplicas === 2 ? true : undefined), 180_000, 300);
    // Deleted with the annotation, it waits; being deleted, it takes the annotation's removal.
    expect(await apply(solo(2, true))).toEqual(['machineset.cluster.capstan.dev/solo configured']);
    await solo1.signal(deleteMachineSetSignal, {});
    await new Promise((r) => setTimeout(r, 4000));
    expect(await soloVms()).toHaveLength(2);
    const plan = loadPlan([{ file: 'ms.yaml', text: solo(2) }]).machineSets[0]!;
    expect(await solo1.executeUpdate(applyMachineSetUpdate, { args: [plan] })).toMatchObject({ result: 'configured' });
    await solo1.result();
    expect(await soloVms()).toEqual([]);
  }, 360_000);

  it('an annotated KubeadmControlPlane scales not until the annotation is removed', async () => {
    const fromSeq = await lastSeq();
    const lines = await apply(controlPlane({ cpReplicas: 3, paused: true }));
    expect(lines).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured');
    expect(lines).toContain('cluster.cluster.capstan.dev/demo unchanged');
    await eventually('the control plane paused by its annotation', async () => ((await kcp().query(controlPlaneStatusQuery)).annotationPaused ? true : undefined), 30_000, 200);
    await new Promise((r) => setTimeout(r, 6000));
    expect(await since(fromSeq)).toEqual([]);
    expect((await kcp().query(controlPlaneStatusQuery)).machines).toHaveLength(1);
    expect(await apply(controlPlane({ cpReplicas: 3 }))).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured');
    await eventually('3 control-plane machines ready', async () => ((await kcp().query(controlPlaneStatusQuery)).status.readyReplicas === 3 ? true : undefined), 240_000, 500);
  }, 300_000);

  it("a Cluster whose control plane has the annotation is deleted up to its control plane, which waits until the annotation is removed", async () => {
    expect(await apply(controlPlane({ cpReplicas: 3, paused: true }))).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured');
    await eventually('the control plane paused by its annotation', async () => ((await kcp().query(controlPlaneStatusQuery)).annotationPaused ? true : undefined), 30_000, 200);
    const fromSeq = await lastSeq();
    await cluster().executeUpdate(deleteClusterUpdate, { args: [] });
    await eventually('the Cluster deleting', async () => ((await clusterView(env.client, 'demo')).status.phase === 'Deleting' ? true : undefined), 60_000, 250);
    await new Promise((r) => setTimeout(r, 5000));
    expect((await since(fromSeq)).filter((e) => e.includes('demo-control-plane-'))).toEqual([]);
    expect(await controlPlaneVms()).toHaveLength(3);
    // Being deleted, the Cluster takes the control plane's pause (and nothing else), and goes.
    const resume = loadPlan([{ file: 'demo.yaml', text: controlPlane({ cpReplicas: 3 }) }]).clusters[0]!;
    expect(await cluster().executeUpdate(applyClusterUpdate, { args: [resume] })).toMatchObject({ result: 'configured', changed: ['KubeadmControlPlane'] });
    expect(((await cluster().result()) as ClusterStatus).phase).toBe('Deleted');
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-'))).toEqual([]);
  }, 240_000);
});
