// scalePaused (planners/rollout.ts): a paused MachineDeployment whose replicas changed scales
// its sets in proportion to their size, as Kubernetes' scale() does on a scaling event, and
// takes no rollout step. Table tests for the named cases; properties over random inputs, each
// shown to catch a planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveFenceposts, scalePaused, type RolloutInput, type RolloutStep, type SetState } from '../../workflows/planners/rollout.js';

type Planner = (input: RolloutInput) => RolloutStep;
const rolling = (maxSurge: number | string, maxUnavailable: number | string) => ({ type: 'RollingUpdate' as const, rollingUpdate: { maxSurge, maxUnavailable } });
const set = (name: string, replicas: number, availableReplicas = replicas): SetState => ({ name, replicas, availableReplicas });

describe('scalePaused: named cases', () => {
  it('grows 6 + 4 (paused mid-rollout, surge 0) to 15 in proportion: 9 + 6', () => {
    const step = scalePaused({ replicas: 15, strategy: rolling(0, 1), newSet: set('new', 6), oldSets: [set('old', 4)] });
    expect(step).toMatchObject({ newSetReplicas: 9, oldSetReplicas: { old: 6 } });
  });
  it('shrinks 6 + 4 to 5 in proportion: 3 + 2', () => {
    const step = scalePaused({ replicas: 5, strategy: rolling(0, 5), newSet: set('new', 6), oldSets: [set('old', 4)] });
    expect(step).toMatchObject({ newSetReplicas: 3, oldSetReplicas: { old: 2 } });
  });
  it('one active set follows replicas, the others stay at 0', () => {
    const step = scalePaused({ replicas: 7, strategy: rolling(1, 0), newSet: set('new', 0), oldSets: [set('old', 3)] });
    expect(step).toMatchObject({ newSetReplicas: 0, oldSetReplicas: { old: 7 } });
  });
  it('with no new set (a template changed while paused), the old sets share the growth', () => {
    const step = scalePaused({ replicas: 12, strategy: rolling(0, 1), newSet: null, oldSets: [set('a', 2), set('b', 4)] });
    expect(step).toMatchObject({ newSetReplicas: 0, oldSetReplicas: { a: 4, b: 8 } });
  });
  it('OnDelete grows to replicas exactly (no surge)', () => {
    const step = scalePaused({ replicas: 10, strategy: { type: 'OnDelete' }, newSet: set('new', 3), oldSets: [set('old', 2)] });
    expect(step).toMatchObject({ newSetReplicas: 6, oldSetReplicas: { old: 4 } });
  });
});

const strategy = fc
  .record({ maxSurge: fc.integer({ min: 0, max: 5 }), maxUnavailable: fc.integer({ min: 0, max: 5 }) })
  .filter((r) => r.maxSurge + r.maxUnavailable > 0)
  .map((r) => rolling(r.maxSurge, r.maxUnavailable));
const sized = (name: string) => fc.integer({ min: 0, max: 30 }).chain((r) => fc.integer({ min: 0, max: r }).map((a) => set(name, r, a)));
const input: fc.Arbitrary<RolloutInput> = fc.record({
  replicas: fc.integer({ min: 0, max: 60 }),
  strategy,
  newSet: fc.option(sized('new'), { nil: null, freq: 4 }),
  oldSets: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => sized(`old-${i}`)))),
});

const specsBefore = (i: RolloutInput) => [i.newSet?.replicas ?? 0, ...i.oldSets.map((s) => s.replicas)];
const specsAfter = (i: RolloutInput, s: RolloutStep) => [s.newSetReplicas, ...i.oldSets.map((o) => s.oldSetReplicas[o.name]!)];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const allowed = (i: RolloutInput) => (i.replicas > 0 ? i.replicas + (i.strategy.type === 'RollingUpdate' ? resolveFenceposts(i.replicas, i.strategy.rollingUpdate).maxSurge : 0) : 0);

const properties: { name: string; holds: (plan: Planner, i: RolloutInput) => boolean }[] = [
  {
    name: 'growing, every set grows by its share of the growth, within one machine, to a total of replicas + maxSurge',
    holds: (plan, i) => {
      const before = specsBefore(i);
      const total = sum(before);
      if (before.filter((x) => x > 0).length < 2 || total >= allowed(i)) return true;
      const after = specsAfter(i, plan(i));
      const add = allowed(i) - total;
      return sum(after) === allowed(i) && after.every((x, k) => Math.abs(x - before[k]! - (before[k]! * add) / total) < 1);
    },
  },
  {
    name: 'shrinking, no set grows and the total is at most replicas + maxSurge',
    holds: (plan, i) => {
      const before = specsBefore(i);
      if (before.filter((x) => x > 0).length < 2 || sum(before) <= allowed(i)) return true;
      const after = specsAfter(i, plan(i));
      return sum(after) <= allowed(i) && after.every((x, k) => x <= before[k]!);
    },
  },
  {
    name: 'a set at 0 stays at 0 while another set is active',
    holds: (plan, i) => {
      const before = specsBefore(i);
      if (!before.some((x) => x > 0)) return true;
      const after = specsAfter(i, plan(i));
      return before.every((x, k) => x > 0 || after[k] === 0);
    },
  },
];

describe('scalePaused: properties', () => {
  for (const p of properties) {
    it(p.name, () => {
      fc.assert(fc.property(input, (i) => p.holds(scalePaused, i)), { numRuns: 3000 });
    });
  }
  it('the properties catch a planner that gives all the growth to the new set (planted)', () => {
    const greedy: Planner = (i) => {
      const step = scalePaused(i);
      const before = specsBefore(i);
      if (!i.newSet || sum(before) >= allowed(i)) return step;
      return { ...step, newSetReplicas: i.newSet.replicas + allowed(i) - sum(before), oldSetReplicas: Object.fromEntries(i.oldSets.map((o) => [o.name, o.replicas])) };
    };
    const failed = properties.filter((p) => fc.check(fc.property(input, (i) => p.holds(greedy, i)), { numRuns: 3000 }).failed);
    expect(failed.map((p) => p.name)).toContain(properties[0]!.name);
  });
});
