// A Machine's NodeReady/NodeHealthy from its Node (workflows/planners/node-conditions.ts) and
// which machines the mirror tells (activities/node-conditions.ts): table tests.
import type { V1Node } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeConditionChanges } from '../../activities/observer-marks.js';
import { HEALTHY_NODE, HEALTHY_NODE_KEY, nodeConditions, nodeConditionsFromKey, nodeConditionsKey, nodeHealthKey } from '../../workflows/planners/node-conditions.js';

const ready = (status: string, extra: object = {}) => ({ type: 'Ready', status, ...extra });

describe('nodeConditions', () => {
  const table: [string, Parameters<typeof nodeConditions>[1], { ready: string; readyReason: string; healthy: string; healthyReason: string; healthyMessage?: string }][] = [
    ['Ready', { conditions: [ready('True', { reason: 'KubeletReady' })] }, { ready: 'True', readyReason: 'Ready', healthy: 'True', healthyReason: 'Ready' }],
    ['NotReady', { conditions: [ready('False', { reason: 'KubeletNotReady', message: 'PLEG' })] }, { ready: 'False', readyReason: 'KubeletNotReady', healthy: 'False', healthyReason: 'NodeNotHealthy', healthyMessage: 'Node n1: not ready' }],
    ['Unknown (kubelet stopped posting)', { conditions: [ready('Unknown', { reason: 'NodeStatusUnknown' })] }, { ready: 'Unknown', readyReason: 'NodeStatusUnknown', healthy: 'Unknown', healthyReason: 'NodeHealthUnknown' }],
    ['no Ready condition yet', { conditions: [] }, { ready: 'Unknown', readyReason: 'NodeConditionDoesNotExist', healthy: 'Unknown', healthyReason: 'NodeHealthUnknown' }],
    [
      'Ready under memory pressure',
      { conditions: [ready('True'), { type: 'MemoryPressure', status: 'True' }, { type: 'DiskPressure', status: 'False' }] },
      { ready: 'True', readyReason: 'Ready', healthy: 'False', healthyReason: 'NodeNotHealthy', healthyMessage: 'Node n1: MemoryPressure' },
    ],
    [
      'NotReady and out of disk',
      { conditions: [ready('False'), { type: 'DiskPressure', status: 'True' }] },
      { ready: 'False', readyReason: 'NodeNotReady', healthy: 'False', healthyReason: 'NodeNotHealthy', healthyMessage: 'Node n1: not ready, DiskPressure' },
    ],
    ['gone', undefined, { ready: 'False', readyReason: 'NodeDeleted', healthy: 'False', healthyReason: 'NodeDeleted', healthyMessage: 'Node n1 has been deleted while the Machine still exists' }],
  ];
  it.each(table)('%s', (_name, node, want) => {
    const c = nodeConditions('n1', node);
    expect(c.nodeReady).toMatchObject({ type: 'NodeReady', status: want.ready, reason: want.readyReason });
    expect(c.nodeHealthy).toMatchObject({ type: 'NodeHealthy', status: want.healthy, reason: want.healthyReason, ...(want.healthyMessage ? { message: want.healthyMessage } : {}) });
  });
  it('a healthy Node is exactly what a machine sets itself on coming up', () => {
    expect(nodeConditions('n1', { conditions: [ready('True', { reason: 'KubeletReady', message: 'kubelet is posting ready status' })] })).toBe(HEALTHY_NODE);
    expect(nodeConditionsKey(HEALTHY_NODE)).toBe(HEALTHY_NODE_KEY);
  });
});

