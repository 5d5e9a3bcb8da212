// The first control-plane machine fails before the control plane is initialized (its VM is
// killed as soon as the cloud has it): the KubeadmControlPlane deletes it and starts over with a
// new init machine, within spec.remediation.maxRetry, and the cluster comes up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineStatus } from '../../api/machine.js';
import { executePlan, loadPlan } from '../../client/apply.js';
import { controlPlaneWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery } from '../../workflows/messages.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

describe('a first control-plane machine that fails during init', () => {
  let env: CapstanEnv;
  beforeAll(async () => {
    env = await startCapstanEnv();
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('is deleted and replaced by a new init machine; the cluster comes up', async () => {
    const manifest = DEMO_CONTROL_PLANE.replace('  replicas: 3\n  version', '  replicas: 1\n  remediation:\n    maxRetry: 2\n  version');
    expect(manifest).toContain('maxRetry: 2');
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: manifest }]));
    // Kill the first control-plane VM the moment the cloud has it.
    const first = await eventually('the first control-plane VM', async () => (await liveVms(env.simClient)).find((v) => v.name.startsWith('demo-control-plane-')), 60_000, 20);
    await env.simClient.vmAction(first.id, 'kill');
    const failed = (await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: first.name })).result()) as MachineStatus;
    expect(failed.phase).toBe('Deleted');
    await waitForAvailable(env.client, 'demo');
    const kcp = await env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' })).query(controlPlaneStatusQuery);
    expect(kcp.machines).toHaveLength(1);
    expect(kcp.machines[0]!.name).not.toBe(first.name);
    expect(kcp.machines[0]!.role).toBe('init');
    expect(kcp.status.initialization.controlPlaneInitialized).toBe(true);
    const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-control-plane-'));
    expect(vms.map((v) => v.name)).toEqual([kcp.machines[0]!.name]);
  }, 240_000);
});
