// planMachineSet: table tests for each rule (keep replicas, replace, scale down in deletion order,
// the init gate and Cluster API's preflight checks gating creation only), then properties over
// random inputs, each proven able to fail by a planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeletionCandidate } from '../../workflows/planners/deletion-order.js';
import { planMachineSet, type MachineSetPlan, type MachineSetPlanInput } from '../../workflows/planners/machine-set.js';

const NUM_RUNS = Number(process.env.MACHINESET_PROPERTY_RUNS ?? 1000);

const m = (name: string, minute: number, extra: Partial<DeletionCandidate> = {}): DeletionCandidate => ({
  name,
  creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  deleting: false,
  deleteAnnotation: false,
  healthy: true,
  nodeRef: `node-${name}`,
  ...extra,
});

const open = { gateOpen: true, controlPlaneUpgrading: false, controlPlaneVersion: 'v1.30.2', templateVersion: 'v1.30.2' };
const three = [m('ms-a', 1), m('ms-b', 2), m('ms-c', 3)];

describe('planMachineSet', () => {
  const cases: { name: string; input: MachineSetPlanInput; want: MachineSetPlan }[] = [
    { name: 'replicas reached → nothing to do', input: { ...open, replicas: 3, machines: three }, want: { create: 0, delete: [] } },
    { name: 'a new set creates all its machines', input: { ...open, replicas: 3, machines: [] }, want: { create: 3, delete: [] } },
    {
      name: 'a machine deleted out of band (gone from the list) is replaced',
      input: { ...open, replicas: 3, machines: [m('ms-a', 1), m('ms-c', 3)] },
      want: { create: 1, delete: [] },
    },
    {
      name: 'a machine already deleting still counts (as Cluster API): it is replaced once gone',
      input: { ...open, replicas: 3, machines: [m('ms-a', 1), m('ms-b', 2, { deleting: true }), m('ms-c', 3)] },
      want: { create: 0, delete: [] },
    },
    {
      name: 'a deleting machine beside replicas healthy ones → nothing (it is not deleted again)',
      input: { ...open, replicas: 3, machines: [...three, m('ms-d', 4, { deleting: true })] },
      want: { create: 0, delete: [] },
    },
    {
      name: 'scale down, Random: by name among healthy machines',
      input: { ...open, replicas: 1, machines: three, deletionOrder: 'Random' },
      want: { create: 0, delete: ['ms-a', 'ms-b'] },
    },
    {
      name: 'scale down, Newest: newest first',
      input: { ...open, replicas: 2, machines: three, deletionOrder: 'Newest' },
      want: { create: 0, delete: ['ms-c'] },
    },
    {
      name: 'scale down, Oldest: oldest first',
      input: { ...open, replicas: 2, machines: three, deletionOrder: 'Oldest' },
      want: { create: 0, delete: ['ms-a'] },
    },
    {
      name: 'scale down: the delete-machine annotation beats the order, an unhealthy machine comes next',
      input: { ...open, replicas: 1, machines: [m('ms-a', 1), m('ms-b', 2, { healthy: false }), m('ms-c', 3, { deleteAnnotation: true })], deletionOrder: 'Oldest' },
      want: { create: 0, delete: ['ms-c', 'ms-b'] },
    },
    {
      name: 'scale to 0 deletes every machine not already deleting',
      input: { ...open, replicas: 0, machines: [...three, m('ms-d', 4, { deleting: true })] },
      want: { create: 0, delete: ['ms-a', 'ms-b', 'ms-c'] },
    },
    {
      name: 'gate closed (before ControlPlaneInitialized) → no machine is created',
      input: { ...open, gateOpen: false, replicas: 2, machines: [] },
      want: { create: 0, delete: [], blocked: { reason: 'WaitingForControlPlaneInitialized', message: 'Scale up on hold until the control plane is initialized (ControlPlaneInitialized)' } },
    },
    {
      name: 'gate closed but scaling down → deletes anyway (preflight checks gate only creation in Cluster API)',
      input: { ...open, gateOpen: false, replicas: 1, machines: three },
      want: { create: 0, delete: ['ms-a', 'ms-b'] },
    },
    {
      name: 'control plane upgrading → no machine is created, in Cluster API’s words',
      input: { ...open, controlPlaneUpgrading: true, controlPlaneName: 'KubeadmControlPlane default/demo', replicas: 3, machines: [m('ms-a', 1)] },
      want: { create: 0, delete: [], blocked: { reason: 'ControlPlaneIsUpgrading', message: 'KubeadmControlPlane default/demo is upgrading ("ControlPlaneIsStable" preflight check failed)' } },
    },
    {
      name: 'control plane upgrading but scaling down → deletes',
      input: { ...open, controlPlaneUpgrading: true, replicas: 2, machines: three, deletionOrder: 'Newest' },
      want: { create: 0, delete: ['ms-c'] },
    },
    {
      name: 'control plane upgrading and nothing to create → not blocked (checks run only to create)',
      input: { ...open, controlPlaneUpgrading: true, replicas: 3, machines: three },
      want: { create: 0, delete: [] },
    },
    {
      name: 'template minor newer than the control plane → refused by both skew checks (kubeadm bootstrap)',
      input: { ...open, templateVersion: 'v1.31.0', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: {
          reason: 'KubernetesVersionSkew',
          message:
            'MachineSet version (1.31.0) and ControlPlane version (1.30.2) do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)' +
            '; MachineSet version (1.31.0) and ControlPlane version (1.30.2) do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ("KubeadmVersionSkew" preflight check failed)',
        },
      },
    },
    {
      name: 'template minor newer, not kubeadm → only the kubernetes skew check fails',
      input: { ...open, kubeadmBootstrap: false, templateVersion: '1.31', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: {
          reason: 'KubernetesVersionSkew',
          message:
            'MachineSet version (1.31.0) and ControlPlane version (1.30.2) do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)',
        },
      },
    },
    {
      name: 'template a patch newer than the control plane → allowed (only minors count, as in Cluster API)',
      input: { ...open, templateVersion: 'v1.30.9', replicas: 1, machines: [] },
      want: { create: 1, delete: [] },
    },
    {
      name: 'template one minor older, kubeadm → refused by the kubeadm skew check only',
      input: { ...open, templateVersion: 'v1.29.5', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: {
          reason: 'KubeadmVersionSkew',
          message:
            'MachineSet version (1.29.5) and ControlPlane version (1.30.2) do not conform to kubeadm version skew policy as kubeadm only supports joining with the same major+minor version as the control plane ("KubeadmVersionSkew" preflight check failed)',
        },
      },
    },
    {
      name: 'template three minors older, not kubeadm → allowed (kubelet skew is 3)',
      input: { ...open, kubeadmBootstrap: false, templateVersion: 'v1.27.0', replicas: 1, machines: [] },
      want: { create: 1, delete: [] },
    },
    {
      name: 'template four minors older, not kubeadm → refused by the kubernetes skew check',
      input: { ...open, kubeadmBootstrap: false, templateVersion: 'v1.26.0', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: {
          reason: 'KubernetesVersionSkew',
          message:
            'MachineSet version (1.26.0) and ControlPlane version (1.30.2) do not conform to the kubernetes version skew policy as MachineSet version is more than 3 minor versions older than the ControlPlane version ("KubernetesVersionSkew" preflight check failed)',
        },
      },
    },
    {
      name: 'upgrading and skewed → every failed check in the message, the first one’s reason',
      input: { ...open, controlPlaneUpgrading: true, kubeadmBootstrap: false, templateVersion: 'v1.31.0', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: {
          reason: 'ControlPlaneIsUpgrading',
          message:
            'ControlPlane is upgrading ("ControlPlaneIsStable" preflight check failed); MachineSet version (1.31.0) and ControlPlane version (1.30.2) do not conform to the kubernetes version skew policy as MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)',
        },
      },
    },
    {
      name: 'no control plane version → the skew checks are skipped, as Cluster API does',
      input: { ...open, controlPlaneVersion: undefined, templateVersion: 'v1.99.0', replicas: 1, machines: [] },
      want: { create: 1, delete: [] },
    },
    {
      name: 'no template version → the skew checks are skipped',
      input: { ...open, templateVersion: undefined, replicas: 1, machines: [] },
      want: { create: 1, delete: [] },
    },
    {
      name: 'a template version that does not parse → creation held with Cluster API’s error words, no throw',
      input: { ...open, templateVersion: 'latest', replicas: 1, machines: [] },
      want: {
        create: 0,
        delete: [],
        blocked: { reason: 'PreflightCheckFailed', message: 'failed to perform "Scale up": failed to perform preflight checks: failed to parse version "latest" of the MachineSet\'s template' },
      },
    },
    {
      name: 'the gate is checked before the preflight checks',
      input: { ...open, gateOpen: false, controlPlaneUpgrading: true, templateVersion: 'v1.31.0', replicas: 1, machines: [] },
      want: { create: 0, delete: [], blocked: { reason: 'WaitingForControlPlaneInitialized', message: 'Scale up on hold until the control plane is initialized (ControlPlaneInitialized)' } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(planMachineSet(c.input)).toEqual(c.want));
  }

  const refused: { name: string; replicas: number; message: RegExp }[] = [
    { name: 'negative replicas', replicas: -1, message: /^replicas: -1 is not a non-negative integer/ },
    { name: 'fractional replicas', replicas: 1.5, message: /^replicas: 1\.5/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, naming the field`, () => expect(() => planMachineSet({ ...open, replicas: c.replicas, machines: [] })).toThrow(c.message));
  }
});

// ---------------------------------------------------------------------------------------------
// Properties

type Planner = (input: MachineSetPlanInput) => MachineSetPlan;

const candidate = (name: string): fc.Arbitrary<DeletionCandidate> =>
  fc.record({
    name: fc.constant(name),
    creationTimestamp: fc.integer({ min: 0, max: 5 }).map((min) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString()),
    deleting: fc.integer({ min: 0, max: 3 }).map((n) => n === 0), // deleting about 1 in 4
    deleteAnnotation: fc.boolean(),
    healthy: fc.boolean(),
    nodeRef: fc.option(fc.constant(`node-${name}`), { nil: undefined, freq: 4 }),
  });

const machinesArb = fc
  .integer({ min: 0, max: 10 })
  .chain((n) => (n === 0 ? fc.constant([] as DeletionCandidate[]) : fc.tuple(...Array.from({ length: n }, (_, i) => candidate(`ms-${i}`)))));

const version = fc.option(fc.integer({ min: 25, max: 32 }).map((minor) => `v1.${minor}.0`), { nil: undefined, freq: 5 });

const inputArb: fc.Arbitrary<MachineSetPlanInput> = fc.record({
  replicas: fc.integer({ min: 0, max: 12 }),
  machines: machinesArb,
  deletionOrder: fc.constantFrom('Random' as const, 'Newest' as const, 'Oldest' as const),
  gateOpen: fc.boolean(),
  controlPlaneUpgrading: fc.boolean(),
  controlPlaneVersion: version,
  templateVersion: version,
  kubeadmBootstrap: fc.boolean(),
});

// The world after the plan is applied: created machines appear, deleted ones start deleting.
function after(input: MachineSetPlanInput, plan: MachineSetPlan): { total: number; nonDeleting: number } {
  const deleted = new Set(plan.delete);
  return {
    total: input.machines.length + plan.create,
    nonDeleting: input.machines.filter((x) => !x.deleting && !deleted.has(x.name)).length + plan.create,
  };
}

const properties: { name: string; holds: (plan: Planner, input: MachineSetPlanInput) => boolean }[] = [
  {
    name: 'planMachineSet: any input → never creates and deletes in the same plan',
    holds: (plan, input) => {
      const p = plan(input);
      return p.create === 0 || p.delete.length === 0;
    },
  },
  {
    name: 'planMachineSet: plan applied → never more machines than max(replicas, before), the ones not deleting at most replicas, and exactly replicas in all when it created (fewer only when blocked)',
    holds: (plan, input) => {
      const p = plan(input);
      const a = after(input, p);
      if (a.total > Math.max(input.replicas, input.machines.length) || a.nonDeleting > input.replicas) return false;
      if (p.create > 0) return a.total === input.replicas;
      return p.blocked ? a.total < input.replicas : a.total >= input.replicas;
    },
  },
  {
    name: 'planMachineSet: blocked → creates nothing',
    holds: (plan, input) => {
      const p = plan(input);
      return !p.blocked || p.create === 0;
    },
  },
  {
    name: 'planMachineSet: gate closed or control plane upgrading → creates nothing',
    holds: (plan, input) => (input.gateOpen && !input.controlPlaneUpgrading) || plan(input).create === 0,
  },
  {
    name: 'planMachineSet: scaling down → deletes only machines that exist and are not already deleting',
    holds: (plan, input) => {
      const live = new Set(input.machines.filter((x) => !x.deleting).map((x) => x.name));
      const p = plan(input);
      return new Set(p.delete).size === p.delete.length && p.delete.every((n) => live.has(n));
    },
  },
  {
    name: 'planMachineSet: any input → deterministic and the input is not mutated',
    holds: (plan, input) => {
      const before = JSON.stringify(input);
      const a = JSON.stringify(plan(input));
      const b = JSON.stringify(plan(JSON.parse(before) as MachineSetPlanInput));
      return a === b && JSON.stringify(input) === before;
    },
  },
];

let calls = 0;
const broken: Planner[] = [
  (i) => {
    const p = planMachineSet(i);
    return p.create > 0 && i.machines.length > 0 ? { ...p, delete: [i.machines[0]!.name] } : p; // replaces while growing
  },
  (i) => {
    const p = planMachineSet(i);
    const live = i.machines.filter((x) => !x.deleting).length;
    return p.delete.length === 0 && !p.blocked && i.replicas - live > 0 ? { ...p, create: i.replicas - live } : p; // replaces deleting machines at once
  },
  (i) => {
    const p = planMachineSet(i);
    return p.blocked ? { ...p, create: 1 } : p; // creates one even when blocked
  },
  (i) => {
    const p = planMachineSet({ ...i, gateOpen: true }); // ignores the init gate
    return i.gateOpen ? p : { ...p, blocked: undefined };
  },
  (i) => {
    const p = planMachineSet(i);
    const deleting = i.machines.find((x) => x.deleting);
    return p.delete.length > 0 && deleting ? { ...p, delete: [deleting.name, ...p.delete.slice(1)] } : p; // deletes a deleting one again
  },
  (i) => {
    calls += 1;
    const p = planMachineSet(i);
    return calls % 2 === 0 ? { ...p, delete: [...p.delete].reverse() } : p; // answers differently every other call
  },
];
const plantNames = ['deletes while it creates', 'replaces deleting machines before they are gone', 'creates one while blocked', 'ignores the init gate', 'deletes a deleting machine again', 'answers differently on every other call'];

describe('planMachineSet properties', () => {
  properties.forEach((p, i) => {
    it(p.name, () => {
      fc.assert(fc.property(inputArb, (input) => p.holds(planMachineSet, input)), { numRuns: NUM_RUNS });
    });
    it(`${p.name} — catches a planner that ${plantNames[i]}`, () => {
      const result = fc.check(fc.property(inputArb, (input) => p.holds(broken[i]!, input)), { numRuns: NUM_RUNS });
      expect(result.failed).toBe(true);
    });
  });

  it('planMachineSet: a frozen input → never throws for any valid input', () => {
    const deepFreeze = <T,>(v: T): T => {
      if (v && typeof v === 'object') {
        for (const x of Object.values(v)) deepFreeze(x);
        Object.freeze(v);
      }
      return v;
    };
    fc.assert(fc.property(inputArb, (input) => void planMachineSet(deepFreeze(input))), { numRuns: NUM_RUNS });
  });
});
