// KubeadmControlPlane remediation (workflows/planners/control-plane-remediation.ts): table tests
// and a property — no allowed remediation leaves fewer healthy etcd members than a majority —
// that catches a planted planner without the quorum check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlPlaneRemediation, quorum, retryLimits, type ControlPlaneMember, type ControlPlaneRemediationInput } from '../../workflows/planners/control-plane-remediation.js';

const m = (machine: string, healthy: boolean, deleting = false): ControlPlaneMember => ({ machine, healthy, ...(deleting ? { deleting } : {}) });

describe('controlPlaneRemediation', () => {
  it.each([
    ['3 members, the target alone unhealthy', 3, [m('a', false), m('b', true), m('c', true)], 'a', { allowed: true, retryCount: 0 }],
    ['3 members, 2 unhealthy', 3, [m('a', false), m('b', false), m('c', true)], 'a', { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: '1 of 3 etcd members healthy; remediating a would lose quorum' }],
    ['5 members, 2 unhealthy', 5, [m('a', false), m('b', false), m('c', true), m('d', true), m('e', true)], 'a', { allowed: true, retryCount: 0 }],
    ['5 members, 3 unhealthy', 5, [m('a', false), m('b', false), m('c', false), m('d', true), m('e', true)], 'a', { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: '2 of 5 etcd members healthy; remediating a would lose quorum' }],
    ['a single machine', 1, [m('a', false)], 'a', { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: 'cannot remediate a: a control plane of 1 machine would lose its only etcd member' }],
    ['another being deleted', 3, [m('a', false), m('b', true, true), m('c', true)], 'a', { allowed: false, wait: true, reason: 'RemediationInProgress', message: 'waiting for b to be deleted before remediating a' }],
    ['short of replicas (a replacement still to come)', 3, [m('a', false), m('c', true)], 'a', { allowed: false, wait: true, reason: 'WaitingForReplicas', message: 'waiting for 3 control-plane machines (2 now) before remediating a' }],
  ] as [string, number, ControlPlaneMember[], string, unknown][])('%s', (_name, replicas, members, target, want) => {
    expect(controlPlaneRemediation({ replicas, members, target })).toEqual(want);
  });
});

/** The property: an allowed remediation keeps a healthy majority of the members that remain. */
function keepsQuorum(decide: typeof controlPlaneRemediation, input: ControlPlaneRemediationInput): boolean {
  if (!decide(input).allowed) return true;
  const after = input.members.filter((x) => x.machine !== input.target);
  return after.filter((x) => x.healthy).length >= quorum(after.length) && !input.members.some((x) => x.deleting);
}

const inputs = fc
  .array(fc.boolean(), { minLength: 1, maxLength: 7 })
  .chain((health) =>
    fc.record({
      replicas: fc.integer({ min: 1, max: 7 }),
      members: fc.constant(health.map((h, i) => m(`m${i}`, h))),
      target: fc.integer({ min: 0, max: health.length - 1 }).map((i) => `m${i}`),
    }),
  );

describe('control-plane remediation never loses quorum', () => {
  it('holds for every control plane', () => {
    fc.assert(fc.property(inputs, (input) => keepsQuorum(controlPlaneRemediation, input)), { numRuns: 2000 });
  });
  it('catches a planted planner without the quorum check', () => {
    const careless: typeof controlPlaneRemediation = (input) => (input.members.length > 1 ? { allowed: true, retryCount: 0 } : controlPlaneRemediation(input));
    expect(fc.check(fc.property(inputs, (input) => keepsQuorum(careless, input)), { numRuns: 2000 }).failed).toBe(true);
  });
});

describe('retry limits (spec.remediation)', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 29, 12) + s * 1000).toISOString();
  const last = { machine: 'old', at: t(0), retryCount: 0 };
  it.each([
    ['no remediation before', { now: t(10), targetCreatedAt: t(5) }, { allowed: true, retryCount: 0 }],
    ['a machine older than the last remediation is no retry', { now: t(10), targetCreatedAt: t(-5), last }, { allowed: true, retryCount: 0 }],
    ['a replacement: retry 1', { now: t(10), targetCreatedAt: t(2), last }, { allowed: true, retryCount: 1 }],
    ['a replacement healthy past minHealthyPeriodSeconds starts over', { now: t(3601), targetCreatedAt: t(2), last }, { allowed: true, retryCount: 0 }],
    ['minHealthyPeriodSeconds set shorter', { now: t(61), targetCreatedAt: t(2), last, settings: { minHealthyPeriodSeconds: 60 } }, { allowed: true, retryCount: 0 }],
    [
      'past maxRetry',
      { now: t(10), targetCreatedAt: t(2), last: { ...last, retryCount: 2 }, settings: { maxRetry: 2 } },
      { allowed: false, wait: false, reason: 'RemediationNotAllowed', message: 'cannot remediate x: the machines it replaced were remediated 3 time(s) in a row; remediation.maxRetry is 2' },
    ],
    ['at maxRetry', { now: t(10), targetCreatedAt: t(2), last: { ...last, retryCount: 1 }, settings: { maxRetry: 2 } }, { allowed: true, retryCount: 2 }],
    [
      'within retryPeriodSeconds',
      { now: t(10), targetCreatedAt: t(2), last, settings: { retryPeriodSeconds: 30 } },
      { allowed: false, wait: true, reason: 'WaitingForRetryPeriod', message: `waiting until ${t(30)} (remediation.retryPeriodSeconds 30) before remediating x, a replacement of old` },
    ],
    ['after retryPeriodSeconds', { now: t(31), targetCreatedAt: t(2), last, settings: { retryPeriodSeconds: 30 } }, { allowed: true, retryCount: 1 }],
  ] as [string, Parameters<typeof retryLimits>[1], unknown][])('%s', (_name, input, want) => {
    expect(retryLimits('x', input)).toEqual(want);
  });
  it('the decision applies them before the quorum', () => {
    const members = [m('a', false), m('b', true), m('c', true)];
    const retry = { now: t(10), targetCreatedAt: t(2), last: { ...last, retryCount: 0 }, settings: { maxRetry: 0 } };
    expect(controlPlaneRemediation({ replicas: 3, members, target: 'a', retry })).toMatchObject({ allowed: false, reason: 'RemediationNotAllowed' });
  });
});
