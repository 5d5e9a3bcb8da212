// The MachineDeployment's status (workflows/planners/machine-deployment.status.ts): its ScalingUp
// condition, and a set's blocked scale up said under it as Cluster API's deployment says it.
import { describe, expect, it } from 'vitest';
import { computeDeploymentStatus, deploymentStatusChanged, type DeploymentStatusInput, type DeploymentStatusSet } from '../../workflows/planners/machine-deployment.status.js';

const set = (over: Partial<DeploymentStatusSet> = {}): DeploymentStatusSet => ({ name: 'md-abcde', isNew: true, replicas: 1, readyReplicas: 1, availableReplicas: 1, ...over });
const input = (sets: DeploymentStatusSet[], replicas = 3): DeploymentStatusInput => ({ replicas, maxUnavailable: 0, paused: false, sets, observedGeneration: 1, now: '2026-01-01T00:00:00Z' });
const scalingUp = (i: DeploymentStatusInput) => computeDeploymentStatus(i).conditions.find((c) => c.type === 'ScalingUp');

describe('computeDeploymentStatus: ScalingUp', () => {
  it.each([
    { name: 'fewer machines than replicas', sets: [set()], want: { status: 'True', reason: 'ScalingUp', message: 'Scaling up from 1 to 3 replicas' } },
    {
      name: 'a set that cannot create its machines says why',
      sets: [set({ scaleUpBlocked: { reason: 'PreflightCheckFailed', message: 'MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)' } })],
      want: { status: 'True', reason: 'ScalingUp', message: 'Scaling up from 1 to 3 replicas is blocked because:\n* MachineSet md-abcde: MachineSet version is higher than ControlPlane version ("KubernetesVersionSkew" preflight check failed)' },
    },
    { name: 'as many machines as replicas (a blocked set says nothing then)', sets: [set({ replicas: 3, scaleUpBlocked: { reason: 'X', message: 'x' } })], want: { status: 'False', reason: 'NotScalingUp', message: '' } },
  ])('$name', ({ sets, want }) => {
    expect(scalingUp(input(sets))).toMatchObject(want);
  });
});

const cond = (i: DeploymentStatusInput, type: string) => {
  const c = computeDeploymentStatus(i).conditions.find((x) => x.type === type);
  return c && { status: c.status, reason: c.reason, message: c.message };
};

