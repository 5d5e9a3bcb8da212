// A Machine's deletion in full, on real servers with real pods: Cluster API's pre-drain and
// pre-terminate hook annotations hold it until removed; the drain evicts through the workload
// cluster's Eviction API and, while a PodDisruptionBudget refuses, the Machine's Deleting
// condition names the pods left and the budget; then the instance goes, then the Node. Without a
// pre-terminate hook, drain and teardown are one activity, and a hook that comes too late is refused.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, type V1Pod } from '@kubernetes/client-node';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { machineStepActivities, type DrainAndTeardownResult } from '../../activities/machine-steps.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { secretsDir } from '../../workers/config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { readKubeconfig } from '../../client/commands.js';
import { machineWorkflowId } from '../../workflows/ids.js';
import { PRE_DRAIN_HOOK, PRE_TERMINATE_HOOK } from '../../workflows/machine.js';
import { annotateMachineUpdate, deleteMachineSignal, machineStatusQuery } from '../../workflows/messages.js';
import type { MachineView } from '../../workflows/types.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

const NS = 'default';
const ready = (p: V1Pod) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

describe('Machine deletion: hooks, drain, PodDisruptionBudgets', () => {
  let env: CapstanEnv;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let policy: PolicyV1Api;
  let victim: string;
  const machine = () => env.client.workflow.getHandle(machineWorkflowId({ namespace: NS, name: victim }));
  const deleting = async () => (await machine().query(machineStatusQuery)).status.conditions.find((c) => c.type === 'Deleting');
  const until = (what: string, ok: (v: MachineView) => boolean) =>
    eventually(what, async () => {
      const v = await machine().query(machineStatusQuery);
      return ok(v) ? v : undefined;
    }, 120_000, 250);
  const appPods = async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=demo' })).items;
  const victimVm = async () => (await liveVms(env.simClient)).find((v) => v.name === victim);
  /** The activities a machine's workflow scheduled, in order. */
  const scheduled = async (name: string) =>
    ((await env.client.workflow.getHandle(machineWorkflowId({ namespace: NS, name })).fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((n): n is string => !!n);
  const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
  const capstan = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env.env }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    env = await startCapstanEnv();
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_WITH_WORKER_MACHINES.replace('replicas: 3', 'replicas: 1') }]));
    await waitForAvailable(env.client, 'demo');
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(env.dataDir, NS, 'demo'));
    [core, apps, policy] = [kc.makeApiClient(CoreV1Api), kc.makeApiClient(AppsV1Api), kc.makeApiClient(PolicyV1Api)];
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'demo' },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: 'demo' } },
          template: { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'pause', image: 'sim/pause:1' }] } },
        },
      },
    });
    const pods = await eventually('4 ready pods', async () => {
      const p = await appPods();
      return p.length === 4 && p.every(ready) ? p : undefined;
    }, 120_000, 250);
    // No disruption allowed: every eviction is refused while the budget stands.
    await policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'demo' }, spec: { minAvailable: 4, selector: { matchLabels: { app: 'demo' } } } } });
    victim = pods.map((p) => p.spec!.nodeName!).find((n) => n.startsWith('demo-worker-'))!;
    expect(victim).toBeDefined();
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('refuses an annotation key that is not a qualified name, naming the field', async () => {
    const err = await machine().executeUpdate(annotateMachineUpdate, { args: [{ set: { 'not a key': 'x' } }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('metadata.annotations: "not a key" is not a valid annotation key');
  });

  it('holds the deletion at a pre-drain hook: nothing is cordoned, the VM runs', async () => {
    const set = { [`${PRE_DRAIN_HOOK}backup`]: '', [`${PRE_TERMINATE_HOOK}detach`]: '' };
    expect(await machine().executeUpdate(annotateMachineUpdate, { args: [{ set }] })).toMatchObject(set);
    await machine().signal(deleteMachineSignal);
    await until('WaitingForPreDrainHook', (v) => v.status.conditions.some((c) => c.type === 'Deleting' && c.reason === 'WaitingForPreDrainHook'));
    expect((await deleting())!.message).toBe(`Waiting for pre-drain hooks to succeed (hooks: ${PRE_DRAIN_HOOK}backup)`);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await core.readNode({ name: victim })).spec?.unschedulable).toBeFalsy();
    expect((await victimVm())?.state).toBe('running');
  }, 120_000);

  it('drains once the hook is removed; while the budget refuses, the condition names the pods and the budget', async () => {
    // As an operator does it: `capstan annotate machine NAME KEY-`.
    const r = await capstan(['annotate', 'machine', victim, `${PRE_DRAIN_HOOK}backup-`]);
    expect(r).toMatchObject({ code: 0, stdout: `machine.cluster.capstan.dev/${victim} annotated\n` });
    const v = await until('the drain to be blocked', (x) => x.status.conditions.some((c) => c.type === 'Deleting' && c.reason === 'DrainingNode' && c.message.includes('PodDisruptionBudget')));
    const c = v.status.conditions.find((x) => x.type === 'Deleting')!;
    const onVictim = (await appPods()).filter((p) => p.spec!.nodeName === victim).map((p) => `${NS}/${p.metadata!.name}`).sort();
    expect(onVictim.length).toBeGreaterThan(0);
    expect(c.message).toContain(`Draining Node ${victim}: ${onVictim.length} pod(s) left: ${onVictim.slice(0, 3).join(', ')}`);
    expect(c.message).toContain('eviction refused by PodDisruptionBudget demo');
    expect((await core.readNode({ name: victim })).spec?.unschedulable).toBe(true);
    expect((await victimVm())?.state).toBe('running');
  }, 120_000);

  it('finishes the drain when the budget allows it, then holds at the pre-terminate hook with the VM still running', async () => {
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'demo', namespace: NS });
    await until('WaitingForPreTerminateHook', (x) => x.status.conditions.some((c) => c.type === 'Deleting' && c.reason === 'WaitingForPreTerminateHook'));
    expect((await deleting())!.message).toBe(`Waiting for pre-terminate hooks to succeed (hooks: ${PRE_TERMINATE_HOOK}detach)`);
    expect((await appPods()).filter((p) => p.spec!.nodeName === victim)).toEqual([]);
    const pods = await eventually('4 ready pods elsewhere', async () => {
      const p = await appPods();
      return p.length === 4 && p.every(ready) ? p : undefined;
    }, 60_000, 250);
    expect(pods.every((p) => p.spec!.nodeName !== victim)).toBe(true);
    expect((await victimVm())?.state).toBe('running');
  }, 120_000);

  it('deletes the instance and then the Node once the last hook is removed', async () => {
    await machine().executeUpdate(annotateMachineUpdate, { args: [{ remove: [`${PRE_TERMINATE_HOOK}detach`] }] });
    expect((await machine().result()).phase).toBe('Deleted');
    expect(await victimVm()).toBeUndefined();
    expect((await core.listNode({})).items.map((n) => n.metadata!.name)).not.toContain(victim);
    // With a pre-terminate hook, the drain and the teardown are separate activities.
    expect(await scheduled(victim)).toEqual(expect.arrayContaining(['drainNode', 'teardownMachine']));
    expect(await scheduled(victim)).not.toContain('drainAndTeardownMachine');
  }, 120_000);

  it('without a pre-terminate hook, drains and tears down in one activity (revision 7); a pre-terminate hook added during that drain is refused', async () => {
    // The other worker now holds every pod; the budget refuses every eviction again.
    victim = (await core.listNode({})).items.map((n) => n.metadata!.name!).find((n) => n.startsWith('demo-worker-'))!;
    expect(victim).toBeDefined();
    await policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name: 'demo' }, spec: { minAvailable: 4, selector: { matchLabels: { app: 'demo' } } } } });
    await machine().signal(deleteMachineSignal);
    await until('the drain to be blocked', (x) => x.status.conditions.some((c) => c.type === 'Deleting' && c.reason === 'DrainingNode' && c.message.includes('PodDisruptionBudget')));
    const hook = `${PRE_TERMINATE_HOOK}late`;
    const err = await machine().executeUpdate(annotateMachineUpdate, { args: [{ set: { [hook]: '' } }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain(`metadata.annotations[${JSON.stringify(hook)}]: too late for a pre-terminate hook`);
    expect((await machine().query(machineStatusQuery)).annotations).not.toHaveProperty(hook);
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'demo', namespace: NS });
    expect((await machine().result()).phase).toBe('Deleted');
    expect(await victimVm()).toBeUndefined();
    expect((await core.listNode({})).items.map((n) => n.metadata!.name)).not.toContain(victim);
    expect((await appPods()).filter((p) => p.spec!.nodeName === victim)).toEqual([]);
    const steps = await scheduled(victim);
    expect(steps.filter((s) => s === 'drainAndTeardownMachine').length).toBeGreaterThanOrEqual(2); // a blocked slice, then the last
    expect(steps).not.toContain('drainNode');
    expect(steps).not.toContain('teardownMachine');
  }, 180_000);

  it('drainAndTeardownMachine, retried once its instance is gone, tears down without draining again; a Node it cannot delete in nodeDeletionTimeout is said', async () => {
    const vm = (await env.simClient.listVms({})).find((v) => v.name === victim)!;
    expect(vm.state).toBe('terminated');
    const secrets = new FileSecretStore(secretsDir(env.dataDir));
    // A cluster with no kubeconfig: every call to its API fails (retryably) for as long as it is asked.
    const gone = { namespace: NS, name: 'no-such-cluster' };
    const input = {
      drain: { cluster: gone, nodeName: victim, timeoutSeconds: 0, sliceSeconds: 5 },
      teardown: { instanceId: vm.id, clientToken: 'none', providerClusterId: vm.clusterId },
    };
    const fast = machineStepActivities({ sim: env.simClient, secrets, pollMs: 100, unreachableGraceMs: 1000 });
    // The first attempt drains, and the failing API fails it (the planted case: a retry that drained again would too).
    await expect(new MockActivityEnvironment({ attempt: 1 }).run(fast.drainAndTeardownMachine, input)).rejects.toThrow();
    expect(await new MockActivityEnvironment({ attempt: 2 }).run(fast.drainAndTeardownMachine, input)).toEqual({ drain: { evicted: 0, done: true, timedOut: false }, teardown: { skipped: [] } });
    // nodeDeletionTimeout counts from the Node's deletion, and giving up comes back for the Deleting condition.
    const patient = machineStepActivities({ sim: env.simClient, secrets, pollMs: 100, unreachableGraceMs: 30_000 });
    const withNode = { ...input, teardown: { ...input.teardown, node: { cluster: gone, nodeName: victim, timeoutSeconds: 1 } } };
    expect(((await new MockActivityEnvironment({ attempt: 2 }).run(patient.drainAndTeardownMachine, withNode)) as DrainAndTeardownResult).teardown).toEqual({
      skipped: [{ what: `deleting Node ${victim}`, type: 'NodeDeletionTimedOut', message: 'gave up after nodeDeletionTimeout (1s)' }],
    });
  }, 60_000);

  it('a Machine deleted and applied again under its name is made again, as a new machine (revision 9)', async () => {
    const before = (await env.simClient.listVms({})).filter((v) => v.name === victim).map((v) => v.id);
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_WITH_WORKER_MACHINES.replace('replicas: 3', 'replicas: 1') }]));
    expect(lines).toContainEqual(expect.objectContaining({ object: `machine.cluster.capstan.dev/${victim}`, result: 'created' }));
    const v = await until('the machine made again to be Running', (x) => x.status.phase === 'Running');
    expect(v.status.providerID).toBeDefined();
    const vm = (await victimVm())!;
    expect(before).not.toContain(vm.id);
    // Applied again as it is, it is unchanged.
    const again = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_WITH_WORKER_MACHINES.replace('replicas: 3', 'replicas: 1') }]));
    expect(again).toContainEqual(expect.objectContaining({ object: `machine.cluster.capstan.dev/${victim}`, result: 'unchanged' }));
  }, 180_000);

  it('a Machine applied again while its workflow ID is still held waits for it, and its Cluster lives on (revision 9)', async () => {
    await machine().signal(deleteMachineSignal);
    expect((await machine().result()).phase).toBe('Deleted');
    const cluster = env.client.workflow.getHandle('cluster/default/demo');
    await eventually('the Cluster to know the machine is gone', async () => ((await cluster.describe()).status.name === 'RUNNING' && !(await victimVm()) ? true : undefined), 60_000, 250);
    // Something else holds the machine's workflow ID, as an earlier run still ending would: a
    // workflow on a task queue no worker polls. The Cluster's start of the new machine is refused
    // with WorkflowExecutionAlreadyStartedError; before revision 9 that failed the Cluster.
    const holder = await env.client.workflow.start('Placeholder', { taskQueue: `${env.taskQueue}-nobody`, workflowId: machineWorkflowId({ namespace: NS, name: victim }), args: [] });
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_WITH_WORKER_MACHINES.replace('replicas: 3', 'replicas: 1') }]));
    expect(lines).toContainEqual(expect.objectContaining({ object: `machine.cluster.capstan.dev/${victim}`, result: 'created' }));
    // The Cluster tries again every second while the ID is held (a timer each, no failure).
    await eventually('the Cluster to have tried twice', async () => {
      const events = (await cluster.fetchHistory()).events ?? [];
      const refused = events.filter((e) => e.startChildWorkflowExecutionFailedEventAttributes?.workflowId === holder.workflowId);
      return refused.length >= 2 ? refused : undefined;
    }, 60_000, 250);
    expect((await cluster.describe()).status.name).toBe('RUNNING');
    expect(await victimVm()).toBeUndefined();
    await holder.terminate('the test lets the ID go');
    const v = await until('the machine to be made once the ID is free', (x) => x.status.phase === 'Running');
    expect(v.status.providerID).toBeDefined();
    expect((await env.simClient.listVms({})).filter((x) => x.name === victim && x.state !== 'terminated')).toHaveLength(1);
    expect((await cluster.describe()).status.name).toBe('RUNNING');
  }, 180_000);
});
