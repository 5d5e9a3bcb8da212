// Nothing is lost and nothing is doubled: the worker runs as its own process and is killed
// with SIGKILL mid-creation; the simulated cloud is killed and restarted mid-creation; the
// cloud answers 500 after committing creates. Each still ends with exactly one VM per Machine
// and an Available cluster, and delete leaves no VM and no endpoint. Through all of it, no
// secret reaches a workflow history, the worker's log or the cloud's log.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { canConnect } from '../../scripts/lib/ports.js';
import { clusterWorkflowId } from '../../workflows/ids.js';
import { deleteClusterUpdate } from '../../workflows/messages.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, liveVms, nodeReady, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import { logFilesUnder, scanHistories, scanLogsUnder, storeNeedles, type Needle } from '../support/secret-scan.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

// The demo's control plane with two individual worker Machines (demo-worker-1 and -2).
const demo = DEMO_WITH_WORKER_MACHINES;

/** The demo manifest under another cluster name (all object names prefixed). */
function manifest(name: string): string {
  return demo.replace(/\bdemo\b/g, name);
}

async function apply(env: CapstanEnv, name: string) {
  return executePlan(env.client, env.taskQueue, loadPlan([{ file: `${name}.yaml`, text: manifest(name) }]));
}

async function clusterIdOf(env: CapstanEnv, name: string): Promise<string> {
  return eventually(`provider cluster of ${name}`, async () => (await env.simClient.listClusters()).find((c) => c.name === `default-${name}` && c.state === 'available')?.id);
}

/** Exactly one VM per Machine: 5 live VMs, 5 creates in the event log, 5 Ready Nodes. */
async function expectExactlyFive(env: CapstanEnv, name: string) {
  const id = await clusterIdOf(env, name);
  expect(await liveVms(env.simClient, id)).toHaveLength(5);
  const creates = (await allEvents(env.simClient)).filter((e) => e.type === 'vm.created' && e.clusterId === id);
  expect(creates).toHaveLength(5);
  const nodes = await workloadNodes(env.dataDir, name);
  expect(nodes).toHaveLength(5);
  expect(nodes.every(nodeReady)).toBe(true);
}

/** Activity executions whose final attempt was not the first, across all histories. */
async function retriedActivities(env: CapstanEnv): Promise<number> {
  let retried = 0;
  for await (const wf of env.client.workflow.list()) {
    const h = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of h.events ?? []) if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retried++;
  }
  return retried;
}

/** The secret store's needles of every cluster, gathered before each is deleted (delete empties the store). */
const needles: Needle[] = [];

async function deleteAndExpectNothingLeft(env: CapstanEnv, name: string) {
  const clusterNeedles = await storeNeedles(env.dataDir);
  needles.push(...clusterNeedles);
  // Now, while the cloud still keeps this cluster's kube-apiserver and controller-manager logs (delete removes them).
  expect(logFilesUnder(env.dataDir).some((f) => f.endsWith('kube-apiserver.log'))).toBe(true);
  expect(scanLogsUnder(env.dataDir, clusterNeedles)).toEqual([]);
  const id = await clusterIdOf(env, name);
  const endpoint = (await env.simClient.getCluster(id)).endpoint;
  const handle = env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name }));
  await handle.executeUpdate(deleteClusterUpdate);
  await handle.result();
  expect(await liveVms(env.simClient, id)).toEqual([]);
  expect((await env.simClient.getCluster(id)).state).toBe('deleted');
  expect(await canConnect(endpoint.host, endpoint.port, 500)).toBe(false);
}

describe('crash and fault recovery (worker as its own process)', () => {
  let env: CapstanEnv;
  beforeAll(async () => {
    env = await startCapstanEnv({ worker: 'process' });
  }, 180_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('a 500 after the cloud committed a create still yields exactly one VM per machine', async () => {
    await env.simClient.setFaults({ failAfterCommitRate: 0.5, errorRate: 0.1, throttleRate: 0.1 });
    try {
      await apply(env, 'faulty');
      await waitForAvailable(env.client, 'faulty');
    } finally {
      await env.simClient.setFaults({ failAfterCommitRate: 0, errorRate: 0, throttleRate: 0 });
    }
    // The faults were really hit: some activities needed more than one attempt.
    expect(await retriedActivities(env)).toBeGreaterThan(0);
    await expectExactlyFive(env, 'faulty');
    await deleteAndExpectNothingLeft(env, 'faulty');
  }, 400_000);

  it('kill -9 of the worker mid-creation: a new worker finishes with exactly 5 VMs', async () => {
    await apply(env, 'workerkill');
    const id = await clusterIdOf(env, 'workerkill');
    // Mid-creation: the init machine exists, the joins have not all happened.
    await eventually('the init VM', async () => (await liveVms(env.simClient, id)).length >= 1);
    await env.workerProcess!.kill9();
    await new Promise((r) => setTimeout(r, 1000));
    await env.startWorker();
    await waitForAvailable(env.client, 'workerkill');
    await expectExactlyFive(env, 'workerkill');
    await deleteAndExpectNothingLeft(env, 'workerkill');
  }, 400_000);

  it('kill -9 and restart of the simulated cloud mid-creation: exactly 5 VMs and an Available cluster', async () => {
    await apply(env, 'cloudkill');
    const id = await clusterIdOf(env, 'cloudkill');
    await eventually('two VMs', async () => (await liveVms(env.simClient, id)).length >= 2);
    await env.sim.kill9();
    await new Promise((r) => setTimeout(r, 1000));
    await env.restartSim();
    await waitForAvailable(env.client, 'cloudkill');
    await expectExactlyFive(env, 'cloudkill');
    await deleteAndExpectNothingLeft(env, 'cloudkill');
  }, 400_000);

  it('no key, token or client key of any of the three clusters is in a history or a log (worker, cloud, Temporal, kube-apiservers)', async () => {
    // Keys of three clusters (four each) and at least a token per machine.
    expect(needles.filter((n) => n.origin.endsWith('-ca tls.key line 1'))).toHaveLength(3);
    expect(needles.filter((n) => n.origin.endsWith(' token secret')).length).toBeGreaterThanOrEqual(15);
    expect(await scanHistories(env.client, needles)).toEqual([]);
    expect(logFilesUnder(env.dataDir)).toEqual(expect.arrayContaining(['worker.log', 'sim.log', 'temporal.log'].map((f) => join(env.dataDir, f))));
    expect(scanLogsUnder(env.dataDir, needles)).toEqual([]);
  }, 120_000);
});
