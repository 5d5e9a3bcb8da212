// `capstan convert`: Cluster API manifests (v1beta1 moved field by field, v1beta2 regrouped) as
// capstan's kinds that validate, with every field that has no place in capstan reported.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../client/apply.js';
import { capstanKey, conversionYaml, convertDocuments } from '../../client/convert.js';
import { readDocuments } from '../../client/manifests.js';

const FIXTURE = fileURLToPath(new URL('../support/fixtures/capi-v1beta1.yaml', import.meta.url));
const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
const convert = (file: string, text: string) => convertDocuments(readDocuments(file, text));
const byKind = (docs: Record<string, any>[], kind: string, name?: string) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name))!;

describe('capstan convert', () => {
  it('turns Cluster API v1beta1\'s quick-start into capstan\'s kinds that apply', () => {
    const c = convert('capi.yaml', readFileSync(FIXTURE, 'utf8'));
    expect(c.documents.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'cluster.capstan.dev/v1alpha1 Cluster',
      'infrastructure.capstan.dev/v1alpha1 SimCluster',
      'controlplane.capstan.dev/v1alpha1 KubeadmControlPlane',
      'infrastructure.capstan.dev/v1alpha1 SimMachineTemplate',
      'cluster.capstan.dev/v1alpha1 MachineDeployment',
      'infrastructure.capstan.dev/v1alpha1 SimMachineTemplate',
      'bootstrap.capstan.dev/v1alpha1 KubeadmConfigTemplate',
      'cluster.capstan.dev/v1alpha1 MachineHealthCheck',
    ]);
    // What `capstan apply` does with it: every reference resolves, every schema holds.
    const plan = loadPlan([{ file: 'converted.yaml', text: conversionYaml(c) }]);
    expect([plan.clusters.length, plan.machineDeployments.length, plan.machineHealthChecks.length]).toEqual([1, 1, 1]);

    expect(byKind(c.documents, 'Cluster').spec.infrastructureRef).toEqual({ apiGroup: 'infrastructure.capstan.dev', kind: 'SimCluster', name: 'capi-quickstart' });
    const kcp = byKind(c.documents, 'KubeadmControlPlane').spec;
    expect(kcp.machineTemplate.spec).toEqual({ infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 'capi-quickstart-control-plane' }, deletion: { nodeDrainTimeoutSeconds: 300 } });
    expect(kcp.rollout).toEqual({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } });
    expect(kcp.remediation).toEqual({ maxRetry: 5, retryPeriodSeconds: 120, minHealthyPeriodSeconds: 7200 });
    expect(kcp.kubeadmConfigSpec.clusterConfiguration.apiServer.extraArgs).toEqual([{ name: 'audit-log-maxage', value: '30' }]);
    const md = byKind(c.documents, 'MachineDeployment').spec;
    expect(md.rollout).toEqual({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, after: '2026-01-02T15:04:05Z' });
    expect(md.deletion).toEqual({ order: 'Oldest' });
    expect(md.remediation).toEqual({ maxInFlight: 1 });
    expect(md.selector.matchLabels).toEqual({ 'cluster.capstan.dev/cluster-name': 'capi-quickstart' });
    expect(md.template.spec.deletion).toEqual({ nodeDrainTimeoutSeconds: 90 });
    const mhc = byKind(c.documents, 'MachineHealthCheck').spec;
    expect(mhc.checks).toEqual({ nodeStartupTimeoutSeconds: 600, unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: 300 }, { type: 'Ready', status: 'False', timeoutSeconds: 300 }] });
    expect(mhc.remediation).toEqual({ triggerIf: { unhealthyLessThanOrEqualTo: '40%' } });
    expect(mhc.selector.matchLabels).toEqual({ 'cluster.capstan.dev/deployment-name': 'capi-quickstart-md-0' });

    // Reported, not dropped silently: exactly what has no place in capstan.
    expect(c.notes.map((n) => n.replace(/^capi\.yaml: /, ''))).toEqual([
      'document 2 (DockerCluster "capi-quickstart"): spec: DockerCluster\'s fields are the infrastructure.cluster.x-k8s.io/v1beta1 provider\'s: the SimCluster takes the simulated cloud\'s defaults',
      'document 3 (KubeadmControlPlane "capi-quickstart-control-plane"): spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.criSocket: no counterpart in capstan: not carried over',
      'document 4 (DockerMachineTemplate "capi-quickstart-control-plane"): spec: DockerMachineTemplate\'s fields are the infrastructure.cluster.x-k8s.io/v1beta1 provider\'s: the SimMachineTemplate takes the simulated cloud\'s defaults',
      'document 5 (MachineDeployment "capi-quickstart-md-0"): spec.progressDeadlineSeconds: no counterpart in capstan: not carried over',
    ]);
  });

  it('regroups a v1beta2 document (capstan\'s schemas are v1beta2\'s) and passes capstan\'s own through', () => {
    const v1beta2 = `apiVersion: cluster.x-k8s.io/v1beta2
kind: MachineDeployment
metadata:
  name: md
  annotations:
    cluster.x-k8s.io/paused: "true"
spec:
  clusterName: c
  replicas: 2
  rollout:
    after: "2026-01-02T15:04:05Z"
    strategy:
      type: RollingUpdate
      rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchExpressions: [{key: cluster.x-k8s.io/deployment-name, operator: In, values: [md]}]
  template:
    metadata:
      labels: {cluster.x-k8s.io/deployment-name: md}
    spec:
      clusterName: c
      bootstrap:
        configRef: {apiGroup: bootstrap.cluster.x-k8s.io, kind: KubeadmConfigTemplate, name: md}
      infrastructureRef: {apiGroup: infrastructure.cluster.x-k8s.io, kind: AWSMachineTemplate, name: md}
---
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineSet
metadata: {name: as-is}
spec: {clusterName: c}
---
apiVersion: cluster.x-k8s.io/v1beta2
kind: ClusterClass
metadata: {name: quick-start}
spec: {}
`;
    const c = convert('v1beta2.yaml', v1beta2);
    const [md, ms] = c.documents;
    expect(md!.apiVersion).toBe('cluster.capstan.dev/v1alpha1');
    expect(md!.metadata.annotations).toEqual({ 'cluster.capstan.dev/paused': 'true' });
    expect(md!.spec.rollout).toEqual({ after: '2026-01-02T15:04:05Z', strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    expect(md!.spec.selector.matchExpressions[0].key).toBe('cluster.capstan.dev/deployment-name');
    expect(md!.spec.template.spec.bootstrap.configRef).toEqual({ apiGroup: 'bootstrap.capstan.dev', kind: 'KubeadmConfigTemplate', name: 'md' });
    expect(md!.spec.template.spec.infrastructureRef).toEqual({ apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 'md' });
    expect(ms).toEqual({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'MachineSet', metadata: { name: 'as-is' }, spec: { clusterName: 'c' } });
    expect(c.documents).toHaveLength(2);
    expect(c.notes).toEqual([
      // The provider's template is not in the file: its rewrite is said, not done quietly.
      'v1beta2.yaml: document 1 (MachineDeployment "md"): spec.template.spec.infrastructureRef: AWSMachineTemplate is the infrastructure.cluster.x-k8s.io provider\'s: it references the simulated cloud\'s SimMachineTemplate "md" instead, which must exist',
      'v1beta2.yaml: document 3 (ClusterClass "quick-start"): kind ClusterClass (cluster.x-k8s.io) has no counterpart in capstan: not converted',
    ]);
  });

  it('takes an object as `kubectl get -o yaml` prints it: what the server set goes without a note, its status and a reference into another namespace with one', () => {
    const got = `apiVersion: cluster.x-k8s.io/v1beta2
kind: MachineHealthCheck
metadata:
  name: mhc
  namespace: team-a
  uid: 0b7e5c1e-1111-2222-3333-444455556666
  resourceVersion: "4242"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: kubectl, operation: Apply}]
  ownerReferences: [{apiVersion: cluster.x-k8s.io/v1beta2, kind: Cluster, name: c, uid: 0b7e5c1e-0000-0000-0000-000000000000}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  clusterName: c
  selector: {matchLabels: {pool: a}}
  remediation:
    templateRef: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta2, kind: MetalRemediationTemplate, name: r, namespace: infra}
status:
  expectedMachines: 3
  currentHealthy: 3
`;
    const c = convert('got.yaml', got);
    expect(c.documents[0]!.metadata).toEqual({ name: 'mhc', namespace: 'team-a' });
    expect(c.notes).toEqual([
      'got.yaml: document 1 (MachineHealthCheck "mhc"): spec.remediation.templateRef.namespace: "infra": a reference is resolved in the object\'s own namespace: not carried over',
      'got.yaml: document 1 (MachineHealthCheck "mhc"): status: written by the controllers, not carried over (capstan writes its own)',
    ]);
  });

  it.each([
    ['cluster.x-k8s.io/cluster-name', 'cluster.capstan.dev/cluster-name'],
    ['machinedeployment.clusters.x-k8s.io/revision', 'machinedeployment.cluster.capstan.dev/revision'],
    ['pre-drain.delete.hook.machine.cluster.x-k8s.io/wait', 'pre-drain.delete.hook.machine.cluster.capstan.dev/wait'],
    ['app', 'app'],
  ])('label and annotation key %s → %s', (from, to) => expect(capstanKey(from)).toBe(to));

  it('the CLI prints the converted YAML and warns on stderr; apply --dry-run takes the Cluster API manifest as it is', () => {
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', CAPSTAN_DATA_DIR: '/nonexistent-capstan', KUBECONFIG: '', CAPSTAN_MANAGEMENT_KUBECONFIG: '' };
    const r = spawnSync(process.execPath, [cli, 'convert', '-f', FIXTURE], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(parseAllDocuments(r.stdout).map((d) => (d.toJS() as { kind: string }).kind)).toHaveLength(8);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(4);
    expect(r.stderr).toMatch(/^warning: not carried over: .*criSocket/m);
    const a = spawnSync(process.execPath, [cli, 'apply', '--dry-run', '-f', FIXTURE], { encoding: 'utf8', env, timeout: 60_000 });
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toContain('cluster.cluster.capstan.dev/capi-quickstart validated (dry run)');
  });
});
