// What a Cluster object's status says, from its workflow's list memo (client/status-mirror.ts):
// a revision-9 Cluster's conditions as its workflow keeps them (the count messages rebuilt from the
// memo's counts); before, Available always, RemoteConnectionProbe once a revision-6 Cluster says
// (True, or False since when its workload API stopped answering); and what is written compares
// equal to what would be written again, so a converged Cluster costs no second write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterStatusFrom, mirroredPart } from '../../client/status-mirror.js';
import type { Condition } from '../../api/meta.js';
import { clusterListMemo, MEMO_MESSAGE_MAX, type ClusterListMemo } from '../../workflows/list-memo.js';
import { canonicalJson } from '../../workflows/spec-diff.js';

const memo = (over: Partial<ClusterListMemo> = {}): ClusterListMemo => ({ available: 'True', controlPlane: '3/3', workers: '2/2', endpoint: '127.0.0.1:6443', version: 'v1.37.2', ...over });

describe('clusterStatusFrom', () => {
  it.each([
    ['a Cluster that does not say (before revision 6, or not initialized)', memo(), [{ type: 'Available', status: 'True' }]],
    ['its workload API answering', memo({ probe: 'ok' }), [{ type: 'Available', status: 'True' }, { type: 'RemoteConnectionProbe', status: 'True', reason: 'ProbeSucceeded', message: '' }]],
    [
      'its workload API not answering',
      memo({ available: 'False', probe: '2026-12-01T01:02:03.000Z' }),
      [
        { type: 'Available', status: 'False' },
        { type: 'RemoteConnectionProbe', status: 'False', reason: 'ProbeFailed', message: 'Remote connection probe failed, probe last succeeded at 2026-12-01T01:02:03Z' },
      ],
    ],
  ])('%s', (_, m, conditions) => {
    expect(clusterStatusFrom('Provisioned', m, 1).conditions).toEqual(conditions);
  });

  it('a revision-9 Cluster: every condition as the workflow keeps it, through the memo and back', () => {
    const at = '2026-12-02T01:02:03.000Z';
    const kept: Condition[] = [
      { type: 'InfrastructureReady', status: 'True', reason: 'Provisioned', message: '', lastTransitionTime: at, observedGeneration: 4 },
      { type: 'ControlPlaneInitialized', status: 'True', reason: 'Initialized', message: '', lastTransitionTime: at },
      { type: 'ControlPlaneAvailable', status: 'False', reason: 'NotAvailable', message: '2 of 3 control-plane machines ready', lastTransitionTime: at },
      { type: 'WorkersAvailable', status: 'False', reason: 'NotAvailable', message: '1 of 2 worker machines ready', lastTransitionTime: at },
      { type: 'Available', status: 'False', reason: 'Retrying', message: 'createInfraCluster: 3 attempts: 429 Too Many Requests', lastTransitionTime: at },
    ];
    const m = clusterListMemo(
      { controlPlane: { readyReplicas: 2, desiredReplicas: 3, replicas: 3 }, workers: { readyReplicas: 1, desiredReplicas: 2, replicas: 2 }, conditions: kept },
      'v1.37.2',
      undefined,
      undefined,
      true,
    );
    // The count messages are not in the memo (they change with every machine; the counts are there).
    expect(m.conditions?.find(([t]) => t === 'WorkersAvailable')).toEqual(['WorkersAvailable', 'False', 'NotAvailable', at]);
    // Back: each condition whole, at the object's generation (not the workflow's own).
    expect(clusterStatusFrom('Provisioned', m, 7).conditions).toEqual(kept.map((c) => ({ ...c, observedGeneration: 7 })));
    // An earlier Cluster's memo has none: Available alone, as before.
    expect(clusterListMemo({ controlPlane: { readyReplicas: 2, desiredReplicas: 3, replicas: 3 }, workers: { readyReplicas: 1, desiredReplicas: 2, replicas: 2 }, conditions: kept }, 'v1.37.2').conditions).toBeUndefined();
  });

  it('a long message is cut to what a memo carries', () => {
    const long = 'x'.repeat(5000);
    const m = clusterListMemo({ controlPlane: { readyReplicas: 0, desiredReplicas: 1, replicas: 0 }, workers: { readyReplicas: 0, desiredReplicas: 0, replicas: 0 }, conditions: [{ type: 'Available', status: 'Unknown', reason: 'Retrying', message: long, lastTransitionTime: '2026-12-02T01:02:03.000Z' }] }, 'v1.37.2', undefined, undefined, true);
    expect(m.conditions![0]![4]).toHaveLength(MEMO_MESSAGE_MAX);
  });

  it('reads the endpoint and the counts back', () => {
    expect(clusterStatusFrom('Provisioned', memo(), 2)).toMatchObject({ phase: 'Provisioned', observedGeneration: 2, controlPlane: { readyReplicas: 3, desiredReplicas: 3 }, controlPlaneEndpoint: { host: '127.0.0.1', port: 6443 } });
  });
});

describe('mirroredPart', () => {
  const memos = fc.record({
    available: fc.constantFrom('True', 'False', ''),
    controlPlane: fc.constantFrom('0/3', '3/3'),
    workers: fc.constantFrom('0/0', '1/2'),
    endpoint: fc.constantFrom('', '127.0.0.1:6443'),
    version: fc.constantFrom('v1.37.2'),
    probe: fc.option(fc.oneof(fc.constant('ok'), fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString())), { nil: undefined }),
    conditions: fc.option(
      fc.uniqueArray(
        fc.tuple(
          fc.constantFrom('Available', 'ControlPlaneAvailable', 'WorkersAvailable', 'InfrastructureReady'),
          fc.constantFrom('True' as const, 'False' as const),
          fc.constantFrom('Available', 'NotAvailable', 'Retrying'),
          fc.constant('2026-12-02T01:02:03.000Z'),
          fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        ).map(([t, st, r, at, msg]) => (msg === undefined ? [t, st, r, at] : [t, st, r, at, msg]) as NonNullable<ClusterListMemo['conditions']>[number]),
        { selector: (c) => c[0] },
      ),
      { nil: undefined },
    ),
  });

  it('of a written status equals what would be written again (a converged Cluster is not written twice)', () => {
    fc.assert(
      fc.property(memos, fc.option(fc.nat(5), { nil: undefined }), (m, generation) => {
        const want = clusterStatusFrom('Provisioned', m as ClusterListMemo, generation);
        // As the object holds it after the merge patch, with fields the mirror does not own.
        const written = { ...want, initialization: { infrastructureProvisioned: true }, conditions: [...want.conditions, { type: 'Paused', status: 'False', reason: 'NotPaused', message: '' }] };
        expect(canonicalJson(mirroredPart(written, want))).toBe(canonicalJson(want));
      }),
    );
  });

  it('of a status whose condition changed differs from what would be written (planted: a changed reason is caught)', () => {
    fc.assert(
      fc.property(memos, fc.option(fc.nat(5), { nil: undefined }), (m, generation) => {
        const want = clusterStatusFrom('Provisioned', m as ClusterListMemo, generation);
        fc.pre(want.conditions.length > 0);
        const stale = { ...want, conditions: want.conditions.map((c, i) => (i === 0 ? { ...c, status: c.status === 'True' ? 'False' : 'True' } : c)) };
        expect(canonicalJson(mirroredPart(stale, want))).not.toBe(canonicalJson(want));
      }),
    );
  });
});
