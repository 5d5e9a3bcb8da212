// The object mirror's pure parts: what a Machine's phase alone tells of its conditions, the specs
// its KubeadmConfig and SimMachine are cloned from, and the label selector string of the scale
// subresource.
import { describe, expect, it } from 'vitest';
import { appliedMetadataKeys, blindAvailable, droppedSinceApplied, healthCheckConditions, type HealthVerdictSeen, machineObject, machineSpecInPlace, type MirroredObject, nodeHealthConditions, partMetadata, partTemplates, specInPlaceChanged, phaseConditions, selectorString, setAnnotations, setSpecInPlace } from '../../client/object-mirror.js';
import { userAnnotations } from '../../client/object-manifest.js';
import { HEALTHY_NODE_KEY, nodeConditions, nodeConditionsKey } from '../../workflows/planners/node-conditions.js';
import { connectionDownKey } from '../../workflows/planners/remote-connection.js';

describe('phaseConditions', () => {
  it.each([
    ['Pending', []],
    ['Provisioning', [['BootstrapConfigReady', 'True', 'DataSecretAvailable'], ['InfrastructureReady', 'False', 'Provisioning']]],
    ['Provisioned', [['BootstrapConfigReady', 'True', 'DataSecretAvailable'], ['InfrastructureReady', 'True', 'Provisioned']]],
    ['Running', [['BootstrapConfigReady', 'True', 'DataSecretAvailable'], ['InfrastructureReady', 'True', 'Provisioned']]],
    ['Deleting', [['BootstrapConfigReady', 'True', 'DataSecretAvailable'], ['InfrastructureReady', 'True', 'Provisioned'], ['Deleting', 'True', 'Deleting']]],
    ['Failed', []],
  ])('%s', (phase, want) => {
    expect(phaseConditions(phase).map((c) => [c.type, c.status, c.reason])).toEqual(want);
  });

  it('never says anything of the Node: that is the workflow\'s to tell', () => {
    for (const phase of ['Pending', 'Provisioning', 'Provisioned', 'Running', 'Deleting', 'Failed']) {
      expect(phaseConditions(phase).map((c) => c.type)).not.toContain('NodeReady');
    }
  });
});

