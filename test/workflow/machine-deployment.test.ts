// MachineDeploymentWorkflow on real servers: a one-control-plane cluster on the simulated cloud
// and the sample MachineDeployment beside it (3 workers, maxSurge 1, maxUnavailable 0). A
// template change rolls every machine through a new MachineSet; the cloud's own event log shows
// that at no moment were there more than replicas + maxSurge of the deployment's VMs, nor fewer
// than replicas − maxUnavailable running ones once it was up. Scaling and deletion too.
import { readFileSync } from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadApplyPlan, loadPlan } from '../../client/apply.js';
import { ANNOTATIONS, LABELS } from '../../api/meta.js';
import { machineDeploymentWorkflowId, machineSetWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { MACHINE_FACTS_MEMO, type MachineFacts, remediationShown } from '../../workflows/list-memo.js';
import {
  annotateMachineUpdate,
  applyMachineDeploymentUpdate,
  deleteClusterUpdate,
  deleteMachineDeploymentSignal,
  machineDeploymentStatusQuery,
  machineSetStatusQuery,
  machineStatusQuery,
  pauseMachineDeploymentUpdate,
  restartMachineDeploymentUpdate,
  scaleMachineDeploymentUpdate,
} from '../../workflows/messages.js';
import type { MachineDeploymentApply, MachineDeploymentView, MachineView } from '../../workflows/types.js';
import { eventually, fetchHistories, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, liveVms, nodeReady, vmExtremes, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';

// The demo manifest holds its workers as the MachineDeployment demo-md-0, the same as the sample.
const demo = readFileSync(new URL('../../config/samples/demo-cluster.yaml', import.meta.url), 'utf8');
const sample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');
const mdApply = (text = sample): MachineDeploymentApply => loadPlan([{ file: 'md.yaml', text }]).machineDeployments[0]!;

describe('MachineDeploymentWorkflow', () => {
  let env: CapstanEnv;
  const id = machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' });
  const handle = () => env.client.workflow.getHandle(id);
  const until = (what: string, ok: (v: MachineDeploymentView) => boolean) =>
    eventually(what, async () => {
      const v = await handle().query(machineDeploymentStatusQuery);
      return ok(v) ? v : undefined;
    }, 240_000, 300);
  const mdVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));
  let upSeq = 0;

  beforeAll(async () => {
    env = await startCapstanEnv();
    // The demo manifest with one control-plane machine, through `apply`: its MachineDeployment
    // (the sample's) is started by the Cluster as its child, with the gate closed until the
    // control plane is initialized.
    const plan = loadPlan([{ file: 'demo.yaml', text: demo.replace('replicas: 3', 'replicas: 1') }]);
    expect(plan.machines).toEqual([]);
    const lines = await executePlan(env.client, env.taskQueue, plan);
    expect(lines.map((l) => `${l.object} ${l.result}`)).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 created');
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('brings up replicas machines through one MachineSet, after the init gate; the Cluster counts them as its workers', async () => {
    const v = await until('3 available', (x) => x.status?.availableReplicas === 3);
    const cluster = await waitForAvailable(env.client, 'demo');
    expect(cluster.status.workers).toEqual({ desiredReplicas: 3, replicas: 3, readyReplicas: 3 });
    expect(cluster.deployments).toEqual([{ name: 'demo-md-0', desiredReplicas: 3, replicas: 3, readyReplicas: 3, availableReplicas: 3, rollingOut: false }]);
    // No worker VM before the control plane's API answered: the gate holds for deployments too.
    const events = await allEvents(env.simClient);
    const apiReady = events.findIndex((e) => e.type === 'apiserver.ready');
    const firstWorker = events.findIndex((e) => e.type === 'vm.created' && e.message.includes('demo-md-0-'));
    expect(apiReady).toBeGreaterThanOrEqual(0);
    expect(firstWorker).toBeGreaterThan(apiReady);
    expect(v.sets).toHaveLength(1);
    expect(v.sets[0]).toMatchObject({ revision: 1, new: true, replicas: 3, availableReplicas: 3 });
    expect(v.status?.conditions.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(v.status?.conditions.find((c) => c.type === 'RollingOut')?.status).toBe('False');
    expect(await mdVms()).toHaveLength(3);
    upSeq = (await allEvents(env.simClient)).at(-1)!.seq;
  }, 300_000);

  it('refuses a bad change naming the field, and changes nothing', async () => {
    const bad = mdApply();
    (bad.machineDeployment.spec.rollout.strategy as { rollingUpdate: { maxSurge: number; maxUnavailable: number } }).rollingUpdate = { maxSurge: 0, maxUnavailable: 0 };
    const err = await handle().executeUpdate(applyMachineDeploymentUpdate, { args: [bad] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('spec.rollout.strategy.rollingUpdate');
    const other = mdApply();
    other.machineDeployment.spec.clusterName = 'other';
    other.machineDeployment.spec.template.spec.clusterName = 'other';
    other.machineDeployment.spec.template.metadata.labels['cluster.capstan.dev/cluster-name'] = 'other';
    other.machineDeployment.spec.selector.matchLabels['cluster.capstan.dev/cluster-name'] = 'other';
    const err2 = await handle().executeUpdate(applyMachineDeploymentUpdate, { args: [other] }).catch((e: unknown) => e);
    expect(String((err2 as WorkflowUpdateFailedError).cause?.message)).toContain('spec.clusterName: is immutable');
    expect((await handle().query(machineDeploymentStatusQuery)).generation).toBe(1);
    expect(await handle().executeUpdate(applyMachineDeploymentUpdate, { args: [mdApply()] })).toEqual({ generation: 1, result: 'unchanged' });
  });

  it('rolls a template change through a new MachineSet within maxSurge and maxUnavailable', async () => {
    const before = new Set((await mdVms()).map((v) => v.id));
    // Through `apply`, as a user changes it: the running deployment takes the change.
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: sample.replace('instanceType: sim.medium', 'instanceType: sim.large') }]));
    expect(lines.map((l) => `${l.object} ${l.result}`)).toEqual(['machinedeployment.cluster.capstan.dev/demo-md-0 configured']);
    expect((await handle().query(machineDeploymentStatusQuery)).generation).toBe(2);
    const v = await until('the rollout to finish', (x) => x.sets.length === 1 && x.sets[0]!.revision === 2 && x.status?.availableReplicas === 3 && x.status.upToDateReplicas === 3);
    expect(v.status?.observedGeneration).toBe(2);
    expect(v.status?.conditions.find((c) => c.type === 'RollingOut')?.status).toBe('False');
    const vms = await mdVms();
    expect(vms).toHaveLength(3);
    expect(vms.every((x) => !before.has(x.id) && x.instanceType === 'sim.large')).toBe(true);
    const { maxAlive, minRunning } = vmExtremes(await allEvents(env.simClient), 'demo-md-0-', upSeq);
    expect(maxAlive).toBeLessThanOrEqual(3 + 1);
    expect(minRunning).toBeGreaterThanOrEqual(3 - 0);
    const nodes = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith('demo-md-0-'));
    expect(nodes).toHaveLength(3);
    expect(nodes.every(nodeReady)).toBe(true);
  }, 300_000);

  it('the surge check sees a violation when one is planted', () => {
    const ev = (seq: number, type: string, vmId: string, name = '') => ({ seq, time: '', type, vmId, message: type === 'vm.created' ? `VM ${name} created (worker)` : '' });
    const events = [ev(1, 'vm.created', 'a', 'demo-md-0-x-a'), ev(2, 'vm.created', 'b', 'demo-md-0-x-b'), ev(3, 'vm.running', 'a'), ev(4, 'vm.created', 'c', 'demo-md-0-y-c'), ev(5, 'vm.shutting-down', 'a')];
    expect(vmExtremes(events, 'demo-md-0-', 3)).toEqual({ maxAlive: 3, minRunning: 0 });
  });

  it('scales with a changed replicas, on the new set', async () => {
    const scaled = mdApply(sample.replace('instanceType: sim.medium', 'instanceType: sim.large').replace('replicas: 3', 'replicas: 2'));
    expect(await handle().executeUpdate(applyMachineDeploymentUpdate, { args: [scaled] })).toMatchObject({ generation: 3 });
    await until('2 machines', (x) => x.status?.replicas === 2 && x.sets.length === 1);
    expect(await mdVms()).toHaveLength(2);
  }, 240_000);

  it('changes minReadySeconds and the deletion timeouts in place, rolling nothing (revision 8; Cluster API\'s in-place fields)', async () => {
    const before = await handle().query(machineDeploymentStatusQuery);
    const vms = new Set((await mdVms()).map((v) => v.id));
    const changed = mdApply(sample.replace('instanceType: sim.medium', 'instanceType: sim.large').replace('replicas: 3', 'replicas: 2'));
    changed.machineDeployment.spec.template.spec.deletion = { nodeDrainTimeoutSeconds: 30, nodeDeletionTimeoutSeconds: 20 };
    changed.machineDeployment.spec.minReadySeconds = 1;
    const { generation } = await handle().executeUpdate(applyMachineDeploymentUpdate, { args: [changed] });
    const v = await until('the change observed', (x) => x.status?.observedGeneration === generation);
    expect(v.sets.map((s) => [s.name, s.revision])).toEqual(before.sets.map((s) => [s.name, s.revision]));
    const set = await eventually('the set to take it', async () => {
      const sv = await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: before.sets[0]!.name })).query(machineSetStatusQuery);
      return sv.spec.template.spec.deletion.nodeDrainTimeoutSeconds === 30 ? sv : undefined;
    });
    expect(set.spec.template.spec).toMatchObject({ minReadySeconds: 1, deletion: { nodeDrainTimeoutSeconds: 30, nodeDeletionTimeoutSeconds: 20 } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(new Set((await mdVms()).map((x) => x.id))).toEqual(vms);
  }, 120_000);

  it("carries the template's labels, annotations and deletion timeouts to the existing machines in place, as Cluster API's MachineSet does; removed ones go, a user's stay", async () => {
    const before = await handle().query(machineDeploymentStatusQuery);
    const vms = new Set((await mdVms()).map((v) => v.id));
    const setHandle = env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: before.sets[0]!.name }));
    const names = (await setHandle.query(machineSetStatusQuery)).machines.map((m) => m.name).sort();
    expect(names).toHaveLength(2);
    const machine = (n: string) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: n }));
    // A user's own annotation on one machine, which no template change may take away.
    await machine(names[0]!).executeUpdate(annotateMachineUpdate, { args: [{ set: { 'example.com/owner': 'me' } }] });
    const apply = (annotations: Record<string, string>, drain: number, labels: Record<string, string> = {}) => {
      const a = mdApply(sample.replace('instanceType: sim.medium', 'instanceType: sim.large').replace('replicas: 3', 'replicas: 2'));
      a.machineDeployment.spec.template.spec.deletion = { nodeDrainTimeoutSeconds: drain, nodeDeletionTimeoutSeconds: 20 };
      a.machineDeployment.spec.minReadySeconds = 1;
      a.machineDeployment.spec.template.metadata.annotations = annotations;
      Object.assign(a.machineDeployment.spec.template.metadata.labels, labels);
      return handle().executeUpdate(applyMachineDeploymentUpdate, { args: [a] });
    };
    const machinesShow = (what: string, ok: (v: MachineView) => boolean) =>
      eventually(what, async () => {
        const views = await Promise.all(names.map((n) => machine(n).query(machineStatusQuery)));
        return views.every(ok) ? views : undefined;
      }, 60_000, 250);

    await apply({ 'example.com/team': 'blue', 'example.com/tier': 'gold', [ANNOTATIONS.skipRemediation]: '' }, 40, { 'example.com/pool': 'blue' });
    const shown = await machinesShow('every machine to take them', (v) => v.annotations?.['example.com/team'] === 'blue' && v.spec.deletion.nodeDrainTimeoutSeconds === 40);
    for (const v of shown) {
      expect(v.annotations ?? {}).toMatchObject({ 'example.com/tier': 'gold', [ANNOTATIONS.skipRemediation]: '' });
      // The template's new label beside the set's and the cluster's, in the facts its health checks select by.
      expect(v.labels).toMatchObject({ 'example.com/pool': 'blue', [LABELS.setName]: before.sets[0]!.name, [LABELS.clusterName]: 'demo', [LABELS.deploymentName]: 'demo-md-0' });
      const facts = (await machine(v.name).describe()).memo?.[MACHINE_FACTS_MEMO] as MachineFacts;
      expect(facts).toMatchObject({ labels: v.labels, changedInPlace: 1, ownerKind: 'MachineSet' });
    }
    // The remediation annotation reached each machine's memo, where its health checks read it.
    for (const n of names) expect(remediationShown((await machine(n).describe()).memo)).toEqual([ANNOTATIONS.skipRemediation]);
    const set = await setHandle.query(machineSetStatusQuery);
    expect(set.spec.template.metadata.annotations).toEqual({ 'example.com/team': 'blue', 'example.com/tier': 'gold', [ANNOTATIONS.skipRemediation]: '' });

    // One removed, one changed: the removed one goes from every machine; the user's stays.
    await apply({ 'example.com/team': 'green' }, 50);
    await machinesShow('the label gone from every machine', (v) => v.labels?.['example.com/pool'] === undefined);
    const after = await machinesShow('the change on every machine', (v) => v.annotations?.['example.com/team'] === 'green' && v.spec.deletion.nodeDrainTimeoutSeconds === 50);
    for (const v of after) {
      expect(v.annotations ?? {}).not.toHaveProperty('example.com/tier');
      expect(v.annotations ?? {}).not.toHaveProperty(ANNOTATIONS.skipRemediation);
    }
    expect(after.find((v) => v.name === names[0])!.annotations ?? {}).toMatchObject({ 'example.com/owner': 'me' });
    for (const n of names) expect(remediationShown((await machine(n).describe()).memo)).toBeUndefined();
    // Nothing rolled: the same set, the same VMs.
    expect((await handle().query(machineDeploymentStatusQuery)).sets.map((s) => s.name)).toEqual(before.sets.map((s) => s.name));
    expect(new Set((await mdVms()).map((x) => x.id))).toEqual(vms);
  }, 180_000);

  it('scale, pause, resume and restart: Updates validated as the spec is', async () => {
    const err = await handle().executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: -1 }] }).catch((e: unknown) => e);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('spec.replicas');
    const g = (await handle().query(machineDeploymentStatusQuery)).generation;
    expect(await handle().executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: 3 }] })).toEqual({ generation: g + 1 });
    await until('3 machines', (x) => x.status?.availableReplicas === 3 && x.sets.length === 1);
    // The Cluster hears the new desired count from the deployment itself.
    await eventually('the Cluster to count 3 workers', async () => {
      const c = await clusterView(env.client, 'demo');
      return c.status.workers.desiredReplicas === 3 && c.status.workers.readyReplicas === 3 ? c : undefined;
    });

    // Paused: a template change waits; resumed, it rolls.
    await handle().executeUpdate(pauseMachineDeploymentUpdate, { args: [{ paused: true }] });
    // The manifest does not say `paused`: `capstan apply` leaves it as `rollout pause` set it, as
    // kubectl's apply leaves alone a field it does not own.
    const changedManifest = sample.replace('instanceType: sim.medium', 'instanceType: sim.small');
    expect(changedManifest).not.toContain('paused');
    await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md.yaml', text: changedManifest }]));
    expect((await handle().query(machineDeploymentStatusQuery)).spec.paused).toBe(true);
    const paused = await until('Paused', (x) => x.status?.conditions.some((c) => c.type === 'Paused' && c.status === 'True') ?? false);
    expect(paused.sets).toHaveLength(1);
    expect(paused.sets[0]!.new).toBe(false);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await mdVms()).every((v) => v.instanceType === 'sim.large')).toBe(true);
    await handle().executeUpdate(pauseMachineDeploymentUpdate, { args: [{ paused: false }] });
    const rolled = await until('the resumed rollout to finish', (x) => x.sets.length === 1 && x.sets[0]!.new && x.status?.upToDateReplicas === 3 && x.status.availableReplicas === 3);
    expect((await mdVms()).every((v) => v.instanceType === 'sim.small')).toBe(true);

    // Restart: every machine is replaced by one of the same template, created after the restart time.
    const before = new Set((await mdVms()).map((v) => v.id));
    await handle().executeUpdate(restartMachineDeploymentUpdate, { args: [{ after: new Date().toISOString() }] });
    await until('the restart to finish', (x) => x.sets.length === 1 && x.sets[0]!.revision === rolled.sets[0]!.revision + 1 && x.status?.availableReplicas === 3 && x.status.upToDateReplicas === 3);
    const after = await mdVms();
    expect(after).toHaveLength(3);
    expect(after.some((v) => before.has(v.id))).toBe(false);
  }, 300_000);

  it('paused with an old and a new set, a change of replicas scales both in proportion (Kubernetes’ scale())', async () => {
    // A rollout that cannot finish: the new set's first VM never boots, so it holds at 1 new + 3 old.
    await env.simClient.setFaults({ neverBoot: 1 });
    try {
      await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: sample }]));
      await until('the rollout to stall at one new machine', (x) => x.sets.length === 2 && x.sets.some((st) => st.new && st.replicas === 1));
      await handle().executeUpdate(pauseMachineDeploymentUpdate, { args: [{ paused: true }] });
      await handle().executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: 7 }] });
      // replicas + maxSurge = 8 machines, shared 1 : 3 as the sets were: 2 new, 6 old.
      const v = await until('both sets scaled', (x) => x.sets.find((st) => st.new)?.replicas === 2 && x.sets.find((st) => !st.new)?.replicas === 6);
      expect(v.sets).toHaveLength(2);
      // Paused: no rollout step follows (the old set is not scaled down as new machines come up).
      await new Promise((r) => setTimeout(r, 2000));
      expect((await handle().query(machineDeploymentStatusQuery)).sets.map((st) => [st.new, st.replicas])).toEqual(v.sets.map((st) => [st.new, st.replicas]));
    } finally {
      await env.simClient.setFaults({ neverBoot: 0 });
    }
  }, 240_000);

  it('a rollback (an old set’s template again) makes that set the newest revision, its former one in its history, as Cluster API does', async () => {
    // Still paused from the case above, with an old set (sim.small, made by the restart) and a stalled new one (sim.medium).
    const before = await handle().query(machineDeploymentStatusQuery);
    expect(before.sets).toHaveLength(2);
    const old = before.sets.find((st) => !st.new)!;
    const stalled = before.sets.find((st) => st.new)!;
    // As `capstan apply` sends it: the deployment stays paused, its restart time kept.
    await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md.yaml', text: sample.replace('instanceType: sim.medium', 'instanceType: sim.small') }]));
    // Cluster API raises the revision even while paused (its sync takes the new set's annotations).
    const v = await until('the old set to be the new one again', (x) => x.sets.find((st) => st.name === old.name)?.new === true);
    expect(v.spec.paused).toBe(true);
    expect(v.sets.map((st) => [st.name, st.revision, st.revisionHistory ?? []])).toEqual([
      [stalled.name, stalled.revision, []],
      [old.name, stalled.revision + 1, [old.revision]],
    ]);
    await handle().executeUpdate(pauseMachineDeploymentUpdate, { args: [{ paused: false }] });
    // The manifest says replicas 3 again (the case above scaled to 7 by hand).
    const done = await until('the rollback to finish', (x) => x.sets.length === 1 && x.status?.availableReplicas === 3 && x.status.upToDateReplicas === 3);
    expect(done.sets[0]).toMatchObject({ name: old.name, revision: stalled.revision + 1, revisionHistory: [old.revision] });
  }, 240_000);

  it('deletes every set and machine, then itself; the cluster lives on', async () => {
    await handle().signal(deleteMachineDeploymentSignal);
    expect(await handle().result()).toMatchObject({ deleted: true });
    expect(await mdVms()).toHaveLength(0);
    const cluster = await eventually('the Cluster to forget it', async () => {
      const v = await clusterView(env.client, 'demo');
      return v.deployments?.length === 0 ? v : undefined;
    });
    expect(cluster.status.phase).toBe('Provisioned');
    expect(cluster.status.workers).toEqual({ desiredReplicas: 0, replicas: 0, readyReplicas: 0 });
  }, 240_000);

  it('a Cluster deleted with a MachineDeployment deletes the deployment first, then the control plane', async () => {
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: sample.replace('replicas: 3', 'replicas: 1') }]));
    await until('1 available again', (x) => x.status?.availableReplicas === 1);
    const from = (await allEvents(env.simClient)).at(-1)!.seq;
    const cluster = env.client.workflow.getHandle('cluster/default/demo');
    await cluster.executeUpdate(deleteClusterUpdate);
    expect((await cluster.result()).phase).toBe('Deleted');
    const events = (await allEvents(env.simClient)).filter((e) => e.seq > from && e.type === 'vm.shutting-down');
    expect(events.map((e) => (e.message.includes('demo-md-0-') ? 'worker' : 'control-plane'))).toEqual(['worker', 'control-plane']);
    expect(await liveVms(env.simClient)).toHaveLength(0);
  }, 240_000);

  it('replays every history of the deployment with today’s workflow code', async () => {
    const histories = await fetchHistories(env.client, 'WorkflowId STARTS_WITH "machinedeployment/" OR WorkflowId STARTS_WITH "machineset/" OR WorkflowId STARTS_WITH "machine/default/demo-md-0-"');
    expect(histories.length).toBeGreaterThanOrEqual(8);
    histories.push(...(await Promise.all(['cluster/default/demo'].map(async (workflowId) => ({ workflowId, history: await env.client.workflow.getHandle(workflowId).fetchHistory() })))));
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) expect(r.error, r.workflowId).toBeUndefined();
  }, 120_000);
});
