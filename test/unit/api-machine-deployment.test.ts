// MachineSet and MachineDeployment: Cluster API's defaults, and every rule between fields
// refused with the path of the field to change (table tests). Unknown keys, wrong types and
// missing fields are covered for every kind by api-strict.property.test.ts.
import { describe, expect, it } from 'vitest';
import { validateDocument } from '../../api/kinds.js';
import { resolveFenceposts } from '../../workflows/planners/rollout.js';

const labels = { 'cluster.capstan.dev/cluster-name': 'demo', pool: 'a' };
const ref = (apiGroup: string, kind: string, name: string) => ({ apiGroup, kind, name });

function setLike(kind: 'MachineSet' | 'MachineDeployment', spec: Record<string, unknown> = {}, templateSpec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'cluster.capstan.dev/v1alpha1',
    kind,
    metadata: { name: 'demo-md-0' },
    spec: {
      clusterName: 'demo',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          clusterName: 'demo',
          version: 'v1.37.2',
          bootstrap: { configRef: ref('bootstrap.capstan.dev', 'KubeadmConfigTemplate', 'demo-md-0') },
          infrastructureRef: ref('infrastructure.capstan.dev', 'SimMachineTemplate', 'demo-md-0'),
          ...templateSpec,
        },
      },
      ...spec,
    },
  };
}
const md = (spec: Record<string, unknown> = {}, templateSpec: Record<string, unknown> = {}) => setLike('MachineDeployment', spec, templateSpec);
const rolling = (rollingUpdate: Record<string, unknown>) => ({ rollout: { strategy: { type: 'RollingUpdate', rollingUpdate } } });

