// A MachineHealthCheck over a 3-machine control plane asks the KubeadmControlPlane to remediate,
// and the control plane never loses etcd's quorum: with 2 of 3 machines NotReady it remediates
// neither and says why on its Remediating condition; once one recovers (the health check
// withdraws that request) it deletes the other and replaces it. A machine whose workflow is
// cancelled goes the same way. The workload API is polled throughout and never fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineStatus } from '../../api/machine.js';
import { executePlan, loadPlan } from '../../client/apply.js';
import { controlPlaneWorkflowId, machineHealthCheckWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery, machineHealthCheckStatusQuery, machineStatusQuery } from '../../workflows/messages.js';
import { type ApiPoller, pollWorkloadApi } from '../support/api-poller.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

const MHC = `
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineHealthCheck
metadata:
  name: demo-control-plane
  namespace: default
spec:
  clusterName: demo
  selector:
    matchLabels:
      cluster.capstan.dev/control-plane-name: demo-control-plane
  checks:
    unhealthyNodeConditions:
      - type: Ready
        status: "False"
        timeoutSeconds: 3
`;

describe('control-plane remediation', () => {
  let env: CapstanEnv;
  const kcp = () => env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
  const vmOf = async (name: string) => (await liveVms(env.simClient)).find((v) => v.name === name)!;
  const remediating = async () => (await kcp().query(controlPlaneStatusQuery)).status.conditions.find((c) => c.type === 'Remediating');
  // The workload API, asked every 200 ms for the whole test: every failure is counted.
  let api: ApiPoller | undefined;

  beforeAll(async () => {
    env = await startCapstanEnv();
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: `${DEMO_CONTROL_PLANE}\n---\n${MHC}` }]));
    await waitForAvailable(env.client, 'demo');
    api = await pollWorkloadApi(env.dataDir, 'demo');
  }, 300_000);
  afterAll(async () => {
    await api?.stop();
    await env?.stop();
  });

  it('with 2 of 3 NotReady it remediates neither, and says why', async () => {
    const machines = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort();
    expect(machines).toHaveLength(3);
    const [a, b] = machines;
    await env.simClient.vmAction((await vmOf(a!)).id, 'node-not-ready');
    await env.simClient.vmAction((await vmOf(b!)).id, 'node-not-ready');
    const c = await eventually('the refusal', async () => {
      const x = await remediating();
      return x?.reason === 'RemediationNotAllowed' ? x : undefined;
    }, 60_000, 250).catch(async (err) => {
      const mhc = await env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-control-plane' })).query(machineHealthCheckStatusQuery);
      console.log(`[control-plane-remediation] health check: ${JSON.stringify({ status: mhc.status, unhealthy: mhc.unhealthy, remediated: mhc.remediated })}`);
      console.log(`[control-plane-remediation] control plane: ${JSON.stringify((await kcp().query(controlPlaneStatusQuery)).status)}`);
      throw err;
    });
    expect(c).toMatchObject({ status: 'False', message: `1 of 3 etcd members healthy; remediating ${a} would lose quorum` });
    // Well past the timeout, all three still run.
    await new Promise((r) => setTimeout(r, 4000));
    for (const m of machines) expect((await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: m })).query(machineStatusQuery)).status.phase).toBe('Running');
    expect((await remediating())?.reason).toBe('RemediationNotAllowed');
  }, 120_000);

  it('once one recovers, it remediates the other and replaces it, one at a time', async () => {
    const [a, b, c] = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort();
    // Which machines its answers show being remediated (for the Cluster's Remediating), asked throughout.
    const shownRemediating = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const m of (await kcp().query(controlPlaneStatusQuery)).machines) if (m.remediating) shownRemediating.add(m.name);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // b recovers: the health check withdraws its request, and a can go with 2 of 3 healthy.
    await env.simClient.vmAction((await vmOf(b!)).id, 'node-ready');
    const result = (await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: a! })).result()) as MachineStatus;
    watching = false;
    await watch;
    expect([...shownRemediating]).toEqual([a]);
    expect(result.phase).toBe('Deleted');
    expect(result.conditions.find((x) => x.type === 'HealthCheckSucceeded')).toMatchObject({ status: 'False', reason: 'UnhealthyNode' });
    const v = await eventually('3 ready control-plane machines again', async () => {
      const x = await kcp().query(controlPlaneStatusQuery);
      return x.status.readyReplicas === 3 && x.machines.length === 3 ? x : undefined;
    }, 120_000, 250);
    const names = v.machines.map((m) => m.name);
    expect(names).toContain(b);
    expect(names).toContain(c);
    expect(names).not.toContain(a);
    expect(v.status.conditions.find((x) => x.type === 'Remediating')).toMatchObject({ status: 'False', reason: 'NotRemediating' });
    // b was never remediated: it runs still.
    expect((await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: b! })).query(machineStatusQuery)).status.phase).toBe('Running');
    // Three Ready Nodes, and the API answered every poll.
    const nodes = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata?.name?.startsWith('demo-control-plane-'));
    expect(nodes.map((n) => n.metadata!.name).sort()).toEqual([...names].sort());
    expect(api!.polls).toBeGreaterThan(20);
    expect(api!.failures).toEqual([]);
  }, 180_000);

  it('a control-plane machine whose workflow is cancelled (as from the Temporal UI) goes through its control plane: replaced, the API answering throughout (revision 7)', async () => {
    const before = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort();
    const victim = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: before[2]! }));
    await victim.cancel();
    const result = (await victim.result()) as MachineStatus;
    expect(result.phase).toBe('Deleted');
    expect((await victim.describe()).status.name).toBe('COMPLETED');
    // Its control plane deleted it (the etcd member first), as for a deleted Machine object.
    expect(result.conditions.find((x) => x.type === 'OwnerRemediated')).toMatchObject({ status: 'False', reason: 'MachineDeleting' });
    const v = await eventually('3 ready control-plane machines again', async () => {
      const x = await kcp().query(controlPlaneStatusQuery);
      return x.status.readyReplicas === 3 && x.machines.length === 3 && !x.machines.some((m) => m.name === before[2]) ? x : undefined;
    }, 150_000, 250);
    expect(v.machines.map((m) => m.name)).toEqual(expect.arrayContaining(before.slice(0, 2)));
    expect(await vmOf(before[2]!)).toBeUndefined();
    expect(api!.failures).toEqual([]);
  }, 200_000);
});
