// Cluster API's MachineSet deletion priority: table tests for each rule, then properties over
// random machine lists. Each property is a function of the implementation so that it also runs
// against a deliberately broken one: every property must catch its planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deletionTier,
  machinesToDelete,
  sortForDeletion,
  type DeletionCandidate,
  type DeletionOrder,
} from '../../workflows/planners/deletion-order.js';

const NUM_RUNS = Number(process.env.DELETION_PROPERTY_RUNS ?? 1000);

// A healthy, joined machine created `minute` minutes after midnight.
const m = (name: string, minute: number, extra: Partial<DeletionCandidate> = {}): DeletionCandidate => ({
  name,
  creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  deleting: false,
  deleteAnnotation: false,
  healthy: true,
  nodeRef: `node-${name}`,
  ...extra,
});

describe('machinesToDelete', () => {
  const cases: { name: string; machines: DeletionCandidate[]; order?: DeletionOrder; count: number; want: string[] }[] = [
    {
      name: 'an already deleting machine goes before one marked with delete-machine',
      machines: [m('a', 1, { deleteAnnotation: true }), m('b', 2, { deleting: true })],
      order: 'Oldest',
      count: 1,
      want: ['b'],
    },
    {
      name: 'a machine marked with delete-machine goes before an unhealthy one',
      machines: [m('a', 1, { healthy: false }), m('b', 2, { deleteAnnotation: true })],
      count: 1,
      want: ['b'],
    },
    {
      name: 'an unhealthy machine goes before a healthy one, whatever the order',
      machines: [m('old', 1), m('new', 9, { healthy: false })],
      order: 'Oldest',
      count: 1,
      want: ['new'],
    },
    {
      name: 'a machine without a nodeRef counts as unhealthy (Cluster API isMachineHealthy)',
      machines: [m('a', 1), m('b', 2, { nodeRef: undefined })],
      order: 'Random',
      count: 1,
      want: ['b'],
    },
    {
      name: 'Oldest: oldest creationTimestamp first',
      machines: [m('x', 5), m('y', 1), m('z', 3)],
      order: 'Oldest',
      count: 3,
      want: ['y', 'z', 'x'],
    },
    {
      name: 'Newest: newest creationTimestamp first',
      machines: [m('x', 5), m('y', 1), m('z', 3)],
      order: 'Newest',
      count: 3,
      want: ['x', 'z', 'y'],
    },
    {
      name: 'Random: healthy machines go by name (Cluster API gives them one priority, the name breaks the tie)',
      machines: [m('c', 1), m('a', 9), m('b', 5)],
      order: 'Random',
      count: 3,
      want: ['a', 'b', 'c'],
    },
    {
      name: 'no order given: Random, as Cluster API defaults it',
      machines: [m('c', 1), m('a', 9)],
      count: 1,
      want: ['a'],
    },
    {
      name: 'a tie within a tier is broken by name (two deleting machines)',
      machines: [m('q', 1, { deleting: true }), m('p', 2, { deleting: true })],
      order: 'Oldest',
      count: 2,
      want: ['p', 'q'],
    },
    {
      name: 'Oldest: equal timestamps are broken by name',
      machines: [m('b', 1), m('a', 1)],
      order: 'Oldest',
      count: 2,
      want: ['a', 'b'],
    },
    {
      name: 'names compare by code unit, not locale ("B" before "a")',
      machines: [m('a', 1), m('B', 1)],
      order: 'Random',
      count: 2,
      want: ['B', 'a'],
    },
    {
      name: 'Oldest: an unparseable timestamp goes last (Cluster API: a zero timestamp is mustNotDelete)',
      machines: [m('bad', 0, { creationTimestamp: 'not a time' }), m('a', 1)],
      order: 'Oldest',
      count: 2,
      want: ['a', 'bad'],
    },
    {
      name: 'Newest: an unparseable timestamp goes first among the healthy',
      machines: [m('a', 9), m('bad', 0, { creationTimestamp: '' })],
      order: 'Newest',
      count: 2,
      want: ['bad', 'a'],
    },
    {
      name: 'count above the number of machines returns them all, in order',
      machines: [m('a', 1), m('b', 2, { healthy: false })],
      order: 'Oldest',
      count: 5,
      want: ['b', 'a'],
    },
    { name: 'count 0 returns nothing', machines: [m('a', 1)], count: 0, want: [] },
    { name: 'no machines, nothing to delete', machines: [], order: 'Newest', count: 2, want: [] },
    {
      name: 'all tiers at once, Newest',
      machines: [m('h1', 1), m('h2', 2), m('sick', 3, { healthy: false }), m('marked', 4, { deleteAnnotation: true }), m('gone', 5, { deleting: true }), m('joining', 6, { nodeRef: undefined })],
      order: 'Newest',
      count: 6,
      want: ['gone', 'marked', 'joining', 'sick', 'h2', 'h1'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(machinesToDelete(c.machines, c.order, c.count)).toEqual(c.want));
  }

  const refused: { name: string; run: () => unknown; message: RegExp }[] = [
    { name: 'a negative count', run: () => machinesToDelete([m('a', 1)], 'Random', -1), message: /^deletion count: -1 is not a non-negative integer/ },
    { name: 'a fractional count', run: () => machinesToDelete([m('a', 1)], 'Random', 1.5), message: /^deletion count: 1\.5/ },
    { name: 'an unknown order', run: () => sortForDeletion([m('a', 1)], 'Largest' as DeletionOrder), message: /^deletion\.order: unsupported deletion order "Largest"/ },
    { name: 'a duplicate name', run: () => sortForDeletion([m('a', 1), m('a', 2)]), message: /^machines: the name "a" appears more than once/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, saying what is wrong`, () => expect(c.run).toThrow(c.message));
  }

  it('a machine named __proto__ is an ordinary name', () => {
    expect(machinesToDelete([m('__proto__', 1), m('a', 2)], 'Oldest', 2)).toEqual(['__proto__', 'a']);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

type Chooser = (machines: DeletionCandidate[], order: DeletionOrder | undefined, count: number) => string[];

const candidate = (name: string): fc.Arbitrary<DeletionCandidate> =>
  fc.record({
    name: fc.constant(name),
    // Few distinct minutes so that ties happen often.
    creationTimestamp: fc.integer({ min: 0, max: 5 }).map((min) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString()),
    deleting: fc.boolean(),
    deleteAnnotation: fc.boolean(),
    healthy: fc.boolean(),
    nodeRef: fc.option(fc.constant(`node-${name}`), { nil: undefined, freq: 4 }),
  });

const namePool = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'B', 'a-1', 'a0'];
const machinesArb: fc.Arbitrary<DeletionCandidate[]> = fc
  .shuffledSubarray(namePool, { minLength: 0, maxLength: namePool.length })
  .chain((names) => (names.length === 0 ? fc.constant([]) : fc.tuple(...names.map(candidate))));

interface Case {
  machines: DeletionCandidate[];
  order: DeletionOrder | undefined;
  count: number;
}
const caseArb: fc.Arbitrary<Case> = fc.record({
  machines: machinesArb,
  order: fc.constantFrom<DeletionOrder | undefined>('Random', 'Newest', 'Oldest', undefined),
  count: fc.integer({ min: 0, max: 14 }),
});

// Rank in Cluster API's priority: the tier, then (within the ordered tier) the creation time.
function outranks(a: DeletionCandidate, b: DeletionCandidate, order: DeletionOrder | undefined): boolean {
  const ta = deletionTier(a);
  const tb = deletionTier(b);
  if (ta !== tb) return ta > tb;
  if (ta !== 0 || order === undefined || order === 'Random') return false;
  const da = Date.parse(a.creationTimestamp);
  const db = Date.parse(b.creationTimestamp);
  return order === 'Oldest' ? da < db : da > db;
}

const properties: { name: string; holds: (choose: Chooser, c: Case) => boolean }[] = [
  {
    name: 'machinesToDelete: any machines and count → exactly min(count, n) distinct names from the input',
    holds: (choose, c) => {
      const got = choose(c.machines, c.order, c.count);
      const names = new Set(c.machines.map((x) => x.name));
      return got.length === Math.min(c.count, c.machines.length) && new Set(got).size === got.length && got.every((n) => names.has(n));
    },
  },
  {
    name: 'machinesToDelete: any machines → a higher-priority machine is never left for a lower one, and comes first',
    holds: (choose, c) => {
      const got = choose(c.machines, c.order, c.count);
      const byName = new Map(c.machines.map((x) => [x.name, x]));
      const chosen = got.map((n) => byName.get(n)!);
      // Chosen in order: no later one outranks an earlier one.
      for (let i = 0; i < chosen.length; i++) for (let j = i + 1; j < chosen.length; j++) if (outranks(chosen[j]!, chosen[i]!, c.order)) return false;
      // Nothing left behind outranks anything chosen.
      const left = c.machines.filter((x) => !got.includes(x.name));
      return left.every((l) => chosen.every((x) => !outranks(l, x, c.order)));
    },
  },
  {
    name: 'machinesToDelete: the same machines in any listing order → the same answer',
    holds: (choose, c) => {
      const a = choose(c.machines.map((x) => ({ ...x })), c.order, c.count);
      const b = choose([...c.machines].reverse().map((x) => ({ ...x })), c.order, c.count);
      return JSON.stringify(a) === JSON.stringify(b);
    },
  },
  {
    name: 'machinesToDelete: any input → the input is not mutated',
    holds: (choose, c) => {
      const before = JSON.stringify(c.machines);
      choose(c.machines, c.order, c.count);
      return JSON.stringify(c.machines) === before;
    },
  },
];

// One planted violation per property, each a small change to the real function.
const broken: Chooser[] = [
  (ms, o, n) => {
    const r = machinesToDelete(ms, o, n);
    return r.length > 0 ? [...r, r[0]!] : r; // names one machine twice
  },
  (ms, o, n) => machinesToDelete(ms, o, ms.length).reverse().slice(0, Math.min(n, ms.length)), // lowest priority first
  (ms, o, n) => [...ms].map((x) => x.name).slice(0, Math.min(n, ms.length)), // the listing order decides
  (ms, o, n) => {
    ms.sort((a, b) => (a.name < b.name ? 1 : -1)); // sorts the caller's array in place
    return machinesToDelete(ms, o, n);
  },
];
const plantNames = ['names one machine twice', 'deletes the lowest priority first', 'takes machines in listing order', 'sorts the caller’s array in place'];

describe('machinesToDelete properties', () => {
  properties.forEach((p, i) => {
    it(p.name, () => {
      fc.assert(fc.property(caseArb, (c) => p.holds(machinesToDelete, c)), { numRuns: NUM_RUNS });
    });
    it(`${p.name} — catches an implementation that ${plantNames[i]}`, () => {
      const result = fc.check(fc.property(caseArb, (c) => p.holds(broken[i]!, c)), { numRuns: NUM_RUNS });
      expect(result.failed).toBe(true);
    });
  });
});
