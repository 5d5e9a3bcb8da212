// The whole first slice on real servers: a 3 control-plane + 2 worker cluster is created by
// the workflows on the simulated cloud (real kube-apiserver, real TLS bootstrap), held at the
// init gate, becomes Available with 5 Ready Nodes, and is deleted leaving nothing behind; no
// secret reaches a workflow history or a log, and the scan that says so is shown to fail.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, executePlan, loadPlan } from '../../client/apply.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { canConnect } from '../../scripts/lib/ports.js';
import { secretsDir } from '../../workers/config.js';
import { clusterWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { deleteClusterUpdate, machineStatusQuery } from '../../workflows/messages.js';
import { eventually, fetchHistories, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, liveVms, nodeReady, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import { logFilesUnder, scanHistories, scanLog, scanLogsUnder, storeNeedles, type Needle } from '../support/secret-scan.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

// The demo's control plane with two individual worker Machines (demo-worker-1 and -2).
const demo = DEMO_WITH_WORKER_MACHINES;
const plan = (text = demo) => loadPlan([{ file: 'demo.yaml', text }]);

describe('cluster lifecycle', () => {
  let env: CapstanEnv;
  /** What the secret store held while the cluster ran (it is empty after delete). */
  let needles: Needle[] = [];
  beforeAll(async () => {
    env = await startCapstanEnv();
  }, 180_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('creates a 3+2 cluster whose workload API lists 5 Ready Nodes', async () => {
    const lines = await executePlan(env.client, env.taskQueue, plan());
    expect(lines.map((l) => `${l.object} ${l.result}`)).toEqual([
      'cluster.cluster.capstan.dev/demo created',
      'kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane created',
      'machine.cluster.capstan.dev/demo-worker-1 created',
      'machine.cluster.capstan.dev/demo-worker-2 created',
    ]);
    const view = await waitForAvailable(env.client, 'demo');
    expect(view.status.phase).toBe('Provisioned');
    expect(view.status.controlPlane).toEqual({ desiredReplicas: 3, replicas: 3, readyReplicas: 3 });
    expect(view.status.workers).toEqual({ desiredReplicas: 2, replicas: 2, readyReplicas: 2 });

    const nodes = await workloadNodes(env.dataDir, 'demo');
    expect(nodes).toHaveLength(5);
    expect(nodes.every(nodeReady)).toBe(true);
    const vms = await liveVms(env.simClient);
    expect(vms).toHaveLength(5);
    expect(new Set(nodes.map((n) => n.spec?.providerID))).toEqual(new Set(vms.map((v) => v.providerID)));
    // kubeadm's mark-control-plane phase labels a joined Node, possibly just after it is Ready.
    const controlPlaneNodes = await eventually('3 Nodes labelled control-plane', async () => {
      const labelled = (await workloadNodes(env.dataDir, 'demo')).filter((n) => 'node-role.kubernetes.io/control-plane' in (n.metadata?.labels ?? {}));
      return labelled.length === 3 ? labelled : undefined;
    }, 30_000, 250);
    expect(controlPlaneNodes).toHaveLength(3);
    expect(nodes.map((n) => n.metadata!.name).sort()).toContain('demo-worker-1');
  }, 300_000);

  it('created no join or worker VM before the init machine’s API answered', async () => {
    const events = await allEvents(env.simClient);
    const clusterId = (await liveVms(env.simClient))[0]!.clusterId;
    const apiReady = events.find((e) => e.type === 'apiserver.ready' && e.clusterId === clusterId);
    expect(apiReady).toBeDefined();
    const created = events.filter((e) => e.type === 'vm.created' && e.clusterId === clusterId);
    expect(created.map((e) => e.data?.role).sort()).toEqual(['control-plane-join', 'control-plane-join', 'init', 'worker-join', 'worker-join']);
    const init = created.find((e) => e.data?.role === 'init')!;
    expect(init.seq).toBeLessThan(apiReady!.seq);
    for (const e of created.filter((e) => e.data?.role !== 'init')) expect(e.seq).toBeGreaterThan(apiReady!.seq);
    expect(events.filter((e) => e.type === 'bootstrap.failed')).toEqual([]);
  });

  it('starts nothing new on a second apply of the same manifest', async () => {
    const lines = await executePlan(env.client, env.taskQueue, plan());
    expect(lines.every((l) => l.result === 'unchanged')).toBe(true);
    expect(await liveVms(env.simClient)).toHaveLength(5);
  });

  it('refuses to change a Machine in place, naming the field', async () => {
    const changed = demo.replace(/(name: demo-worker-1\n  labels:[\s\S]*?version: )v1\.37\.2/, '$1v1.37.3');
    await expect(executePlan(env.client, env.taskQueue, plan(changed))).rejects.toThrow(
      /Machine "demo-worker-1" is immutable: spec\.version cannot be changed; Machines are replaced, not updated/,
    );
  });

  it('refuses a spec change to the Cluster’s control plane other than its replicas, and changes nothing', async () => {
    const changed = demo.replace('replicas: 3', 'replicas: 5').replace('value: "7"', 'value: "8"');
    expect(changed).not.toBe(demo.replace('replicas: 3', 'replicas: 5'));
    const err = await executePlan(env.client, env.taskQueue, plan(changed)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as Error).message).toMatch(/controlPlane\.spec\.kubeadmConfigSpec\.clusterConfiguration\.apiServer\.extraArgs\[0\]\.value/);
    expect((err as Error).message).not.toMatch(/controlPlane\.spec\.replicas/);
    // Nothing changed: not even the replicas, which alone would have been accepted.
    expect((await clusterView(env.client, 'demo')).status.controlPlane.desiredReplicas).toBe(3);
  });

  it('marks a Machine Failed, with the reason on its conditions, when its instance dies before it runs', async () => {
    await env.simClient.setFaults({ neverBoot: 1 });
    const worker3 = demo
      .slice(demo.indexOf('apiVersion: cluster.capstan.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: demo-worker-2'))
      .replaceAll('demo-worker-2', 'demo-worker-3');
    const lines = await executePlan(env.client, env.taskQueue, plan(`${demo}\n---\n${worker3}`));
    expect(lines.find((l) => l.object.endsWith('/demo-worker-3'))?.result).toBe('created');
    const vm = await eventually('the instance of demo-worker-3', async () => (await liveVms(env.simClient)).find((v) => v.name === 'demo-worker-3'));
    expect(vm.state).toBe('pending');
    await env.simClient.vmAction(vm.id, 'kill');
    const m = await eventually('demo-worker-3 to fail', async () => {
      const v = await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: 'demo-worker-3' })).query(machineStatusQuery);
      return v.status.phase === 'Failed' ? v : undefined;
    });
    expect(m.status.failureReason).toBe('InstanceTerminated');
    expect(m.status.conditions.find((c) => c.type === 'InfrastructureReady')).toMatchObject({ status: 'False', reason: 'InstanceTerminated' });
    expect(m.status.failureMessage).toMatch(/killed/);
    // The cluster says so too: one of three workers is not available.
    expect((await clusterView(env.client, 'demo')).status.workers).toEqual({ desiredReplicas: 3, replicas: 3, readyReplicas: 2 });
  }, 120_000);

  it('keeps every private key, token and kubeconfig out of workflow histories and logs', async () => {
    needles = await storeNeedles(env.dataDir);
    const origins = needles.map((n) => n.origin);
    // Every key the cluster has, the admin client key, and a token per machine's bootstrap data.
    for (const s of ['demo-ca', 'demo-etcd', 'demo-proxy', 'demo-sa']) expect(origins).toContain(`store:default/${s} tls.key line 2`);
    expect(origins).toContain('store:default/demo-kubeconfig value client-key-data of kubernetes-admin');
    expect(origins.filter((o) => o.endsWith(' token secret')).length).toBeGreaterThanOrEqual(5);
    expect(await scanHistories(env.client, needles)).toEqual([]);
    // The cloud's, Temporal's and the cloud's kube-apiservers' logs (the worker logs to this process's console).
    const logs = logFilesUnder(env.dataDir);
    expect(logs).toEqual(expect.arrayContaining([join(env.dataDir, 'sim.log'), join(env.dataDir, 'temporal.log')]));
    expect(scanLogsUnder(env.dataDir, needles)).toEqual([]);
  }, 60_000);

  it('deletes in Cluster API order and leaves no VM, endpoint or secret behind', async () => {
    const vms = await liveVms(env.simClient);
    const clusterId = vms[0]!.clusterId;
    const endpoint = (await env.simClient.getCluster(clusterId)).endpoint;
    const handle = env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'demo' }));
    await handle.executeUpdate(deleteClusterUpdate);
    const final = await handle.result();
    expect(final.phase).toBe('Deleted');

    expect(await liveVms(env.simClient)).toEqual([]);
    expect((await env.simClient.getCluster(clusterId)).state).toBe('deleted');
    expect(await canConnect(endpoint.host, endpoint.port, 500)).toBe(false);

    // Workers went first: every worker VM terminated before any control-plane VM did.
    const events = await allEvents(env.simClient);
    const role = new Map(events.filter((e) => e.type === 'vm.created').map((e) => [e.vmId, e.data?.role]));
    const terminations = events.filter((e) => e.type === 'vm.shutting-down' && e.clusterId === clusterId).map((e) => role.get(e.vmId));
    expect(terminations.filter((r) => r === 'worker-join').length).toBeGreaterThanOrEqual(2);
    expect(terminations.lastIndexOf('worker-join')).toBeLessThan(terminations.findIndex((r) => r !== 'worker-join'));
    const infraDeleted = events.find((e) => e.type === 'cluster.deleted' && e.clusterId === clusterId)!;
    expect(events.filter((e) => e.type === 'vm.terminated').every((e) => e.seq < infraDeleted.seq)).toBe(true);

    await eventually('machine workflows to complete', async () => {
      const running = env.client.workflow.list({ query: 'CapstanKind = "Machine" AND ExecutionStatus = "Running"' });
      return (await running[Symbol.asyncIterator]().next()).done === true;
    });
    expect(await new FileSecretStore(secretsDir(env.dataDir)).list('default', {})).toEqual([]);
    expect(await storeNeedles(env.dataDir)).toEqual([]);
  }, 300_000);

  it('replays every history with today’s workflow code (no nondeterminism)', async () => {
    const histories = await fetchHistories(env.client);
    expect(histories.length).toBeGreaterThanOrEqual(7);
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    for await (const r of results) expect(r.error, r.workflowId).toBeUndefined();
  }, 120_000);

  // After the replay above: the canary's workflow type is registered nowhere, so it cannot replay.
  it('the history scan, run over every history including the deletion, finds exactly a stored key line planted in a workflow input', async () => {
    const keyLine = needles.find((n) => n.origin === 'store:default/demo-ca tls.key line 2')!;
    // A workflow type nobody registered, on a task queue nobody polls: its start event holds the argument.
    const canary = await env.client.workflow.start('SecretCanary', { workflowId: 'secret-canary', taskQueue: 'secret-canary', args: [{ note: keyLine.text }] });
    try {
      await eventually('the canary to be listed', async () => (await env.client.workflow.list({ query: 'WorkflowId = "secret-canary"' })[Symbol.asyncIterator]().next()).done === false);
      expect(await scanHistories(env.client, needles)).toEqual([
        { where: `secret-canary (run ${canary.firstExecutionRunId}) event 1 workflowExecutionStartedEventAttributes.input.payloads[0]`, kind: keyLine.origin },
      ]);
    } finally {
      await canary.terminate('secret scan canary');
    }
  }, 60_000);

  it('the log scan finds exactly a stored token secret planted in a copy of the cloud’s log', () => {
    const tokenSecret = needles.find((n) => n.origin.endsWith(' token secret'))!;
    const lines = readFileSync(join(env.dataDir, 'sim.log'), 'utf8').split('\n');
    expect(lines.length).toBeGreaterThan(10);
    const at = Math.floor(lines.length / 2);
    lines.splice(at, 0, `kubelet: joining with ${tokenSecret.text}`);
    const copy = join(env.dataDir, 'sim.planted.log');
    writeFileSync(copy, lines.join('\n'));
    expect(scanLog(copy, needles, 'sim.log (planted copy)')).toEqual([{ where: `sim.log (planted copy):${at + 1}`, kind: tokenSecret.origin }]);
  });
});
