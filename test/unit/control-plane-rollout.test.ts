// KubeadmControlPlane scale and rolling upgrade (workflows/planners/control-plane-rollout.ts): table
// tests, and properties over whole rollouts driven step by step — never more than replicas + maxSurge
// machines, nothing created or deleted while another machine is not ready or going, and every
// rollout ends with `replicas` up-to-date machines — that catch planted planners (one ignoring
// maxSurge, one deleting while another machine is not ready).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, planControlPlane, type ControlPlaneMachine, type ControlPlanePlanInput, type ControlPlaneStep } from '../../workflows/planners/control-plane-rollout.js';

const m = (name: string, o: Partial<ControlPlaneMachine> = {}): ControlPlaneMachine => ({ name, created: `2026-11-30T00:00:0${name.at(-1)}Z`, upToDate: true, ready: true, ...o });

describe('planControlPlane', () => {
  it.each<[string, ControlPlanePlanInput, ControlPlaneStep]>([
    ['steady', { replicas: 3, maxSurge: 1, machines: [m('a1'), m('b2'), m('c3')] }, { action: 'none' }],
    ['scale up', { replicas: 3, maxSurge: 1, machines: [m('a1')] }, { action: 'create', reason: 'ScalingUp', message: 'Scaling up from 1 to 3 replicas' }],
    [
      'scale up waits for a joining machine',
      { replicas: 3, maxSurge: 1, machines: [m('a1'), m('b2', { ready: false })] },
      { action: 'wait', reason: 'ScalingUp', message: 'Scaling up from 2 to 3 replicas: waiting for b2 to be ready before a new etcd member joins', blockedBy: 'notReady' },
    ],
    ['scale down: the oldest', { replicas: 1, maxSurge: 1, machines: [m('c3'), m('a1'), m('b2')] }, { action: 'delete', machine: 'a1', reason: 'ScalingDown', message: 'Scaling down from 3 to 1 replicas: deleting a1' }],
    [
      'scale down waits for a machine being deleted',
      { replicas: 1, maxSurge: 1, machines: [m('a1', { deleting: true }), m('b2'), m('c3')] },
      { action: 'wait', reason: 'ScalingDown', message: 'Scaling down from 3 to 1 replicas: waiting for a1 to be deleted', blockedBy: 'deleting' },
    ],
    [
      'scale down waits for another machine to be ready',
      { replicas: 1, maxSurge: 1, machines: [m('a1'), m('b2', { ready: false }), m('c3')] },
      { action: 'wait', reason: 'ScalingDown', message: 'Scaling down from 3 to 1 replicas: waiting for b2 to be ready before a1 leaves etcd', blockedBy: 'notReady' },
    ],
    ['rollout, maxSurge 1: a new one first', { replicas: 3, maxSurge: 1, machines: [m('a1', { upToDate: false }), m('b2', { upToDate: false }), m('c3', { upToDate: false })] }, { action: 'create', reason: 'RollingOut', message: 'Rolling out 3 not up-to-date replicas' }],
    [
      'rollout, maxSurge 1, surged: the oldest outdated goes',
      { replicas: 3, maxSurge: 1, machines: [m('a1'), m('b2', { upToDate: false }), m('c3', { upToDate: false }), m('d4')] },
      { action: 'delete', machine: 'b2', reason: 'RollingOut', message: 'Rolling out 2 not up-to-date replicas: deleting b2' },
    ],
    ['rollout, maxSurge 0: delete first', { replicas: 3, maxSurge: 0, machines: [m('a1', { upToDate: false }), m('b2'), m('c3')] }, { action: 'delete', machine: 'a1', reason: 'RollingOut', message: 'Rolling out 1 not up-to-date replica: deleting a1' }],
    ['rollout, maxSurge 0: then replace', { replicas: 3, maxSurge: 0, machines: [m('b2', { upToDate: false }), m('c3')] }, { action: 'create', reason: 'RollingOut', message: 'Rolling out 1 not up-to-date replica' }],
    ['rollout of a single machine', { replicas: 1, maxSurge: 1, machines: [m('a1', { upToDate: false })] }, { action: 'create', reason: 'RollingOut', message: 'Rolling out 1 not up-to-date replica' }],
  ])('%s', (_name, input, want) => {
    expect(planControlPlane(input)).toEqual(want);
  });

  it.each<[string, ControlPlanePlanInput, ControlPlaneStep]>([
    [
      'a new machine goes to the zone with the fewest',
      { replicas: 3, maxSurge: 1, failureDomains: ['z-a', 'z-b', 'z-c'], machines: [m('a1', { failureDomain: 'z-a' }), m('b2', { failureDomain: 'z-c' })] },
      { action: 'create', reason: 'ScalingUp', message: 'Scaling up from 2 to 3 replicas', failureDomain: 'z-b' },
    ],
    [
      'a machine being deleted does not count',
      { replicas: 3, maxSurge: 1, failureDomains: ['z-a', 'z-b'], machines: [m('a1', { failureDomain: 'z-a', upToDate: false }), m('b2', { failureDomain: 'z-b' }), m('c3', { failureDomain: 'z-b' })] },
      { action: 'create', reason: 'RollingOut', message: 'Rolling out 1 not up-to-date replica', failureDomain: 'z-a' },
    ],
    [
      'scale down takes from the zone with the most, its oldest',
      { replicas: 1, maxSurge: 1, failureDomains: ['z-a', 'z-b'], machines: [m('a1', { failureDomain: 'z-a' }), m('b2', { failureDomain: 'z-b' }), m('c3', { failureDomain: 'z-b' })] },
      { action: 'delete', machine: 'b2', reason: 'ScalingDown', message: 'Scaling down from 3 to 1 replicas: deleting b2' },
    ],
    [
      'a rollout takes a not-up-to-date machine from the most populated zone',
      { replicas: 3, maxSurge: 1, failureDomains: ['z-a', 'z-b', 'z-c'], machines: [m('a1', { failureDomain: 'z-a', upToDate: false }), m('b2', { failureDomain: 'z-b', upToDate: false }), m('c3', { failureDomain: 'z-c', upToDate: false }), m('d4', { failureDomain: 'z-b' })] },
      { action: 'delete', machine: 'b2', reason: 'RollingOut', message: 'Rolling out 3 not up-to-date replicas: deleting b2' },
    ],
  ])('failure domains: %s', (_name, input, want) => {
    expect(planControlPlane(input)).toEqual(want);
  });

  it('does not mutate its input', () => {
    const input: ControlPlanePlanInput = { replicas: 1, maxSurge: 1, machines: [m('c3'), m('a1', { upToDate: false })] };
    const copy = structuredClone(input);
    planControlPlane(input);
    expect(input).toEqual(copy);
  });
});

