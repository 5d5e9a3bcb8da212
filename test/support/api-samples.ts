// Valid objects of every kind to mutate: the demo manifest's documents, one object per kind
// with every optional field set (so that every nested object exists somewhere), and the
// defaulted form of each (what the workflows receive, which must validate again).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { KINDS, type KindName, validateDocument } from '../../api/kinds.js';
import { DEMO_WORKER_MACHINES } from './demo-manifests.js';

export const DEMO_MANIFEST = readFileSync(new URL('../../config/samples/demo-cluster.yaml', import.meta.url), 'utf8');
export const MACHINE_DEPLOYMENT_MANIFEST = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');

export interface Sample {
  name: string;
  kind: KindName;
  object: Record<string, unknown>;
}

export function demoDocuments(text = DEMO_MANIFEST): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}

const ref = (apiGroup: string, kind: string, name: string) => ({ apiGroup, kind, name });
const meta = (name: string) => ({ name, namespace: 'team-a', labels: { 'cluster.capstan.dev/cluster-name': 'full' }, annotations: { note: 'x' } });
const args = [{ name: 'v', value: '2' }];
const nodeRegistration = {
  name: 'node-a',
  kubeletExtraArgs: [{ name: 'node-labels', value: 'pool=a' }],
  taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoExecute' }],
  ignorePreflightErrors: ['Swap'],
};
const kubeadmConfigSpec = {
  clusterConfiguration: {
    apiServer: { extraArgs: [{ name: 'audit-log-maxage', value: '7' }], certSANs: ['api.example.test'] },
    controllerManager: { extraArgs: args },
    scheduler: { extraArgs: args },
    featureGates: { SomeGate: true },
  },
  initConfiguration: { nodeRegistration },
  joinConfiguration: { nodeRegistration },
  files: [{ path: '/etc/motd', content: 'hello', owner: 'root:root', permissions: '0644' }],
  preKubeadmCommands: ['echo pre'],
  postKubeadmCommands: ['echo post'],
  format: 'cloud-config',
};
const deletion = { nodeDrainTimeoutSeconds: 60, nodeVolumeDetachTimeoutSeconds: 30, nodeDeletionTimeoutSeconds: 10 };
const setLabels = { 'cluster.capstan.dev/cluster-name': 'full', pool: 'a', tier: 'workers' };
/** A MachineSet's or MachineDeployment's spec with every field they share set. */
const setSpec = (kind: string) => ({
  clusterName: 'full',
  replicas: 4,
  selector: {
    matchLabels: { 'cluster.capstan.dev/cluster-name': 'full' },
    matchExpressions: [
      { key: 'pool', operator: 'In', values: ['a', 'b'] },
      { key: 'tier', operator: 'NotIn', values: ['cp'] },
      { key: 'tier', operator: 'Exists', values: [] },
      { key: 'gpu', operator: 'DoesNotExist' },
    ],
  },
  template: {
    metadata: { labels: setLabels, annotations: { note: 'x' } },
    spec: {
      clusterName: 'full',
      bootstrap: { configRef: ref('bootstrap.capstan.dev', 'KubeadmConfigTemplate', 'full-workers'), dataSecretName: 'full-workers-bootstrap' },
      infrastructureRef: ref('infrastructure.capstan.dev', 'SimMachineTemplate', 'full'),
      version: 'v1.37.2',
      providerID: 'sim://t',
      failureDomain: 'fd-1',
      minReadySeconds: 5,
      deletion,
    },
  },
  deletion: { order: kind === 'MachineSet' ? 'Oldest' : 'Newest' },
});

