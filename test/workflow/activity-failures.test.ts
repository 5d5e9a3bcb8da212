// What an operator sees when a step keeps failing, on a real Temporal server: a retryable
// failure reaches the object's condition message after a round of attempts
// ("renderBootstrapData: 5 attempts: secret default/… not found") while the step goes on being
// retried; a non-retryable one ends the step with its type as the condition's reason.
// The simulated cloud runs with the noop runtime: no Kubernetes is needed to fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { secretsDir } from '../../workers/config.js';
import { ATTEMPTS_PER_ROUND } from '../../workflows/activity-proxies.js';
import { machineWorkflowId } from '../../workflows/ids.js';
import { deleteClusterUpdate, machineStatusQuery } from '../../workflows/messages.js';
import { MachineWorkflow } from '../../workflows/machine.js';
import { objectSearchAttributes } from '../../workflows/search-attributes.js';
import type { MachineWorkflowInput } from '../../workflows/types.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { clusterView } from '../support/cluster-checks.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

// The demo's control plane with two individual worker Machines (demo-worker-1 and -2).
const demo = DEMO_WITH_WORKER_MACHINES;

describe('activity failures on the object', () => {
  let env: CapstanEnv;
  beforeAll(async () => {
    env = await startCapstanEnv({ simRuntime: 'noop' });
  }, 180_000);
  afterAll(async () => {
    await env?.stop();
  });

  /** A worker Machine of cluster `cluster` whose certificates were never generated. */
  const startMachine = async (cluster: string, name: string) => {
    const plan = loadPlan([{ file: 'demo.yaml', text: demo }]);
    const m = plan.machines[0]!;
    const input: MachineWorkflowInput = {
      machine: { name, namespace: 'default', uid: `uid-${name}`, labels: {}, spec: { ...m.machine.spec, clusterName: cluster } },
      role: 'worker-join',
      bootstrapConfig: m.bootstrapConfig!.spec,
      bootstrapConfigName: name,
      infrastructure: m.infrastructure.spec,
      cluster: {
        key: { namespace: 'default', name: cluster },
        uid: `uid-${cluster}`,
        providerClusterId: 'c-none',
        endpoint: { host: '127.0.0.1', port: 6443 },
        clusterNetwork: plan.clusters[0]!.cluster.spec.clusterNetwork,
      },
      ownerWorkflowId: 'nobody',
      gateOpen: true,
    };
    return env.client.workflow.start(MachineWorkflow, {
      workflowId: machineWorkflowId({ namespace: 'default', name }),
      taskQueue: env.taskQueue,
      args: [input],
      typedSearchAttributes: objectSearchAttributes('Machine', 'default', cluster, 'Pending'),
    });
  };

  it('shows a retryable failure on the step’s condition after a round of attempts, and keeps retrying', async () => {
    const h = await startMachine('nocerts', 'nocerts-worker');
    const view = await eventually('the retries to reach BootstrapConfigReady', async () => {
      const v = await h.query(machineStatusQuery);
      const c = v.status.conditions.find((x) => x.type === 'BootstrapConfigReady');
      return c?.message.includes('attempts') ? v : undefined;
    }, 90_000, 500);
    const c = view.status.conditions.find((x) => x.type === 'BootstrapConfigReady')!;
    expect(c.message).toBe(
      `renderBootstrapData: ${ATTEMPTS_PER_ROUND} attempts: secret default/nocerts-ca not found: cluster certificates are not generated yet`,
    );
    expect(view.status.phase).toBe('Pending');
    // Still being retried: the workflow is open and has scheduled a second round.
    const { status } = await h.describe();
    expect(status.name).toBe('RUNNING');
    await h.terminate('test done');
  }, 120_000);

  it('ends the step on a non-retryable failure with its type as the reason: the Machine is Failed', async () => {
    const secrets = new FileSecretStore(secretsDir(env.dataDir));
    for (const suffix of ['ca', 'etcd', 'proxy', 'sa']) {
      await secrets.put('default', `broken-${suffix}`, { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': 'junk', 'tls.key': 'junk' } });
    }
    const h = await startMachine('broken', 'broken-worker');
    const view = await eventually('the Machine to fail', async () => {
      const v = await h.query(machineStatusQuery);
      return v.status.phase === 'Failed' ? v : undefined;
    }, 60_000, 250);
    expect(view.status.conditions.find((x) => x.type === 'BootstrapConfigReady')).toMatchObject({
      status: 'False',
      reason: 'MalformedSecret',
      message: 'secret default/broken-ca is malformed: tls.crt is not a PEM certificate',
    });
    expect(view.status.conditions.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'MalformedSecret' });
    expect(view.status.failureReason).toBe('MalformedSecret');
    // One attempt: a non-retryable failure is not retried.
    const history = await h.fetchHistory();
    expect(history.events!.filter((e) => e.activityTaskStartedEventAttributes).length).toBe(1);
    await h.terminate('test done');
  }, 90_000);

  it('fails a Cluster whose infrastructure the cloud refuses, with the cloud’s reason, and still deletes it', async () => {
    const text = demo.replace('region: sim-local-1', 'region: Not_A_Region').replaceAll('demo', 'badregion');
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'bad.yaml', text }]));
    const view = await eventually('the Cluster to fail', async () => {
      const v = await clusterView(env.client, 'badregion');
      return v.status.phase === 'Failed' ? v : undefined;
    }, 60_000, 250);
    expect(view.status.conditions.find((c) => c.type === 'InfrastructureReady')).toMatchObject({
      status: 'False',
      reason: 'ProviderValidationError',
      message: expect.stringContaining('region'),
    });
    const h = env.client.workflow.getHandle('cluster/default/badregion');
    await h.executeUpdate(deleteClusterUpdate);
    expect((await h.result()).phase).toBe('Deleted');
  }, 90_000);

  it('shows a control plane that cannot have its certificates on the Cluster’s ControlPlaneAvailable', async () => {
    // A user-supplied CA that is not PEM: kept as given (never overwritten), refused for good.
    const secrets = new FileSecretStore(secretsDir(env.dataDir));
    await secrets.put('default', 'badca-ca', { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': 'junk', 'tls.key': 'junk' } });
    const text = demo.replaceAll('demo', 'badca');
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'badca.yaml', text }]));
    const view = await eventually('the Cluster to show the control plane’s failure', async () => {
      const v = await clusterView(env.client, 'badca');
      const c = v.status.conditions.find((x) => x.type === 'ControlPlaneAvailable');
      return c?.reason === 'MalformedSecret' ? v : undefined;
    }, 60_000, 250);
    expect(view.status.conditions.find((x) => x.type === 'ControlPlaneAvailable')!.message).toBe(
      'ensureClusterCertificates: secret default/badca-ca is malformed: tls.crt is not a PEM certificate',
    );
    expect(view.controlPlaneStatus?.problem).toMatchObject({ reason: 'MalformedSecret', terminal: true });
    const h = env.client.workflow.getHandle('cluster/default/badca');
    await h.executeUpdate(deleteClusterUpdate);
    expect((await h.result()).phase).toBe('Deleted');
  }, 90_000);
});
