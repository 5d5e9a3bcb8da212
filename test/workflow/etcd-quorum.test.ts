// etcd as the simulated cloud models it for a 3-machine control plane: one member per control-plane
// machine, reached over mutual TLS with a client certificate of the cluster's etcd CA (another CA's
// is refused); a killed VM leaves its member unhealthy and the API answering (2 of 3), and a second
// one takes the majority away: the cluster's endpoint stops answering, as a real cluster's API does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { executePlan, loadPlan } from '../../client/apply.js';
import { readKubeconfig } from '../../client/commands.js';
import { controlPlaneWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery } from '../../workflows/messages.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { etcdMembers } from '../support/etcd-members.js';

describe('etcd quorum', () => {
  let env: CapstanEnv;
  const members = (foreignCa = false) => etcdMembers({ dataDir: env.dataDir, sim: env.simClient, cluster: 'demo', foreignCa });
  /** Whether the workload API answers /version through the cluster's endpoint right now. */
  const apiAnswers = async () => {
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));
    return kc
      .makeApiClient(CoreV1Api)
      .listNamespace({ limit: 1 })
      .then(() => true, () => false);
  };
  const controlPlaneVm = async (machine: string) => (await liveVms(env.simClient)).find((v) => v.name === machine)!;

  beforeAll(async () => {
    env = await startCapstanEnv();
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_CONTROL_PLANE }]));
    await waitForAvailable(env.client, 'demo');
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('has one healthy member per control-plane machine, reached only with the cluster\'s etcd CA', async () => {
    const machines = (await env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' })).query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort();
    const list = await members();
    expect(list.map((m) => m.name).sort()).toEqual(machines);
    expect(list.every((m) => m.healthy)).toBe(true);
    expect(new Set(list.map((m) => m.id)).size).toBe(3);
    await expect(members(true)).rejects.toThrow(/401 etcd client certificate refused: not signed by the cluster's etcd CA/);
  });

  it('a killed control-plane VM leaves an unhealthy member and the API answering; a second one loses quorum and the API', async () => {
    const [a, b] = (await members()).map((m) => m.name).sort();
    await env.simClient.vmAction((await controlPlaneVm(a!)).id, 'kill');
    const one = await eventually('one unhealthy member', async () => {
      const list = await members();
      return list.filter((m) => !m.healthy).length === 1 ? list : undefined;
    }, 30_000, 100);
    expect(one.find((m) => !m.healthy)!.name).toBe(a);
    expect(await apiAnswers()).toBe(true);

    await env.simClient.vmAction((await controlPlaneVm(b!)).id, 'kill');
    await eventually('the API to stop answering', async () => !(await apiAnswers()), 30_000, 100);
    const lost = (await allEvents(env.simClient)).filter((e) => e.type === 'etcd.quorum-lost');
    expect(lost.map((e) => e.message)).toEqual([expect.stringContaining('1 of 3 members healthy')]);
    // It stays dark: a majority of 3 members cannot come back from one.
    expect(await apiAnswers()).toBe(false);
    expect((await members()).filter((m) => m.healthy)).toHaveLength(1);
  }, 120_000);
});