function errorsOf(doc: unknown): string[] {
  const r = validateDocument(doc);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('MachineSet and MachineDeployment defaults', () => {
  it('a minimal MachineDeployment gets Cluster API defaults: 1 replica, RollingUpdate 1/0, not paused, Random deletion', () => {
    const r = validateDocument(md());
    expect(r.ok).toBe(true);
    if (!r.ok || r.object.kind !== 'MachineDeployment') return;
    expect(r.object.spec.replicas).toBe(1);
    expect(r.object.spec.rollout.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(r.object.spec.paused).toBe(false);
    expect(r.object.spec.minReadySeconds).toBe(0);
    expect(r.object.spec.deletion.order).toBe('Random');
    expect(r.object.spec.template.spec.deletion.nodeDeletionTimeoutSeconds).toBe(10);
  });

  it('a partial rollingUpdate gets the other fencepost defaulted', () => {
    const r = validateDocument(md(rolling({ maxUnavailable: '25%' })));
    expect(r.ok && r.object.kind === 'MachineDeployment' && r.object.spec.rollout.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: '25%' });
  });

  it('OnDelete carries no rollingUpdate', () => {
    const r = validateDocument(md({ rollout: { strategy: { type: 'OnDelete' } } }));
    expect(r.ok && r.object.kind === 'MachineDeployment' && r.object.spec.rollout.strategy).toEqual({ type: 'OnDelete' });
  });

  it('a minimal MachineSet gets 1 replica and Random deletion', () => {
    const r = validateDocument(setLike('MachineSet'));
    expect(r.ok && r.object.kind === 'MachineSet' && [r.object.spec.replicas, r.object.spec.deletion.order]).toEqual([1, 'Random']);
  });

  it.each([
    { name: 'replicas 0', spec: { replicas: 0 } },
    { name: 'maxSurge 0 with maxUnavailable 1', spec: rolling({ maxSurge: 0, maxUnavailable: 1 }) },
    { name: 'percentages', spec: rolling({ maxSurge: '25%', maxUnavailable: '10%' }) },
    { name: 'maxSurge "0%" with maxUnavailable 1', spec: rolling({ maxSurge: '0%', maxUnavailable: 1 }) },
    { name: 'rollout.after in RFC 3339 with an offset', spec: { rollout: { after: '2026-01-02T15:04:05+01:00' } } },
    { name: 'a selector by expressions', spec: { selector: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a', 'b'] }, { key: 'gpu', operator: 'DoesNotExist' }] } } },
    { name: 'a selector on a subset of the labels', spec: { selector: { matchLabels: { pool: 'a' } } } },
  ])('MachineDeployment: $name → accepted', ({ spec }) => {
    expect(errorsOf(md(spec))).toEqual([]);
  });
});

describe('MachineSet and MachineDeployment: rules between fields, refused with the field path', () => {
  const otherCluster = { clusterName: 'other' };
  it.each([
    { name: 'maxSurge and maxUnavailable both 0', doc: md(rolling({ maxSurge: 0, maxUnavailable: 0 })), want: ['spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)'] },
    { name: 'both "0%"', doc: md(rolling({ maxSurge: '0%', maxUnavailable: '0%' })), want: ['spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)'] },
    { name: 'maxSurge 0 and maxUnavailable defaulted to 0', doc: md(rolling({ maxSurge: 0 })), want: ['spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)'] },
    { name: 'negative replicas', doc: md({ replicas: -1 }), want: ['spec.replicas: must be >= 0'] },
    { name: 'fractional replicas', doc: md({ replicas: 1.5 }), want: ['spec.replicas: must be an integer'] },
    { name: 'negative MachineSet replicas', doc: setLike('MachineSet', { replicas: -2 }), want: ['spec.replicas: must be >= 0'] },
    { name: 'a percent that is not N%', doc: md(rolling({ maxSurge: '25' })), want: ['spec.rollout.strategy.rollingUpdate.maxSurge: must be a percentage such as "25%" (or an integer)'] },
    { name: 'a fractional percent', doc: md(rolling({ maxUnavailable: '2.5%' })), want: ['spec.rollout.strategy.rollingUpdate.maxUnavailable: must be a percentage such as "25%" (or an integer)'] },
    { name: 'a negative maxSurge', doc: md(rolling({ maxSurge: -1 })), want: ['spec.rollout.strategy.rollingUpdate.maxSurge: must be >= 0'] },
    { name: 'a fractional maxSurge', doc: md(rolling({ maxSurge: 0.5 })), want: ['spec.rollout.strategy.rollingUpdate.maxSurge: must be an integer or a percentage such as "25%"'] },
    { name: 'rollingUpdate with type OnDelete', doc: md({ rollout: { strategy: { type: 'OnDelete', rollingUpdate: { maxSurge: 1 } } } }), want: ['spec.rollout.strategy.rollingUpdate: must not be set when type is OnDelete'] },
    { name: 'an unknown strategy type', doc: md({ rollout: { strategy: { type: 'Recreate' } } }), want: ['spec.rollout.strategy.type: must be one of RollingUpdate, OnDelete'] },
    { name: 'rollout.after that is no RFC 3339 time', doc: md({ rollout: { after: 'tomorrow' } }), want: ['spec.rollout.after: must be an RFC 3339 time such as 2026-01-02T15:04:05Z'] },
    { name: 'a selector that does not match the template labels', doc: md({ selector: { matchLabels: { pool: 'b' } } }), want: ['spec.selector: does not match spec.template.metadata.labels'] },
    { name: 'a selector expression that does not match', doc: md({ selector: { matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a'] }] } }), want: ['spec.selector: does not match spec.template.metadata.labels'] },
    { name: 'a MachineSet selector that does not match', doc: setLike('MachineSet', { selector: { matchLabels: { zone: 'x' } } }), want: ['spec.selector: does not match spec.template.metadata.labels'] },
    { name: 'an empty selector', doc: md({ selector: {} }), want: ['spec.selector: must not be empty (it would select every Machine of the namespace)'] },
    { name: 'In with no values', doc: md({ selector: { matchLabels: labels, matchExpressions: [{ key: 'pool', operator: 'In', values: [] }] } }), want: ['spec.selector.matchExpressions[0].values: must be non-empty when operator is In', 'spec.selector: does not match spec.template.metadata.labels'] },
    { name: 'NotIn without values', doc: md({ selector: { matchLabels: labels, matchExpressions: [{ key: 'zone', operator: 'NotIn' }] } }), want: ['spec.selector.matchExpressions[0].values: is required'] },
    { name: 'Exists with values', doc: md({ selector: { matchExpressions: [{ key: 'pool', operator: 'Exists', values: ['a'] }] } }), want: ['spec.selector.matchExpressions[0].values: must be empty when operator is Exists'] },
    { name: 'a template for another cluster', doc: md({}, otherCluster), want: ['spec.template.spec.clusterName: must be the set\'s spec.clusterName "demo" (a template for cluster "other")'] },
    { name: 'a MachineSet template for another cluster', doc: setLike('MachineSet', {}, otherCluster), want: ['spec.template.spec.clusterName: must be the set\'s spec.clusterName "demo" (a template for cluster "other")'] },
    { name: 'an unknown deletion order', doc: setLike('MachineSet', { deletion: { order: 'Largest' } }), want: ['spec.deletion.order: must be one of Random, Newest, Oldest'] },
    {
      name: 'several rules at once, each named',
      doc: md({ replicas: -1, selector: { matchLabels: { pool: 'b' } }, ...rolling({ maxSurge: 0, maxUnavailable: 0 }) }, otherCluster),
      want: [
        'spec.replicas: must be >= 0',
        'spec.selector: does not match spec.template.metadata.labels',
        'spec.template.spec.clusterName: must be the set\'s spec.clusterName "demo" (a template for cluster "other")',
        'spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)',
      ],
    },
  ])('$name → refused naming the field', ({ doc, want }) => {
    expect(errorsOf(doc)).toEqual(want);
  });

  it('refuses both-0 with the planner\'s own words, so apply and plan time say the same', () => {
    expect(() => resolveFenceposts(3, { maxSurge: 0, maxUnavailable: 0 })).toThrow(
      'rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)',
    );
  });
});
