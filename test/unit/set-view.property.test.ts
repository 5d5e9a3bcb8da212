// The MachineSet → MachineDeployment report rule (planners/set-view.ts): a set stays silent
// about what its owner can predict from the replicas it asked for. What must never happen is an
// owner that, between reports, believes more machines available than there are (it would let a
// rollout go below maxUnavailable) or fewer machines alive than there are (it would surge past
// maxSurge). Checked over random histories of one set, and shown to catch a rule that is too quiet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownerMustHear, ownerView, type SetCounts } from '../../workflows/planners/set-view.js';

type Rule = (last: SetCounts, current: SetCounts, spec: number) => boolean;

/** Runs a set through `events`, reporting by `rule`; returns the first moment the owner's view is unsafe. */
function firstUnsafe(rule: Rule, events: { spec?: number; counts: SetCounts }[]): string | undefined {
  let spec = 0;
  let heard: SetCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0 };
  for (const [i, e] of events.entries()) {
    if (e.spec !== undefined) spec = e.spec;
    if (rule(heard, e.counts, spec)) heard = e.counts;
    const view = ownerView(heard, spec);
    if (view.availableReplicas > e.counts.availableReplicas) return `step ${i}: owner sees ${view.availableReplicas} available, ${e.counts.availableReplicas} are`;
    if (view.readyReplicas > e.counts.readyReplicas) return `step ${i}: owner sees ${view.readyReplicas} ready, ${e.counts.readyReplicas} are`;
    if (view.replicas < e.counts.replicas) return `step ${i}: owner sees ${view.replicas} machines, ${e.counts.replicas} exist`;
  }
  return undefined;
}

const counts: fc.Arbitrary<SetCounts> = fc
  .integer({ min: 0, max: 12 })
  .chain((replicas) =>
    fc.integer({ min: 0, max: replicas }).chain((ready) => fc.record({ replicas: fc.constant(replicas), readyReplicas: fc.constant(ready), availableReplicas: fc.integer({ min: 0, max: ready }) })),
  );
const history = fc.array(fc.record({ spec: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }), counts }), { minLength: 1, maxLength: 40 });

describe('set → deployment reports (ownerMustHear)', () => {
  it.each([
    ['a machine created up to spec: silent', { replicas: 1, readyReplicas: 1, availableReplicas: 1 }, { replicas: 2, readyReplicas: 1, availableReplicas: 1 }, 2, false],
    ['a new machine available: reported', { replicas: 2, readyReplicas: 1, availableReplicas: 1 }, { replicas: 2, readyReplicas: 2, availableReplicas: 2 }, 2, true],
    ['an old machine deleting after a scale down: silent', { replicas: 10, readyReplicas: 10, availableReplicas: 10 }, { replicas: 10, readyReplicas: 9, availableReplicas: 9 }, 9, false],
    ['the old machine gone (a surge slot frees): reported', { replicas: 10, readyReplicas: 10, availableReplicas: 10 }, { replicas: 9, readyReplicas: 9, availableReplicas: 9 }, 9, true],
    ['a machine lost without a scale down: reported', { replicas: 3, readyReplicas: 3, availableReplicas: 3 }, { replicas: 3, readyReplicas: 2, availableReplicas: 2 }, 3, true],
    ['more machines than asked for: reported', { replicas: 3, readyReplicas: 3, availableReplicas: 3 }, { replicas: 4, readyReplicas: 3, availableReplicas: 3 }, 3, true],
  ] as const)('%s', (_name, last, current, spec, expected) => {
    expect(ownerMustHear(last, current, spec)).toBe(expected);
  });

  it('never leaves the owner believing more available or ready, or fewer machines, than there are', () => {
    fc.assert(fc.property(history, (events) => firstUnsafe(ownerMustHear, events) === undefined), { numRuns: 3000 });
  });

  it('the same check catches a rule that reports only gains (planted)', () => {
    const onlyGains: Rule = (last, current) => current.availableReplicas > last.availableReplicas || current.replicas > last.replicas;
    const found = fc.check(fc.property(history, (events) => firstUnsafe(onlyGains, events) === undefined), { numRuns: 3000 });
    expect(found.failed).toBe(true);
  });
});
