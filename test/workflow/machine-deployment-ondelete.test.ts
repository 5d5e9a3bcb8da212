// The OnDelete strategy on real servers, as Cluster API runs it: a template change replaces no
// machine by itself; each old machine the user deletes is not replaced by its (old) set, whose
// replicas come down to the machines it has left, and the new set makes one of the new template
// in its place. A scale down comes off the old set, and the old set goes once it is empty.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { machineDeploymentWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { deleteMachineSignal, machineDeploymentStatusQuery, scaleMachineDeploymentUpdate } from '../../workflows/messages.js';
import type { MachineDeploymentView } from '../../workflows/types.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, liveVms, vmExtremes } from '../support/cluster-checks.js';

const demo = readFileSync(new URL('../../config/samples/demo-cluster.yaml', import.meta.url), 'utf8');
const sample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');
const onDelete = (text: string) => text.replace(/      type: RollingUpdate\n      rollingUpdate:\n        maxSurge: 1\n        maxUnavailable: 0\n/, '      type: OnDelete\n');

describe('MachineDeploymentWorkflow, OnDelete', () => {
  let env: CapstanEnv;
  const handle = () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));
  const until = (what: string, ok: (v: MachineDeploymentView) => boolean) =>
    eventually(what, async () => {
      const v = await handle().query(machineDeploymentStatusQuery);
      return ok(v) ? v : undefined;
    }, 240_000, 300);
  const vms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));
  const types = async () => (await vms()).map((v) => v.instanceType).sort();
  /** Deletes one machine of the old set as a user does (`kubectl delete machine`: its workflow is told). */
  const deleteOldMachine = async () => {
    const old = (await vms()).find((v) => v.instanceType === 'sim.medium')!;
    await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: old.name })).signal(deleteMachineSignal);
    return old.name;
  };
  let fromSeq = 0;

  beforeAll(async () => {
    env = await startCapstanEnv();
    const plan = loadPlan([{ file: 'demo.yaml', text: onDelete(demo).replace('replicas: 3', 'replicas: 1') }]);
    expect(plan.machineDeployments[0]!.machineDeployment.spec.rollout.strategy.type).toBe('OnDelete');
    await executePlan(env.client, env.taskQueue, plan);
    await until('3 available', (x) => x.status?.availableReplicas === 3);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('a template change replaces nothing by itself', async () => {
    fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: onDelete(sample).replace('instanceType: sim.medium', 'instanceType: sim.large') }]));
    await until('the change observed', (x) => x.status?.observedGeneration === 2);
    await new Promise((r) => setTimeout(r, 2000));
    const v = await handle().query(machineDeploymentStatusQuery);
    expect(v.sets.filter((s) => s.replicas > 0).map((s) => [s.new, s.replicas])).toEqual([[false, 3]]);
    expect(v.status?.upToDateReplicas).toBe(0);
    expect(await types()).toEqual(['sim.medium', 'sim.medium', 'sim.medium']);
  }, 120_000);

  it('an old machine the user deletes is replaced by one of the new template, not by its old set', async () => {
    const gone = await deleteOldMachine();
    const v = await until('1 new machine available in place of the deleted one', (x) => x.sets.some((s) => s.new && s.availableReplicas === 1) && x.sets.some((s) => !s.new && s.replicas === 2));
    expect(v.sets.find((s) => !s.new)!.replicas).toBe(2);
    expect(await types()).toEqual(['sim.large', 'sim.medium', 'sim.medium']);
    expect((await vms()).map((x) => x.name)).not.toContain(gone);
    // No surge: the old machine went before its replacement was made.
    expect(vmExtremes(await allEvents(env.simClient), 'demo-md-0-', fromSeq).maxAlive).toBeLessThanOrEqual(3);
  }, 240_000);

  it('a scale down comes off the old set; the new set keeps its machine', async () => {
    await handle().executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: 2 }] });
    await until('old 1, new 1', (x) => x.sets.find((s) => !s.new)?.replicas === 1 && x.sets.find((s) => s.new)?.replicas === 1);
    await eventually('2 VMs', async () => ((await vms()).length === 2 ? true : undefined));
    expect(await types()).toEqual(['sim.large', 'sim.medium']);
  }, 240_000);

  it('once the last old machine is deleted, the old set goes and the rollout is done', async () => {
    await deleteOldMachine();
    const v = await until('done', (x) => x.sets.length === 1 && x.sets[0]!.new && x.status?.availableReplicas === 2 && x.status.upToDateReplicas === 2);
    expect(v.status?.conditions.find((c) => c.type === 'RollingOut')?.status).toBe('False');
    expect(await types()).toEqual(['sim.large', 'sim.large']);
  }, 240_000);
});
