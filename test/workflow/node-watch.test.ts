// The worker's Node watch (activities/node-watch.ts) against a real workload kube-apiserver: one
// list + watch per cluster shared by every wait, a wait answered by a change the watch delivers
// (the node-not-ready fault of the simulated cloud), and the waits of the Machine activities
// resolved from it.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { NodeWatches } from '../../activities/node-watch.js';
import { workloadActivities } from '../../activities/workload.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { secretsDir } from '../../workers/config.js';
import { startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

const cluster = { namespace: 'default', name: 'demo' };
const readyOf = (n: V1Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('Node watch: one informer per workload cluster', () => {
  let env: CapstanEnv;
  let watches: NodeWatches;
  let nodeName: string;
  let providerID: string;
  let vmId: string;
  const act = new MockActivityEnvironment();

  beforeAll(async () => {
    env = await startCapstanEnv();
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1') }]));
    await waitForAvailable(env.client, 'demo');
    const vm = (await liveVms(env.simClient))[0]!;
    [nodeName, providerID, vmId] = [vm.name, vm.providerID, vm.id];
    watches = new NodeWatches(new FileSecretStore(secretsDir(env.dataDir)));
  }, 300_000);
  afterAll(async () => {
    await watches?.close();
    await env?.stop();
  });

  it('answers concurrent waits on one cluster from one watch', async () => {
    const byName = act.run(() => watches.waitFor(cluster, (l) => l.find((n) => n.metadata?.name === nodeName), { waiting: () => 'no node', graceMs: 10_000 }));
    const byProvider = act.run(() => watches.waitFor(cluster, (l) => l.find((n) => n.spec?.providerID === providerID)?.metadata?.name, { waiting: () => 'no node', graceMs: 10_000 }));
    const [node, name] = (await Promise.all([byName, byProvider])) as [V1Node, string];
    expect(node.metadata?.name).toBe(nodeName);
    expect(name).toBe(nodeName);
    expect(watches.active).toEqual(['default/demo']);
  });

  it('resolves a wait on the change the watch delivers: Ready=False, then True again', async () => {
    const notReady = act.run(() => watches.waitFor(cluster, (l) => (readyOf(l.find((n) => n.metadata?.name === nodeName)) === 'False' ? true : undefined), { waiting: () => 'still Ready', graceMs: 10_000 }));
    await env.simClient.vmAction(vmId, 'node-not-ready');
    expect(await notReady).toBe(true);
    // The Machine activity's wait, on the worker's shared watch.
    const acts = workloadActivities({ secrets: new FileSecretStore(secretsDir(env.dataDir)), nodeWatches: watches });
    const ready = act.run(acts.waitForNodeReady, { cluster, nodeName });
    let settled = false;
    void ready.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(settled).toBe(false); // still NotReady: the wait waits
    await env.simClient.vmAction(vmId, 'node-ready');
    await ready;
    expect(await act.run(acts.waitForNode, { cluster, providerID })).toEqual({ nodeName });
    expect(watches.active).toEqual(['default/demo']);
  });

  it('stops every watch on close', async () => {
    await watches.close();
    expect(watches.active).toEqual([]);
  });
});
