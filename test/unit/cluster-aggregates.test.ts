// A Cluster's RollingOut, ScalingUp, ScalingDown and Remediating, aggregated from its descendants
// as Cluster API's Cluster controller does (Test_setRollingOutCondition, Test_setRemediatingCondition).
import { describe, expect, it } from 'vitest';
import { aggregateCondition, type Descendant, indentIfMultiline, machinesCondition, type MachineSeen } from '../../client/cluster-aggregates.js';
import { remediatingCondition } from '../../client/remediating-condition.js';

const d = (kind: Descendant['kind'], name: string, status?: 'True' | 'False' | 'Unknown', message = ''): Descendant => ({ kind, name, ...(status ? { condition: { status, message } } : {}) });

describe('aggregateCondition', () => {
  it('False when no descendant is rolling out; a control plane that does not report it is left out', () => {
    expect(aggregateCondition('RollingOut', [d('KubeadmControlPlane', 'cp'), d('MachineDeployment', 'md1', 'False')])).toEqual({ type: 'RollingOut', status: 'False', reason: 'NotRollingOut', message: '' });
    expect(aggregateCondition('ScalingUp', [])).toMatchObject({ status: 'False', reason: 'NotScalingUp' });
  });
  it("True with each descendant's message, the control plane first", () => {
    const got = aggregateCondition('RollingOut', [d('MachineDeployment', 'md1', 'True', 'Rolling out 4 not up-to-date replicas'), d('KubeadmControlPlane', 'cp1', 'True', 'Rolling out 3 not up-to-date replicas')]);
    expect(got).toEqual({ type: 'RollingOut', status: 'True', reason: 'RollingOut', message: '* KubeadmControlPlane cp1: Rolling out 3 not up-to-date replicas\n* MachineDeployment md1: Rolling out 4 not up-to-date replicas' });
  });
  it('the control plane, then deployments, then sets', () => {
    const got = aggregateCondition('ScalingUp', [d('MachineSet', 'ms1', 'True', 'Scaling up from 0 to 1 replicas'), d('MachineDeployment', 'md1', 'True', 'Scaling up from 1 to 2 replicas'), d('KubeadmControlPlane', 'cp', 'True', 'Scaling up from 0 to 3 replicas')]);
    expect(got.message.split('\n').map((l) => l.split(':')[0])).toEqual(['* KubeadmControlPlane cp', '* MachineDeployment md1', '* MachineSet ms1']);
  });
  it('one line for descendants of a kind with the same message; further lines indented under it', () => {
    const got = aggregateCondition('ScalingDown', [d('MachineDeployment', 'b', 'True', 'Scaling down from 3 to 2 replicas'), d('MachineDeployment', 'a', 'True', 'Scaling down from 3 to 2 replicas')]);
    expect(got.message).toBe('* MachineDeployments a, b: Scaling down from 3 to 2 replicas');
    expect(aggregateCondition('RollingOut', [d('MachineDeployment', 'md1', 'True', 'Rolling out 2 not up-to-date replicas\n* Version v1.36.3, v1.37.2 required')]).message).toBe(
      '* MachineDeployment md1:\n  * Rolling out 2 not up-to-date replicas\n    * Version v1.36.3, v1.37.2 required',
    );
  });
});

describe('aggregateCondition: descendants that have not said', () => {
  it('Unknown while a deployment or set has not reported the condition, naming them', () => {
    expect(aggregateCondition('RollingOut', [d('KubeadmControlPlane', 'cp', 'False'), d('MachineDeployment', 'md2'), d('MachineDeployment', 'md1', 'False')])).toEqual({
      type: 'RollingOut',
      status: 'Unknown',
      reason: 'RollingOutUnknown',
      message: '* MachineDeployment md2: Condition RollingOut not yet reported',
    });
    expect(aggregateCondition('ScalingUp', [d('MachineSet', 'ms1', 'Unknown', 'Scaling up from 0 to 1 replicas is blocked'), d('MachineSet', 'ms2', 'Unknown')])).toEqual({
      type: 'ScalingUp',
      status: 'Unknown',
      reason: 'ScalingUpUnknown',
      message: '* MachineSet ms1: Scaling up from 0 to 1 replicas is blocked\n* MachineSet ms2: ScalingUp is Unknown',
    });
  });
  it('True wins over Unknown; the unknown lines follow the True ones', () => {
    const got = aggregateCondition('ScalingDown', [d('MachineDeployment', 'b'), d('MachineDeployment', 'c'), d('MachineDeployment', 'a', 'True', 'Scaling down from 3 to 2 replicas')]);
    expect(got).toEqual({
      type: 'ScalingDown',
      status: 'True',
      reason: 'ScalingDown',
      message: '* MachineDeployment a: Scaling down from 3 to 2 replicas\n* MachineDeployments b, c: Condition ScalingDown not yet reported',
    });
  });
});

