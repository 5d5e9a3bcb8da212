import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/meta.js';
import { MACHINE_PHASES, type MachinePhase } from '../../api/machine.js';
import { setCondition } from '../../workflows/conditions.js';
import { canTransition, IllegalTransitionError, transition } from '../../workflows/machine.phases.js';
import { generateName } from '../../workflows/names.js';
import { canonicalJson, diffPaths } from '../../workflows/spec-diff.js';

describe('setCondition', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('adds a condition with the given time', () => {
    const cs: Condition[] = [];
    expect(setCondition(cs, { type: 'Ready', status: 'False', reason: 'NotReady' }, t0)).toBe(true);
    expect(cs).toEqual([{ type: 'Ready', status: 'False', reason: 'NotReady', message: '', lastTransitionTime: t0.toISOString() }]);
  });

  it('reports no change when nothing changed, so status is written only on change', () => {
    const cs: Condition[] = [];
    setCondition(cs, { type: 'Ready', status: 'True', reason: 'Ready' }, t0);
    expect(setCondition(cs, { type: 'Ready', status: 'True', reason: 'Ready' }, t1)).toBe(false);
    expect(cs[0]!.lastTransitionTime).toBe(t0.toISOString());
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const cs: Condition[] = [];
    setCondition(cs, { type: 'Ready', status: 'False', reason: 'A' }, t0);
    expect(setCondition(cs, { type: 'Ready', status: 'False', reason: 'B', message: 'x' }, t1)).toBe(true);
    expect(cs[0]).toMatchObject({ reason: 'B', message: 'x', lastTransitionTime: t0.toISOString() });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const cs: Condition[] = [];
    setCondition(cs, { type: 'Ready', status: 'False', reason: 'A' }, t0);
    setCondition(cs, { type: 'Ready', status: 'True', reason: 'Ready' }, t1);
    expect(cs).toHaveLength(1);
    expect(cs[0]!.lastTransitionTime).toBe(t1.toISOString());
  });
});

describe('Machine phase transitions', () => {
  it.each([
    { from: 'Pending', to: 'Provisioning', ok: true },
    { from: 'Provisioning', to: 'Provisioned', ok: true },
    { from: 'Provisioned', to: 'Running', ok: true },
    { from: 'Running', to: 'Deleting', ok: true },
    { from: 'Deleting', to: 'Deleted', ok: true },
    { from: 'Failed', to: 'Deleting', ok: true },
    { from: 'Pending', to: 'Running', ok: false },
    { from: 'Running', to: 'Provisioning', ok: false },
    { from: 'Deleted', to: 'Pending', ok: false },
    { from: 'Deleting', to: 'Running', ok: false },
  ] as { from: MachinePhase; to: MachinePhase; ok: boolean }[])('$from → $to allowed: $ok', ({ from, to, ok }) => {
    expect(canTransition(from, to)).toBe(ok);
    if (ok) expect(transition(from, to)).toBe(to);
    else expect(() => transition(from, to)).toThrow(IllegalTransitionError);
  });

  it('transition: any accepted walk → never leaves Deleted and reaches Deleted only through Deleting', () => {
    const phase = fc.constantFrom(...MACHINE_PHASES);
    fc.assert(
      fc.property(fc.array(phase, { maxLength: 30 }), (steps) => {
        let cur: MachinePhase = 'Pending';
        for (const next of steps) {
          if (!canTransition(cur, next)) continue;
          if (next === 'Deleted' && cur !== 'Deleted') expect(cur).toBe('Deleting');
          if (cur === 'Deleted') expect(next).toBe('Deleted');
          cur = transition(cur, next);
        }
      }),
    );
  });
});

describe('generateName', () => {
  it('generateName: any base → a DNS label of at most 63 characters with a 5-character suffix', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,200}[a-z0-9])?$/), fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 5, maxLength: 5 }), (base, rs) => {
        let i = 0;
        const name = generateName(base, () => rs[i++]!);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(/-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      }),
    );
  });

  it('draws again while the name is taken (a collision once failed a set of 1,000 machines)', () => {
    // The same draw twice, then another: the second equals the first and is refused.
    const draws = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5];
    let i = 0;
    const random = () => draws[i++]!;
    const first = generateName('ms', random);
    expect(first).toBe('ms-bbbbb');
    expect(generateName('ms', random, (n) => n === first)).toBe('ms-rrrrr');
    expect(i).toBe(15);
    // Without a taken name, one draw of five.
    i = 0;
    expect(generateName('ms', random, () => false)).toBe('ms-bbbbb');
    expect(i).toBe(5);
  });
});

describe('spec comparison', () => {
  it('names the fields that differ', () => {
    const a = { spec: { version: 'v1.37.2', bootstrap: { configRef: { name: 'a' } }, files: [{ path: '/a' }] } };
    const b = { spec: { version: 'v1.37.3', bootstrap: { configRef: { name: 'a' } }, files: [{ path: '/b' }] } };
    expect(diffPaths(a, b)).toEqual(['spec.files[0].path', 'spec.version']);
  });

  it('diffPaths: any two values → empty exactly when their canonical JSON is equal', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(diffPaths(a, b).length === 0).toBe(canonicalJson(a) === canonicalJson(b));
        expect(diffPaths(a, a)).toEqual([]);
      }),
    );
  });

  it('canonicalJson ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});
