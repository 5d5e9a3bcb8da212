// A MachineSet's and MachineDeployment's Remediating on their objects, as Cluster API's controllers
// set it (Test_setRemediatingCondition): the machines to remediate — deleting, or waiting for
// maxInFlight — aggregated by their OwnerRemediated message; else the unhealthy machines their
// owner leaves alone.
import { describe, expect, it } from 'vitest';
import type { HealthVerdictSeen } from '../../client/object-mirror.js';
import { withCondition } from '../../client/condition-merge.js';
import { remediatingCondition, remediationKey, remediationSeen } from '../../client/remediating-condition.js';
import { objectList } from '../../workflows/planners/machine-set.status.js';
import type { Condition } from '../../api/meta.js';

const WAIT = 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)';
const why = { reason: 'UnhealthyNode', message: 'Health check failed' };
const verdict = (name: string, unhealthy: string[], deferred?: Record<string, string>, namespace = 'default'): HealthVerdictSeen => ({
  name,
  namespace,
  targets: new Set(['m1', 'm2', 'm3', 'm4']),
  unhealthy: Object.fromEntries(unhealthy.map((m) => [m, why])),
  ...(deferred ? { deferred } : {}),
});

describe('remediatingCondition', () => {
  it.each<[string, 'MachineSet' | 'MachineDeployment', Parameters<typeof remediatingCondition>[1], string, string, string]>([
    ['nothing unhealthy', 'MachineSet', { remediating: [], deferred: {}, unhealthy: [] }, 'False', 'NotRemediating', ''],
    ['one unhealthy, left alone (a health check over maxUnhealthy)', 'MachineSet', { remediating: [], deferred: {}, unhealthy: ['m2'] }, 'False', 'NotRemediating', 'Machine m2 is not healthy (not to be remediated by MachineSet)'],
    ['two, by a deployment', 'MachineDeployment', { remediating: [], deferred: {}, unhealthy: ['m2', 'm1'] }, 'False', 'NotRemediating', 'Machines m1, m2 are not healthy (not to be remediated by MachineDeployment/MachineSet)'],
    ['one deleting', 'MachineDeployment', { remediating: ['m3'], deferred: {}, unhealthy: ['m3', 'm2'] }, 'True', 'Remediating', '* Machine m3: Machine is deleting'],
    ['one deleting, two deferred', 'MachineSet', { remediating: ['m1'], deferred: { m3: WAIT, m2: WAIT }, unhealthy: ['m1', 'm2', 'm3'] }, 'True', 'Remediating', `* Machine m1: Machine is deleting\n* Machines m2, m3: ${WAIT}`],
    ['only deferred', 'MachineSet', { remediating: [], deferred: { m2: WAIT }, unhealthy: ['m2'] }, 'True', 'Remediating', `* Machine m2: ${WAIT}`],
    ['a deleting machine a stale verdict still calls deferred: deleting', 'MachineSet', { remediating: ['m2'], deferred: { m2: WAIT }, unhealthy: ['m2'] }, 'True', 'Remediating', '* Machine m2: Machine is deleting'],
  ])('%s', (_, owner, seen, status, reason, message) => {
    expect(remediatingCondition(owner, seen)).toEqual({ type: 'Remediating', status, reason, message });
  });

  it('names at most three machines, as Cluster API lists them', () => {
    expect(objectList('Machine', ['m5', 'm1', 'm4', 'm2', 'm3'])).toBe('Machines m1, m2, m3, ... (2 more)');
    expect(remediatingCondition('MachineSet', { remediating: ['d', 'c', 'b', 'a'], deferred: {}, unhealthy: [] }).message).toBe('* Machines a, b, c, ... (1 more): Machine is deleting');
  });
});

describe('remediationSeen', () => {
  it('takes what the health checks said of these machines only, in their namespace', () => {
    const seen = remediationSeen('default', ['m1', 'm2', 'm3'], ['m3', 'x9'], [verdict('b', ['m1', 'm4'], { m1: WAIT }), verdict('a', ['m2']), verdict('c', ['m3'], undefined, 'other')]);
    expect(seen).toEqual({ remediating: ['m3'], deferred: { m1: WAIT }, unhealthy: ['m1', 'm2'] });
  });

  it('keys what changes it, and nothing else', () => {
    const key = (v: HealthVerdictSeen[]) => remediationKey(remediationSeen('default', ['m1', 'm2'], [], v));
    expect(key([verdict('a', ['m1'])])).toBe(key([verdict('a', ['m1', 'm4'])])); // m4 is another owner's
    expect(key([verdict('a', ['m1'])])).not.toBe(key([verdict('a', ['m1'], { m1: WAIT })]));
    expect(key([verdict('a', ['m1'])])).not.toBe(key([verdict('a', ['m1', 'm2'])]));
  });
});

describe('withCondition (a condition the watcher computes, merged into the workflow\'s)', () => {
  const at = (type: string, status: Condition['status'], lastTransitionTime: string): Condition => ({ type, status, reason: 'R', message: '', lastTransitionTime });
  const now = new Date('2026-12-03T12:00:00.000Z');
  const want = { type: 'Remediating', status: 'True' as const, reason: 'Remediating', message: `* Machine m1: ${WAIT}` };

  it('replaces the workflow\'s Remediating in place, keeping the others', () => {
    const got = withCondition([at('MachinesReady', 'True', 't0'), at('Remediating', 'False', 't1'), at('Deleting', 'False', 't2')], want, undefined, now);
    expect(got.map((c) => c.type)).toEqual(['MachinesReady', 'Remediating', 'Deleting']);
    expect(got[1]).toEqual({ ...want, lastTransitionTime: now.toISOString() });
  });

  it('keeps the transition time the object shows for the same status, so a pass writes nothing new', () => {
    const written = [at('Remediating', 'True', '2026-12-03T11:00:00.000Z')];
    expect(withCondition([at('Remediating', 'False', 't1')], want, written, now)[0]!.lastTransitionTime).toBe('2026-12-03T11:00:00.000Z');
    // …or the workflow's, when it says the same status.
    expect(withCondition([at('Remediating', 'True', 't1')], want, [at('Remediating', 'False', 't9')], now)[0]!.lastTransitionTime).toBe('t1');
  });

  it('adds it to a status that lacks it (a run of an earlier release)', () => {
    expect(withCondition([at('MachinesReady', 'True', 't0')], want, undefined, now).map((c) => c.type)).toEqual(['MachinesReady', 'Remediating']);
  });
});
