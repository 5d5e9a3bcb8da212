// An object of the management cluster as the manifest the watcher applies to the workflows: what
// the API server and the controllers set (a provider ID, kubectl's and capstan's annotations) is
// not part of what the user asks for, so a Machine the mirror completed is not "changed".
import { describe, expect, it } from 'vitest';
import { asManifest } from '../../client/object-manifest.js';

const machine = (spec: Record<string, unknown>) => ({
  apiVersion: 'cluster.capstan.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'w1', namespace: 'default', uid: 'u1', generation: 2, annotations: { 'capstan.dev/workflow-id': 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}', mine: 'yes' } },
  spec: { clusterName: 'demo', ...spec },
});

describe('asManifest', () => {
  it('leaves out a Machine\'s and a SimMachine\'s provider ID, and annotations about the object', () => {
    expect(asManifest(machine({ providerID: 'sim:///r/1' }))).toEqual({
      apiVersion: 'cluster.capstan.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'w1', namespace: 'default', annotations: { mine: 'yes' } },
      spec: { clusterName: 'demo' },
    });
    expect(asManifest(machine({ providerID: 'sim:///r/1' }))).toEqual(asManifest(machine({})));
    expect(asManifest({ apiVersion: 'infrastructure.capstan.dev/v1alpha1', kind: 'SimMachine', metadata: { name: 'w1' }, spec: { instanceType: 'sim.small', providerID: 'sim:///r/1' } }).spec).toEqual({ instanceType: 'sim.small' });
  });

  it('keeps every other spec field, and other kinds\' whole spec', () => {
    expect(asManifest(machine({ version: 'v1.37.2' })).spec).toEqual({ clusterName: 'demo', version: 'v1.37.2' });
    const other = { apiVersion: 'x/v1', kind: 'SimCluster', metadata: { name: 'c' }, spec: { providerID: 'kept', region: 'r' } };
    expect(asManifest(other).spec).toEqual(other.spec);
  });
});