describe('compareVersions', () => {
  it.each([
    ['v1.36.3', 'v1.37.2', -1],
    ['v1.37.2', 'v1.37.10', -1],
    ['v1.37.2', 'v1.37.2', 0],
    ['v2.0.0', 'v1.99.9', 1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareVersions(a, b))).toBe(sign));
});

/**
 * Drives a control plane with `plan` until it settles: each step is applied (a created machine joins
 * not ready, a deleted one is marked going), and between steps the world moves on (a joining machine
 * becomes ready, a going one disappears), in an order fast-check picks. Returns the first broken
 * rule, or undefined when every step kept them and the rollout ended with `replicas` up-to-date
 * ready machines.
 */
function drive(plan: typeof planControlPlane, start: ControlPlanePlanInput, worldMoves: number[], end?: (machines: ControlPlaneMachine[]) => void): string | undefined {
  let machines = start.machines.map((x) => ({ ...x }));
  let next = 0;
  const limit = Math.max(start.replicas + start.maxSurge, machines.length);
  for (let i = 0; i < 400; i++) {
    const step = plan({ ...start, machines });
    if (step.action === 'create') {
      if (machines.some((x) => !x.ready || x.deleting)) return 'created while a machine was not ready or going';
      machines.push({ name: `n${next++}`, created: `2027-01-01T00:00:${String(next).padStart(2, '0')}Z`, upToDate: true, ready: false, ...(step.failureDomain ? { failureDomain: step.failureDomain } : {}) });
      if (machines.length > limit) return `${machines.length} machines, more than ${limit}`;
    } else if (step.action === 'delete') {
      if (machines.some((x) => x.name !== step.machine && (!x.ready || x.deleting))) return 'deleted while another machine was not ready or going';
      machines = machines.map((x) => (x.name === step.machine ? { ...x, deleting: true } : x));
    }
    // The world: one joining machine becomes ready, or one going machine disappears; or, for a
    // while (a third of fast-check's moves), nothing happens before the planner looks again.
    const moving = machines.filter((x) => !x.ready || x.deleting);
    const move = worldMoves[i];
    if (move !== undefined && move % 3 === 0 && (step.action === 'create' || step.action === 'delete')) continue;
    if (moving.length) {
      const who = moving[(move ?? 0) % moving.length]!;
      machines = who.deleting ? machines.filter((x) => x !== who) : machines.map((x) => (x === who ? { ...x, ready: true } : x));
    } else if (step.action === 'none' || step.action === 'wait') {
      break;
    }
  }
  end?.(machines);
  if (machines.length !== start.replicas || !machines.every((x) => x.upToDate && x.ready && !x.deleting)) return `did not converge: ${JSON.stringify(machines)}`;
  return undefined;
}

