// What a Cluster object's status says, from its workflow's list memo (client/status-mirror.ts):
// Available always, RemoteConnectionProbe once a revision-6 Cluster says (True, or False since when
// its workload API stopped answering); and what is written compares equal to what would be written
// again, so a converged Cluster costs no second write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterStatusFrom, mirroredPart } from '../../client/status-mirror.js';
import type { ClusterListMemo } from '../../workflows/list-memo.js';
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
  });

  it('of a written status equals what would be written again (a converged Cluster is not written twice)', () => {
    fc.assert(
      fc.property(memos, fc.option(fc.nat(5), { nil: undefined }), (m, generation) => {
        const want = clusterStatusFrom('Provisioned', m as ClusterListMemo, generation);
        // As the object holds it after the merge patch, with fields the mirror does not own.
        const written = { ...want, initialization: { infrastructureProvisioned: true }, conditions: [...want.conditions, { type: 'Paused', status: 'False', reason: 'NotPaused', message: '' }] };
        expect(canonicalJson(mirroredPart(written))).toBe(canonicalJson(want));
      }),
    );
  });
});
