// Quiet observers (activities/observer-marks.ts, workflows/search-attributes.ts): the marks a
// quiet observer shows and the worker's waker recomputes must change with what the observer acts
// on, and with nothing else, or an idle cluster would be woken (an action) for nothing.
import type { V1Node } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heartbeatAfterMs } from '../../activities/heartbeat.js';
import { healthTargetsMark, nodeConditionChanges, nodeConditionsMark } from '../../activities/observer-marks.js';
import { currentMark } from '../../activities/observer-waker.js';
import { observerQuietSeconds } from '../../workers/config.js';
import { markOf, quietValue } from '../../workflows/search-attributes.js';

const node = (name: string, ready: string, extra: { heartbeat?: string; pressure?: string } = {}): V1Node => ({
  metadata: { name },
  status: {
    conditions: [
      { type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady', ...(extra.heartbeat ? { lastHeartbeatTime: new Date(extra.heartbeat) } : {}) },
      ...(extra.pressure ? [{ type: extra.pressure, status: 'True' }] : []),
    ],
  },
});
const machine = (name: string, phase: string, nodeName?: string) => ({ name, workflowId: `machine/default/${name}`, phase, ...(nodeName ? { nodeName } : {}) });

describe('nodeConditionsMark (a quiet Cluster)', () => {
  const machines = [machine('m1', 'Running', 'n1'), machine('m2', 'Running', 'n2')];
  const healthy = [node('n1', 'True'), node('n2', 'True')];
  const base = nodeConditionsMark(machines, healthy);

  it.each([
    ['a healthy machine coming up', [...machines, machine('m3', 'Running', 'n3')], [...healthy, node('n3', 'True')]],
    ['a machine provisioning (no Node yet)', [...machines, machine('m3', 'Provisioning')], healthy],
    ['a healthy machine going away', [machines[0]!], [healthy[0]!]],
    ['a deleting machine whose Node is gone', [...machines, machine('m4', 'Deleting', 'n4')], healthy],
    ['a kubelet heartbeat', machines, [node('n1', 'True', { heartbeat: '2026-01-01T00:00:10Z' }), healthy[1]!]],
    ['the same in another order', [...machines].reverse(), [...healthy].reverse()],
  ])('unchanged by %s', (_what, ms, ns) => {
    expect(nodeConditionsMark(ms, ns)).toBe(base);
  });
  it.each([
    ['a Node NotReady', machines, [node('n1', 'False'), healthy[1]!]],
    ['a Node under memory pressure', machines, [node('n1', 'True', { pressure: 'MemoryPressure' }), healthy[1]!]],
    ['a Running machine’s Node deleted', machines, [healthy[1]!]],
  ])('changed by %s', (_what, ms, ns) => {
    expect(nodeConditionsMark(ms, ns)).not.toBe(base);
  });
  it('equal marks mean the mirror has nothing to tell (fast-check): same machines told the same', () => {
    const status = fc.constantFrom('True', 'False', 'Unknown');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('Running', 'Deleting', 'Provisioning'), status, status), { minLength: 1, maxLength: 6 }), (rows) => {
        const ms = rows.map(([phase], i) => machine(`m${i}`, phase, `n${i}`));
        const before = rows.map(([, s], i) => node(`n${i}`, s));
        const after = rows.map(([, , s], i) => node(`n${i}`, s));
        // What the mirror told after `before` (every change told), then what it would tell after `after`.
        const told = Object.fromEntries(nodeConditionChanges(ms, before, {}).map((c) => [c.machine.name, c.key]));
        const toTell = nodeConditionChanges(ms, after, told).length;
        const same = nodeConditionsMark(ms, before) === nodeConditionsMark(ms, after);
        return same === (toTell === 0);
      }),
    );
  });
});

