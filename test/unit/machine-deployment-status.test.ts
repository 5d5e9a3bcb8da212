// The MachineDeployment's status (workflows/planners/machine-deployment.status.ts): its ScalingUp
// condition, and a set's blocked scale up said under it as Cluster API's deployment says it.
import { describe, expect, it } from 'vitest';
import { computeDeploymentStatus, type DeploymentStatusInput, type DeploymentStatusSet } from '../../workflows/planners/machine-deployment.status.js';

const set = (over: Partial<DeploymentStatusSet> = {}): DeploymentStatusSet => ({ name: 'md-abcde', isNew: true, specReplicas: 3, replicas: 1, readyReplicas: 1, availableReplicas: 1, ...over });
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
