// MachineHealthCheck on real servers: a one-control-plane cluster with a MachineDeployment of 2
// workers and one worker Machine applied on its own, all selected by one health check whose
// Ready=False/Unknown timeout is 3 s. The simulated cloud's node-not-ready fault makes a
// kubelet post Ready=False: past the timeout, a MachineDeployment's machine is deleted and its
// MachineSet replaces it; the machine nobody owns is reported unhealthy and left alone; with
// maxUnhealthy 0 nothing is remediated and RemediationAllowed says why. The observers go quiet
// after 3 s without a change (activities/observer-waker.ts): an idle cluster costs no action, and
// each fault below reaches a quiet Cluster and health check through the worker's waker.
import { Worker } from '@temporalio/worker';
import type { MachineStatus } from '../../api/machine.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadApplyPlan, loadPlan } from '../../client/apply.js';
import { getObjects } from '../../client/commands.js';
import { machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { annotateMachineUpdate, clusterStatusQuery, machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery, machineStatusQuery, wakeObserverSignal } from '../../workflows/messages.js';
import { PRE_DRAIN_HOOK } from '../../workflows/machine.js';
import type { MachineHealthCheckView } from '../../workflows/types.js';
import { SA_QUIET } from '../../workflows/search-attributes.js';
import { actions, diff } from '../bench/actions.js';
import { eventually, fetchHistories, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER, DEMO_WORKER_MACHINES, workerHealthCheck } from '../support/demo-manifests.js';


describe('MachineHealthCheck', () => {
  let env: CapstanEnv;
  const mhc = () => env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-workers' }));
  const mhcUntil = (what: string, ok: (v: MachineHealthCheckView) => boolean) =>
    eventually(what, async () => {
      const v = await mhc().query(machineHealthCheckStatusQuery);
      return ok(v) ? v : undefined;
    }, 120_000, 250);
  const md = () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));
  const mdMachines = async () => {
    const v = await md().query(machineDeploymentStatusQuery);
    const set = await env.client.workflow.getHandle(`machineset/default/${v.sets[0]!.name}`).query(machineSetStatusQuery);
    return set.machines;
  };
  const vmOf = async (name: string) => (await liveVms(env.simClient)).find((v) => v.name === name)!;
  /** The NodeReady status of each nodeConditions signal a machine received, in order. */
  const nodeConditionSignals = async (name: string) => {
    const history = await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name })).fetchHistory();
    return (history.events ?? [])
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'nodeConditions')
      .map((e) => (JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!).toString()) as { nodeReady: { status: string } }).nodeReady.status);
  };

  beforeAll(async () => {
    env = await startCapstanEnv({ observerQuietSeconds: 3, wakerListEveryMs: 500, unreachableGraceMs: 3000 });
    const manifest = `${DEMO_CLUSTER.replace(/replicas: 3/g, 'replicas: 1').replace(/(kind: MachineDeployment[\s\S]*?)replicas: 1/, '$1replicas: 2')}\n---\n${DEMO_WORKER_MACHINES.split(/^---\n/m).slice(0, 3).join('---\n')}\n---\n${workerHealthCheck('100%')}`;
    const plan = loadPlan([{ file: 'demo.yaml', text: manifest }]);
    expect(plan.machineDeployments[0]!.machineDeployment.spec.replicas).toBe(2);
    expect(plan.machines.map((m) => m.machine.metadata.name)).toEqual(['demo-worker-1']);
    const lines = await executePlan(env.client, env.taskQueue, plan);
    expect(lines.at(-1)).toEqual({ object: 'machinehealthcheck.cluster.capstan.dev/demo-workers', result: 'created' });
    await waitForAvailable(env.client, 'demo');
    await eventually('2 available workers of the deployment', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
    await mhcUntil('3 healthy targets', (v) => v.status?.expectedMachines === 3 && v.status.currentHealthy === 3);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });
  /** The CapstanQuiet values of the Cluster and the health check, once both are quiet (and differ from `before`). */
  const quietBoth = (before: (string | undefined)[] = [], timeoutMs = 60_000) =>
    eventually('the Cluster and the health check quiet', async () => {
      const values = await Promise.all([env.client.workflow.getHandle('cluster/default/demo'), mhc()].map(async (h) => (await h.describe()).typedSearchAttributes.get(SA_QUIET)));
      return values.every((v, i) => v && v !== before[i]) ? values : undefined;
    }, timeoutMs, 250);
  /** The server's actions while `during` runs, by type. */
  const countActions = async (during: () => Promise<unknown>) => {
    const before = await actions(env.temporal.metricsUrl);
    await during();
    return Object.fromEntries(diff(await actions(env.temporal.metricsUrl), before));
  };
  const total = (byType: Record<string, number>) => Object.values(byType).reduce((a, b) => a + b, 0);

  it('get machinehealthchecks shows Cluster API’s columns', async () => {
    const table = (await getObjects(env.client, 'MachineHealthCheck', { namespace: 'default' }, 'table')).split('\n');
    expect(table[0]!.split(/\s+/)).toEqual(['NAME', 'CLUSTER', 'EXPECTEDMACHINES', 'MAXUNHEALTHY', 'CURRENTHEALTHY', 'AGE']);
    expect(table[1]!.split(/\s+/).slice(0, 5)).toEqual(['demo-workers', 'demo', '3', '100%', '3']);
  });

  it('an idle cluster and its health check go quiet and cost no action; a wake-up is counted', async () => {
    const quiet = await quietBoth();
    // Nothing changes: no activity, heartbeat, timer or signal anywhere (the server's own count).
    // (The server's counters reach its metrics endpoint a moment after the upserts that made them quiet.)
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await countActions(() => new Promise((r) => setTimeout(r, 8000)));
    expect(idle).toEqual({});
    // The planted case: one wake-up by hand is a signal and an observing round, and the counter
    // sees them (once they reach the metrics endpoint).
    const before = await actions(env.temporal.metricsUrl);
    await env.client.workflow.getHandle('cluster/default/demo').signal(wakeObserverSignal);
    const woken = await eventually('the wake-up counted', async () => {
      const n = total(Object.fromEntries(diff(await actions(env.temporal.metricsUrl), before)));
      return n >= 2 ? n : undefined;
    }, 30_000, 250);
    expect(woken).toBeGreaterThanOrEqual(2);
    // Nothing had changed: the Cluster goes quiet again, with a new value (a new spell); the health check stayed quiet.
    const again = await eventually('the Cluster quiet again', async () => {
      const v = (await env.client.workflow.getHandle('cluster/default/demo').describe()).typedSearchAttributes.get(SA_QUIET);
      return v && v !== quiet[0] ? v : undefined;
    }, 60_000, 250);
    expect(again.split('.')[0]).toBe(quiet[0]!.split('.')[0]);
    expect((await mhc().describe()).typedSearchAttributes.get(SA_QUIET)).toBe(quiet[1]);
    // The waker keeps nothing that matters: the tests below wake this cluster through a new worker's.
    await env.stopWorker();
    await env.startWorker();
  }, 120_000);

  it('a deployment’s machine NotReady past the timeout is deleted and its MachineSet replaces it', async () => {
    await quietBoth(); // so the fault reaches the health check through the waker
    const [victim, other] = (await mdMachines()).map((m) => m.name).sort();
    await env.simClient.vmAction((await vmOf(victim!)).id, 'node-not-ready');
    const v = await mhcUntil('the victim remediated', (x) => x.remediated.includes(victim!) || !x.status?.targets.includes(victim!));
    expect(v.status?.conditions.find((c) => c.type === 'RemediationAllowed')?.status).toBe('True');
    const victimHandle = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim! }));
    const result = (await victimHandle.result()) as MachineStatus;
    expect(result.phase).toBe('Deleted');
    // Cluster API's conditions on the remediated machine (they rode on the delete signal).
    expect(result.conditions.find((c) => c.type === 'HealthCheckSucceeded')).toMatchObject({
      status: 'False',
      reason: 'UnhealthyNode',
      message: 'Health check failed: Condition Ready on Node is reporting status False for more than 3s (MachineHealthCheck demo-workers)',
    });
    expect(result.conditions.find((c) => c.type === 'OwnerRemediated')).toMatchObject({ status: 'False', reason: 'MachineDeleting' });
    const machines = await eventually('a replacement, available', async () => {
      const ms = await mdMachines();
      return ms.length === 2 && !ms.some((m) => m.name === victim) && ms.every((m) => m.nodeReady) ? ms : undefined;
    }, 120_000, 300);
    expect(machines.map((m) => m.name)).toContain(other);
    await mhcUntil('3 healthy again', (x) => x.status?.currentHealthy === 3 && x.unhealthy.length === 0);
  }, 240_000);

  it('a machine no MachineSet or control plane owns is reported unhealthy and left alone', async () => {
    await quietBoth(); // so the fault reaches the Cluster's mirror and the health check through the waker
    await env.simClient.vmAction((await vmOf('demo-worker-1')).id, 'node-not-ready');
    const v = await mhcUntil('demo-worker-1 unhealthy', (x) => x.unhealthy.includes('demo-worker-1'));
    expect(v.remediated).not.toContain('demo-worker-1');
    // Well past the timeout, it still runs.
    await new Promise((r) => setTimeout(r, 4000));
    const m = await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: 'demo-worker-1' })).query(machineStatusQuery);
    expect(m.status.phase).toBe('Running');
    // Its conditions follow the Node (told by its Cluster's mirrorNodeConditions), as Cluster API's.
    const machine = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: 'demo-worker-1' }));
    const conditionsOf = async () => Object.fromEntries((await machine.query(machineStatusQuery)).status.conditions.map((c) => [c.type, c]));
    const down = await eventually('NodeReady False', async () => {
      const c = await conditionsOf();
      return c.NodeReady?.status === 'False' ? c : undefined;
    }, 60_000, 250);
    expect(down.NodeReady).toMatchObject({ reason: 'KubeletNotReady', message: expect.stringContaining('cni plugin not initialized') });
    expect(down.NodeHealthy).toMatchObject({ status: 'False', reason: 'NodeNotHealthy', message: `Node ${m.status.nodeRef!.name}: not ready` });
    expect(down.Ready).toMatchObject({ status: 'False', reason: 'NodeNotHealthy' });
    await eventually('the Cluster counts it not ready', async () => ((await env.client.workflow.getHandle('cluster/default/demo').query(clusterStatusQuery)).status.workers.readyReplicas === 2 ? true : undefined), 60_000, 250);
    await env.simClient.vmAction((await vmOf('demo-worker-1')).id, 'node-ready');
    await mhcUntil('demo-worker-1 healthy again', (x) => !x.unhealthy.includes('demo-worker-1') && x.status?.currentHealthy === 3);
    const up = await eventually('NodeReady True again', async () => {
      const c = await conditionsOf();
      return c.NodeReady?.status === 'True' && c.Ready?.status === 'True' ? c : undefined;
    }, 60_000, 250);
    expect(up.NodeHealthy).toMatchObject({ status: 'True', reason: 'Ready' });
    await eventually('the Cluster counts it ready', async () => ((await env.client.workflow.getHandle('cluster/default/demo').query(clusterStatusQuery)).status.workers.readyReplicas === 3 ? true : undefined), 60_000, 250);
    // A condition that did not change is not rewritten: one signal down, one up, nothing since.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await conditionsOf()).NodeReady!.lastTransitionTime).toBe(up.NodeReady!.lastTransitionTime);
    expect(await nodeConditionSignals('demo-worker-1')).toEqual(['False', 'True']);
  }, 120_000);

  it('a replacement that fails again is remediated only after its backoff, and the status says so', async () => {
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'mhc.yaml', text: workerHealthCheck('100%', 8) }]));
    expect(lines).toEqual([{ object: 'machinehealthcheck.cluster.capstan.dev/demo-workers', result: 'configured' }]);
    await env.simClient.setFaults({ neverBoot: 1 }); // the replacement never boots: it fails its startup timeout
    const [victim] = (await mdMachines()).map((m) => m.name).sort();
    await env.simClient.vmAction((await vmOf(victim!)).id, 'node-not-ready');
    await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim! })).result();
    const v = await mhcUntil('the replacement held back', (x) => (x.heldBack?.length ?? 0) > 0);
    const held = v.heldBack![0]!;
    // The victim may itself be the first test's replacement (minutes old): then this is replacement #2.
    expect(v.status?.conditions.find((c) => c.type === 'RemediationBackoff')).toMatchObject({ status: 'True', reason: 'RemediatingTooOften' });
    expect(v.status?.conditions.find((c) => c.type === 'RemediationBackoff')!.message).toMatch(
      new RegExp(`^${held.machine} held back until ${held.until}: replacement #(1 of a remediated machine of MachineDeployment/demo-md-0 \\(backoff 20s\\)|2 of a remediated machine of MachineDeployment/demo-md-0 \\(backoff 40s\\))$`),
    );
    const replacement = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: held.machine }));
    const result = (await replacement.result()) as MachineStatus;
    expect(result.conditions.find((c) => c.type === 'HealthCheckSucceeded')).toMatchObject({ status: 'False', reason: 'NodeStartupTimeout' });
    // It was told to go no sooner than its backoff allowed (workflow time, from its history).
    const deleted = (await replacement.fetchHistory()).events!.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'deleteMachine')!;
    expect(Number(deleted.eventTime!.seconds) * 1000 + Math.floor((deleted.eventTime!.nanos ?? 0) / 1e6)).toBeGreaterThanOrEqual(Date.parse(held.until));
    await eventually('2 available workers again', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 120_000, 300);
    await mhcUntil('no backoff', (x) => x.status?.conditions.some((c) => c.type === 'RemediationBackoff' && c.status === 'False') === true && x.status.currentHealthy === 3);
  }, 180_000);

  it('too many unhealthy (maxUnhealthy 0): nothing is remediated, and RemediationAllowed says why', async () => {
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'mhc.yaml', text: workerHealthCheck('0') }]));
    expect(lines).toEqual([{ object: 'machinehealthcheck.cluster.capstan.dev/demo-workers', result: 'configured' }]);
    const [victim] = (await mdMachines()).map((m) => m.name).sort();
    await env.simClient.vmAction((await vmOf(victim!)).id, 'node-not-ready');
    const v = await mhcUntil('short-circuited', (x) => x.unhealthy.includes(victim!) && x.status?.conditions.some((c) => c.type === 'RemediationAllowed' && c.status === 'False') === true);
    expect(v.status?.conditions.find((c) => c.type === 'RemediationAllowed')).toMatchObject({
      reason: 'TooManyUnhealthy',
      message: 'Remediation is not allowed, the number of not started or unhealthy machines exceeds maxUnhealthy (total: 3, unhealthy: 1, maxUnhealthy: 0)',
    });
    expect(v.remediated).not.toContain(victim);
    expect(v.status?.remediationsAllowed).toBe(0);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await mdMachines()).map((m) => m.name)).toContain(victim);
    // Left alone, it is not available: the deployment counts it so, and counts it again once Ready.
    await eventually('the deployment sees 1 available', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 1 ? true : undefined), 60_000, 250);
    await env.simClient.vmAction((await vmOf(victim!)).id, 'node-ready');
    await eventually('the deployment sees 2 available again', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 60_000, 250);
  }, 120_000);

  it('a remediation still in flight counts against maxUnhealthy, as in Cluster API (revision 10): the next waits for it', async () => {
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'mhc.yaml', text: workerHealthCheck('1') }]));
    await mhcUntil('3 healthy targets', (x) => x.status?.expectedMachines === 3 && x.status.currentHealthy === 3);
    await quietBoth();
    const [first, second] = (await mdMachines()).map((m) => m.name).sort();
    // The first one's deletion is held at a pre-drain hook: it stays Deleting, its set replaces it only once it is gone.
    const hook = `${PRE_DRAIN_HOOK}hold`;
    const firstHandle = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: first! }));
    await firstHandle.executeUpdate(annotateMachineUpdate, { args: [{ set: { [hook]: '' } }] });
    await env.simClient.vmAction((await vmOf(first!)).id, 'node-not-ready');
    await mhcUntil('the first remediated, still deleting, still a target', (x) => x.remediated.includes(first!) && x.status?.expectedMachines === 3);
    expect((await firstHandle.query(machineStatusQuery)).status.phase).toBe('Deleting');
    // Its MachineSet shows it being remediated (Cluster API's Remediating), from the machine's Deleting report.
    const setName = (await md().query(machineDeploymentStatusQuery)).sets[0]!.name;
    const remediating = await eventually('the set Remediating', async () => {
      const c = (await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: setName })).query(machineSetStatusQuery)).status?.conditions.find((x) => x.type === 'Remediating');
      return c?.status === 'True' ? c : undefined;
    }, 30_000, 250);
    expect(remediating).toMatchObject({ reason: 'Remediating', message: `* Machine ${first}: Machine is deleting` });
    // And its deployment, as Cluster API's aggregates its machines' OwnerRemediated (the set reports it).
    const mdRemediating = await eventually('the deployment Remediating', async () => {
      const c = (await md().query(machineDeploymentStatusQuery)).status?.conditions.find((x) => x.type === 'Remediating');
      return c?.status === 'True' ? c : undefined;
    }, 30_000, 250);
    expect(mdRemediating).toMatchObject({ reason: 'Remediating', message: `* Machine ${first}: Machine is deleting` });
    await env.simClient.vmAction((await vmOf(second!)).id, 'node-not-ready');
    // 3 targets, 1 healthy (the Machine of the user's own): 2 not healthy > maxUnhealthy 1. Before revision 10 the
    // deleting machine was no target: 2 targets, 1 healthy, and the second was deleted at once.
    const v = await mhcUntil('the second unhealthy, short-circuited', (x) => x.unhealthy.includes(second!) && x.status?.conditions.some((c) => c.type === 'RemediationAllowed' && c.status === 'False') === true);
    expect(v.status?.conditions.find((c) => c.type === 'RemediationAllowed')).toMatchObject({
      reason: 'TooManyUnhealthy',
      message: 'Remediation is not allowed, the number of not started or unhealthy machines exceeds maxUnhealthy (total: 3, unhealthy: 2, maxUnhealthy: 1)',
    });
    expect(v.status?.currentHealthy).toBe(1);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await mhc().query(machineHealthCheckStatusQuery)).remediated).not.toContain(second);
    expect((await mdMachines()).map((m) => m.name)).toContain(second);
    // The first goes; once its replacement has a Node, the second is remediated.
    await firstHandle.executeUpdate(annotateMachineUpdate, { args: [{ remove: [hook] }] });
    expect(((await firstHandle.result()) as MachineStatus).phase).toBe('Deleted');
    await mhcUntil('the second remediated', (x) => x.remediated.includes(second!) || !x.status?.targets.includes(second!));
    await eventually('the deployment no longer Remediating', async () => ((await md().query(machineDeploymentStatusQuery)).status?.conditions.find((x) => x.type === 'Remediating' && x.status === 'False') ? true : undefined), 120_000, 250);
    await eventually('2 available workers again', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
    await mhcUntil('3 healthy again', (x) => x.status?.currentHealthy === 3 && x.unhealthy.length === 0);
  }, 300_000);

  it('an unhealthy machine of a deployment’s old set is left to the rollout, as Cluster API’s "pending removal due to rollout" (revision 10)', async () => {
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'mhc.yaml', text: workerHealthCheck('100%') }]));
    // The deployment's own documents, at the replicas it runs with (2); `capstan apply` keeps the rest as it is.
    const workers = (instanceType: string) =>
      DEMO_CLUSTER.split(/^---\n/m)
        .filter((d) => /^kind: (MachineDeployment|KubeadmConfigTemplate|SimMachineTemplate)\nmetadata:\n {2}name: demo-md-0$/m.test(d))
        .map((d) => d.replace(/^ {2}replicas: \d+$/m, '  replicas: 2').replace('instanceType: sim.medium', `instanceType: ${instanceType}`))
        .join('---\n');
    const oldSet = (await md().query(machineDeploymentStatusQuery)).sets[0]!.name;
    // A rollout that cannot finish: the new set's first VM never boots.
    await env.simClient.setFaults({ neverBoot: 1 });
    try {
      await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md.yaml', text: workers('sim.large') }]));
      await eventually('the rollout to stall with an old and a new set', async () => {
        const v = await md().query(machineDeploymentStatusQuery);
        return v.sets.length === 2 && v.sets.some((st) => st.new && st.replicas >= 1) ? v : undefined;
      }, 120_000, 300);
      const oldMachines = (await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: oldSet })).query(machineSetStatusQuery)).machines.map((m) => m.name).sort();
      const victim = oldMachines[0]!;
      await env.simClient.vmAction((await vmOf(victim)).id, 'node-not-ready');
      const v = await mhcUntil('the old machine unhealthy and left to the rollout', (x) => x.unhealthy.includes(victim) && (x.pendingRollout ?? []).includes(victim));
      expect(v.remediated).not.toContain(victim);
      await new Promise((r) => setTimeout(r, 4000));
      const later = await mhc().query(machineHealthCheckStatusQuery);
      expect(later.remediated).not.toContain(victim);
      // No delete signal reached it from the health check (the rollout may have taken it meanwhile: that is its job).
      const signals = ((await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim })).fetchHistory()).events ?? [])
        .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'deleteMachine');
      expect(signals).toEqual([]);
      // Rolled back, its set is the current one again: an unhealthy machine of it is remediated as any other.
      // The check is asleep by then: the worker's waker sees the deployment's current set change and wakes it.
      await quietBoth();
      await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md.yaml', text: workers('sim.medium') }]));
      // (It may be a replacement of an earlier case's remediation: then it waits out its backoff first.)
      const seen = await mhcUntil('the victim remediated, gone or held back', (x) => !(x.pendingRollout ?? []).includes(victim) && (x.remediated.includes(victim) || !x.status?.targets.includes(victim) || !!x.heldBack?.some((h) => h.machine === victim)));
      const held = seen.heldBack?.find((h) => h.machine === victim);
      if (held) {
        await eventually('the victim remediated after its backoff', async () => {
          const x = await mhc().query(machineHealthCheckStatusQuery);
          return x.remediated.includes(victim) || !x.status?.targets.includes(victim) ? x : undefined;
        }, Date.parse(held.until) - Date.now() + 60_000, 250);
      }
      // Gone because the health check told it so (not the rollout): the reason rides on its delete signal.
      const told = await eventually('the health check’s delete signal', async () => {
        const events = (await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: victim })).fetchHistory()).events ?? [];
        const e = events.find((x) => x.workflowExecutionSignaledEventAttributes?.signalName === 'deleteMachine');
        return e && (JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!).toString()) as { remediation?: { healthCheck: string } });
      }, 30_000, 250);
      expect(told.remediation?.healthCheck).toBe('demo-workers');
    } finally {
      await env.simClient.setFaults({ neverBoot: 0 });
    }
    await eventually('one set of 2 available workers again', async () => {
      const v = await md().query(machineDeploymentStatusQuery);
      return v.sets.length === 1 && v.status?.availableReplicas === 2 ? v : undefined;
    }, 180_000, 300);
    await mhcUntil('3 healthy again', (x) => x.status?.currentHealthy === 3 && x.unhealthy.length === 0);
  }, 600_000);

  it('a quiet cluster whose workload API stops answering is woken and says why; once it answers, both go quiet again', async () => {
    await quietBoth();
    const cluster = env.client.workflow.getHandle('cluster/default/demo');
    const details = async () => (await cluster.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
    const quietValues = () => Promise.all([cluster, mhc()].map(async (h) => (await h.describe()).typedSearchAttributes.get(SA_QUIET)));
    // The simulated cloud goes, and with it the load balancer in front of the workload API.
    await env.sim.stop();
    let woken: (string | undefined)[];
    try {
      // Past the grace (3 s here), the waker wakes the quiet observers; the Cluster's round fails and shows why.
      const shown = await eventually('the Cluster shows the failing workload API', async () => {
        const d = await details();
        return d.startsWith('following Nodes: workload API not answering since ') ? d : undefined;
      }, 90_000, 500);
      expect(Date.parse(shown.slice(shown.lastIndexOf(' ') + 1))).toBeLessThan(Date.now());
      // Woken, they still show the value of the quiet spell they were woken from (a wake-up upserts nothing).
      woken = await quietValues();
      expect(woken.every(Boolean)).toBe(true);
      // Revision 6: the probe failed, since the watch stopped answering; the Cluster is not Available
      // meanwhile, and its memo says so for the watcher.
      const failing = await eventually('RemoteConnectionProbe to fail', async () => {
        const c = (await cluster.query(clusterStatusQuery)).status.conditions.find((x) => x.type === 'RemoteConnectionProbe');
        return c?.status === 'False' ? c : undefined;
      }, 30_000, 250);
      expect(failing).toMatchObject({ reason: 'ProbeFailed', message: expect.stringMatching(/^Remote connection probe failed, probe last succeeded at \d{4}-\d\d-\d\dT/) });
      const since = failing.message!.slice(failing.message!.lastIndexOf(' ') + 1);
      expect(Date.parse(since)).toBeLessThan(Date.now() - 3000);
      expect((await cluster.query(clusterStatusQuery)).status.conditions.find((x) => x.type === 'Available')?.status).toBe('False');
      // The memo keeps the time to the millisecond; the message, as Cluster API's, to the second.
      const memoProbe = ((await cluster.describe()).memo?.list as { probe?: string }).probe!;
      expect(Math.abs(Date.parse(memoProbe) - Date.parse(since))).toBeLessThan(1000);
    } finally {
      await env.restartSim();
    }
    // The API answers again: nothing had changed, so both go quiet again, each with a new spell,
    // once their next round passes (a failing observer's later rounds come a minute apart).
    await quietBoth(woken, 150_000);
    expect(await details()).toBe('nothing to do');
    const conditions = (await cluster.query(clusterStatusQuery)).status.conditions;
    expect(conditions.filter((x) => ['RemoteConnectionProbe', 'Available'].includes(x.type)).map((x) => [x.type, x.status, x.reason])).toEqual(
      expect.arrayContaining([
        ['RemoteConnectionProbe', 'True', 'ProbeSucceeded'],
        ['Available', 'True', 'Available'],
      ]),
    );
    expect(((await cluster.describe()).memo?.list as { probe?: string }).probe).toBe('ok');
  }, 240_000);

  it('Cluster API’s remediation annotations: skip-remediation (here from a deployment’s template) takes a machine out of the check; remediate-machine remediates it', async () => {
    // A deployment of its own: no remediation of demo-md-0's is in its backoff chain.
    const mdDoc = DEMO_CLUSTER.split(/^---\n/m).find((d) => /^kind: MachineDeployment$/m.test(d))!;
    const md1 = mdDoc
      .replace(/^ {2}name: demo-md-0$/m, '  name: demo-md-1')
      .replace(/deployment-name: demo-md-0/g, 'deployment-name: demo-md-1')
      .replace(/^ {2}replicas: \d+$/m, '  replicas: 1')
      .replace(/^( {4}metadata:\n)( {6}labels:)/m, '$1      annotations:\n        cluster.capstan.dev/skip-remediation: ""\n$2');
    expect(md1).toContain('skip-remediation');
    const templates = DEMO_CLUSTER.split(/^---\n/m).filter((d) => /^kind: (KubeadmConfigTemplate|SimMachineTemplate)\nmetadata:\n {2}name: demo-md-0$/m.test(d));
    await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md1.yaml', text: [md1, ...templates].join('---\n') }]));
    const md1Handle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-1' }));
    const md1Available = (n: number) => eventually(`demo-md-1 with ${n} available`, async () => ((await md1Handle.query(machineDeploymentStatusQuery)).status?.availableReplicas === n ? true : undefined), 120_000, 300);
    const md1Machine = async () => {
      const v = await md1Handle.query(machineDeploymentStatusQuery);
      const ms = (await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: v.sets[0]!.name })).query(machineSetStatusQuery)).machines;
      return ms.find((m) => !m.deleting)!.name;
    };
    const handle = (name: string) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name }));
    const annotate = (name: string, change: { set?: Record<string, string>; remove?: string[] }) => handle(name).executeUpdate(annotateMachineUpdate, { args: [change] });
    /** The check woken and quiet again: it has looked at the machines and Nodes as they are now. */
    const lookedAgain = async () => {
      const quietValue = async () => (await mhc().describe()).typedSearchAttributes.get(SA_QUIET);
      const before = await quietValue();
      await mhc().signal(wakeObserverSignal);
      await eventually('the health check to look again', async () => {
        const v = await quietValue();
        return v && v !== before ? v : undefined;
      }, 60_000, 250);
      return mhc().query(machineHealthCheckStatusQuery);
    };
    await md1Available(1);
    const first = await md1Machine();
    // The template's annotation is the machine's, in its start memo: no upsert; it is no target.
    expect((await handle(first).query(machineStatusQuery)).annotations).toMatchObject({ 'cluster.capstan.dev/skip-remediation': '' });
    expect((await handle(first).describe()).memo?.remediation).toEqual(['cluster.capstan.dev/skip-remediation']);
    const v0 = await lookedAgain();
    expect(v0.status).toMatchObject({ expectedMachines: 3, currentHealthy: 3 });
    expect(v0.status?.targets).not.toContain(first);
    // Its Node NotReady past the timeout changes nothing.
    await env.simClient.vmAction((await vmOf(first)).id, 'node-not-ready');
    await md1Available(0);
    await new Promise((r) => setTimeout(r, 4000)); // past the 3 s timeout
    const skipped = await lookedAgain();
    expect(skipped.unhealthy).not.toContain(first);
    expect(skipped.remediated).not.toContain(first);
    expect((await handle(first).query(machineStatusQuery)).status.phase).toBe('Running');
    // The planted case: the annotation removed (one memo upsert, which wakes the quiet check), the
    // same machine is a target again, unhealthy, and remediated.
    await annotate(first, { remove: ['cluster.capstan.dev/skip-remediation'] });
    expect((await handle(first).describe()).memo).not.toHaveProperty('remediation');
    const unhealthy = (await handle(first).result()) as MachineStatus;
    expect(unhealthy.conditions.find((c) => c.type === 'HealthCheckSucceeded')).toMatchObject({ status: 'False', reason: 'UnhealthyNode' });
    await md1Available(1);
    // Manual remediation: its replacement is healthy. Marked remediate-machine, it stays out while
    // it also has skip-remediation (Cluster API skips it first); without that, it is remediated at
    // once (after the backoff of a replacement: 20 s of life).
    const second = await md1Machine();
    await annotate(second, { set: { 'cluster.capstan.dev/remediate-machine': '' } });
    expect((await handle(second).describe()).memo?.remediation).toEqual(['cluster.capstan.dev/remediate-machine', 'cluster.capstan.dev/skip-remediation']);
    expect((await lookedAgain()).status?.targets).not.toContain(second);
    expect((await handle(second).query(machineStatusQuery)).status.phase).toBe('Running');
    await annotate(second, { remove: ['cluster.capstan.dev/skip-remediation'] });
    const remediated = (await handle(second).result()) as MachineStatus;
    expect(remediated.conditions.find((c) => c.type === 'HealthCheckSucceeded')).toMatchObject({
      status: 'False',
      reason: 'HasRemediateAnnotation',
      message: 'Health check failed: marked for remediation via cluster.capstan.dev/remediate-machine annotation (MachineHealthCheck demo-workers)',
    });
    await md1Available(1);
  }, 300_000);

  it("a deployment's spec.remediation.maxInFlight: one of its machines in remediation at a time, the other waits and says why (Cluster API's)", async () => {
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'mhc.yaml', text: workerHealthCheck('100%') }]));
    const mdDoc = DEMO_CLUSTER.split(/^---\n/m).find((d) => /^kind: MachineDeployment$/m.test(d))!;
    const md2 = mdDoc
      .replace(/^ {2}name: demo-md-0$/m, '  name: demo-md-2')
      .replace(/deployment-name: demo-md-0/g, 'deployment-name: demo-md-2')
      .replace(/^ {2}replicas: \d+$/m, '  replicas: 2\n  remediation:\n    maxInFlight: 1');
    expect(md2).toContain('maxInFlight: 1');
    const templates = DEMO_CLUSTER.split(/^---\n/m).filter((d) => /^kind: (KubeadmConfigTemplate|SimMachineTemplate)\nmetadata:\n {2}name: demo-md-0$/m.test(d));
    await executePlan(env.client, env.taskQueue, loadApplyPlan([{ file: 'md2.yaml', text: [md2, ...templates].join('---\n') }]));
    const md2Handle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-2' }));
    await eventually('demo-md-2 with 2 available', async () => ((await md2Handle.query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 120_000, 300);
    // Its limit, resolved, is in its memo, where its health checks read it.
    expect((await md2Handle.describe()).memo?.maxInFlight).toBe(1);
    const setName = (await md2Handle.query(machineDeploymentStatusQuery)).sets[0]!.name;
    const names = (await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: setName })).query(machineSetStatusQuery)).machines.map((m) => m.name).sort();
    expect(names).toHaveLength(2);
    const handle = (name: string) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name }));
    // Each one's deletion is held at a pre-drain hook, so a remediation stays in flight until the hook goes.
    const hook = `${PRE_DRAIN_HOOK}hold`;
    for (const n of names) await handle(n).executeUpdate(annotateMachineUpdate, { args: [{ set: { [hook]: '' } }] });
    await mhcUntil('both healthy targets', (x) => names.every((n) => x.status?.targets.includes(n)) && !names.some((n) => x.unhealthy.includes(n)));
    for (const n of names) await env.simClient.vmAction((await vmOf(n)).id, 'node-not-ready');
    // (The first, once its deletion shows, is a deleting target: counted, no longer listed unhealthy.)
    const v = await eventually('one remediated, the other unhealthy and waiting', async () => {
      const x = await mhc().query(machineHealthCheckStatusQuery);
      // (Both remediated would be the limit broken: returned, to fail below with what was seen.)
      if (names.some((n) => x.remediated.includes(n)) && ((x.deferred?.length ?? 0) === 1 || names.every((n) => x.remediated.includes(n)))) return x;
      throw new Error(`last seen: unhealthy [${x.unhealthy.join(', ')}], remediated [${x.remediated.join(', ')}], deferred ${JSON.stringify(x.deferred ?? [])}`);
    }, 120_000, 250);
    expect(names.filter((n) => v.remediated.includes(n))).toHaveLength(1);
    const first = names.find((n) => v.remediated.includes(n))!;
    const second = names.find((n) => n !== first)!;
    expect(v.unhealthy).toContain(second);
    expect(v.deferred).toEqual([{ machine: second, message: 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)' }]);
    // The planted case is the limit's own: without it both would go at once (a pass tells every unhealthy machine together).
    await new Promise((r) => setTimeout(r, 4000));
    expect((await mhc().query(machineHealthCheckStatusQuery)).remediated).not.toContain(second);
    expect((await handle(second).query(machineStatusQuery)).status.phase).toBe('Running');
    // The first goes: the second's turn.
    await handle(first).executeUpdate(annotateMachineUpdate, { args: [{ remove: [hook] }] });
    expect(((await handle(first).result()) as MachineStatus).phase).toBe('Deleted');
    const after = await mhcUntil('the second remediated', (x) => x.remediated.includes(second));
    expect(after.deferred ?? []).toEqual([]);
    await handle(second).executeUpdate(annotateMachineUpdate, { args: [{ remove: [hook] }] });
    expect(((await handle(second).result()) as MachineStatus).phase).toBe('Deleted');
    await eventually('demo-md-2 with 2 available again', async () => ((await md2Handle.query(machineDeploymentStatusQuery)).status?.availableReplicas === 2 ? true : undefined), 180_000, 300);
  }, 300_000);

  it('replays the health check’s histories with today’s workflow code', async () => {
    const histories = await fetchHistories(env.client, 'WorkflowId STARTS_WITH "machinehealthcheck/" OR WorkflowId = "cluster/default/demo"');
    expect(histories.length).toBeGreaterThanOrEqual(2);
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) expect(r.error, r.workflowId).toBeUndefined();
  }, 120_000);
});
