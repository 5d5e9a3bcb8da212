// computeMachineSetStatus: counters and each v1beta2 condition, always set; transition times
// that move only when a status flips; machineSetStatusChanged reporting no change for a
// round that changed nothing (cluster-api #5945); nextStatusChangeAt for minReadySeconds.
import { describe, expect, it } from 'vitest';
import {
  computeMachineSetStatus,
  machineSetStatusChanged,
  nextStatusChangeAt,
  type MachineSetStatus,
  type MachineSetStatusInput,
  type StatusMachine,
} from '../../workflows/planners/machine-set.status.js';

const T0 = '2026-01-01T00:10:00.000Z';
const minutesBefore = (min: number, from = T0) => new Date(Date.parse(from) - min * 60_000).toISOString();
const secondsBefore = (s: number, from = T0) => new Date(Date.parse(from) - s * 1000).toISOString();

// A ready, up-to-date machine created 5 minutes before T0, ready for 4.
const m = (name: string, extra: Partial<StatusMachine> = {}): StatusMachine => ({
  name,
  creationTimestamp: minutesBefore(5),
  deleting: false,
  ready: true,
  readySince: minutesBefore(4),
  upToDate: true,
  ...extra,
});

const base = (extra: Partial<MachineSetStatusInput> = {}): MachineSetStatusInput => ({ replicas: 3, machines: [m('a'), m('b'), m('c')], deleting: false, now: T0, ...extra });

const TYPES = ['MachinesReady', 'MachinesUpToDate', 'ScalingUp', 'ScalingDown', 'Remediating', 'Deleting'];

function cond(s: MachineSetStatus, type: string) {
  const c = s.conditions.find((x) => x.type === type);
  if (!c) throw new Error(`condition ${type} not set`);
  return { status: c.status, reason: c.reason, message: c.message };
}

describe('computeMachineSetStatus counters', () => {
  const cases: { name: string; input: MachineSetStatusInput; want: Pick<MachineSetStatus, 'replicas' | 'readyReplicas' | 'availableReplicas' | 'upToDateReplicas'> }[] = [
    { name: 'three ready, available, up-to-date machines', input: base(), want: { replicas: 3, readyReplicas: 3, availableReplicas: 3, upToDateReplicas: 3 } },
    {
      name: 'a deleting machine still counts in replicas, as in Cluster API',
      input: base({ machines: [m('a'), m('b', { deleting: true, ready: false })] }),
      want: { replicas: 2, readyReplicas: 1, availableReplicas: 1, upToDateReplicas: 2 },
    },
    {
      name: 'minReadySeconds 300: ready for 4 minutes is not available yet, for 6 it is',
      input: base({ minReadySeconds: 300, machines: [m('a'), m('b', { readySince: minutesBefore(6) })] }),
      want: { replicas: 2, readyReplicas: 2, availableReplicas: 1, upToDateReplicas: 2 },
    },
    {
      name: 'minReadySeconds: ready exactly minReadySeconds ago is available',
      input: base({ minReadySeconds: 240, machines: [m('a')] }),
      want: { replicas: 1, readyReplicas: 1, availableReplicas: 1, upToDateReplicas: 1 },
    },
    {
      name: 'ready with no readySince: available only when minReadySeconds is 0',
      input: base({ minReadySeconds: 10, machines: [m('a', { readySince: undefined })] }),
      want: { replicas: 1, readyReplicas: 1, availableReplicas: 0, upToDateReplicas: 1 },
    },
    {
      name: 'unknown facts count as not ready and not up to date',
      input: base({ machines: [m('a', { ready: undefined, upToDate: undefined })] }),
      want: { replicas: 1, readyReplicas: 0, availableReplicas: 0, upToDateReplicas: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(computeMachineSetStatus(c.input)).toMatchObject(c.want));
  }

  it('machines not observed → the counters keep their previous values', () => {
    const prev = computeMachineSetStatus(base());
    const next = computeMachineSetStatus(base({ machines: null }), prev);
    expect(next).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, upToDateReplicas: 3 });
  });
});

