// limitInFlight (workflows/planners/remediation-in-flight.ts): Cluster API's MachineDeployment
// spec.remediation.maxInFlight as the health check applies it. Table tests, then properties over
// random fleets, each shown to catch a planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type InFlightInput, type InFlightTarget, type InFlightVerdict, limitInFlight, resolveMaxInFlight } from '../../workflows/planners/remediation-in-flight.js';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 3, 12, minute)).toISOString();
const t = (machine: string, minute: number, more: Partial<InFlightTarget> = {}): InFlightTarget => ({ machine, owner: 'MachineDeployment/md', machineCreatedAt: at(minute), maxInFlight: 1, ...more });

describe('resolveMaxInFlight', () => {
  it.each([
    [undefined, 10, undefined],
    [2, 10, 2],
    [0, 10, 0],
    ['20%', 10, 2],
    ['25%', 10, 3], // rounded up, as Cluster API scales it
    ['1%', 3, 1],
    ['0%', 3, 0],
  ] as const)('%s of %s replicas: %s', (v, replicas, want) => {
    expect(resolveMaxInFlight(v, replicas)).toBe(want);
  });
  it('refuses a malformed value naming the field', () => {
    expect(() => resolveMaxInFlight('x', 3)).toThrow(/remediation\.maxInFlight/);
  });
});

describe('limitInFlight', () => {
  it('no limit: every candidate, in its order', () => {
    const cs = [t('a', 1, { maxInFlight: undefined }), t('b', 2, { maxInFlight: undefined })];
    expect(limitInFlight({ candidates: cs, targets: cs, remediated: [] })).toEqual({ remediate: ['a', 'b'], deferred: [] });
  });
  it('maxInFlight 1: the newest goes first, the other waits with Cluster API\'s message', () => {
    const cs = [t('a', 1), t('b', 5), t('c', 3)];
    expect(limitInFlight({ candidates: cs, targets: cs, remediated: [] })).toEqual({
      remediate: ['b'],
      deferred: [
        { machine: 'a', owner: 'MachineDeployment/md', message: 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)' },
        { machine: 'c', owner: 'MachineDeployment/md', message: 'Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 1)' },
      ],
    });
  });
  it('a remediation not yet gone takes its place: nothing more until it is', () => {
    const gone = t('x', 0);
    expect(limitInFlight({ candidates: [t('a', 1)], targets: [gone, t('a', 1)], remediated: ['x'] }).remediate).toEqual([]);
    expect(limitInFlight({ candidates: [t('a', 1)], targets: [t('a', 1)], remediated: ['x'] }).remediate).toEqual(['a']);
  });
  it('each deployment has its own count; a machine of no limited deployment is not held', () => {
    const cs = [t('a', 1), t('b', 2), t('c', 1, { owner: 'MachineDeployment/other', maxInFlight: 1 }), t('d', 1, { owner: 'MachineSet/ms', maxInFlight: undefined })];
    expect(limitInFlight({ candidates: cs, targets: cs, remediated: [] }).remediate).toEqual(['b', 'c', 'd']);
  });
  it('a percentage shows as the spec says it, as Cluster API\'s message does', () => {
    const cs = [t('a', 1, { maxInFlight: 1, maxInFlightSpec: '50%' }), t('b', 2, { maxInFlight: 1, maxInFlightSpec: '50%' })];
    expect(limitInFlight({ candidates: cs, targets: cs, remediated: [] }).deferred[0]!.message).toBe('Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is 50%)');
  });
  it('maxInFlight 0: none', () => {
    expect(limitInFlight({ candidates: [t('a', 1, { maxInFlight: 0 })], targets: [t('a', 1, { maxInFlight: 0 })], remediated: [] }).remediate).toEqual([]);
  });
});

describe('limitInFlight: properties', () => {
  const owners = ['MachineDeployment/a', 'MachineDeployment/b', 'MachineSet/c'];
  const arb = fc
    .record({
      machines: fc.uniqueArray(
        fc.record({ name: fc.stringMatching(/^m[0-9]{1,3}$/), owner: fc.constantFrom(...owners), minute: fc.integer({ min: 0, max: 59 }), candidate: fc.boolean(), remediated: fc.boolean() }),
        { selector: (m) => m.name, maxLength: 20 },
      ),
      limits: fc.record({ 'MachineDeployment/a': fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), 'MachineDeployment/b': fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) }),
    })
    .map(({ machines, limits }): InFlightInput => {
      const targets = machines.map((m) => ({ machine: m.name, owner: m.owner, machineCreatedAt: at(m.minute), ...((limits as Record<string, number | undefined>)[m.owner] !== undefined ? { maxInFlight: (limits as Record<string, number>)[m.owner] } : {}) }));
      const remediated = machines.filter((m) => m.remediated && !m.candidate).map((m) => m.name);
      return { candidates: targets.filter((x) => machines.find((m) => m.name === x.machine)!.candidate), targets, remediated };
    });

  const properties: { name: string; holds: (i: InFlightInput, v: InFlightVerdict) => boolean }[] = [
    {
      name: 'never more of a limited deployment in flight than its maxInFlight (those in flight already count)',
      holds: (i, v) =>
        i.targets.every((x) => {
          if (x.maxInFlight === undefined || !x.owner) return true;
          const mine = (ms: string[]) => ms.filter((m) => i.targets.find((y) => y.machine === m)?.owner === x.owner).length;
          const already = mine(i.remediated.filter((m) => i.targets.some((y) => y.machine === m)));
          return mine(v.remediate) <= Math.max(0, x.maxInFlight - already);
        }),
    },
    {
      name: 'every candidate is remediated or deferred, never both; only candidates',
      holds: (i, v) => {
        const all = [...v.remediate, ...v.deferred.map((d) => d.machine)].sort();
        return JSON.stringify(all) === JSON.stringify(i.candidates.map((c) => c.machine).sort());
      },
    },
    {
      name: 'a deferred machine is never newer than one of its deployment remediated now',
      holds: (i, v) =>
        v.deferred.every((d) => {
          const created = i.candidates.find((c) => c.machine === d.machine)!.machineCreatedAt;
          return v.remediate.every((m) => {
            const c = i.candidates.find((x) => x.machine === m)!;
            return c.owner !== d.owner || c.machineCreatedAt >= created;
          });
        }),
    },
  ];
  for (const p of properties) {
    it(p.name, () => {
      fc.assert(fc.property(arb, (i) => p.holds(i, limitInFlight(i))));
    });
  }
  it('deterministic, and the input is not mutated', () => {
    fc.assert(
      fc.property(arb, (i) => {
        const before = JSON.stringify(i);
        const a = limitInFlight(i);
        return JSON.stringify(i) === before && JSON.stringify(a) === JSON.stringify(limitInFlight(i));
      }),
    );
  });
  it('each property catches its planted violation', () => {
    const cs = [t('a', 1, { maxInFlight: 1 }), t('b', 2, { maxInFlight: 1 })];
    const input: InFlightInput = { candidates: cs, targets: cs, remediated: [] };
    const planted: InFlightVerdict[] = [
      { remediate: ['a', 'b'], deferred: [] }, // both in flight: over the limit
      { remediate: ['b'], deferred: [] }, // 'a' lost
      { remediate: ['a'], deferred: [{ machine: 'b', owner: 'MachineDeployment/md', message: '' }] }, // the older went first
    ];
    properties.forEach((p, k) => expect(p.holds(input, planted[k]!), p.name).toBe(false));
    properties.forEach((p) => expect(p.holds(input, limitInFlight(input)), p.name).toBe(true));
  });
});