describe('computeDeploymentStatus: Cluster API v1beta2’s other conditions', () => {
  it('sets every condition Cluster API’s deployment sets, in its order', () => {
    expect(computeDeploymentStatus(input([set({ replicas: 3, readyReplicas: 3, availableReplicas: 3 })])).conditions.map((c) => c.type)).toEqual([
      'Available', 'RollingOut', 'ScalingUp', 'ScalingDown', 'MachinesReady', 'MachinesUpToDate', 'Remediating', 'Deleting', 'Paused',
    ]);
  });

  it.each([
    { name: 'enough available', over: {}, sets: [set({ replicas: 3, availableReplicas: 3 })], want: { status: 'True', reason: 'Available', message: '' } },
    {
      name: 'too few, a rolling update: the spec’s maxUnavailable as written',
      over: { maxUnavailable: 1, maxUnavailableSpec: '25%' },
      sets: [set({ replicas: 3, availableReplicas: 1 })],
      want: { status: 'False', reason: 'NotAvailable', message: '1 available replicas, at least 2 required (spec.rollout.strategy.rollingUpdate.maxUnavailable is 25%, spec.replicas is 3)' },
    },
    { name: 'too few, OnDelete', over: {}, sets: [set({ replicas: 3, availableReplicas: 1 })], want: { status: 'False', reason: 'NotAvailable', message: '1 available replicas, at least 3 required' } },
    { name: 'too few while deleting', over: { deleting: true }, sets: [set({ replicas: 1, availableReplicas: 0 })], want: { status: 'False', reason: 'NotAvailable', message: 'Deletion in progress' } },
  ])('Available: $name', ({ over, sets, want }) => {
    expect(cond({ ...input(sets), ...over }, 'Available')).toEqual(want);
  });

  it.each([
    // maxSurge 0, maxUnavailable 1: the old set was lowered to 2 and its third machine is draining.
    { name: 'an old set lowered below its machines is not a scale down of the deployment', over: {}, sets: [set({ isNew: false, replicas: 3 }), set({ name: 'md-new', replicas: 0 })], want: { status: 'False', reason: 'NotScalingDown', message: '' } },
    { name: 'more machines than replicas', over: {}, sets: [set({ replicas: 4 })], want: { status: 'True', reason: 'ScalingDown', message: 'Scaling down from 4 to 3 replicas' } },
    { name: 'deleting: down to 0', over: { deleting: true }, sets: [set({ replicas: 2 })], want: { status: 'True', reason: 'ScalingDown', message: 'Scaling down from 2 to 0 replicas' } },
  ])('ScalingDown: $name', ({ over, sets, want }) => {
    expect(cond({ ...input(sets), ...over }, 'ScalingDown')).toEqual(want);
  });

  it('ScalingUp: none while deleting', () => {
    expect(cond({ ...input([set({ replicas: 1 })]), deleting: true }, 'ScalingUp')).toMatchObject({ status: 'False', reason: 'NotScalingUp' });
  });

  it.each([
    { name: 'no machines', sets: [set({ replicas: 0, readyReplicas: 0 })], ready: ['True', 'NoReplicas', ''], upToDate: ['True', 'NoReplicas', ''] },
    { name: 'all ready and up to date', sets: [set({ replicas: 3, readyReplicas: 3 })], ready: ['True', 'Ready', ''], upToDate: ['True', 'UpToDate', ''] },
    {
      name: 'mid-rollout',
      sets: [set({ name: 'md-old', isNew: false, replicas: 2, readyReplicas: 1 }), set({ name: 'md-new', replicas: 2, readyReplicas: 1 })],
      ready: ['False', 'NotReady', '* MachineSet md-old: 1 of 2 Machines not ready\n* MachineSet md-new: 1 of 2 Machines not ready'],
      upToDate: ['False', 'NotUpToDate', '* MachineSet md-old: 2 of 2 Machines not up to date'],
    },
  ])('MachinesReady and MachinesUpToDate: $name', ({ sets, ready, upToDate }) => {
    const i = input(sets);
    expect(Object.values(cond(i, 'MachinesReady')!)).toEqual(ready);
    expect(Object.values(cond(i, 'MachinesUpToDate')!)).toEqual(upToDate);
  });

  it.each([
    { name: 'none', sets: [set(), set({ name: 'md-old', isNew: false })], want: { status: 'False', reason: 'NotRemediating', message: '' } },
    { name: 'one machine', sets: [set({ remediating: ['md-abcde-x'] })], want: { status: 'True', reason: 'Remediating', message: '* Machine md-abcde-x: Machine is deleting' } },
    {
      name: 'machines of two sets, sorted, the first three named',
      sets: [set({ remediating: ['md-abcde-z', 'md-abcde-x'] }), set({ name: 'md-old', isNew: false, remediating: ['md-old-b', 'md-old-a'] })],
      want: { status: 'True', reason: 'Remediating', message: '* Machines md-abcde-x, md-abcde-z, md-old-a, ... (1 more): Machine is deleting' },
    },
  ])('Remediating (Cluster API\'s, from the sets\' reports): $name', ({ sets, want }) => {
    expect(cond(input(sets), 'Remediating')).toEqual(want);
  });
  it('a status from a run that did not set Remediating gets it only once a set remediates (no change, so no report, a replay would not have)', () => {
    const before = computeDeploymentStatus(input([set()]), undefined);
    const carried = { ...before, conditions: before.conditions.filter((c) => c.type !== 'Remediating') };
    expect(deploymentStatusChanged(carried, computeDeploymentStatus(input([set()]), carried))).toBe(false);
    const remediating = computeDeploymentStatus(input([set({ remediating: ['m'] })]), carried);
    expect(remediating.conditions.find((c) => c.type === 'Remediating')).toMatchObject({ status: 'True' });
    expect(computeDeploymentStatus(input([set()]), remediating).conditions.find((c) => c.type === 'Remediating')).toMatchObject({ status: 'False', reason: 'NotRemediating' });
  });

  it.each([
    { name: 'not deleting', over: {}, sets: [set()], want: { status: 'False', reason: 'NotDeleting', message: '' } },
    { name: 'machines left', over: { deleting: true }, sets: [set({ replicas: 1 }), set({ name: 'md-2', replicas: 2 })], want: { status: 'True', reason: 'Deleting', message: 'Deleting 3 Machines' } },
    { name: 'one machine left', over: { deleting: true }, sets: [set({ replicas: 1 })], want: { status: 'True', reason: 'Deleting', message: 'Deleting 1 Machine' } },
    { name: 'sets without machines left', over: { deleting: true }, sets: [set({ replicas: 0 })], want: { status: 'True', reason: 'Deleting', message: 'Deleting 1 MachineSet' } },
    { name: 'nothing left', over: { deleting: true }, sets: [], want: { status: 'True', reason: 'Deleting', message: 'Deletion completed' } },
  ])('Deleting: $name', ({ over, sets, want }) => {
    expect(cond({ ...input(sets), ...over }, 'Deleting')).toEqual(want);
  });
});
