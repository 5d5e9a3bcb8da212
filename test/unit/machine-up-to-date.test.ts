// A deployment's machines' UpToDate and Available, and its RollingOut's reasons, as Cluster API
// writes them (mdutil.MachineTemplateUpToDate, newMachineUpToDateCondition, setAvailableCondition,
// setRollingOutCondition).
import { describe, expect, it } from 'vitest';
import { availableCondition, controlPlaneUpToDate, rollingOutMessage, templateDifferences, upToDateCondition, type RolloutTemplate } from '../../client/machine-up-to-date.js';

const template = (over: Partial<RolloutTemplate> = {}): RolloutTemplate => ({
  version: 'v1.37.2',
  bootstrap: { configRef: { kind: 'KubeadmConfigTemplate', name: 'md-0' } },
  infrastructureRef: { kind: 'SimMachineTemplate', name: 'md-0' },
  ...over,
});

describe('templateDifferences', () => {
  it.each<[string, RolloutTemplate, string[]]>([
    ['the same', template(), []],
    ['another version', template({ version: 'v1.36.3' }), ['Version v1.36.3, v1.37.2 required']],
    ['another infrastructure template', template({ infrastructureRef: { kind: 'SimMachineTemplate', name: 'md-0-old' } }), ['SimMachine is not up-to-date']],
    ['another bootstrap template', template({ bootstrap: { configRef: { kind: 'KubeadmConfigTemplate', name: 'old' } } }), ['KubeadmConfig is not up-to-date']],
    ['another failure domain', template({ failureDomain: 'az-1' }), ['Failure domain az-1, nil required']],
    ['several, in Cluster API\'s order', template({ version: 'v1.36.3', infrastructureRef: { kind: 'SimMachineTemplate', name: 'x' } }), ['Version v1.36.3, v1.37.2 required', 'SimMachine is not up-to-date']],
  ])('%s', (_, current, want) => {
    expect(templateDifferences(current, template())).toEqual(want);
  });
});

describe('upToDateCondition', () => {
  it('True in the new set', () => {
    expect(upToDateCondition(true, [], false)).toEqual({ type: 'UpToDate', status: 'True', reason: 'UpToDate', message: '' });
  });
  it('False with each reason on its line', () => {
    expect(upToDateCondition(false, ['Version v1.36.3, v1.37.2 required'], true).message).toBe('* Version v1.36.3, v1.37.2 required\n* MachineDeployment spec.rolloutAfter expired');
  });
  it('False with a reason even when no field differs (a template changed under its name)', () => {
    expect(upToDateCondition(false, [], false)).toMatchObject({ status: 'False', reason: 'NotUpToDate', message: '* Machine template is not up-to-date' });
  });
});

describe('rollingOutMessage', () => {
  const no = (message: string) => ({ type: 'UpToDate', status: 'False' as const, reason: 'NotUpToDate', message });
  it('lists each reason once, a version change first', () => {
    const got = rollingOutMessage('Rolling out 3 not up-to-date replicas', [no('* SimMachine is not up-to-date\n* Version v1.36.3, v1.37.2 required'), no('* SimMachine is not up-to-date'), { type: 'UpToDate', status: 'True', reason: 'UpToDate', message: '' }]);
    expect(got).toBe('Rolling out 3 not up-to-date replicas\n* Version v1.36.3, v1.37.2 required\n* SimMachine is not up-to-date');
  });
  it('leaves the message as it is when no machine says why', () => {
    expect(rollingOutMessage('Rolling out 0 not up-to-date replicas', [])).toBe('Rolling out 0 not up-to-date replicas');
  });
});

describe('availableCondition', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const ready = (secondsAgo: number, status: 'True' | 'False' = 'True') => ({ status, lastTransitionTime: new Date(now - secondsAgo * 1000).toISOString() });
  it.each<[string, ReturnType<typeof ready> | undefined, number, string, string]>([
    ['no Ready yet', undefined, 0, 'False', 'NotReady'],
    ['not Ready', ready(100, 'False'), 0, 'False', 'NotReady'],
    ['Ready, minReadySeconds 0', ready(0), 0, 'True', 'Available'],
    ['Ready for less than minReadySeconds', ready(5), 10, 'False', 'WaitingForMinReadySeconds'],
    ['Ready for minReadySeconds', ready(10), 10, 'True', 'Available'],
  ])('%s', (_, r, minReady, status, reason) => {
    expect(availableCondition(r, minReady, now)).toMatchObject({ type: 'Available', status, reason });
  });
});

describe('controlPlaneUpToDate (from the control plane workflow\'s answer)', () => {
  it.each<[string, boolean, string | undefined, boolean | undefined, string, string]>([
    ['up to date', true, 'v1.37.2', true, 'True', ''],
    ['another version', false, 'v1.36.3', true, 'False', '* Version v1.36.3, v1.37.2 required'],
    ['the same version, another machine template', false, 'v1.37.2', false, 'False', '* SimMachine is not up-to-date'],
    ['another version and another machine template: both', false, 'v1.36.3', false, 'False', '* Version v1.36.3, v1.37.2 required\n* SimMachine is not up-to-date'],
    ['an answer that does not say (an older worker): another version', false, 'v1.36.3', undefined, 'False', '* Version v1.36.3, v1.37.2 required'],
    ['an answer that does not say: the same version, so the template', false, 'v1.37.2', undefined, 'False', '* SimMachine is not up-to-date'],
  ])('%s', (_, upToDate, version, infrastructure, status, message) => {
    expect(controlPlaneUpToDate(upToDate, version, 'v1.37.2', infrastructure)).toMatchObject({ type: 'UpToDate', status, message });
  });
});
