// MachineSetWorkflow on real servers: a one-control-plane cluster on the simulated cloud (real
// kube-apiserver, real TLS bootstrap), and a MachineSet beside it that keeps `replicas` worker
// Machines — scaled up and down by a validated Update, replacing a machine deleted out of band
// once it is gone, picking scale-down victims in Cluster API's deletion order, and deleting
// every machine (drained, Node deleted) when the set is deleted.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { machineSetWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { MachineSetWorkflow } from '../../workflows/machine-set.js';
import { ANNOTATIONS } from '../../api/meta.js';
import { annotateMachineUpdate, applyMachineSetUpdate, deleteClusterUpdate, deleteMachineSetSignal, deleteMachineSignal, machineSetStatusQuery, machineStatusQuery, scaleMachineSetUpdate } from '../../workflows/messages.js';
import { flowMemo } from '../../workflows/flow.js';
import { objectSearchAttributes } from '../../workflows/search-attributes.js';
import type { MachineSetView, MachineSetWorkflowInput } from '../../workflows/types.js';
import { eventually, fetchHistories, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, liveVms, nodeReady, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

import { readFileSync } from 'node:fs';

/**
 * How many StartChild commands each workflow task of a history issued, in order (tasks that
 * issued none left out). A command's event follows the WorkflowTaskCompleted of its task.
 */
function childStartsPerTask(events: { workflowTaskCompletedEventAttributes?: unknown; startChildWorkflowExecutionInitiatedEventAttributes?: unknown }[]): number[] {
  const out: number[] = [];
  let n = 0;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) {
      if (n) out.push(n);
      n = 0;
    }
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) n++;
  }
  if (n) out.push(n);
  return out;
}

/** How a set's history deleted machines: cancellations of their workflows, deleteMachine signals. */
function deletionsIn(events: { requestCancelExternalWorkflowExecutionInitiatedEventAttributes?: unknown; signalExternalWorkflowExecutionInitiatedEventAttributes?: { signalName?: string | null } | null }[]) {
  return {
    cancelled: events.filter((e) => e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes).length,
    signalled: events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'deleteMachine').length,
  };
}

const mdSample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');
// The demo's control plane with two individual worker Machines (demo-worker-1 and -2).
const demo = DEMO_WITH_WORKER_MACHINES;

