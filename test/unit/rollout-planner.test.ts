import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planRollout, resolveFenceposts, type RolloutInput, type RolloutStep } from '../../workflows/planners/rollout.js';

type Strategy = RolloutInput['strategy'];
const rolling = (maxSurge?: number | string, maxUnavailable?: number | string): Strategy => ({
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge, maxUnavailable },
});
const set = (name: string, replicas: number, availableReplicas = replicas) => ({ name, replicas, availableReplicas });

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

describe('resolveFenceposts', () => {
  const cases: { name: string; replicas: number; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string }; want: { maxSurge: number; maxUnavailable: number } }[] = [
    { name: 'defaults: maxSurge 1, maxUnavailable 0', replicas: 3, want: { maxSurge: 1, maxUnavailable: 0 } },
    { name: 'an empty rollingUpdate takes the defaults', replicas: 3, rollingUpdate: {}, want: { maxSurge: 1, maxUnavailable: 0 } },
    { name: 'integers are taken as given', replicas: 6, rollingUpdate: { maxSurge: 3, maxUnavailable: 1 }, want: { maxSurge: 3, maxUnavailable: 1 } },
    { name: 'percent of 10: 25% surge rounds up to 3, 25% unavailable rounds down to 2', replicas: 10, rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, want: { maxSurge: 3, maxUnavailable: 2 } },
    { name: 'percent of 10: 10% unavailable is 1', replicas: 10, rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' }, want: { maxSurge: 0, maxUnavailable: 1 } },
    { name: 'percent of 3: 10% surge rounds up to 1', replicas: 3, rollingUpdate: { maxSurge: '10%' }, want: { maxSurge: 1, maxUnavailable: 0 } },
    { name: 'percent rounding both to 0 leaves one unavailable (Kubernetes ResolveFenceposts)', replicas: 3, rollingUpdate: { maxSurge: 0, maxUnavailable: '20%' }, want: { maxSurge: 0, maxUnavailable: 1 } },
    { name: 'percents of 0 replicas leave one unavailable', replicas: 0, rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, want: { maxSurge: 0, maxUnavailable: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(resolveFenceposts(c.replicas, c.rollingUpdate)).toEqual(c.want));
  }

  const refused: { name: string; rollingUpdate: { maxSurge?: number | string; maxUnavailable?: number | string }; message: RegExp }[] = [
    { name: 'both 0', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 }, message: /^rollout\.strategy\.rollingUpdate: maxSurge and maxUnavailable must not both be 0/ },
    { name: 'maxSurge 0 with the default maxUnavailable 0', rollingUpdate: { maxSurge: 0 }, message: /^rollout\.strategy\.rollingUpdate: .*both be 0/ },
    { name: 'both "0%"', rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' }, message: /^rollout\.strategy\.rollingUpdate: .*both be 0/ },
    { name: 'a negative maxSurge', rollingUpdate: { maxSurge: -1 }, message: /^rollout\.strategy\.rollingUpdate\.maxSurge: -1 is not a non-negative integer/ },
    { name: 'a fractional maxUnavailable', rollingUpdate: { maxUnavailable: 0.5 }, message: /^rollout\.strategy\.rollingUpdate\.maxUnavailable: 0\.5/ },
    { name: 'a string that is no percentage', rollingUpdate: { maxSurge: '3' }, message: /^rollout\.strategy\.rollingUpdate\.maxSurge: "3" is neither/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, naming the field`, () => expect(() => resolveFenceposts(10, c.rollingUpdate)).toThrow(c.message));
  }
});

describe('planRollout', () => {
  const cases: { name: string; input: RolloutInput; want: RolloutStep }[] = [
    {
      name: 'planRollout: fresh template change, defaults (3/1/0) → create the new set with 1, keep old at 3',
      input: { replicas: 3, strategy: { type: 'RollingUpdate' }, newSet: null, oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 3 }, done: false },
    },
    {
      name: 'planRollout: 3/1/0, new machine not yet available → wait (no change)',
      input: { replicas: 3, strategy: rolling(1, 0), newSet: set('ms2', 1, 0), oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 3 }, done: false },
    },
    {
      name: 'planRollout: 3/1/0, new machine available → one old machine goes',
      input: { replicas: 3, strategy: rolling(1, 0), newSet: set('ms2', 1, 1), oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 2 }, done: false },
    },
    {
      name: 'planRollout: 3/1/0, old machine gone → the new set grows again in the same step as nothing else can go',
      input: { replicas: 3, strategy: rolling(1, 0), newSet: set('ms2', 1, 1), oldSets: [set('ms1', 2)] },
      want: { newSetReplicas: 2, oldSetReplicas: { ms1: 2 }, done: false },
    },
    {
      name: 'planRollout: 3/0/1 fresh → no surge, one old machine goes first',
      input: { replicas: 3, strategy: rolling(0, 1), newSet: null, oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 0, oldSetReplicas: { ms1: 2 }, done: false },
    },
    {
      name: 'planRollout: 6/3/1 fresh → new set 3, one old machine goes',
      input: { replicas: 6, strategy: rolling(3, 1), newSet: null, oldSets: [set('ms1', 6)] },
      want: { newSetReplicas: 3, oldSetReplicas: { ms1: 5 }, done: false },
    },
    {
      name: 'planRollout: 10 replicas, 25%/25% → surge 3 and unavailable 2 at once',
      input: { replicas: 10, strategy: rolling('25%', '25%'), newSet: null, oldSets: [set('ms1', 10)] },
      want: { newSetReplicas: 3, oldSetReplicas: { ms1: 8 }, done: false },
    },
    {
      name: 'planRollout: unavailable old machines go first, oldest set first, without touching availability',
      input: { replicas: 4, strategy: rolling(1, 0), newSet: set('ms3', 1, 0), oldSets: [set('ms1', 2, 1), set('ms2', 2, 2)] },
      // budget = old 4 + new available 0 − minAvailable 4 = 0: nothing may go yet
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 2, ms2: 2 }, done: false },
    },
    {
      name: 'planRollout: unavailable old machines go first, then healthy ones within the budget',
      input: { replicas: 4, strategy: rolling(1, 1), newSet: set('ms3', 1, 1), oldSets: [set('ms1', 2, 1), set('ms2', 2, 2)] },
      // cleanup: ms1 loses its unavailable machine; then available 4 − minAvailable 3 = 1 healthy from ms1
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 0, ms2: 2 }, done: false },
    },
    {
      name: 'planRollout: an unavailable machine in a newer old set goes before a healthy one in the oldest',
      input: { replicas: 3, strategy: rolling(1, 0), newSet: set('ms3', 1, 1), oldSets: [set('ms1', 1, 1), set('ms2', 2, 1)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 1, ms2: 1 }, done: false },
    },
    {
      name: 'planRollout: scale up with no old sets → the new set follows replicas directly (past maxSurge)',
      input: { replicas: 10, strategy: rolling(1, 0), newSet: set('ms1', 3), oldSets: [] },
      want: { newSetReplicas: 10, oldSetReplicas: {}, done: false },
    },
    {
      name: 'planRollout: scale down with old sets at 0 → the new set follows replicas directly',
      input: { replicas: 2, strategy: rolling(1, 0), newSet: set('ms2', 5), oldSets: [set('ms1', 0, 0)] },
      want: { newSetReplicas: 2, oldSetReplicas: { ms1: 0 }, done: false },
    },
    {
      name: 'planRollout: first replicas > 0 with nothing yet → create the new set with all replicas',
      input: { replicas: 3, strategy: { type: 'RollingUpdate' }, newSet: null, oldSets: [] },
      want: { newSetReplicas: 3, oldSetReplicas: {}, done: false },
    },
    {
      name: 'planRollout: converged → done, nothing changes, empty old sets stay listed with 0',
      input: { replicas: 3, strategy: { type: 'RollingUpdate' }, newSet: set('ms2', 3), oldSets: [set('ms1', 0, 0)] },
      want: { newSetReplicas: 3, oldSetReplicas: { ms1: 0 }, done: true },
    },
    {
      name: 'planRollout: old set at 0 with a machine still available (being deleted) → not done',
      input: { replicas: 3, strategy: { type: 'RollingUpdate' }, newSet: set('ms2', 3), oldSets: [set('ms1', 0, 1)] },
      want: { newSetReplicas: 3, oldSetReplicas: { ms1: 0 }, done: false },
    },
    {
      name: 'planRollout: 0 replicas, nothing there → done',
      input: { replicas: 0, strategy: { type: 'RollingUpdate' }, newSet: null, oldSets: [] },
      want: { newSetReplicas: 0, oldSetReplicas: {}, done: true },
    },
    {
      name: 'planRollout: replicas raised mid-rollout → the new set absorbs it within maxSurge, old sets not scaled up',
      input: { replicas: 12, strategy: rolling(3, 1), newSet: set('ms2', 3, 3), oldSets: [set('ms1', 5)] },
      // allowed 15, total 8 → +7 but at most 12 − 3 = 9; old: budget 5 + 3 − 11 < 0
      want: { newSetReplicas: 10, oldSetReplicas: { ms1: 5 }, done: false },
    },
    {
      name: 'planRollout: replicas lowered mid-rollout → all sets shrink proportionally to replicas + maxSurge',
      input: { replicas: 6, strategy: rolling(3, 1), newSet: set('ms2', 6, 3), oldSets: [set('ms1', 9)] },
      // total 15 → 9: ms2 6·9/15 = 3.6, ms1 9·9/15 = 5.4 → 3 + 5, the unit left to the larger remainder (ms2)
      want: { newSetReplicas: 4, oldSetReplicas: { ms1: 5 }, done: false },
    },
    {
      name: 'planRollout: replicas lowered below an available new set → the new set is capped at replicas, the old one goes',
      input: { replicas: 2, strategy: rolling(1, 0), newSet: set('ms2', 5, 5), oldSets: [set('ms1', 1)] },
      // 3 of 6: 2.5 and 0.5, the tie's unit to the new set → 3, capped at 2
      want: { newSetReplicas: 2, oldSetReplicas: { ms1: 0 }, done: false },
    },
    {
      name: 'planRollout: replicas lowered → the proportional share keeps availability by taking unavailable machines instead',
      input: { replicas: 3, strategy: rolling(1, 0), newSet: set('ms2', 3, 0), oldSets: [set('ms1', 3, 3)] },
      // proportional 4 of 6 would be 2 + 2, costing ms1 an available machine; ms2's unavailable go instead
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 3 }, done: false },
    },
    {
      name: 'planRollout: replicas to 0 mid-rollout → everything to 0',
      input: { replicas: 0, strategy: rolling(1, 0), newSet: set('ms2', 2, 1), oldSets: [set('ms1', 2)] },
      want: { newSetReplicas: 0, oldSetReplicas: { ms1: 0 }, done: false },
    },
    {
      name: 'planRollout: OnDelete fresh → the new set gets nothing until the user deletes old machines',
      input: { replicas: 3, strategy: { type: 'OnDelete' }, newSet: null, oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 0, oldSetReplicas: { ms1: 3 }, done: false },
    },
    {
      name: 'planRollout: OnDelete after the user deleted one old machine → the new set takes its place',
      input: { replicas: 3, strategy: { type: 'OnDelete' }, newSet: set('ms2', 0, 0), oldSets: [set('ms1', 2)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 2 }, done: false },
    },
    {
      name: 'planRollout: OnDelete with replicas below the sets → the old sets give it up, the new set keeps its machines',
      input: { replicas: 2, strategy: { type: 'OnDelete' }, newSet: set('ms2', 1, 1), oldSets: [set('ms1', 3)] },
      want: { newSetReplicas: 1, oldSetReplicas: { ms1: 1 }, done: false },
    },
    {
      // Cluster API's reconcileOldMachineSetsOnDelete: the excess comes off the oldest set first.
      name: 'planRollout: OnDelete scaled down across two old sets → the oldest gives up first',
      input: { replicas: 3, strategy: { type: 'OnDelete' }, newSet: set('ms3', 2, 2), oldSets: [set('ms1', 2), set('ms2', 2)] },
      want: { newSetReplicas: 2, oldSetReplicas: { ms1: 0, ms2: 1 }, done: false },
    },
    {
      name: 'planRollout: OnDelete with a new set above replicas → the new set comes down to replicas, old sets to 0',
      input: { replicas: 2, strategy: { type: 'OnDelete' }, newSet: set('ms2', 3, 3), oldSets: [set('ms1', 1)] },
      want: { newSetReplicas: 2, oldSetReplicas: { ms1: 0 }, done: false },
    },
    {
      name: 'planRollout: OnDelete ignores maxSurge/maxUnavailable, even both 0',
      input: { replicas: 3, strategy: { type: 'OnDelete' }, newSet: set('ms2', 3), oldSets: [set('ms1', 0, 0)] },
      want: { newSetReplicas: 3, oldSetReplicas: { ms1: 0 }, done: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(planRollout(deepFreeze(structuredClone(c.input)))).toEqual(c.want));
  }

  it('planRollout: a deep-frozen input → planned without mutation, and equal to the plan of a fresh copy', () => {
    const input: RolloutInput = {
      replicas: 6,
      strategy: rolling('50%', 1),
      newSet: set('ms3', 2, 1),
      oldSets: [set('ms1', 3, 2), set('ms2', 3, 3)],
    };
    const before = structuredClone(input);
    const frozen = deepFreeze(structuredClone(input));
    const step = planRollout(frozen);
    expect(frozen).toEqual(before);
    expect(step).toEqual(planRollout(structuredClone(input)));
    // the result shares nothing with the input
    step.oldSetReplicas.ms1 = 99;
    expect(planRollout(frozen).oldSetReplicas.ms1).not.toBe(99);
  });

  it('planRollout: maxSurge and maxUnavailable both 0 → refused, naming rollout.strategy.rollingUpdate', () => {
    expect(() => planRollout({ replicas: 3, strategy: rolling(0, 0), newSet: null, oldSets: [set('ms1', 3)] })).toThrow(
      /^rollout\.strategy\.rollingUpdate: maxSurge and maxUnavailable must not both be 0/,
    );
  });

  const bad: { name: string; input: RolloutInput; message: RegExp }[] = [
    { name: 'negative replicas', input: { replicas: -1, strategy: rolling(), newSet: null, oldSets: [] }, message: /^replicas: -1 is not a non-negative integer/ },
    { name: 'fractional replicas', input: { replicas: 1.5, strategy: rolling(), newSet: null, oldSets: [] }, message: /^replicas: 1\.5/ },
    { name: 'a negative old availableReplicas', input: { replicas: 1, strategy: rolling(), newSet: null, oldSets: [set('ms1', 1, -1)] }, message: /^oldSets\[0\]\.availableReplicas/ },
    { name: 'a set listed twice', input: { replicas: 1, strategy: rolling(), newSet: set('ms1', 1), oldSets: [set('ms1', 1)] }, message: /^oldSets\[0\]\.name: MachineSet "ms1" is listed twice/ },
    { name: 'an unknown strategy', input: { replicas: 1, strategy: { type: 'Recreate' } as unknown as Strategy, newSet: null, oldSets: [] }, message: /^rollout\.strategy\.type: "Recreate"/ },
  ];
  for (const c of bad) {
    it(`planRollout: ${c.name} → refused with the field path`, () => expect(() => planRollout(c.input)).toThrow(c.message));
  }
});

// planRollout runs inside Temporal's workflow sandbox: no I/O, clock, randomness, environment,
// imports or zod schemas. A scan of its source guards that, and must flag a planted offender.
describe('workflows/planners/rollout.ts is workflow-safe', () => {
  const FORBIDDEN: [RegExp, string][] = [
    // Runtime imports only from the API's pure fencepost rule (itself import-free, scanned below).
    [/\bimport\b(?!\s+type\b)(?![^;]*from '\.\.\/\.\.\/api\/rollout-fenceposts\.js')/, 'a runtime import'],
    [/\brequire\s*\(/, 'require'],
    [/\bDate\b/, 'the clock'],
    [/\bperformance\b/, 'the clock'],
    [/Math\.random/, 'randomness'],
    [/\bprocess\b/, 'the environment'],
    [/\bz\.[a-z]+\(/, 'a zod schema'],
    [/\b(setTimeout|setInterval|fetch)\b/, 'timers or I/O'],
    [/^(let|var)\s/m, 'module-level mutable state'],
  ];
  const offences = (source: string) => {
    const code = source.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*\*?[\s\S]*?\*\//g, '');
    return FORBIDDEN.filter(([re]) => re.test(code)).map(([, what]) => what);
  };

  it('its source uses none of I/O, clock, randomness, environment, imports, zod or module state', () => {
    for (const file of ['../../workflows/planners/rollout.ts', '../../api/rollout-fenceposts.ts']) {
      const source = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
      expect(offences(source), file).toEqual([]);
    }
  });

  it('the scan flags a planted offender', () => {
    expect(offences('export function f() { return Date.now() + Math.random(); }\nlet calls = 0;')).toEqual(['the clock', 'randomness', 'module-level mutable state']);
    expect(offences("import { readFileSync } from 'node:fs';")).toEqual(['a runtime import']);
    expect(offences("import { resolveFenceposts } from '../../api/rollout-fenceposts.js';")).toEqual([]);
  });
});