describe('healthTargetsMark (a quiet MachineHealthCheck)', () => {
  const machines = [machine('m1', 'Running', 'n1'), machine('m2', 'Provisioning')];
  const nodes = [node('n1', 'True')];
  const base = healthTargetsMark(machines, nodes);
  it('unchanged by kubelet heartbeats and order', () => {
    expect(healthTargetsMark([...machines].reverse(), [node('n1', 'True', { heartbeat: '2026-01-01T00:00:10Z' })])).toBe(base);
  });
  it.each([
    ['a machine coming', [...machines, machine('m3', 'Provisioning')], nodes],
    ['a machine’s phase', [machines[0]!, machine('m2', 'Running', 'n2')], nodes],
    ['a new Node', machines, [...nodes, node('n2', 'True')]],
    ['a Node condition', machines, [node('n1', 'Unknown')]],
    ['a machine’s remediation annotation', [{ ...machines[0]!, remediation: ['cluster.capstan.dev/remediate-machine'] }, machines[1]!], nodes],
    ['a machine’s labels changed in place', [{ ...machines[0]!, facts: { labels: { a: 'b' }, createdAt: '2026-01-01T00:00:00Z', changedInPlace: 1 } }, machines[1]!], nodes],
  ])('changed by %s', (_what, ms, ns) => {
    expect(healthTargetsMark(ms, ns)).not.toBe(base);
  });
  it('a machine without remediation annotations marks as before them', () => {
    expect(healthTargetsMark([{ ...machines[0]!, remediation: [] }, machines[1]!], nodes)).toBe(base);
  });
  it('a machine whose labels never changed marks as before (its facts are not in the mark)', () => {
    expect(healthTargetsMark([{ ...machines[0]!, facts: { labels: { a: 'b' }, createdAt: '2026-01-01T00:00:00Z' } }, machines[1]!], nodes)).toBe(base);
  });
  it('the waker computes a Cluster’s mark and a health check’s as they do', () => {
    expect(currentMark('Cluster', machines, nodes)).toBe(nodeConditionsMark(machines, nodes));
    expect(currentMark('MachineHealthCheck', machines, nodes)).toBe(base);
  });
  it('a revision-10 check’s also holds the deployments’ current sets: a rollout, or its rollback, changes it; their order does not', () => {
    const sets = healthTargetsMark(machines, nodes, { a: 'a-1', b: 'b-1' });
    expect(sets).not.toBe(base);
    expect(healthTargetsMark(machines, nodes, { b: 'b-1', a: 'a-1' })).toBe(sets);
    expect(healthTargetsMark(machines, nodes, { a: 'a-2', b: 'b-1' })).not.toBe(sets);
    expect(currentMark('MachineHealthCheck', machines, nodes, { a: 'a-1', b: 'b-1' })).toBe(sets);
  });
  it('and their remediation limits, where there are any: raising one changes it; none marks as before limits', () => {
    const sets = healthTargetsMark(machines, nodes, { a: 'a-1' });
    expect(healthTargetsMark(machines, nodes, { a: 'a-1' }, {})).toBe(sets);
    const limited = healthTargetsMark(machines, nodes, { a: 'a-1' }, { a: 1 });
    expect(limited).not.toBe(sets);
    expect(healthTargetsMark(machines, nodes, { a: 'a-1' }, { a: 2 })).not.toBe(limited);
    expect(currentMark('MachineHealthCheck', machines, nodes, { a: 'a-1' }, { a: 1 })).toBe(limited);
  });
});

describe('CapstanQuiet values', () => {
  it('carry the mark and a spell count; anything else has no mark', () => {
    const mark = nodeConditionsMark([], []);
    expect(markOf(quietValue(mark, 3))).toBe(mark);
    expect(quietValue(mark, 3)).not.toBe(quietValue(mark, 4));
    for (const v of [undefined, '', mark, `${mark}.`, `${mark}.x`, 'zz.1']) expect(markOf(v)).toBeUndefined();
  });
});

describe('observer timing', () => {
  it('a quiet round (50 s by default) ends before an observer’s first heartbeat; a wait still heartbeats at 15 s', () => {
    expect(heartbeatAfterMs(120_000)).toBe(60_000);
    expect(heartbeatAfterMs(30_000)).toBe(15_000);
    expect(heartbeatAfterMs(undefined)).toBe(15_000);
  });
  it('CAPSTAN_OBSERVER_QUIET_SECONDS is a whole number of seconds from 1 to 100, else an error naming it', () => {
    expect(observerQuietSeconds('3')).toBe(3);
    expect(observerQuietSeconds(' 50 ')).toBe(50);
    for (const v of ['', '0', '101', '2.5', '5s', '-1']) expect(() => observerQuietSeconds(v)).toThrow(/^CAPSTAN_OBSERVER_QUIET_SECONDS: /);
  });
});