describe('computeMachineSetStatus conditions', () => {
  it('every condition is always set, once, whatever the input', () => {
    for (const input of [base(), base({ machines: null }), base({ replicas: undefined }), base({ deleting: true, machines: [] }), base({ machines: [] })]) {
      const s = computeMachineSetStatus(input);
      expect(s.conditions.map((c) => c.type).sort()).toEqual([...TYPES].sort());
    }
  });

  const cases: { name: string; input: MachineSetStatusInput; type: string; want: { status: string; reason: string; message: string } }[] = [
    { name: 'MachinesReady: all ready → True Ready', input: base(), type: 'MachinesReady', want: { status: 'True', reason: 'Ready', message: '' } },
    { name: 'MachinesReady: no machines → True NoReplicas', input: base({ machines: [] }), type: 'MachinesReady', want: { status: 'True', reason: 'NoReplicas', message: '' } },
    {
      name: 'MachinesReady: one not ready → False NotReady naming it',
      input: base({ machines: [m('a'), m('b', { ready: false })] }),
      type: 'MachinesReady',
      want: { status: 'False', reason: 'NotReady', message: '* Machine b is not ready' },
    },
    {
      name: 'MachinesReady: not ready beats unknown; names sorted and cut after 3',
      input: base({ machines: [m('e', { ready: false }), m('d', { ready: false }), m('c', { ready: false }), m('b', { ready: false }), m('a', { ready: undefined })] }),
      type: 'MachinesReady',
      want: { status: 'False', reason: 'NotReady', message: '* Machines b, c, d, ... (1 more) are not ready\n* Machine a: readiness not reported yet' },
    },
    {
      name: 'MachinesReady: only unknowns → Unknown ReadyUnknown',
      input: base({ machines: [m('a'), m('b', { ready: undefined })] }),
      type: 'MachinesReady',
      want: { status: 'Unknown', reason: 'ReadyUnknown', message: '* Machine b: readiness not reported yet' },
    },
    {
      name: 'MachinesReady: machines not observed → Unknown InternalError',
      input: base({ machines: null }),
      type: 'MachinesReady',
      want: { status: 'Unknown', reason: 'InternalError', message: 'Machines could not be observed this round' },
    },
    {
      name: 'MachinesUpToDate: one outdated → False NotUpToDate',
      input: base({ machines: [m('a'), m('b', { upToDate: false })] }),
      type: 'MachinesUpToDate',
      want: { status: 'False', reason: 'NotUpToDate', message: '* Machine b is not up to date' },
    },
    {
      name: 'MachinesUpToDate: a machine 5 s old with no verdict yet is left out (no flicker)',
      input: base({ machines: [m('a'), m('new', { creationTimestamp: secondsBefore(5), upToDate: undefined })] }),
      type: 'MachinesUpToDate',
      want: { status: 'True', reason: 'UpToDate', message: '' },
    },
    {
      name: 'MachinesUpToDate: a machine 11 s old with no verdict → Unknown UpToDateUnknown',
      input: base({ machines: [m('a'), m('new', { creationTimestamp: secondsBefore(11), upToDate: undefined })] }),
      type: 'MachinesUpToDate',
      want: { status: 'Unknown', reason: 'UpToDateUnknown', message: '* Machine new: up-to-date not reported yet' },
    },
    { name: 'ScalingUp: at replicas → False NotScalingUp', input: base(), type: 'ScalingUp', want: { status: 'False', reason: 'NotScalingUp', message: '' } },
    {
      name: 'ScalingUp: fewer machines → True, counting deleting machines too (as Cluster API)',
      input: base({ replicas: 3, machines: [m('a'), m('b', { deleting: true })] }),
      type: 'ScalingUp',
      want: { status: 'True', reason: 'ScalingUp', message: 'Scaling up from 2 to 3 replicas' },
    },
    {
      name: 'ScalingUp: blocked by the planner → says why, as Cluster API says its preflight checks',
      input: base({ replicas: 2, machines: [], scaleUpBlocked: { reason: 'WaitingForControlPlaneInitialized', message: 'Scale up on hold until the control plane is initialized (ControlPlaneInitialized)' } }),
      type: 'ScalingUp',
      want: { status: 'True', reason: 'ScalingUp', message: 'Scaling up from 0 to 2 replicas is blocked because:\n* Scale up on hold until the control plane is initialized (ControlPlaneInitialized)' },
    },
    {
      name: 'ScalingUp: spec.replicas not set → Unknown WaitingForReplicasSet',
      input: base({ replicas: undefined }),
      type: 'ScalingUp',
      want: { status: 'Unknown', reason: 'WaitingForReplicasSet', message: 'Waiting for spec.replicas set' },
    },
    {
      name: 'ScalingDown: more machines than replicas → True, deleting machines included',
      input: base({ replicas: 2, machines: [m('a'), m('b'), m('c', { deleting: true })] }),
      type: 'ScalingDown',
      want: { status: 'True', reason: 'ScalingDown', message: 'Scaling down from 3 to 2 replicas' },
    },
    {
      name: 'ScalingDown: a deletion older than 15 minutes is named',
      input: base({ replicas: 1, machines: [m('a'), m('b', { deleting: true, deletingSince: minutesBefore(16) })] }),
      type: 'ScalingDown',
      want: { status: 'True', reason: 'ScalingDown', message: 'Scaling down from 2 to 1 replicas\n* Machine b is in deletion since more than 15m' },
    },
    { name: 'ScalingDown: at replicas → False NotScalingDown', input: base(), type: 'ScalingDown', want: { status: 'False', reason: 'NotScalingDown', message: '' } },
    {
      name: 'ScalingDown: a MachineSet being deleted wants 0',
      input: base({ deleting: true }),
      type: 'ScalingDown',
      want: { status: 'True', reason: 'ScalingDown', message: 'Scaling down from 3 to 0 replicas' },
    },
    { name: 'Remediating: nothing unhealthy → False NotRemediating', input: base(), type: 'Remediating', want: { status: 'False', reason: 'NotRemediating', message: '' } },
    {
      name: 'Remediating: unhealthy but not handed to the set → False, naming them',
      input: base({ machines: [m('a', { healthy: false }), m('b', { healthy: false })] }),
      type: 'Remediating',
      want: { status: 'False', reason: 'NotRemediating', message: 'Machines a, b are not healthy (not to be remediated by MachineSet)' },
    },
    {
      name: 'Remediating: a machine to remediate → True Remediating',
      input: base({ machines: [m('a', { healthy: false, remediating: true })] }),
      type: 'Remediating',
      want: { status: 'True', reason: 'Remediating', message: '* Machine a: Machine is deleting' },
    },
    { name: 'Deleting: not deleting → False NotDeleting', input: base(), type: 'Deleting', want: { status: 'False', reason: 'NotDeleting', message: '' } },
    {
      name: 'Deleting: deleting with machines left → True, counting them',
      input: base({ deleting: true, machines: [m('a', { deleting: true })] }),
      type: 'Deleting',
      want: { status: 'True', reason: 'Deleting', message: 'Deleting 1 Machine' },
    },
    { name: 'Deleting: deleting, no machine left → Deletion completed', input: base({ deleting: true, machines: [] }), type: 'Deleting', want: { status: 'True', reason: 'Deleting', message: 'Deletion completed' } },
    {
      name: 'Deleting: deleting but machines not observed → Unknown InternalError',
      input: base({ deleting: true, machines: null }),
      type: 'Deleting',
      want: { status: 'Unknown', reason: 'InternalError', message: 'Machines could not be observed this round' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(cond(computeMachineSetStatus(c.input), c.type)).toEqual(c.want));
  }

  it('observedGeneration is reported on the status and on every condition', () => {
    const s = computeMachineSetStatus(base({ observedGeneration: 4 }));
    expect(s.observedGeneration).toBe(4);
    expect(s.conditions.every((c) => c.observedGeneration === 4)).toBe(true);
  });
});

describe('machineSetStatusChanged (write only changes: cluster-api #5945)', () => {
  it('no previous status → changed', () => expect(machineSetStatusChanged(undefined, computeMachineSetStatus(base()))).toBe(true));

  it('the same observation a minute later → unchanged, transition times kept', () => {
    const first = computeMachineSetStatus(base());
    const later = '2026-01-01T00:11:00.000Z';
    const second = computeMachineSetStatus(base({ now: later }), first);
    expect(machineSetStatusChanged(first, second)).toBe(false);
    expect(second).toEqual(first);
  });

  it('the same observation listed in another order → unchanged', () => {
    const first = computeMachineSetStatus(base({ machines: [m('a', { ready: false }), m('b', { ready: false })] }));
    const second = computeMachineSetStatus(base({ machines: [m('b', { ready: false }), m('a', { ready: false })] }), first);
    expect(machineSetStatusChanged(first, second)).toBe(false);
  });

  it('a previous status stored with other key and condition order → unchanged', () => {
    const first = computeMachineSetStatus(base());
    const reordered = JSON.parse(JSON.stringify({ conditions: [...first.conditions].reverse().map((c) => ({ ...c })), upToDateReplicas: first.upToDateReplicas, replicas: first.replicas, availableReplicas: first.availableReplicas, readyReplicas: first.readyReplicas })) as MachineSetStatus;
    expect(machineSetStatusChanged(reordered, computeMachineSetStatus(base(), reordered))).toBe(false);
  });

  it('a machine turning not ready → changed; only the flipped condition gets a new transition time', () => {
    const first = computeMachineSetStatus(base());
    const later = '2026-01-01T00:11:00.000Z';
    const second = computeMachineSetStatus(base({ now: later, machines: [m('a'), m('b'), m('c', { ready: false })] }), first);
    expect(machineSetStatusChanged(first, second)).toBe(true);
    expect(second.conditions.find((c) => c.type === 'MachinesReady')!.lastTransitionTime).toBe(later);
    expect(second.conditions.find((c) => c.type === 'ScalingUp')!.lastTransitionTime).toBe(T0);
  });

  it('a message change alone (another machine not ready) keeps the transition time but is a change', () => {
    const first = computeMachineSetStatus(base({ machines: [m('a', { ready: false }), m('b')] }));
    const second = computeMachineSetStatus(base({ now: '2026-01-01T00:12:00.000Z', machines: [m('a', { ready: false }), m('b', { ready: false })] }), first);
    expect(machineSetStatusChanged(first, second)).toBe(true);
    expect(second.conditions.find((c) => c.type === 'MachinesReady')!.lastTransitionTime).toBe(T0);
  });

  it('does not mutate the previous status', () => {
    const first = computeMachineSetStatus(base());
    const snapshot = JSON.stringify(first);
    computeMachineSetStatus(base({ machines: [], now: '2026-01-01T00:12:00.000Z' }), first);
    expect(JSON.stringify(first)).toBe(snapshot);
  });

  it('refuses a `now` that is not a time', () => expect(() => computeMachineSetStatus(base({ now: 'soon' }))).toThrow(/^now: "soon" is not an RFC 3339 time/));
});

describe('nextStatusChangeAt', () => {
  const cases: { name: string; input: MachineSetStatusInput; want: string | undefined }[] = [
    { name: 'everything settled → nothing pending', input: base({ minReadySeconds: 60 }), want: undefined },
    { name: 'minReadySeconds 0 → nothing to wait for', input: base({ machines: [m('a', { readySince: T0 })] }), want: undefined },
    {
      name: 'a machine ready 4 minutes, minReadySeconds 300 → when it turns available',
      input: base({ minReadySeconds: 300, machines: [m('a'), m('b', { readySince: minutesBefore(1) })] }),
      want: '2026-01-01T00:11:00.000Z',
    },
    {
      name: 'a deletion 10 minutes old → just after it turns stale (15 m)',
      input: base({ machines: [m('a', { deleting: true, deletingSince: minutesBefore(10) })] }),
      want: '2026-01-01T00:15:00.001Z',
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(nextStatusChangeAt(c.input)).toBe(c.want));
  }

  it('at the time it names, the status does change', () => {
    const input = base({ minReadySeconds: 300, machines: [m('a', { readySince: minutesBefore(1) })] });
    const first = computeMachineSetStatus(input);
    const at = nextStatusChangeAt(input)!;
    const second = computeMachineSetStatus({ ...input, now: at }, first);
    expect(machineSetStatusChanged(first, second)).toBe(true);
    expect(second.availableReplicas).toBe(1);
  });
});
