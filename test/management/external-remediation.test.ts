// External remediation (a MachineHealthCheck's remediation.templateRef) with a real management
// kube-apiserver: a worker NotReady past its timeout is not deleted; a remediation request —
// `SimRemediation`, from the `SimRemediationTemplate` the check names, with its spec — appears in
// the management cluster for an external controller, and is deleted once the Node is Ready again.
// A template that does not exist is reported on ExternalRemediationRequestAvailable.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { machineDeploymentWorkflowId, machineHealthCheckWorkflowId } from '../../workflows/ids.js';
import { machineDeploymentStatusQuery, machineHealthCheckStatusQuery, machineSetStatusQuery } from '../../workflows/messages.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms, waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { fetchJson } from '../support/management.js';

const GROUP = 'remediation.example.dev';

/** A remediation provider's CRD, as Metal3's look: the request and its template. */
const providerCrd = (kind: string, plural: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
    scope: 'Namespaced',
    versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

const MHC = (template: string) => `
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineHealthCheck
metadata:
  name: demo-workers
spec:
  clusterName: demo
  selector:
    matchLabels:
      cluster.capstan.dev/deployment-name: demo-md-0
  checks:
    unhealthyNodeConditions:
      - type: Ready
        status: "False"
        timeoutSeconds: 2
  remediation:
    templateRef:
      apiGroup: ${GROUP}
      kind: SimRemediationTemplate
      name: ${template}
`;

describe('external remediation', () => {
  let env: CapstanEnv;
  let api: ManagementApi;
  let work: string;
  let objects: CustomObjectsApi;
  const requests = async () =>
    ((await objects.listNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'simremediations' })) as { items: { metadata: { name: string; labels?: Record<string, string> }; spec: unknown }[] }).items;
  const workers = async () => {
    const v = await env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' })).query(machineDeploymentStatusQuery);
    return (await env.client.workflow.getHandle(`machineset/default/${v.sets[0]!.name}`).query(machineSetStatusQuery)).machines.map((m) => m.name).sort();
  };
  const mhc = () => env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-workers' }));

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'capstan-remediation-'));
    api = await startManagementApi(work);
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig);
    for (const crd of [providerCrd('SimRemediation', 'simremediations'), providerCrd('SimRemediationTemplate', 'simremediationtemplates')]) {
      await fetchJson(kc, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'application/json', crd);
    }
    objects = kc.makeApiClient(CustomObjectsApi);
    await eventually('the provider CRDs to be served', async () => requests().then(() => true, () => false), 30_000, 200);
    await objects.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      namespace: 'default',
      plural: 'simremediationtemplates',
      body: { apiVersion: `${GROUP}/v1beta1`, kind: 'SimRemediationTemplate', metadata: { name: 'reboot' }, spec: { template: { spec: { strategy: { type: 'Reboot', retryLimit: 1, timeout: '300s' } } } } },
    });

    env = await startCapstanEnv({ managementKubeconfig: api.kubeconfigFile });
    const manifest = `${DEMO_CLUSTER.replace(/replicas: 3/g, 'replicas: 1').replace(/(kind: MachineDeployment[\s\S]*?)replicas: 1/, '$1replicas: 2')}\n---\n${MHC('reboot')}`;
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: manifest }]));
    await waitForAvailable(env.client, 'demo');
    await eventually('2 healthy workers', async () => (await mhc().query(machineHealthCheckStatusQuery)).status?.currentHealthy === 2, 180_000, 250);
  }, 400_000);
  afterAll(async () => {
    await env?.stop();
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('makes a remediation request from the template instead of deleting the machine, and deletes it when the machine is healthy again', async () => {
    const before = await workers();
    const victim = before[0]!;
    const vm = (await liveVms(env.simClient)).find((v) => v.name === victim)!;
    await env.simClient.vmAction(vm.id, 'node-not-ready');
    const [request] = await eventually('a remediation request', async () => {
      const r = await requests();
      return r.length ? r : undefined;
    }, 60_000, 200);
    expect(request!.metadata.name).toBe(victim);
    expect(request!.metadata.labels).toMatchObject({ 'cluster.capstan.dev/cluster-name': 'demo' });
    expect(request!.spec).toEqual({ strategy: { type: 'Reboot', retryLimit: 1, timeout: '300s' } });
    const view = await mhc().query(machineHealthCheckStatusQuery);
    expect(view.status?.conditions.find((c) => c.type === 'ExternalRemediationRequestAvailable')).toMatchObject({ status: 'True' });
    // Not deleted: the external controller remediates it.
    expect(await workers()).toEqual(before);
    expect((await liveVms(env.simClient)).some((v) => v.name === victim)).toBe(true);

    await env.simClient.vmAction(vm.id, 'node-ready');
    await eventually('the request to be deleted', async () => (await requests()).length === 0, 60_000, 200);
    expect(await workers()).toEqual(before);
  }, 180_000);

  it('says so on ExternalRemediationRequestAvailable when the template does not exist', async () => {
    await env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: 'demo-workers' }));
    const plan = loadPlan([{ file: 'mhc.yaml', text: MHC('missing') }]);
    await executePlan(env.client, env.taskQueue, plan);
    const victim = (await workers())[1]!;
    const vm = (await liveVms(env.simClient)).find((v) => v.name === victim)!;
    await env.simClient.vmAction(vm.id, 'node-not-ready');
    const c = await eventually('the condition to say why', async () => {
      const v = await mhc().query(machineHealthCheckStatusQuery);
      const x = v.status?.conditions.find((y) => y.type === 'ExternalRemediationRequestAvailable');
      return x?.status === 'False' ? x : undefined;
    }, 60_000, 200);
    expect(c.reason).toBe('RemediationRequestRefused');
    expect(c.message).toMatch(/SimRemediationTemplate "missing".*404/);
    expect(await requests()).toEqual([]);
    await env.simClient.vmAction(vm.id, 'node-ready');
  }, 120_000);
});
