// A Cluster's RollingOut, ScalingUp, ScalingDown and Remediating, aggregated from its descendants
// as Cluster API's Cluster controller does (Test_setRollingOutCondition, Test_setRemediatingCondition).
import { describe, expect, it } from 'vitest';
import { aggregateCondition, type Descendant } from '../../client/cluster-aggregates.js';
import { remediatingCondition } from '../../client/remediating-condition.js';

const d = (kind: Descendant['kind'], name: string, status?: 'True' | 'False', message = ''): Descendant => ({ kind, name, ...(status ? { condition: { status, message } } : {}) });

describe('aggregateCondition', () => {
  it('False when no descendant is rolling out, or none says', () => {
    expect(aggregateCondition('RollingOut', [d('KubeadmControlPlane', 'cp'), d('MachineDeployment', 'md1', 'False')])).toEqual({ type: 'RollingOut', status: 'False', reason: 'NotRollingOut', message: '' });
    expect(aggregateCondition('ScalingUp', [])).toMatchObject({ status: 'False', reason: 'NotScalingUp' });
  });
  it("True with each descendant's message, the control plane first", () => {
    const got = aggregateCondition('RollingOut', [d('MachineDeployment', 'md1', 'True', 'Rolling out 4 not up-to-date replicas'), d('KubeadmControlPlane', 'cp1', 'True', 'Rolling out 3 not up-to-date replicas')]);
    expect(got).toEqual({ type: 'RollingOut', status: 'True', reason: 'RollingOut', message: '* KubeadmControlPlane cp1: Rolling out 3 not up-to-date replicas\n* MachineDeployment md1: Rolling out 4 not up-to-date replicas' });
  });
  it('one line for descendants of a kind with the same message; further lines indented under it', () => {
    const got = aggregateCondition('ScalingDown', [d('MachineDeployment', 'b', 'True', 'Scaling down from 3 to 2 replicas'), d('MachineDeployment', 'a', 'True', 'Scaling down from 3 to 2 replicas')]);
    expect(got.message).toBe('* MachineDeployments a, b: Scaling down from 3 to 2 replicas');
    expect(aggregateCondition('RollingOut', [d('MachineDeployment', 'md1', 'True', 'Rolling out 2 not up-to-date replicas\n* Version v1.36.3, v1.37.2 required')]).message).toBe(
      '* MachineDeployment md1: Rolling out 2 not up-to-date replicas\n  * Version v1.36.3, v1.37.2 required',
    );
  });
});

describe("a Cluster's Remediating", () => {
  it('names what is remediated, else the unhealthy machines left alone, with no owner', () => {
    expect(remediatingCondition('Cluster', { remediating: ['m3'], deferred: {}, unhealthy: ['m3'] })).toMatchObject({ status: 'True', reason: 'Remediating', message: '* Machine m3: Machine is deleting' });
    expect(remediatingCondition('Cluster', { remediating: [], deferred: {}, unhealthy: ['m2'] })).toMatchObject({ status: 'False', reason: 'NotRemediating', message: 'Machine m2 is not healthy (not to be remediated)' });
  });
});