describe('MachineSetWorkflow', () => {
  let env: CapstanEnv;
  let input: MachineSetWorkflowInput;
  const id = machineSetWorkflowId({ namespace: 'default', name: 'demo-ms' });
  const handle = () => env.client.workflow.getHandle(id);
  const view = () => handle().query(machineSetStatusQuery);
  const until = (what: string, ok: (v: MachineSetView) => boolean) =>
    eventually(what, async () => {
      const v = await view();
      return ok(v) ? v : undefined;
    }, 180_000, 300);
  const setVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-ms-'));
  const setNodes = async () => (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith('demo-ms-'));

  beforeAll(async () => {
    env = await startCapstanEnv();
    // One control-plane machine and no worker Machines: the set brings the workers.
    const plan = loadPlan([{ file: 'demo.yaml', text: demo.replace('replicas: 3', 'replicas: 1') }]);
    const worker = plan.machines[0]!;
    plan.machines = [];
    await executePlan(env.client, env.taskQueue, plan);
    const cluster = await waitForAvailable(env.client, 'demo');
    const infra = (await env.simClient.listClusters()).find((c) => c.name === 'default-demo')!;
    input = {
      machineSet: {
        name: 'demo-ms',
        namespace: 'default',
        spec: {
          clusterName: 'demo',
          replicas: 2,
          deletion: { order: 'Oldest' },
          template: { metadata: { labels: { pool: 'a' } }, spec: worker.machine.spec },
        },
      },
      bootstrapConfig: worker.bootstrapConfig!.spec,
      infrastructure: worker.infrastructure.spec,
      cluster: {
        key: { namespace: 'default', name: 'demo' },
        uid: cluster.uid,
        providerClusterId: infra.id,
        endpoint: cluster.status.controlPlaneEndpoint!,
        clusterNetwork: plan.clusters[0]!.cluster.spec.clusterNetwork,
      },
      ownerWorkflowId: 'cluster/default/demo',
      gateOpen: true,
      controlPlaneVersion: 'v1.37.2',
    };
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('creates replicas machines named after it, whose Nodes become Ready', async () => {
    await env.client.workflow.start(MachineSetWorkflow, {
      workflowId: id,
      taskQueue: env.taskQueue,
      args: [input],
      typedSearchAttributes: objectSearchAttributes('MachineSet', 'default', 'demo', 'Pending'),
      // Started as a MachineDeployment starts its sets today (workflows/flow.ts).
      memo: flowMemo(),
    });
    const v = await until('2 ready machines', (x) => x.status?.readyReplicas === 2);
    expect(v.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, upToDateReplicas: 2, observedGeneration: 1 });
    expect(v.machines.map((m) => m.name).every((n) => /^demo-ms-[a-z0-9]{5}$/.test(n))).toBe(true);
    expect(await setVms()).toHaveLength(2);
    const nodes = await setNodes();
    expect(nodes).toHaveLength(2);
    expect(nodes.every(nodeReady)).toBe(true);
    // Revision 4: both machines were started by one workflow task, not one round trip apart.
    expect(childStartsPerTask((await handle().fetchHistory()).events ?? [])).toEqual([2]);
  }, 240_000);

  it('a set started before revision 4 (a recorded history) still starts its machines one task at a time', async () => {
    // The check above sees the difference: a revision-3 set's history starts them in two tasks.
    const legacyId = machineSetWorkflowId({ namespace: 'default', name: 'demo-legacy' });
    const legacy = env.client.workflow.getHandle(legacyId);
    await env.client.workflow.start(MachineSetWorkflow, {
      workflowId: legacyId,
      taskQueue: env.taskQueue,
      args: [{ ...input, machineSet: { ...input.machineSet, name: 'demo-legacy' } }],
      typedSearchAttributes: objectSearchAttributes('MachineSet', 'default', 'demo', 'Pending'),
      memo: { flow: 3 },
    });
    await eventually('two machines started', async () => ((await legacy.query(machineSetStatusQuery)).machines.length === 2 ? true : undefined));
    expect(childStartsPerTask((await legacy.fetchHistory()).events ?? [])).toEqual([1, 1]);
    await legacy.signal(deleteMachineSetSignal, {});
    await legacy.result();
    expect((await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-legacy-'))).toHaveLength(0);
    // Before revision 7 a set deleted its machines by signal (the check below sees the difference).
    expect(deletionsIn((await legacy.fetchHistory()).events ?? [])).toEqual({ cancelled: 0, signalled: 2 });
  }, 240_000);

  it('refuses a bad scale naming the field, and changes nothing', async () => {
    const err = await handle().executeUpdate(scaleMachineSetUpdate, { args: [{ replicas: -1 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('spec.replicas: must be a non-negative integer');
    expect((await view()).generation).toBe(1);
  });

  it('scales up with a new generation that status observes', async () => {
    expect(await handle().executeUpdate(scaleMachineSetUpdate, { args: [{ replicas: 3 }] })).toEqual({ generation: 2 });
    const v = await until('3 ready machines at generation 2', (x) => x.status?.readyReplicas === 3 && x.status.observedGeneration === 2);
    expect(v.machines).toHaveLength(3);
    expect(await setVms()).toHaveLength(3);
  }, 240_000);

  it('replaces a machine deleted out of band, once it is gone', async () => {
    const before = (await view()).machines.map((m) => m.name);
    const victim = before[0]!;
    await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim })).signal(deleteMachineSignal);
    const v = await until('a replacement, ready', (x) => x.machines.length === 3 && !x.machines.some((m) => m.name === victim) && x.status?.readyReplicas === 3);
    expect(v.machines.filter((m) => !before.includes(m.name))).toHaveLength(1);
    const vms = await setVms();
    expect(vms).toHaveLength(3);
    expect(vms.map((x) => x.name)).not.toContain(victim);
    // Its Node was drained and deleted (the cluster lives on), not left behind.
    expect((await setNodes()).map((n) => n.metadata!.name)).not.toContain(victim);
  }, 240_000);

  it('a machine whose workflow is cancelled (as from the Temporal UI) is deleted, not abandoned, and replaced', async () => {
    const before = (await view()).machines.map((m) => m.name);
    const victim = before[0]!;
    const machine = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim }));
    await machine.cancel();
    expect((await machine.result()).phase).toBe('Deleted');
    expect((await machine.describe()).status.name).toBe('COMPLETED');
    const v = await until('a replacement, ready', (x) => x.machines.length === 3 && !x.machines.some((m) => m.name === victim) && x.status?.readyReplicas === 3);
    expect(v.machines.filter((m) => !before.includes(m.name))).toHaveLength(1);
    expect((await setVms()).map((x) => x.name)).not.toContain(victim);
    expect((await setNodes()).map((n) => n.metadata!.name)).not.toContain(victim);
  }, 240_000);

  it('scales down the machine marked with the delete-machine annotation first, whatever the order', async () => {
    const history = await handle().fetchHistory();
    const machines = (await view()).machines.map((m) => m.name);
    const created = (history.events ?? [])
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
      .filter((w): w is string => !!w)
      .map((w) => w.split('/')[2]!)
      .filter((n) => machines.includes(n));
    const newest = created.at(-1)!; // Oldest order alone would keep it
    await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: newest })).executeUpdate(annotateMachineUpdate, { args: [{ set: { [ANNOTATIONS.deleteMachine]: 'yes' } }] });
    await eventually('the set to hear of the annotation', async () => (await handle().fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data && Buffer.from(e.workflowExecutionSignaledEventAttributes.input.payloads[0].data).toString().includes('"deleteMachine":true')).length > 0);
    await handle().executeUpdate(scaleMachineSetUpdate, { args: [{ replicas: 2 }] });
    const v = await until('2 machines', (x) => x.machines.length === 2 && x.status?.replicas === 2);
    expect(v.machines.map((m) => m.name)).not.toContain(newest);
    expect(v.machines.map((m) => m.name).sort()).toEqual(created.filter((n) => n !== newest).sort());
  }, 240_000);

  it('scales down, deleting the oldest machines first (deletion.order Oldest)', async () => {
    const machines = (await view()).machines.map((m) => m.name);
    const history = await handle().fetchHistory();
    // Creation order from the set's own history: the order of its StartChildWorkflowExecution commands.
    const created = (history.events ?? [])
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
      .filter((w): w is string => !!w)
      .map((w) => w.split('/')[2]!)
      .filter((n) => machines.includes(n));
    await handle().executeUpdate(scaleMachineSetUpdate, { args: [{ replicas: 1 }] });
    const v = await until('1 machine', (x) => x.machines.length === 1 && x.status?.replicas === 1);
    expect(v.machines[0]!.name).toBe(created.at(-1));
    expect(await setVms()).toHaveLength(1);
  }, 240_000);

  it('deleted the machines it scaled down by cancelling their workflows (revision 7): no signal, one activity to drain and tear down, a completed workflow', async () => {
    const cancelled = (await handle().fetchHistory()).events!.map((e) => e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId).filter((w): w is string => !!w);
    expect(deletionsIn((await handle().fetchHistory()).events ?? [])).toEqual({ cancelled: 2, signalled: 0 }); // 3 → 2 → 1
    for (const machineId of cancelled) {
      const machine = env.client.workflow.getHandle(machineId);
      expect((await machine.describe()).status.name).toBe('COMPLETED');
      const events = (await machine.fetchHistory()).events ?? [];
      expect(events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
      expect(events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean)).toEqual(['provisionMachine', 'waitForMachineReady', 'drainAndTeardownMachine']);
      // Its reports while it ran (Ready; a Node readiness blip on a loaded machine adds one), and
      // none once cancelled: the set heard of the deletion from the completion it awaited.
      const cancelAt = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
      const signalled = events.map((e, i) => (e.signalExternalWorkflowExecutionInitiatedEventAttributes ? i : -1)).filter((i) => i >= 0);
      expect(signalled.length).toBeGreaterThanOrEqual(1);
      expect(signalled.filter((i) => i > cancelAt)).toEqual([]);
    }
  });

  it('deletes every machine, then itself', async () => {
    await handle().signal(deleteMachineSetSignal);
    const result = await handle().result();
    expect(result).toMatchObject({ deleted: true });
    expect(await setVms()).toHaveLength(0);
    expect(await setNodes()).toHaveLength(0);
    expect((await clusterView(env.client, 'demo')).status.phase).toBe('Provisioned');
  }, 240_000);

  it('a MachineSet applied on its own: its Cluster starts it and counts its workers; apply scales it; its template is immutable', async () => {
    const solo = (replicas: number, instanceType = 'sim.medium') =>
      mdSample
        .replace('kind: MachineDeployment', 'kind: MachineSet')
        .replace(/\n {2}rollout:\n(?: {4,}.*\n)+/, '\n')
        .replace(/demo-md-0/g, 'solo')
        .replace('replicas: 3', `replicas: ${replicas}`)
        .replace('instanceType: sim.medium', `instanceType: ${instanceType}`);
    const soloHandle = env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: 'solo' }));
    const soloUntil = (what: string, ok: (v: MachineSetView) => boolean) =>
      eventually(what, async () => {
        const v = await soloHandle.query(machineSetStatusQuery);
        return ok(v) ? v : undefined;
      }, 180_000, 300);
    const apply = async (text: string) => (await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'ms.yaml', text }]))).map((l) => `${l.object} ${l.result}`);

    expect(await apply(solo(2))).toEqual(['machineset.cluster.capstan.dev/solo created']);
    await soloUntil('2 ready machines', (v) => v.status?.readyReplicas === 2);
    await eventually('the Cluster to count them', async () => {
      const c = await clusterView(env.client, 'demo');
      return c.status.workers.desiredReplicas === 2 && c.status.workers.readyReplicas === 2 ? c : undefined;
    });
    expect(await apply(solo(2))).toEqual(['machineset.cluster.capstan.dev/solo unchanged']);
    expect(await apply(solo(3))).toEqual(['machineset.cluster.capstan.dev/solo configured']);
    const scaled = await soloUntil('3 ready machines', (v) => v.status?.readyReplicas === 3);
    expect(scaled.generation).toBe(2);
    const err = await apply(solo(3, 'sim.large')).catch((e: unknown) => e);
    expect(String((err as Error).message)).toBe(
      "MachineSet \"solo\": infrastructureTemplate.spec.template.spec.instanceType: immutable on a MachineSet; only spec.replicas, spec.deletion.order and the template's labels, annotations, minReadySeconds and deletion timeouts change (a MachineDeployment rolls a new template)",
    );
    expect((await soloHandle.query(machineSetStatusQuery)).generation).toBe(2);

    // What Cluster API changes in place: the template's annotations and deletion timeouts reach
    // the machines it has, replacing none.
    const names = (await soloHandle.query(machineSetStatusQuery)).machines.map((m) => m.name).sort();
    const inPlace = solo(3).replace(/^( {4}metadata:\n)( {6}labels:)/m, '$1      annotations:\n        example.com/team: blue\n$2');
    expect(inPlace).toContain('example.com/team: blue');
    const doc = loadPlan([{ file: 'ms.yaml', text: inPlace }]).machineSets[0]!;
    doc.machineSet.spec.template.spec.deletion = { ...doc.machineSet.spec.template.spec.deletion, nodeDrainTimeoutSeconds: 33 };
    expect(await soloHandle.executeUpdate(applyMachineSetUpdate, { args: [doc] })).toEqual({ generation: 3, result: 'configured' });
    await eventually('its machines to take them', async () => {
      const vs = await Promise.all(names.map((n) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: n })).query(machineStatusQuery)));
      return vs.every((v) => v.annotations?.['example.com/team'] === 'blue' && v.spec.deletion.nodeDrainTimeoutSeconds === 33) ? true : undefined;
    }, 60_000, 250);
    expect((await soloHandle.query(machineSetStatusQuery)).machines.map((m) => m.name).sort()).toEqual(names);
    expect(await soloHandle.executeUpdate(applyMachineSetUpdate, { args: [doc] })).toEqual({ generation: 3, result: 'unchanged' });

    // Deleting the Cluster deletes the set (its machines drained and gone) before the control plane.
    const from = (await allEvents(env.simClient)).at(-1)!.seq;
    const cluster = env.client.workflow.getHandle('cluster/default/demo');
    await cluster.executeUpdate(deleteClusterUpdate);
    expect((await cluster.result()).phase).toBe('Deleted');
    expect(await soloHandle.result()).toMatchObject({ deleted: true });
    const down = (await allEvents(env.simClient)).filter((e) => e.seq > from && e.type === 'vm.shutting-down');
    expect(down.map((e) => (e.message.includes('solo-') ? 'set' : 'control-plane'))).toEqual(['set', 'set', 'set', 'control-plane']);
  }, 300_000);

  it('replays the set’s and its machines’ histories with today’s workflow code', async () => {
    const histories = await fetchHistories(env.client, 'WorkflowId STARTS_WITH "machineset/" OR WorkflowId STARTS_WITH "machine/default/demo-ms-" OR WorkflowId STARTS_WITH "machine/default/solo-" OR WorkflowId = "cluster/default/demo"');
    expect(histories.length).toBeGreaterThanOrEqual(5);
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) expect(r.error, r.workflowId).toBeUndefined();
  }, 120_000);
});