describe('nodeConditionChanges', () => {
  const node = (name: string, status: string): V1Node => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status }] } });
  const machine = (name: string, phase: string, nodeName?: string) => ({ name, workflowId: `machine/default/${name}`, phase, ...(nodeName ? { nodeName } : {}) });
  const notReadyKey = nodeConditionsKey(nodeConditions('n2', { conditions: [{ type: 'Ready', status: 'False' }] }));

  it('tells only Running machines whose conditions differ from what they were told (absent = healthy)', () => {
    const machines = [machine('m1', 'Running', 'n1'), machine('m2', 'Running', 'n2'), machine('m3', 'Provisioning'), machine('m4', 'Deleting', 'n4'), machine('m5', 'Running', 'n5')];
    const nodes = [node('n1', 'True'), node('n2', 'False'), node('n4', 'False')];
    const changes = nodeConditionChanges(machines, nodes, {});
    expect(changes.map((c) => [c.machine.name, c.conditions.nodeReady.status, c.conditions.nodeReady.reason])).toEqual([
      ['m2', 'False', 'NodeNotReady'],
      ['m5', 'False', 'NodeDeleted'],
    ]);
  });
  it('nothing when the machines were told what is so; a recovery when a told machine is healthy again', () => {
    const machines = [machine('m1', 'Running', 'n1'), machine('m2', 'Running', 'n2')];
    expect(nodeConditionChanges(machines, [node('n1', 'True'), node('n2', 'False')], { m2: notReadyKey })).toEqual([]);
    const back = nodeConditionChanges(machines, [node('n1', 'True'), node('n2', 'True')], { m2: notReadyKey });
    expect(back.map((c) => [c.machine.name, c.key === HEALTHY_NODE_KEY])).toEqual([['m2', true]]);
  });
});

describe('nodeConditionsFromKey (what the Cluster\'s list memo carries)', () => {
  const status = fc.constantFrom('True', 'False', 'Unknown');
  // Whatever a kubelet writes in its Ready condition's message, save a "|" (the key's separator).
  const text = fc.string({ maxLength: 40 }).filter((t) => !t.includes('|'));
  const node = fc.option(
    fc.record({
      conditions: fc.array(
        fc.record({ type: fc.constantFrom('Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'), status, reason: fc.option(fc.stringMatching(/^[A-Za-z]{0,12}$/), { nil: undefined }), message: fc.option(text, { nil: undefined }) }),
        { maxLength: 4 },
      ),
    }),
    { nil: undefined },
  );

  it('gives back the conditions a key was made of', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,12}$/), node, (name, n) => {
        const c = nodeConditions(name, n);
        // An empty message is no message.
        const norm = (x: typeof c) => ({ nodeReady: { ...x.nodeReady, message: x.nodeReady.message || undefined }, nodeHealthy: { ...x.nodeHealthy, message: x.nodeHealthy.message || undefined } });
        expect(norm(nodeConditionsFromKey(nodeConditionsKey(c)))).toEqual(norm(c));
      }),
    );
    expect(nodeConditionsFromKey(HEALTHY_NODE_KEY)).toEqual(HEALTHY_NODE);
  });

  it('reads anything else as a Node whose state is Unknown, saying what it read', () => {
    const c = nodeConditionsFromKey('not a key');
    expect([c.nodeReady.status, c.nodeHealthy.status, c.nodeHealthy.message]).toEqual(['Unknown', 'Unknown', 'not a key']);
  });

  it('nodeHealthKey keeps statuses and reasons, not the kubelet\'s messages (the memo changes only with them)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,12}$/), node, text, (name, n, other) => {
        const c = nodeConditions(name, n);
        const h = nodeHealthKey(nodeConditionsKey(c));
        const back = nodeConditionsFromKey(h);
        expect([back.nodeReady.status, back.nodeReady.reason, back.nodeHealthy.status, back.nodeHealthy.reason]).toEqual([c.nodeReady.status, c.nodeReady.reason, c.nodeHealthy.status, c.nodeHealthy.reason]);
        expect([back.nodeReady.message, back.nodeHealthy.message]).toEqual([undefined, undefined]);
        expect(nodeHealthKey(h)).toBe(h);
        // Another message, the same key.
        const reworded = { nodeReady: { ...c.nodeReady, message: other }, nodeHealthy: { ...c.nodeHealthy, message: other } };
        expect(nodeHealthKey(nodeConditionsKey(reworded))).toBe(h);
      }),
    );
    expect(nodeHealthKey(HEALTHY_NODE_KEY)).toBe(HEALTHY_NODE_KEY);
  });
});
