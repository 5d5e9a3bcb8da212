import { describe, expect, it } from 'vitest';
import { validateDocument } from '../../api/kinds.js';

const kcp = (spec: Record<string, unknown>) => ({
  apiVersion: 'controlplane.capstan.dev/v1alpha1',
  kind: 'KubeadmControlPlane',
  metadata: { name: 'demo-cp' },
  spec: {
    version: 'v1.37.2',
    machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 't' } } },
    ...spec,
  },
});

function errorsOf(doc: unknown) {
  const r = validateDocument(doc);
  if (r.ok) throw new Error('expected a validation error');
  return r.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('validateDocument', () => {
  it('applies Cluster API defaults to a minimal KubeadmControlPlane', () => {
    const r = validateDocument(kcp({}));
    expect(r.ok).toBe(true);
    if (!r.ok || r.object.kind !== 'KubeadmControlPlane') return;
    expect(r.object.metadata.namespace).toBe('default');
    expect(r.object.spec.replicas).toBe(1);
    expect(r.object.spec.machineTemplate.spec.deletion.nodeDeletionTimeoutSeconds).toBe(10);
  });

  it.each([
    { name: 'negative replicas', spec: { replicas: -1 }, want: 'spec.replicas: must be >= 1' },
    { name: 'even replicas', spec: { replicas: 2 }, want: 'spec.replicas: cannot be an even number when etcd is stacked' },
    { name: 'replicas as a string', spec: { replicas: 'three' }, want: 'spec.replicas: must be a number' },
    { name: 'bad version', spec: { version: '1.37' }, want: 'spec.version: must be a Kubernetes semantic version such as v1.37.2' },
    { name: 'unknown field', spec: { replica: 3 }, want: 'spec.replica: unknown field' },
    {
      name: 'relative file path',
      spec: { kubeadmConfigSpec: { files: [{ path: 'etc/x', content: '' }] } },
      want: 'spec.kubeadmConfigSpec.files[0].path: must be an absolute path',
    },
  ])('names the field for $name', ({ spec, want }) => {
    expect(errorsOf(kcp(spec))).toContain(want);
  });

  it('lists the supported kinds for an unknown kind', () => {
    const [err] = errorsOf({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'MachinePool', metadata: { name: 'x' } });
    expect(err).toMatch(/^kind: unknown kind "MachinePool"; supported kinds: Cluster \(cluster.capstan.dev\/v1alpha1\), Machine/);
  });

  it('refuses the wrong apiVersion for a kind', () => {
    expect(errorsOf({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name: 'x' }, spec: {} })).toEqual([
      'apiVersion: must be "cluster.capstan.dev/v1alpha1" for kind Cluster',
    ]);
  });

  it('reports a missing required field as required', () => {
    expect(
      errorsOf({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'demo' }, spec: { infrastructureRef: { apiGroup: 'g', kind: 'SimCluster', name: 'x' } } }),
    ).toEqual(['spec.controlPlaneRef: is required']);
  });

  it('refuses a template labelled for another cluster or deployment: the machines carry their own (the selector would miss them)', () => {
    const md = (labels: Record<string, string>) => ({
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: 'md' },
      spec: {
        clusterName: 'demo',
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { clusterName: 'demo', bootstrap: { configRef: { apiGroup: 'bootstrap.capstan.dev', kind: 'KubeadmConfigTemplate', name: 't' } }, infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 't' } } },
      },
    });
    expect(validateDocument(md({ 'cluster.capstan.dev/cluster-name': 'demo', 'cluster.capstan.dev/deployment-name': 'md' })).ok).toBe(true);
    expect(errorsOf(md({ 'cluster.capstan.dev/cluster-name': 'other' }))).toEqual([
      'spec.template.metadata.labels["cluster.capstan.dev/cluster-name"]: must be spec.clusterName "demo" (the machines carry their cluster\'s name), not "other"',
    ]);
    expect(errorsOf(md({ 'cluster.capstan.dev/deployment-name': 'other' }))).toEqual([
      'spec.template.metadata.labels["cluster.capstan.dev/deployment-name"]: must be this object\'s name "md" (its machines carry it), not "other"',
    ]);
  });

  it('keeps cluster names to a DNS label', () => {
    const errs = errorsOf({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'a'.repeat(64) }, spec: {} });
    expect(errs).toContain('metadata.name: must be no more than 63 characters');
  });

  it('takes a paused Cluster (Cluster API\'s spec.paused), defaulting to false, and refuses a paused that is not a boolean', () => {
    const cluster = (paused?: boolean) => ({
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'demo' },
      spec: {
        ...(paused === undefined ? {} : { paused }),
        controlPlaneRef: { apiGroup: 'controlplane.capstan.dev', kind: 'KubeadmControlPlane', name: 'demo-cp' },
        infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimCluster', name: 'demo' },
      },
    });
    expect(validateDocument(cluster(true)).ok).toBe(true);
    expect(errorsOf({ ...cluster(), spec: { ...cluster().spec, paused: 'yes' } })).toEqual([expect.stringMatching(/^spec\.paused: /)]);
    expect(validateDocument(cluster(false)).ok).toBe(true);
    expect(validateDocument(cluster()).ok).toBe(true);
  });
});