/** The machines a rollout driven by the real planner ends with (it must converge). */
function settle(start: ControlPlanePlanInput, worldMoves: number[]): ControlPlaneMachine[] {
  let out: ControlPlaneMachine[] = [];
  const broken = drive(planControlPlane, start, worldMoves, (ms) => (out = ms));
  if (broken) throw new Error(broken);
  return out;
}

const starts = fc
  .record({
    replicas: fc.constantFrom(1, 3, 5),
    maxSurge: fc.constantFrom<0 | 1>(0, 1),
    outdated: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    notReady: fc.array(fc.boolean(), { maxLength: 5 }),
  })
  .filter((s) => !(s.maxSurge === 0 && s.replicas < 3))
  .map((s): ControlPlanePlanInput => ({ replicas: s.replicas, maxSurge: s.maxSurge, machines: s.outdated.map((o, i) => m(`m${i}`, { upToDate: !o, ready: !s.notReady[i] })) }));
const moves = fc.array(fc.nat(10), { maxLength: 200 });

describe('control-plane rollouts', () => {
  it('never exceed replicas + maxSurge, never act while a machine is not ready, and converge', () => {
    fc.assert(fc.property(starts, moves, (start, world) => drive(planControlPlane, start, world) === undefined), { numRuns: 1000 });
  });
  it('end spread across the zones: a rollout of 3 or 5 machines leaves at most one more in any zone than in another', () => {
    const zones = ['z-a', 'z-b', 'z-c'];
    const spreadStarts = fc
      .record({ replicas: fc.constantFrom(3, 5), maxSurge: fc.constantFrom<0 | 1>(0, 1), placed: fc.array(fc.constantFrom(...zones), { minLength: 3, maxLength: 5 }) })
      .map((s): ControlPlanePlanInput => ({ replicas: s.replicas, maxSurge: s.maxSurge, failureDomains: zones, machines: s.placed.map((z, i) => m(`m${i}`, { upToDate: false, failureDomain: z })) }));
    fc.assert(
      fc.property(spreadStarts, moves, (start, world) => {
        const end = settle(start, world);
        const counts = zones.map((z) => end.filter((x) => x.failureDomain === z).length);
        return Math.max(...counts) - Math.min(...counts) <= 1;
      }),
      { numRuns: 500 },
    );
  });
  it('catch a planted planner that ignores maxSurge', () => {
    const surging: typeof planControlPlane = (input) => {
      const step = planControlPlane({ ...input, maxSurge: 1 });
      return step.action === 'delete' && input.machines.length <= input.replicas ? { action: 'create', reason: 'RollingOut', message: '' } : step;
    };
    expect(fc.check(fc.property(starts, moves, (start, world) => drive(surging, start, world) === undefined), { numRuns: 1000 }).failed).toBe(true);
  });
  it('catch a planted planner that deletes while another machine is not ready', () => {
    const hasty: typeof planControlPlane = (input) => {
      const step = planControlPlane(input);
      if (step.action !== 'wait' || step.blockedBy !== 'notReady' || step.reason === 'ScalingUp') return step;
      const victim = input.machines.find((x) => !x.upToDate) ?? input.machines[0]!;
      return { action: 'delete', machine: victim.name, reason: 'RollingOut', message: '' };
    };
    expect(fc.check(fc.property(starts, moves, (start, world) => drive(hasty, start, world) === undefined), { numRuns: 1000 }).failed).toBe(true);
  });
});
