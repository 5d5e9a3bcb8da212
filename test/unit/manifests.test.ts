import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadApplyPlan, loadPlan } from '../../client/apply.js';
import { ManifestError, planApply, readDocuments, validateDocuments } from '../../client/manifests.js';
import { DEMO_CLUSTER, DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

// The demo's control plane with two individual worker Machines: most cases here are about Machines.
const demo = DEMO_WITH_WORKER_MACHINES;
const md = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');

function problems(text: string): string[] {
  try {
    planApply(validateDocuments(readDocuments('m.yaml', text)));
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  return [];
}

describe('apply planning', () => {
  it('resolves the demo manifest into one cluster and its MachineDeployment, the same as the sample machinedeployment.yaml', () => {
    const plan = planApply(validateDocuments(readDocuments('demo-cluster.yaml', DEMO_CLUSTER)));
    expect(plan.clusters).toHaveLength(1);
    expect(plan.clusters[0]!.controlPlane.spec.replicas).toBe(3);
    expect(plan.machines).toEqual([]);
    expect(plan.machineDeployments.map((d) => d.machineDeployment.metadata.name)).toEqual(['demo-md-0']);
    const sample = planApply(validateDocuments(readDocuments('machinedeployment.yaml', md)));
    expect(plan.machineDeployments).toEqual(sample.machineDeployments);
  });

  it('resolves the demo control plane with two worker Machines into one cluster and two worker machines', () => {
    const plan = planApply(validateDocuments(readDocuments('demo.yaml', demo)));
    expect(plan.clusters).toHaveLength(1);
    expect(plan.clusters[0]!.controlPlane.spec.replicas).toBe(3);
    expect(plan.clusters[0]!.controlPlaneMachineTemplate.metadata.name).toBe('demo-control-plane');
    expect(plan.machines.map((m) => m.machine.metadata.name)).toEqual(['demo-worker-1', 'demo-worker-2']);
    expect(plan.machines[0]!.bootstrapConfig!.metadata.name).toBe('demo-worker-1');
  });

  it('names file, document, object and field for a bad value', () => {
    expect(problems(demo.replace('replicas: 3', 'replicas: -1'))).toContain(
      'm.yaml: document 3 (KubeadmControlPlane "demo-control-plane"): spec.replicas: must be >= 1',
    );
  });

  it('reports a reference that resolves to nothing', () => {
    const text = demo.replace(/---\napiVersion: infrastructure.capstan.dev\/v1alpha1\nkind: SimCluster\n[\s\S]*?(?=---)/, '');
    expect(problems(text)).toEqual(['m.yaml: document 1 (Cluster "demo"): spec.infrastructureRef: SimCluster "demo" not found in namespace "default" of the applied documents']);
  });

  it('reports a reference of the wrong kind', () => {
    const text = demo.replace('kind: SimMachine\n    name: demo-worker-1', 'kind: SimMachineTemplate\n    name: demo-worker-1');
    expect(problems(text)[0]).toMatch(/Machine "demo-worker-1"\): spec.infrastructureRef: must reference a SimMachine/);
  });

  it('refuses a duplicate object', () => {
    const dup = `${demo}\n---\napiVersion: infrastructure.capstan.dev/v1alpha1\nkind: SimCluster\nmetadata:\n  name: demo\n`;
    expect(problems(dup).some((p) => /SimCluster "demo"\): metadata.name: duplicates m.yaml: document 2/.test(p))).toBe(true);
  });

  it('reports YAML syntax errors with the document number', () => {
    expect(() => readDocuments('m.yaml', 'a: 1\n---\nb: [\n')).toThrow(/m.yaml: document 2: invalid YAML/);
  });

  const simCluster = (spec: string) => `apiVersion: infrastructure.capstan.dev/v1alpha1\nkind: SimCluster\nmetadata:\n  name: demo\nspec:\n${spec}\n`;
  it.each([
    { name: 'an alias without its anchor', text: simCluster('  region: *nope'), want: /^m.yaml: document 1: invalid YAML: Unresolved alias/ },
    {
      name: 'an alias bomb',
      text: `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [${'*a,'.repeat(9)}*a]\nc: &c [${'*b,'.repeat(9)}*b]\nd: [${'*c,'.repeat(9)}*c]\n`,
      want: /^m.yaml: document 1: invalid YAML: Excessive alias count/,
    },
    { name: 'a YAML 1.1 set, which would have no fields', text: simCluster('  !!set {bogus}').replace('spec:\n  ', 'spec: '), want: /^m.yaml: document 1: invalid YAML: Unresolved tag: tag:yaml.org,2002:set/ },
    { name: 'a YAML 1.1 ordered map', text: simCluster('  !!omap [{bogus: 1}]').replace('spec:\n  ', 'spec: '), want: /^m.yaml: document 1: invalid YAML: Unresolved tag: tag:yaml.org,2002:omap/ },
    { name: 'a local tag', text: simCluster('  region: !foo bar'), want: /^m.yaml: document 1: invalid YAML: Unresolved tag: !foo/ },
    { name: 'a key given twice', text: simCluster('  region: a\n  region: b'), want: /^m.yaml: document 1: invalid YAML: Map keys must be unique/ },
    { name: 'a merge key (not JSON)', text: simCluster('  <<: {region: a}'), want: /^m.yaml: document 1 \(SimCluster "demo"\): spec\["<<"\]: unknown field$/ },
  ])('readDocuments + validateDocuments: $name → refused naming the document, no crash', ({ text, want }) => {
    expect(problems(text)).toEqual([expect.stringMatching(want)]);
  });

  it('lists every problem at once, and nothing is planned', () => {
    const text = demo.replace('replicas: 3', 'replicas: 2').replace('instanceType: sim.medium', 'instanceType: huge');
    const p = problems(text);
    expect(p).toHaveLength(2);
    expect(p[1]).toMatch(/SimMachine "demo-worker-1"\): spec.instanceType: must be one of sim.small, sim.medium, sim.large/);
  });
});