describe('nodeHealthConditions (a Running machine\'s Node, as its Cluster told it)', () => {
  const notReady = nodeConditionsKey(nodeConditions('n1', { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy' }] }));
  it.each([
    ['healthy', { phase: 'Running', nodeName: 'n1', nodeKey: HEALTHY_NODE_KEY }, [['NodeReady', 'True', 'Ready'], ['NodeHealthy', 'True', 'Ready'], ['Ready', 'True', 'Ready']]],
    ['not ready', { phase: 'Running', nodeName: 'n1', nodeKey: notReady }, [['NodeReady', 'False', 'KubeletNotReady'], ['NodeHealthy', 'False', 'NodeNotHealthy'], ['Ready', 'False', 'NodeNotHealthy']]],
    ['a Cluster that does not say', { phase: 'Running', nodeName: 'n1' }, []],
    ['not Running', { phase: 'Deleting', nodeName: 'n1', nodeKey: notReady }, []],
    ['no Node yet', { phase: 'Running', nodeKey: HEALTHY_NODE_KEY }, []],
    ["its cluster's API not answering", { phase: 'Running', nodeName: 'n1', nodeKey: connectionDownKey('2026-12-01T01:02:03.000Z') }, [['NodeReady', 'Unknown', 'ConnectionDown'], ['NodeHealthy', 'Unknown', 'ConnectionDown'], ['Ready', 'Unknown', 'ConnectionDown']]],
  ])('%s', (_, m, want) => {
    expect(nodeHealthConditions(m).map((c) => [c.type, c.status, c.reason])).toEqual(want);
  });
  it('keeps the kubelet\'s message on NodeReady', () => {
    expect(nodeHealthConditions({ phase: 'Running', nodeName: 'n1', nodeKey: notReady })[0]!.message).toBe('PLEG is not healthy');
  });
  it('says when the probe last succeeded while the API does not answer', () => {
    const conditions = nodeHealthConditions({ phase: 'Running', nodeName: 'n1', nodeKey: connectionDownKey('2026-12-01T01:02:03.000Z') });
    expect(conditions.map((c) => c.message)).toEqual(Array(3).fill('Last successful probe at 2026-12-01T01:02:03Z'));
  });
});

describe('healthCheckConditions (a machine\'s HealthCheckSucceeded, as its health checks found it)', () => {
  const m = { namespace: 'default', name: 'm1', phase: 'Running', nodeName: 'm1' };
  const verdict = (name: string, targets: string[], unhealthy: HealthVerdictSeen['unhealthy'] = {}, namespace = 'default'): HealthVerdictSeen => ({ name, namespace, targets: new Set(targets), unhealthy });
  const why = { reason: 'UnhealthyNode', message: 'Health check failed: Condition Ready on Node is reporting status False for more than 3s' };
  it.each([
    ['no check targets it: none', [verdict('a', ['m2'])], m, []],
    ['a check in another namespace: none', [verdict('a', ['m1'], {}, 'other')], m, []],
    ['a healthy Running target with a Node: True', [verdict('a', ['m1'])], m, [{ type: 'HealthCheckSucceeded', status: 'True', reason: 'HealthCheckSucceeded', message: '' }]],
    ['a target still without a Node: none yet', [verdict('a', ['m1'])], { ...m, phase: 'Provisioning', nodeName: undefined }, []],
    ['unhealthy: False with the reason, naming the check', [verdict('a', ['m1'], { m1: why })], m, [{ type: 'HealthCheckSucceeded', status: 'False', reason: 'UnhealthyNode', message: `${why.message} (MachineHealthCheck a)` }]],
    ['one check of two finds it unhealthy: False', [verdict('a', ['m1']), verdict('b', ['m1'], { m1: why })], m, [expect.objectContaining({ status: 'False', message: expect.stringContaining('MachineHealthCheck b') })]],
    ['unhealthy while deleting: still False', [verdict('a', ['m1'], { m1: why })], { ...m, phase: 'Deleting' }, [expect.objectContaining({ status: 'False' })]],
    [
      'unhealthy and waiting for its deployment\'s maxInFlight: OwnerRemediated says so',
      [{ ...verdict('a', ['m1'], { m1: why }), deferred: { m1: 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)' } }],
      m,
      [
        expect.objectContaining({ type: 'HealthCheckSucceeded', status: 'False' }),
        { type: 'OwnerRemediated', status: 'False', reason: 'RemediationDeferred', message: 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)' },
      ],
    ],
  ] as const)('%s', (_what, verdicts, machine, want) => {
    expect(healthCheckConditions(machine, verdicts)).toEqual(want);
  });

  describe('while a timeout is running (Cluster API leaves the condition as it was)', () => {
    const pending = (name: string, targets: string[], unhealthy: HealthVerdictSeen['unhealthy'] = {}): HealthVerdictSeen => ({ ...verdict(name, targets, unhealthy), pending: new Set(['m1']) });
    const wasTrue = { type: 'HealthCheckSucceeded', status: 'True' as const, reason: 'HealthCheckSucceeded', message: '' };
    const wasFalse = { type: 'HealthCheckSucceeded', status: 'False' as const, reason: 'UnhealthyNode', message: 'x (MachineHealthCheck a)' };
    it.each([
      ['True before: stays True', [pending('a', ['m1'])], wasTrue, [wasTrue]],
      ['False before: stays False', [pending('a', ['m1'])], wasFalse, [wasFalse]],
      ['nothing before: none yet (not True)', [pending('a', ['m1'])], undefined, []],
      ['another check finds it unhealthy: False all the same', [pending('a', ['m1']), verdict('b', ['m1'], { m1: why })], wasTrue, [expect.objectContaining({ status: 'False', message: expect.stringContaining('MachineHealthCheck b') })]],
    ] as const)('%s', (_what, verdicts, written, want) => {
      expect(healthCheckConditions(m, verdicts, written)).toEqual(want);
    });

    it('a target being deleted, or still starting, that no check finds unhealthy: left as it was (Cluster API marks only a Running one True)', () => {
      expect(healthCheckConditions({ ...m, phase: 'Deleting' }, [verdict('a', ['m1'])], wasTrue)).toEqual([wasTrue]);
      expect(healthCheckConditions({ ...m, phase: 'Provisioning', nodeName: undefined }, [verdict('a', ['m1'])], undefined)).toEqual([]);
    });
    it('a pending mark the check did not give is not taken (the planted case: without it, True)', () => {
      expect(healthCheckConditions(m, [verdict('a', ['m1'])], wasFalse)).toEqual([wasTrue]);
    });
  });
});

describe('partTemplates', () => {
  const objects: Record<string, MirroredObject> = {
    'KubeadmConfigTemplate/workers': { kind: 'KubeadmConfigTemplate', spec: { template: { spec: { files: [{ path: '/etc/x', content: 'x' }] } } } },
    'SimMachineTemplate/workers': { kind: 'SimMachineTemplate', spec: { template: { spec: { instanceType: 'sim.large' } } } },
    'SimMachineTemplate/cp': { kind: 'SimMachineTemplate', spec: { template: { spec: { instanceType: 'sim.small' } } } },
  };
  const find = (kind: string, name: string) => objects[`${kind}/${name}`];

  it("clones a set's templates", () => {
    const set: MirroredObject = { kind: 'MachineSet', spec: { template: { spec: { bootstrap: { configRef: { kind: 'KubeadmConfigTemplate', name: 'workers' } }, infrastructureRef: { kind: 'SimMachineTemplate', name: 'workers' } } } } };
    expect(partTemplates(set, find)).toEqual({ config: { files: [{ path: '/etc/x', content: 'x' }] }, infrastructure: { instanceType: 'sim.large' } });
  });

  it("takes a control plane's kubeadmConfigSpec and its machine template", () => {
    const kcp: MirroredObject = { kind: 'KubeadmControlPlane', spec: { kubeadmConfigSpec: { preKubeadmCommands: ['true'] }, machineTemplate: { spec: { infrastructureRef: { kind: 'SimMachineTemplate', name: 'cp' } } } } };
    expect(partTemplates(kcp, find)).toEqual({ config: { preKubeadmCommands: ['true'] }, infrastructure: { instanceType: 'sim.small' } });
  });

  it('leaves the defaults when a template is not in the management cluster', () => {
    const set: MirroredObject = { kind: 'MachineSet', spec: { template: { spec: { bootstrap: { configRef: { kind: 'KubeadmConfigTemplate', name: 'missing' } }, infrastructureRef: { kind: 'SimMachineTemplate', name: 'missing' } } } } };
    expect(partTemplates(set, find)).toEqual({ config: {}, infrastructure: {} });
  });
});

describe("setSpecInPlace (a deployment's set object takes what the deployment changes in place)", () => {
  const view = (annotations: Record<string, string> | undefined, deletion: Record<string, number> = {}, minReadySeconds = 0, labels: Record<string, string> = { app: 'w' }) =>
    ({ name: 'md', spec: { minReadySeconds, template: { metadata: { labels, ...(annotations ? { annotations } : {}) }, spec: { minReadySeconds: 0, deletion } } } }) as never;
  const labels = { app: 'w', 'cluster.capstan.dev/deployment-name': 'md', 'cluster.capstan.dev/set-name': 's' };
  const written = { replicas: 2, template: { metadata: { labels, annotations: { a: '1' } }, spec: { version: 'v1.31.0', minReadySeconds: 0, deletion: {} } } };
  it('nothing to write when the object shows them already', () => {
    expect(setSpecInPlace(written, view({ a: '1' }), 's')).toBeUndefined();
  });
  it('the annotations, deletion timeouts and minReadySeconds, the rest as written', () => {
    expect(setSpecInPlace(written, view({ b: '2' }, { nodeDrainTimeoutSeconds: 30 }, 5), 's')).toEqual({
      replicas: 2,
      template: { metadata: { labels, annotations: { b: '2' } }, spec: { version: 'v1.31.0', minReadySeconds: 5, deletion: { nodeDrainTimeoutSeconds: 30 } } },
    });
  });
  it("the template's labels, with the deployment's and the set's name", () => {
    expect((setSpecInPlace(written, view({ a: '1' }, {}, 0, { app: 'w', pool: 'blue' }), 's') as { template: { metadata: object } }).template.metadata).toEqual({ labels: { ...labels, pool: 'blue' }, annotations: { a: '1' } });
  });
  it('the last annotation removed: none left on the template', () => {
    expect((setSpecInPlace(written, view(undefined), 's') as { template: { metadata: object } }).template.metadata).toEqual({ labels });
  });
});

describe("a workflow-made Machine object's annotations (its set's template's, as Cluster API's MachineSet sets them)", () => {
  const owner: MirroredObject = { apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'MachineSet', metadata: { name: 's', uid: 'u1' } };
  const m = { workflowId: 'machine/default/s-abcde', runId: 'r1', namespace: 'default', name: 's-abcde', cluster: 'demo', phase: 'Running', facts: { labels: { a: 'b' }, ownerKind: 'MachineSet' as const, createdAt: '2026-12-03T00:00:00Z' } };
  it('the template annotations and their keys beside the workflow and run', () => {
    const o = machineObject({ ...m, facts: { ...m.facts, annotations: { 'example.com/team': 'blue', 'cluster.capstan.dev/skip-remediation': '' } } }, owner);
    expect(o.metadata?.annotations).toEqual({
      'example.com/team': 'blue',
      'cluster.capstan.dev/skip-remediation': '',
      'capstan.dev/workflow-id': 'machine/default/s-abcde',
      'capstan.dev/run-id': 'r1',
      'capstan.dev/template-annotations': 'cluster.capstan.dev/skip-remediation,example.com/team',
    });
  });
  it('none from a template without any', () => {
    expect(machineObject(m, owner).metadata?.annotations).toEqual({ 'capstan.dev/workflow-id': 'machine/default/s-abcde', 'capstan.dev/run-id': 'r1' });
  });
  it("the watcher does not take them for a user's (it would send them back to the machine); a user's it does", () => {
    const o = machineObject({ ...m, facts: { ...m.facts, annotations: { 'example.com/team': 'blue' } } }, owner);
    expect(userAnnotations(o)).toEqual({});
    expect(userAnnotations({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata!.annotations, 'example.com/mine': 'x' } } })).toEqual({ 'example.com/mine': 'x' });
    // The planted case: without the list of keys, the template's are a user's.
    const { 'capstan.dev/template-annotations': _k, ...unlisted } = o.metadata!.annotations!;
    expect(userAnnotations({ ...o, metadata: { ...o.metadata, annotations: unlisted } })).toEqual({ 'example.com/team': 'blue' });
  });
  it("its KubeadmConfig and SimMachine carry its labels and template annotations (Cluster API's MachineSet clones them with the Machine's), no workflow or run", () => {
    expect(partMetadata({ ...m, facts: { ...m.facts, annotations: { 'example.com/team': 'blue' } } })).toEqual({
      labels: { a: 'b', 'cluster.capstan.dev/cluster-name': 'demo' },
      annotations: { 'example.com/team': 'blue', 'capstan.dev/template-annotations': 'example.com/team' },
    });
    expect(partMetadata(m)).toEqual({ labels: { a: 'b', 'cluster.capstan.dev/cluster-name': 'demo' } });
  });
});

describe('selectorString', () => {
  it('writes labels and expressions as kubectl -l reads them', () => {
    expect(
      selectorString({
        matchLabels: { a: '1', b: '2' },
        matchExpressions: [
          { key: 'c', operator: 'In', values: ['x', 'y'] },
          { key: 'd', operator: 'NotIn', values: ['z'] },
          { key: 'e', operator: 'Exists' },
          { key: 'f', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('a=1,b=2,c in (x,y),d notin (z),e,!f');
  });
});

describe('blindAvailable (a deployment whose cluster\'s API does not answer)', () => {
  const since = '2026-12-01T01:02:03.000Z';
  const conditions = [
    { type: 'Available', status: 'True' as const, reason: 'Available', message: '', lastTransitionTime: '2026-11-30T00:00:00Z' },
    { type: 'RollingOut', status: 'False' as const, reason: 'NotRollingOut', message: '', lastTransitionTime: '2026-11-30T00:00:00Z' },
  ];
  it('is not Available since the probe failed, and keeps the other conditions', () => {
    const c = blindAvailable(conditions, since, 'demo');
    expect(c.map((x) => [x.type, x.status, x.reason, x.lastTransitionTime])).toEqual([
      ['Available', 'False', 'NotAvailable', since],
      ['RollingOut', 'False', 'NotRollingOut', '2026-11-30T00:00:00Z'],
    ]);
  });
  it('is the same at every pass (nothing new to write)', () => {
    expect(blindAvailable(conditions, since, 'demo')).toEqual(blindAvailable(conditions, since, 'demo'));
  });
});

describe('setAnnotations (a deployment\'s set)', () => {
  it('shows its revision, and its revision history only after a rollback', () => {
    expect(setAnnotations('default', { name: 'md-abcde', revision: 2 })).toEqual({
      'capstan.dev/workflow-id': 'machineset/default/md-abcde',
      'machinedeployment.cluster.capstan.dev/revision': '2',
    });
    expect(setAnnotations('default', { name: 'md-abcde', revision: 5, revisionHistory: [1, 3] })).toMatchObject({
      'machinedeployment.cluster.capstan.dev/revision': '5',
      'machinedeployment.cluster.capstan.dev/revision-history': '1,3',
    });
  });
});

describe("a workflow-made Machine's in-place spec (its owner's template's deletion timeouts and minReadySeconds)", () => {
  const set: MirroredObject = { kind: 'MachineSet', spec: { template: { spec: { minReadySeconds: 5, deletion: { nodeDeletionTimeoutSeconds: 10, nodeDrainTimeoutSeconds: 120 } } } } };
  const kcp: MirroredObject = { kind: 'KubeadmControlPlane', spec: { machineTemplate: { spec: { deletion: { nodeDeletionTimeoutSeconds: 10 } } } } };
  it('takes what the owner has', () => {
    expect(machineSpecInPlace(set)).toEqual({ minReadySeconds: 5, deletion: { nodeDeletionTimeoutSeconds: 10, nodeDrainTimeoutSeconds: 120 } });
    expect(machineSpecInPlace(kcp)).toEqual({ deletion: { nodeDeletionTimeoutSeconds: 10 } });
    expect(machineSpecInPlace({ kind: 'MachineSet', spec: {} })).toEqual({});
  });
  it('is changed when a field the owner has differs, a key removed included; not for a field the owner lacks', () => {
    const machine = (spec: Record<string, unknown>): MirroredObject => ({ kind: 'Machine', spec });
    expect(specInPlaceChanged(machine({ minReadySeconds: 5, deletion: { nodeDrainTimeoutSeconds: 120, nodeDeletionTimeoutSeconds: 10 } }), set)).toBe(false);
    expect(specInPlaceChanged(machine({ minReadySeconds: 5, deletion: { nodeDeletionTimeoutSeconds: 10 } }), set)).toBe(true);
    expect(specInPlaceChanged(machine({ minReadySeconds: 5, deletion: { nodeDeletionTimeoutSeconds: 10, nodeDrainTimeoutSeconds: 120, nodeVolumeDetachTimeoutSeconds: 1 } }), set)).toBe(true);
    expect(specInPlaceChanged(machine({ minReadySeconds: 9 }), { kind: 'MachineSet', spec: {} })).toBe(false);
  });
});

describe("what capstan's last server-side apply set (managedFields): a label a template dropped while no watcher ran", () => {
  const obj = (labels: string[], annotations: string[], manager = 'capstan', operation = 'Apply'): MirroredObject => ({
    kind: 'Machine',
    metadata: {
      managedFields: [
        { manager, operation, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': Object.fromEntries(labels.map((k) => [`f:${k}`, {}])), 'f:annotations': Object.fromEntries(annotations.map((k) => [`f:${k}`, {}])) }, 'f:spec': { 'f:clusterName': {} } } },
        // Another manager's (kubectl label): not capstan's to take away.
        { manager: 'kubectl-label', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:mine': {} } } } },
      ],
    },
  });
  it('reads the keys capstan applied', () => {
    expect(appliedMetadataKeys(obj(['a', 'example.com/pool'], ['capstan.dev/run-id']))).toEqual({ labels: ['a', 'example.com/pool'], annotations: ['capstan.dev/run-id'] });
    expect(appliedMetadataKeys(obj(['a'], [], 'someone-else'))).toEqual({ labels: [], annotations: [] });
    expect(appliedMetadataKeys({ kind: 'Machine', metadata: {} })).toEqual({ labels: [], annotations: [] });
  });
  it('finds one the template no longer has (the planted case), and nothing when all are still wanted', () => {
    const want = { labels: { a: 'b' }, annotations: { 'capstan.dev/run-id': 'r1' } };
    expect(droppedSinceApplied(obj(['a'], ['capstan.dev/run-id']), want)).toBe(false);
    expect(droppedSinceApplied(obj(['a', 'example.com/pool'], ['capstan.dev/run-id']), want)).toBe(true);
    expect(droppedSinceApplied(obj(['a'], ['capstan.dev/run-id', 'example.com/team']), want)).toBe(true);
  });
});
