// A worker VM killed in the simulated cloud during a MachineDeployment rollout, under a
// MachineHealthCheck: its kubelet stops renewing its Lease, the workload cluster's own
// kube-controller-manager (node-monitor-grace-period 4 s here) marks the Node Unknown, the
// Machine's NodeReady follows, the health check (Unknown for 3 s) deletes the Machine — the drain
// does not wait on pods an unreachable kubelet will never confirm gone — and the rollout still
// finishes, with exactly the desired VMs: one per machine, none orphaned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineStatus } from '../../api/machine.js';
import { executePlan, loadPlan } from '../../client/apply.js';
import { simVmActionCommand } from '../../client/sim-command.js';
import { machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery, machineStatusQuery } from '../../workflows/messages.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, nodeReady, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';

const MHC = `
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineHealthCheck
metadata:
  name: demo-md-0-unhealthy
  namespace: default
spec:
  clusterName: demo
  selector:
    matchLabels:
      cluster.capstan.dev/deployment-name: demo-md-0
  checks:
    unhealthyNodeConditions:
      - type: Ready
        status: Unknown
        timeoutSeconds: 3
      - type: Ready
        status: "False"
        timeoutSeconds: 3
`;

/** The demo with one control-plane machine whose controller manager gives up on a silent kubelet after 4 s. */
function demo(instanceType: string): string {
  const text = DEMO_CLUSTER.replace('  replicas: 3\n  version', '  replicas: 1\n  version')
    .replace(
      '      apiServer:\n',
      '      controllerManager:\n        extraArgs:\n          - name: node-monitor-grace-period\n            value: 4s\n          - name: node-monitor-period\n            value: 1s\n      apiServer:\n',
    )
    .replace(/(name: demo-md-0\nspec:\n  template:\n    spec:\n      instanceType: )sim\.medium/, `$1${instanceType}`)
    // A new machine counts as available 10 s after its Node is Ready: the rollout lasts long enough to be hit.
    .replace('    spec:\n      clusterName: demo\n      version: v1.37.2\n', '    spec:\n      clusterName: demo\n      version: v1.37.2\n      minReadySeconds: 10\n');
  if (!text.includes('node-monitor-grace-period') || !text.includes(`instanceType: ${instanceType}`) || !text.includes('minReadySeconds: 10')) throw new Error('demo-cluster.yaml changed shape: fix demo()');
  return text;
}

describe('a worker killed during a rollout', () => {
  let env: CapstanEnv;
  const md = () => env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));

  beforeAll(async () => {
    // Kubelets renew their Lease every second, so a 4 s grace never flags a live one.
    env = await startCapstanEnv({ simExtra: ['--runtime-opt', 'lease-renew-ms=1000'] });
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: `${demo('sim.medium')}\n---\n${MHC}` }]));
    await eventually('3 available workers', async () => ((await md().query(machineDeploymentStatusQuery)).status?.availableReplicas === 3 ? true : undefined), 240_000, 300);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('is remediated, replaced, and the rollout still finishes with exactly the desired VMs', async () => {
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: demo('sim.large') }]));
    expect(lines.find((l) => l.object === 'machinedeployment.cluster.capstan.dev/demo-md-0')?.result).toBe('configured');
    // Mid-rollout: the first new machine is up and every old one remains; kill the new one and an old one.
    const [fresh, old] = await eventually('mid-rollout', async () => {
      const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));
      const large = vms.filter((v) => v.instanceType === 'sim.large' && v.state === 'running');
      const medium = vms.filter((v) => v.instanceType === 'sim.medium' && v.state === 'running');
      return large.length >= 1 && medium.length === 3 ? [large[0]!, medium[0]!] : undefined;
    }, 120_000, 100);
    // As the README's demo does it: `capstan sim kill MACHINE`.
    process.env.CAPSTAN_SIM_URL = env.sim.url;
    expect(await simVmActionCommand('kill', fresh.name)).toBe(`machine ${fresh.name} (VM ${fresh.id}): killed: its kubelet is gone, its Node goes Unknown`);
    await simVmActionCommand('kill', old.name);
    await expect(simVmActionCommand('kill', 'no-such-machine')).rejects.toThrow(`no live VM of machine "no-such-machine" in the simulated cloud (${env.sim.url})`);
    const outcome = async (name: string) => {
      const handle = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name }));
      const result = await Promise.race([
        handle.result() as Promise<MachineStatus>,
        new Promise<undefined>((r) => setTimeout(r, 120_000, undefined)),
      ]);
      if (!result) {
        const mhc = await env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-md-0-unhealthy' })).query(machineHealthCheckStatusQuery);
        console.log(`[killed-worker] ${name} still there; health check: ${JSON.stringify(mhc)}`);
        console.log(`[killed-worker] machine: ${JSON.stringify((await handle.query(machineStatusQuery)).status)}`);
        console.log(`[killed-worker] nodes: ${JSON.stringify((await workloadNodes(env.dataDir, 'demo')).map((n) => [n.metadata?.name, n.status?.conditions?.find((c) => c.type === 'Ready')]))}`);
        throw new Error(`${name} was not deleted`);
      }
      expect(result.phase).toBe('Deleted');
      const hc = result.conditions.find((c) => c.type === 'HealthCheckSucceeded');
      console.log(`[killed-worker] ${name}: ${hc ? `remediated (${hc.message})` : 'deleted by the rollout before the health check'}`);
      return hc;
    };
    // The new machine is the rollout's to keep: only the health check deletes it — as failed when
    // its instance died before its Node was Ready, else as unreachable once its Node went Unknown.
    expect((await outcome(fresh.name))?.message).toMatch(/the Machine reports a terminal failure|Condition Ready on Node is reporting status Unknown/);
    // The old one goes either way (the health check, or the rollout first).
    const hc = await outcome(old.name);
    if (hc) expect(hc.status).toBe('False');

    const v = await eventually('rolled out', async () => {
      const x = await md().query(machineDeploymentStatusQuery);
      return x.sets.length === 1 && x.status?.upToDateReplicas === 3 && x.status.availableReplicas === 3 && x.status.conditions.find((c) => c.type === 'RollingOut')?.status === 'False' ? x : undefined;
    }, 240_000, 300).catch(async (err) => {
      // What it is stuck on, for whoever reads a failure.
      const x = await md().query(machineDeploymentStatusQuery);
      console.log(`[killed-worker] deployment: ${JSON.stringify({ status: x.status, sets: x.sets })}`);
      for (const s of x.sets) console.log(`[killed-worker] ${s.name}: ${JSON.stringify((await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: s.name })).query(machineSetStatusQuery)).machines)}`);
      console.log(`[killed-worker] VMs: ${JSON.stringify((await liveVms(env.simClient)).map((m) => [m.name, m.state, m.instanceType]))}`);
      throw err;
    });
    const set = await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: v.sets[0]!.name })).query(machineSetStatusQuery);
    const machines = set.machines.map((m) => m.name).sort();
    expect(machines).toHaveLength(3);
    const vms = (await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-md-0-'));
    expect(vms.map((x) => x.name).sort()).toEqual(machines);
    expect(vms.every((x) => x.state === 'running' && x.instanceType === 'sim.large')).toBe(true);
    const nodes = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith('demo-md-0-'));
    expect(nodes.map((n) => n.metadata!.name!).sort()).toEqual(machines);
    expect(nodes.every(nodeReady)).toBe(true);
  }, 400_000);
});