/** One object per kind with every optional field set. */
export const FULL_SAMPLES: Sample[] = [
  {
    name: 'full Cluster',
    kind: 'Cluster',
    object: {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'Cluster',
      metadata: meta('full'),
      spec: {
        paused: false,
        clusterNetwork: { apiServerPort: 6443, services: { cidrBlocks: ['10.96.0.0/12'] }, pods: { cidrBlocks: ['192.168.0.0/16'] }, serviceDomain: 'cluster.local' },
        controlPlaneEndpoint: { host: '10.0.0.1', port: 6443 },
        controlPlaneRef: ref('controlplane.capstan.dev', 'KubeadmControlPlane', 'full'),
        infrastructureRef: ref('infrastructure.capstan.dev', 'SimCluster', 'full'),
      },
    },
  },
  {
    name: 'full Machine',
    kind: 'Machine',
    object: {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'Machine',
      metadata: meta('full-1'),
      spec: {
        clusterName: 'full',
        bootstrap: { configRef: ref('bootstrap.capstan.dev', 'KubeadmConfig', 'full-1'), dataSecretName: 'full-1-bootstrap' },
        infrastructureRef: ref('infrastructure.capstan.dev', 'SimMachine', 'full-1'),
        version: 'v1.37.2',
        providerID: 'sim://full-1',
        failureDomain: 'fd-1',
        minReadySeconds: 5,
        deletion,
      },
    },
  },
  {
    name: 'full MachineSet',
    kind: 'MachineSet',
    object: { apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'MachineSet', metadata: meta('full-workers-abcde'), spec: setSpec('MachineSet') },
  },
  {
    name: 'full MachineDeployment',
    kind: 'MachineDeployment',
    object: {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: meta('full-workers'),
      spec: {
        ...setSpec('MachineDeployment'),
        rollout: { after: '2026-01-02T15:04:05Z', strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } } },
        paused: true,
        minReadySeconds: 10,
      },
    },
  },
  {
    name: 'full MachineHealthCheck',
    kind: 'MachineHealthCheck',
    object: {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'MachineHealthCheck',
      metadata: meta('full-workers-unhealthy'),
      spec: {
        clusterName: 'full',
        selector: { matchLabels: { pool: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
        checks: {
          nodeStartupTimeoutSeconds: 300,
          unhealthyNodeConditions: [
            { type: 'Ready', status: 'Unknown', timeoutSeconds: 300 },
            { type: 'Ready', status: 'False', timeoutSeconds: 300 },
          ],
        },
        remediation: { triggerIf: { unhealthyLessThanOrEqualTo: '40%' } },
      },
    },
  },
  {
    name: 'OnDelete MachineDeployment',
    kind: 'MachineDeployment',
    object: {
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: 'workers' },
      spec: {
        clusterName: 'full',
        selector: { matchLabels: { pool: 'a' } },
        template: {
          metadata: { labels: { pool: 'a' } },
          spec: { clusterName: 'full', bootstrap: { configRef: ref('bootstrap.capstan.dev', 'KubeadmConfigTemplate', 'workers') }, infrastructureRef: ref('infrastructure.capstan.dev', 'SimMachineTemplate', 'workers') },
        },
        rollout: { strategy: { type: 'OnDelete' } },
      },
    },
  },
  {
    name: 'full KubeadmControlPlane',
    kind: 'KubeadmControlPlane',
    object: {
      apiVersion: 'controlplane.capstan.dev/v1alpha1',
      kind: 'KubeadmControlPlane',
      metadata: meta('full'),
      spec: {
        replicas: 5,
        version: 'v1.37.2',
        machineTemplate: {
          metadata: { labels: { tier: 'cp' }, annotations: { note: 'x' } },
          spec: { infrastructureRef: ref('infrastructure.capstan.dev', 'SimMachineTemplate', 'full'), deletion },
        },
        kubeadmConfigSpec,
      },
    },
  },
  {
    name: 'full KubeadmConfig',
    kind: 'KubeadmConfig',
    object: { apiVersion: 'bootstrap.capstan.dev/v1alpha1', kind: 'KubeadmConfig', metadata: meta('full-1'), spec: kubeadmConfigSpec },
  },
  {
    name: 'full KubeadmConfigTemplate',
    kind: 'KubeadmConfigTemplate',
    object: {
      apiVersion: 'bootstrap.capstan.dev/v1alpha1',
      kind: 'KubeadmConfigTemplate',
      metadata: meta('full-workers'),
      spec: { template: { spec: kubeadmConfigSpec } },
    },
  },
  {
    name: 'minimal KubeadmConfigTemplate',
    kind: 'KubeadmConfigTemplate',
    object: { apiVersion: 'bootstrap.capstan.dev/v1alpha1', kind: 'KubeadmConfigTemplate', metadata: { name: 'workers' }, spec: { template: {} } },
  },
  {
    name: 'full SimCluster',
    kind: 'SimCluster',
    object: { apiVersion: 'infrastructure.capstan.dev/v1alpha1', kind: 'SimCluster', metadata: meta('full'), spec: { region: 'sim-local-1', controlPlaneEndpoint: { host: '10.0.0.1', port: 6443 } } },
  },
  {
    name: 'full SimMachine',
    kind: 'SimMachine',
    object: { apiVersion: 'infrastructure.capstan.dev/v1alpha1', kind: 'SimMachine', metadata: meta('full-1'), spec: { instanceType: 'sim.small', providerID: 'sim://full-1', failureDomain: 'fd-1' } },
  },
  {
    name: 'full SimMachineTemplate',
    kind: 'SimMachineTemplate',
    object: {
      apiVersion: 'infrastructure.capstan.dev/v1alpha1',
      kind: 'SimMachineTemplate',
      metadata: meta('full'),
      spec: { template: { spec: { instanceType: 'sim.large', providerID: 'sim://t', failureDomain: 'fd-1' } } },
    },
  },
];

function defaulted(s: Sample): Sample {
  const r = validateDocument(s.object);
  if (!r.ok) throw new Error(`api-samples: ${s.name} is not valid: ${JSON.stringify(r.errors)}`);
  return { name: `${s.name}, defaulted`, kind: s.kind, object: r.object as unknown as Record<string, unknown> };
}

/** Every sample: demo documents, full objects, and each of them with defaults applied. */
export function samples(): Sample[] {
  const demo = demoDocuments().map((o, i) => ({ name: `demo document ${i + 1} (${String(o.kind)})`, kind: o.kind as KindName, object: o }));
  const machines = demoDocuments(DEMO_WORKER_MACHINES).map((o, i) => ({ name: `demo-worker-machines.yaml document ${i + 1} (${String(o.kind)})`, kind: o.kind as KindName, object: o }));
  const md = demoDocuments(MACHINE_DEPLOYMENT_MANIFEST).map((o, i) => ({ name: `machinedeployment.yaml document ${i + 1} (${String(o.kind)})`, kind: o.kind as KindName, object: o }));
  const given = [...demo, ...machines, ...md, ...FULL_SAMPLES];
  return [...given, ...given.map(defaulted)];
}

/** The kinds with no sample would be a hole in the properties: there must be none. */
export function kindsWithoutSample(): string[] {
  const have = new Set(samples().map((s) => s.kind));
  return Object.keys(KINDS).filter((k) => !have.has(k as KindName));
}