describe('apply planning: MachineDeployments and MachineSets', () => {
  const asMachineSet = (text: string) => text.replace('kind: MachineDeployment', 'kind: MachineSet').replace(/  rollout:\n(    .*\n)+/, '');

  it('resolves the sample MachineDeployment\'s templates within the applied documents', () => {
    const plan = planApply(validateDocuments(readDocuments('md.yaml', md)));
    expect(plan.machineDeployments).toHaveLength(1);
    const [d] = plan.machineDeployments;
    expect(d!.machineDeployment.metadata.name).toBe('demo-md-0');
    expect(d!.bootstrapTemplate.kind).toBe('KubeadmConfigTemplate');
    expect(d!.infrastructureTemplate.spec.template.spec.instanceType).toBe('sim.medium');
    // Used through the deployment only: reported as resolved, as the other kinds' configs are.
    expect(plan.resolved.map((r) => r.object.kind)).toEqual(['KubeadmConfigTemplate', 'SimMachineTemplate']);
    expect(plan.clusters).toEqual([]);
  });

  it('resolves a MachineSet\'s templates the same way', () => {
    const plan = planApply(validateDocuments(readDocuments('ms.yaml', asMachineSet(md))));
    expect(plan.machineSets.map((s) => [s.machineSet.metadata.name, s.bootstrapTemplate.metadata.name, s.infrastructureTemplate.metadata.name])).toEqual([['demo-md-0', 'demo-md-0', 'demo-md-0']]);
  });

  it.each([
    {
      name: 'a missing bootstrap template',
      text: md.replace(/---\napiVersion: bootstrap.capstan.dev\/v1alpha1\nkind: KubeadmConfigTemplate\n[\s\S]*?(?=---)/, ''),
      want: 'm.yaml: document 1 (MachineDeployment "demo-md-0"): spec.template.spec.bootstrap.configRef: KubeadmConfigTemplate "demo-md-0" not found in namespace "default" of the applied documents',
    },
    {
      name: 'a missing infrastructure template in a MachineSet',
      text: asMachineSet(md).replace(/---\napiVersion: infrastructure.capstan.dev\/v1alpha1\nkind: SimMachineTemplate\n[\s\S]*$/, ''),
      want: 'm.yaml: document 1 (MachineSet "demo-md-0"): spec.template.spec.infrastructureRef: SimMachineTemplate "demo-md-0" not found in namespace "default" of the applied documents',
    },
    {
      name: 'a reference to a SimMachine instead of a template',
      text: md.replace('kind: SimMachineTemplate\n        name: demo-md-0', 'kind: SimMachine\n        name: demo-md-0'),
      want: 'm.yaml: document 1 (MachineDeployment "demo-md-0"): spec.template.spec.infrastructureRef: must reference a SimMachineTemplate (apiGroup infrastructure.capstan.dev), got SimMachine (apiGroup infrastructure.capstan.dev)',
    },
    {
      name: 'bootstrap data given as a secret',
      text: md.replace(/        configRef:\n(          .*\n){3}/, '        dataSecretName: workers-bootstrap\n'),
      want: 'm.yaml: document 1 (MachineDeployment "demo-md-0"): spec.template.spec.bootstrap.dataSecretName: user-provided bootstrap data is not supported yet; use spec.template.spec.bootstrap.configRef to a KubeadmConfigTemplate',
    },
    {
      name: 'both fenceposts 0',
      text: md.replace('maxSurge: 1', 'maxSurge: 0'),
      want: 'm.yaml: document 1 (MachineDeployment "demo-md-0"): spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)',
    },
  ])('names file, document, object and field for $name', ({ text, want }) => {
    expect(problems(text)).toEqual([want]);
  });
});

// `capstan apply` straight to Temporal: what a MachineDeployment's manifest does not set of what
// `rollout pause|restart` change is marked, so the running deployment keeps it.
describe('loadApplyPlan', () => {
  it.each([
    { name: 'neither paused nor rollout.after', text: md, omitted: ['paused', 'rollout.after'] },
    { name: 'paused set (even false)', text: md.replace('  replicas: 3\n', '  replicas: 3\n  paused: false\n'), omitted: ['rollout.after'] },
    { name: 'both set', text: md.replace('  replicas: 3\n', '  replicas: 3\n  paused: true\n').replace('  rollout:\n', '  rollout:\n    after: "2026-01-01T00:00:00Z"\n'), omitted: undefined },
  ])('$name → omitted $omitted', ({ text, omitted }) => {
    const [a] = loadApplyPlan([{ file: 'md.yaml', text }]).machineDeployments;
    expect(a!.omitted).toEqual(omitted);
    // The plan `capstan apply` to a management cluster and the watcher use is the manifest alone.
    expect(loadPlan([{ file: 'md.yaml', text }]).machineDeployments[0]!.omitted).toBeUndefined();
  });
});