describe("a Cluster's Remediating", () => {
  it('names what is remediated, else the unhealthy machines left alone, with no owner', () => {
    expect(remediatingCondition('Cluster', { remediating: ['m3'], deferred: {}, unhealthy: ['m3'] })).toMatchObject({ status: 'True', reason: 'Remediating', message: '* Machine m3: Machine is deleting' });
    expect(remediatingCondition('Cluster', { remediating: [], deferred: {}, unhealthy: ['m2'] })).toMatchObject({ status: 'False', reason: 'NotRemediating', message: 'Machine m2 is not healthy (not to be remediated)' });
  });
});

describe('machinesCondition (ControlPlane/WorkerMachinesReady and …UpToDate, as Cluster API aggregates its machines\')', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const m = (name: string, status?: 'True' | 'False' | 'Unknown', message = '', secondsOld = 60): MachineSeen => ({ name, ...(status ? { condition: { status, message } } : {}), created: now - secondsOld * 1000 });
  it('True with no machines (NoReplicas), or when all say True', () => {
    expect(machinesCondition('WorkerMachinesUpToDate', 'UpToDate', [], now)).toEqual({ type: 'WorkerMachinesUpToDate', status: 'True', reason: 'NoReplicas', message: '' });
    expect(machinesCondition('WorkerMachinesReady', 'Ready', [m('a', 'True'), m('b', 'True')], now)).toMatchObject({ status: 'True', reason: 'Ready' });
  });
  it("False naming the machines not up to date, then those that have not said (Cluster API's test)", () => {
    const got = machinesCondition('WorkerMachinesUpToDate', 'UpToDate', [m('up-to-date-1', 'True'), m('not-up-to-date-machine-2', 'False', 'This is not up-to-date message'), m('not-up-to-date-machine-1', 'False', 'This is not up-to-date message'), m('no-condition-machine-1'), m('no-condition-machine-2')], now);
    expect(got).toEqual({
      type: 'WorkerMachinesUpToDate',
      status: 'False',
      reason: 'NotUpToDate',
      message: '* Machines not-up-to-date-machine-1, not-up-to-date-machine-2: This is not up-to-date message\n* Machines no-condition-machine-1, no-condition-machine-2: Condition UpToDate not yet reported',
    });
  });
  it('Unknown for a machine without UpToDate older than 10 s; a newer one is not counted yet', () => {
    expect(machinesCondition('WorkerMachinesUpToDate', 'UpToDate', [m('no-condition-machine-1'), m('no-condition-machine-2-new', undefined, '', 5)], now)).toEqual({ type: 'WorkerMachinesUpToDate', status: 'Unknown', reason: 'UpToDateUnknown', message: '* Machine no-condition-machine-1: Condition UpToDate not yet reported' });
    expect(machinesCondition('WorkerMachinesUpToDate', 'UpToDate', [m('new', undefined, '', 5)], now)).toMatchObject({ status: 'True', reason: 'NoReplicas' });
  });
  it('a list goes under its line, indented (Cluster API\'s indentIfMultiline)', () => {
    expect(machinesCondition('ControlPlaneMachinesUpToDate', 'UpToDate', [m('cp-1', 'False', '* Version v1.36.3, v1.37.2 required\n* SimMachine is not up-to-date')], now).message).toBe('* Machine cp-1:\n  * Version v1.36.3, v1.37.2 required\n  * SimMachine is not up-to-date');
    expect(indentIfMultiline('one line')).toBe(' one line');
    expect(indentIfMultiline('* one bullet')).toBe('\n  * one bullet');
    expect(indentIfMultiline('head\n* item')).toBe('\n  * head\n    * item');
  });
});
