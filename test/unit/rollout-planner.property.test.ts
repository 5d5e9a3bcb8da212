// Properties of planRollout over random valid inputs. Each property is a function of the planner
// so that it can also be run against a deliberately broken planner: a guard that never fires
// proves nothing, so every property must catch its planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRollout, resolveFenceposts, type RolloutInput, type RolloutStep, type SetState } from '../../workflows/planners/rollout.js';

type Planner = (input: RolloutInput) => RolloutStep;
// ROLLOUT_PROPERTY_RUNS=50000 searches harder when the planner changes.
const NUM_RUNS = Number(process.env.ROLLOUT_PROPERTY_RUNS ?? 2000);

const intOrPercent = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`));
const isZero = (v: number | string) => v === 0 || v === '0%';

const rollingStrategy = fc
  .record({ maxSurge: intOrPercent, maxUnavailable: intOrPercent })
  .filter((r) => !(isZero(r.maxSurge) && isZero(r.maxUnavailable)))
  .map((rollingUpdate) => ({ type: 'RollingUpdate' as const, rollingUpdate }));

const setState = (name: string): fc.Arbitrary<SetState> =>
  fc
    .integer({ min: 0, max: 50 })
    .chain((replicas) => fc.record({ name: fc.constant(name), replicas: fc.constant(replicas), availableReplicas: fc.integer({ min: 0, max: replicas }) }));

const oldSets = fc.integer({ min: 0, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => setState(`old-${i}`))));

const rollingInput: fc.Arbitrary<RolloutInput> = fc.record({
  replicas: fc.integer({ min: 0, max: 50 }),
  strategy: rollingStrategy,
  newSet: fc.option(setState('new'), { nil: null, freq: 3 }),
  oldSets,
});

const anyInput: fc.Arbitrary<RolloutInput> = fc.oneof(
  { arbitrary: rollingInput, weight: 4 },
  { arbitrary: rollingInput.map((i) => ({ ...i, strategy: { type: 'OnDelete' as const } })), weight: 1 },
);

function fenceposts(input: RolloutInput): { maxSurge: number; maxUnavailable: number } {
  // OnDelete never surges and promises no availability: the user deletes.
  return input.strategy.type === 'RollingUpdate' ? resolveFenceposts(input.replicas, input.strategy.rollingUpdate) : { maxSurge: 0, maxUnavailable: 0 };
}

function totalBefore(input: RolloutInput): number {
  return (input.newSet?.replicas ?? 0) + input.oldSets.reduce((a, s) => a + s.replicas, 0);
}

function totalAfter(step: RolloutStep): number {
  return step.newSetReplicas + Object.values(step.oldSetReplicas).reduce((a, b) => a + b, 0);
}

/**
 * Availability after a step, in the planner's model: only scale-downs reduce it, and a set
 * scaled down by k loses max(0, k − its unavailable machines), since a MachineSet deletes
 * unavailable machines first. Available machines above a set's replicas count as unavailable.
 */
function availability(sets: { before: SetState | null; after: number }[]): { before: number; after: number } {
  let before = 0;
  let after = 0;
  for (const { before: s, after: target } of sets) {
    if (!s) continue;
    const available = Math.min(s.availableReplicas, s.replicas);
    const k = Math.max(0, s.replicas - target);
    before += available;
    after += available - Math.max(0, k - (s.replicas - available));
  }
  return { before, after };
}

const properties: { name: string; arbitrary: fc.Arbitrary<RolloutInput>; holds: (plan: Planner, input: RolloutInput) => boolean }[] = [
  {
    name: 'planRollout: any input → total spec replicas ≤ max(replicas + maxSurge, total before)',
    arbitrary: anyInput,
    holds: (plan, input) => totalAfter(plan(input)) <= Math.max(input.replicas + fenceposts(input).maxSurge, totalBefore(input)),
  },
  {
    name: 'planRollout: any input → the new set is never planned above replicas',
    arbitrary: anyInput,
    holds: (plan, input) => plan(input).newSetReplicas <= input.replicas,
  },
  {
    name: 'planRollout: any input → no old set is scaled up, and every old set is in the plan',
    arbitrary: anyInput,
    holds: (plan, input) => {
      const step = plan(input);
      const names = input.oldSets.map((s) => s.name);
      return (
        Object.keys(step.oldSetReplicas).sort().join() === [...names].sort().join() &&
        input.oldSets.every((s) => step.oldSetReplicas[s.name]! <= s.replicas)
      );
    },
  },
  {
    name: 'planRollout: RollingUpdate → available after the step ≥ min(available before, replicas − maxUnavailable)',
    arbitrary: rollingInput,
    holds: (plan, input) => {
      const step = plan(input);
      const { before, after } = availability([
        { before: input.newSet, after: step.newSetReplicas },
        ...input.oldSets.map((s) => ({ before: s, after: step.oldSetReplicas[s.name]! })),
      ]);
      return after >= Math.min(before, input.replicas - fenceposts(input).maxUnavailable);
    },
  },
  {
    name: 'planRollout: same input twice → same step',
    arbitrary: anyInput,
    holds: (plan, input) => JSON.stringify(plan(structuredClone(input))) === JSON.stringify(plan(structuredClone(input))),
  },
  {
    name: 'planRollout: any input → the input is left as it was',
    arbitrary: anyInput,
    holds: (plan, input) => {
      const before = JSON.stringify(input);
      plan(input);
      return JSON.stringify(input) === before;
    },
  },
  {
    name: 'planRollout: any input → every planned replica count is a non-negative integer',
    arbitrary: anyInput,
    holds: (plan, input) => {
      const step = plan(input);
      return [step.newSetReplicas, ...Object.values(step.oldSetReplicas)].every((n) => Number.isSafeInteger(n) && n >= 0);
    },
  },
  {
    name: 'planRollout: done → the step changes nothing',
    arbitrary: anyInput,
    holds: (plan, input) => {
      const step = plan(input);
      if (!step.done) return true;
      return step.newSetReplicas === (input.newSet?.replicas ?? 0) && input.oldSets.every((s) => step.oldSetReplicas[s.name] === s.replicas);
    },
  },
  {
    // Cluster API's planOnDelete: the new set takes what the old ones give up, a scale down comes
    // off the old sets, and the new set shrinks only when it is above replicas.
    name: 'planRollout: OnDelete → total spec replicas = replicas, and the new set keeps min(its replicas, replicas)',
    arbitrary: rollingInput.map((i) => ({ ...i, strategy: { type: 'OnDelete' as const } })),
    holds: (plan, input) => {
      const step = plan(input);
      return totalAfter(step) === input.replicas && step.newSetReplicas >= Math.min(input.newSet?.replicas ?? 0, input.replicas);
    },
  },
];

// One planted violation per property, each a small change to the real planner.
let calls = 0;
const broken: Record<string, Planner> = {
  'surges by 2 extra': (i) => {
    const s = planRollout(i);
    return { ...s, newSetReplicas: s.newSetReplicas + 2 };
  },
  'scales the new set past replicas': (i) => ({ ...planRollout(i), newSetReplicas: i.replicas + 1 }),
  'scales the first old set up by 1': (i) => {
    const s = planRollout(i);
    const first = i.oldSets[0];
    return first ? { ...s, oldSetReplicas: { ...s.oldSetReplicas, [first.name]: first.replicas + 1 } } : s;
  },
  'scales the first old set to 0 at once': (i) => {
    const s = planRollout(i);
    const first = i.oldSets[0];
    return first ? { ...s, oldSetReplicas: { ...s.oldSetReplicas, [first.name]: 0 } } : s;
  },
  'answers differently on every other call': (i) => {
    const s = planRollout(i);
    calls += 1;
    return { ...s, newSetReplicas: s.newSetReplicas + (calls % 2) };
  },
  'sorts the caller’s old sets in place': (i) => {
    i.oldSets.sort((a, b) => a.replicas - b.replicas || a.name.localeCompare(b.name)).reverse();
    return planRollout(i);
  },
  'halves the new set': (i) => {
    const s = planRollout(i);
    return { ...s, newSetReplicas: s.newSetReplicas / 2 };
  },
  'reports done while old machines remain': (i) => ({ ...planRollout(i), done: i.oldSets.length > 0, newSetReplicas: i.replicas }),
  // The planner before Cluster API's OnDelete was followed: old sets kept, the new set cut to fit.
  'takes an OnDelete scale down off the new set': (i) => {
    const s = planRollout(i);
    if (i.strategy.type !== 'OnDelete') return s;
    const oldSetReplicas = Object.fromEntries(i.oldSets.map((o) => [o.name, o.replicas]));
    return { ...s, oldSetReplicas, newSetReplicas: Math.max(0, i.replicas - i.oldSets.reduce((a, o) => a + o.replicas, 0)) };
  },
};
const plantFor = Object.keys(broken);

describe('planRollout properties', () => {
  properties.forEach((p, n) => {
    it(p.name, () => {
      fc.assert(
        fc.property(p.arbitrary, (input) => p.holds(planRollout, input)),
        { numRuns: NUM_RUNS },
      );
    });

    it(`${p.name} — catches a planner that ${plantFor[n]}`, () => {
      const plant = broken[plantFor[n]!]!;
      const result = fc.check(
        fc.property(p.arbitrary, (input) => p.holds(plant, input)),
        { numRuns: NUM_RUNS },
      );
      expect(result.failed).toBe(true);
    });
  });

  it('planRollout: a frozen input → never throws for any valid input', () => {
    const deepFreeze = <T,>(v: T): T => {
      if (v && typeof v === 'object') {
        for (const x of Object.values(v)) deepFreeze(x);
        Object.freeze(v);
      }
      return v;
    };
    fc.assert(
      fc.property(anyInput, (input) => {
        planRollout(deepFreeze(input));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
