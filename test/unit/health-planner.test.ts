// evaluateHealth (workflows/planners/health.ts), Cluster API's MachineHealthCheck decision:
// table tests for each rule, then properties over random fleets, each property shown to catch
// a planted violation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { healthTargets } from '../../activities/health.js';
import { evaluateHealth, goDuration, timeoutPending, unhealthyReason, type HealthInput, type HealthTarget, type HealthVerdict } from '../../workflows/planners/health.js';

const T0 = Date.parse('2026-11-29T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const ready = (since: number, status: 'True' | 'False' | 'Unknown' = 'True') => [{ type: 'Ready', status, lastTransitionTime: at(since) }];
const target = (machine: string, t: Partial<HealthTarget> = {}): HealthTarget => ({ machine, remediationAllowed: true, machineCreatedAt: at(-3600), nodeName: machine, nodeConditions: ready(-3000), ...t });
const checks = [
  { type: 'Ready', status: 'False' as const, timeoutSeconds: 300 },
  { type: 'Ready', status: 'Unknown' as const, timeoutSeconds: 300 },
];
const input = (targets: HealthTarget[], more: Partial<HealthInput> = {}): HealthInput => ({ now: at(0), unhealthyNodeConditions: checks, targets, ...more });

describe('evaluateHealth: the rules', () => {
  it('a Node NotReady for longer than the timeout is unhealthy and remediated; for less, healthy with the time left', () => {
    expect(evaluateHealth(input([target('a', { nodeConditions: ready(-301, 'False') })]))).toEqual({ unhealthy: ['a'], remediate: ['a'], shortCircuited: false, failing: 1, healthy: 0 });
    expect(evaluateHealth(input([target('a', { nodeConditions: ready(-270, 'Unknown') })]))).toEqual({ unhealthy: [], remediate: [], shortCircuited: false, failing: 0, healthy: 1, nextCheckInSeconds: 30 });
  });
  it('at exactly the timeout it is still healthy (strictly longer, as Cluster API), next check in 0 s', () => {
    expect(evaluateHealth(input([target('a', { nodeConditions: ready(-300, 'False') })]))).toEqual({ unhealthy: [], remediate: [], shortCircuited: false, failing: 0, healthy: 1, nextCheckInSeconds: 0 });
  });
  it('a Ready Node runs no timeout', () => {
    expect(evaluateHealth(input([target('a')]))).toEqual({ unhealthy: [], remediate: [], shortCircuited: false, failing: 0, healthy: 1 });
  });
  it('no Node: unhealthy after nodeStartupTimeoutSeconds (default 600) from creation, or from infrastructure ready if later; 0 disables', () => {
    const starting = target('a', { nodeName: undefined, nodeConditions: undefined, machineCreatedAt: at(-700) });
    expect(evaluateHealth(input([starting])).unhealthy).toEqual(['a']);
    expect(evaluateHealth(input([{ ...starting, infrastructureReadyAt: at(-100) }])).nextCheckInSeconds).toBe(500);
    expect(evaluateHealth(input([starting], { nodeStartupTimeoutSeconds: 800 })).nextCheckInSeconds).toBe(100);
    expect(evaluateHealth(input([starting], { nodeStartupTimeoutSeconds: 0 }))).toEqual({ unhealthy: [], remediate: [], shortCircuited: false, failing: 0, healthy: 0 });
  });
  it('a failed machine, and one whose Node is gone, are unhealthy at once', () => {
    const v = evaluateHealth(input([target('b', { failed: true }), target('a', { nodeMissing: true }), target('c')]));
    expect(v).toMatchObject({ unhealthy: ['a', 'b'], remediate: ['a', 'b'] });
  });
  it('a machine no MachineSet or control plane owns is reported unhealthy and left alone', () => {
    expect(evaluateHealth(input([target('a', { failed: true, remediationAllowed: false }), target('b', { failed: true })]))).toMatchObject({ unhealthy: ['a', 'b'], remediate: ['b'] });
  });
  it('maxUnhealthy: more unhealthy than allowed (int or percent of the targets, rounded down) short-circuits', () => {
    const fleet = [target('a', { failed: true }), target('b', { failed: true }), target('c'), target('d'), target('e')];
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 2 }))).toMatchObject({ remediate: ['a', 'b'], shortCircuited: false });
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 1 }))).toMatchObject({ unhealthy: ['a', 'b'], remediate: [], shortCircuited: true });
    expect(evaluateHealth(input(fleet, { maxUnhealthy: '40%' }))).toMatchObject({ shortCircuited: false }); // 2 of 5
    expect(evaluateHealth(input(fleet, { maxUnhealthy: '39%' }))).toMatchObject({ shortCircuited: true }); // 1.95 → 1
  });
  it('a machine still starting counts against maxUnhealthy (expected − healthy with a Node), as in Cluster API', () => {
    const fleet = [target('a', { failed: true }), target('b', { nodeName: undefined, nodeConditions: undefined, machineCreatedAt: at(-10) }), target('c')];
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 1 }))).toMatchObject({ unhealthy: ['a'], shortCircuited: true });
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 2 }))).toMatchObject({ remediate: ['a'], shortCircuited: false });
  });
  it('unhealthyRange wins over maxUnhealthy: remediation only while min ≤ unhealthy ≤ max', () => {
    const fleet = (n: number) => Array.from({ length: 5 }, (_, i) => target(`m${i}`, i < n ? { failed: true } : {}));
    expect(evaluateHealth(input(fleet(2), { unhealthyRange: '[1-3]', maxUnhealthy: 0 }))).toMatchObject({ remediate: ['m0', 'm1'], shortCircuited: false });
    expect(evaluateHealth(input(fleet(4), { unhealthyRange: '[1-3]' }))).toMatchObject({ remediate: [], shortCircuited: true });
    expect(evaluateHealth(input(fleet(1), { unhealthyRange: '[2-3]' }))).toMatchObject({ remediate: [], shortCircuited: true });
  });
  it('revision 10 counts as Cluster API: a target whose timeout runs is not healthy; a deleting one counts, is never healthy, never remediated again', () => {
    const fleet = [target('a', { failed: true }), target('b', { nodeConditions: ready(-100, 'False') }), target('c')];
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 1 }))).toMatchObject({ remediate: ['a'], shortCircuited: false, healthy: 2 });
    expect(evaluateHealth(input(fleet, { maxUnhealthy: 1, countAsClusterApi: true }))).toMatchObject({ unhealthy: ['a'], remediate: [], shortCircuited: true, healthy: 1 });
    // maxUnhealthy 1: the first remediation is still deleting its machine when a second machine fails.
    const inFlight = [target('a', { deleting: true, failed: true }), target('b', { failed: true }), target('c')];
    expect(evaluateHealth(input(inFlight, { maxUnhealthy: 1, countAsClusterApi: true }))).toEqual({ unhealthy: ['b'], remediate: [], shortCircuited: true, failing: 2, healthy: 1 });
    expect(evaluateHealth(input(inFlight, { maxUnhealthy: 2, countAsClusterApi: true }))).toEqual({ unhealthy: ['b'], remediate: ['b'], shortCircuited: false, failing: 2, healthy: 1 });
  });
  it('an unhealthy machine of a deployment\'s old set is reported and left to the rollout (revision 10, Cluster API\'s "pending removal due to rollout")', () => {
    const v = evaluateHealth(input([target('old', { failed: true, pendingRollout: true }), target('new', { failed: true }), target('c')]));
    expect(v).toEqual({ unhealthy: ['new', 'old'], remediate: ['new'], shortCircuited: false, failing: 2, healthy: 1, leftToRollout: ['old'] });
    // An external controller's remediation is requested whatever the set, as Cluster API's health check does.
    expect(evaluateHealth(input([target('old', { failed: true, pendingRollout: true })], { externalRemediation: true })).remediate).toEqual(['old']);
  });
  it('the remediate-machine annotation makes a target unhealthy at once (Cluster API\'s manual remediation); the rest still applies', () => {
    const marked = target('a', { remediateAnnotation: true });
    expect(evaluateHealth(input([marked, target('b')]))).toEqual({ unhealthy: ['a'], remediate: ['a'], shortCircuited: false, failing: 1, healthy: 1 });
    // It counts against maxUnhealthy, is left alone when nobody replaces it, and waits for its deployment's rollout.
    expect(evaluateHealth(input([marked, target('b', { failed: true })], { maxUnhealthy: 1 }))).toMatchObject({ remediate: [], shortCircuited: true });
    expect(evaluateHealth(input([{ ...marked, remediationAllowed: false }])).remediate).toEqual([]);
    expect(evaluateHealth(input([{ ...marked, pendingRollout: true }])).leftToRollout).toEqual(['a']);
    // A deleting one is not remediated again.
    expect(evaluateHealth(input([{ ...marked, deleting: true }], { countAsClusterApi: true }))).toMatchObject({ unhealthy: [], remediate: [], failing: 1 });
    expect(unhealthyReason(marked, { now: at(0), unhealthyNodeConditions: checks })).toEqual({ reason: 'HasRemediateAnnotation', message: 'Health check failed: marked for remediation via cluster.capstan.dev/remediate-machine annotation' });
  });
  it('says why a target is unhealthy, with Cluster API\'s reasons', () => {
    const i = { now: at(0), unhealthyNodeConditions: checks };
    expect(unhealthyReason(target('a', { failed: true }), i)?.reason).toBe('UnhealthyMachine');
    expect(unhealthyReason(target('a', { nodeMissing: true }), i)?.reason).toBe('NodeDeleted');
    expect(unhealthyReason(target('a', { nodeName: undefined, machineCreatedAt: at(-601) }), i)).toEqual({ reason: 'NodeStartupTimeout', message: 'Health check failed: Node failed to report startup in 10m0s' });
    expect(unhealthyReason(target('a', { nodeConditions: ready(-301, 'Unknown') }), i)).toEqual({ reason: 'UnhealthyNode', message: 'Health check failed: Condition Ready on Node is reporting status Unknown for more than 5m0s' });
    expect(unhealthyReason(target('a', { nodeConditions: ready(-299, 'Unknown') }), i)).toBeUndefined();
    expect(unhealthyReason(target('a'), i)).toBeUndefined();
  });
  it('says whether a target that is not unhealthy has a timeout running (Cluster API leaves its HealthCheckSucceeded alone then)', () => {
    const i = { now: at(0), unhealthyNodeConditions: checks };
    expect(timeoutPending(target('a', { nodeConditions: ready(-299, 'False') }), i)).toBe(true);
    expect(timeoutPending(target('a', { nodeName: undefined, nodeConditions: undefined, machineCreatedAt: at(-10) }), i)).toBe(true);
    expect(timeoutPending(target('a', { nodeName: undefined, nodeConditions: undefined, machineCreatedAt: at(-10) }), { ...i, nodeStartupTimeoutSeconds: 0 })).toBe(false);
    expect(timeoutPending(target('a'), i)).toBe(false);
    expect(timeoutPending(target('a', { nodeConditions: ready(-301, 'False') }), i)).toBe(false); // unhealthy, not pending
  });
  it.each([[3, '3s'], [0, '0s'], [300, '5m0s'], [600, '10m0s'], [90.5, '1m30.5s'], [3600, '1h0m0s'], [3725, '1h2m5s']])('a timeout of %ss reads as Go prints a duration: %s', (seconds, want) => {
    expect(goDuration(seconds)).toBe(want);
  });
  it('refuses bad input naming the field', () => {
    expect(() => evaluateHealth(input([target('a')], { unhealthyRange: '1-3' }))).toThrow('unhealthyRange: "1-3" is not a range like "[1-3]"');
    expect(() => evaluateHealth(input([target('a')], { maxUnhealthy: 'lots' }))).toThrow('maxUnhealthy: "lots" must be');
    expect(() => evaluateHealth(input([target('a', { nodeConditions: [{ type: 'Ready', status: 'False', lastTransitionTime: 'yesterday' }] })]))).toThrow('targets[0].nodeConditions[Ready].lastTransitionTime');
  });
});

// ---- properties ----

type Evaluate = (i: HealthInput) => HealthVerdict;
const status = fc.constantFrom('True' as const, 'False' as const, 'Unknown' as const);
const arbTarget = (machine: string): fc.Arbitrary<HealthTarget> =>
  fc.record({
    machine: fc.constant(machine),
    remediationAllowed: fc.boolean(),
    machineCreatedAt: fc.integer({ min: -2000, max: 0 }).map(at),
    infrastructureReadyAt: fc.option(fc.integer({ min: -2000, max: 0 }).map(at), { nil: undefined }),
    failed: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    nodeName: fc.option(fc.constant(machine), { nil: undefined, freq: 5 }),
    nodeMissing: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    deleting: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    pendingRollout: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    nodeConditions: fc.option(
      fc.array(fc.record({ type: fc.constantFrom('Ready', 'DiskPressure'), status, lastTransitionTime: fc.integer({ min: -1000, max: 0 }).map(at) }), { maxLength: 2 }),
      { nil: undefined },
    ),
  });
const arbInput: fc.Arbitrary<HealthInput> = fc.record({
  now: fc.constant(at(0)),
  nodeStartupTimeoutSeconds: fc.option(fc.constantFrom(0, 60, 300, 600), { nil: undefined }),
  unhealthyNodeConditions: fc.array(fc.record({ type: fc.constantFrom('Ready', 'DiskPressure'), status, timeoutSeconds: fc.integer({ min: 0, max: 900 }) }), { maxLength: 3 }),
  maxUnhealthy: fc.option(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`)), { nil: undefined }),
  unhealthyRange: fc.option(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })).map(([a, b]) => `[${Math.min(a, b)}-${Math.max(a, b)}]`), { nil: undefined, freq: 4 }),
  targets: fc.integer({ min: 0, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbTarget(`m${i}`)))),
  countAsClusterApi: fc.option(fc.boolean(), { nil: undefined }),
  externalRemediation: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
});
const later = (i: HealthInput, seconds: number): HealthInput => ({ ...i, now: new Date(Date.parse(i.now) + seconds * 1000).toISOString() });
const sorted = (xs: string[]) => xs.every((x, k) => k === 0 || xs[k - 1]! < x);

const properties: { name: string; holds: (evaluate: Evaluate, i: HealthInput) => boolean }[] = [
  {
    name: 'remediate ⊆ unhealthy, only targets whose owner replaces them and no rollout removes, nothing when short-circuited; both sorted',
    holds: (ev, i) => {
      const v = ev(i);
      const allowed = new Set(i.targets.filter((t) => t.remediationAllowed && (i.externalRemediation || !t.pendingRollout)).map((t) => t.machine));
      return sorted(v.unhealthy) && sorted(v.remediate) && v.remediate.every((m) => v.unhealthy.includes(m) && allowed.has(m)) && (!v.shortCircuited || v.remediate.length === 0);
    },
  },
  {
    name: 'time only makes things worse: a target unhealthy now is unhealthy later',
    holds: (ev, i) => {
      const a = ev(i).unhealthy;
      const b = new Set(ev(later(i, 123)).unhealthy);
      return a.every((m) => b.has(m));
    },
  },
  {
    name: 'nextCheckInSeconds is exact: nothing changes just before it, some target turns unhealthy just after',
    holds: (ev, i) => {
      const v = ev(i);
      if (v.nextCheckInSeconds === undefined) return true;
      const before = ev(later(i, v.nextCheckInSeconds - 0.5)).unhealthy;
      const after = ev(later(i, v.nextCheckInSeconds + 0.5)).unhealthy;
      return (v.nextCheckInSeconds < 0.5 || before.length === v.unhealthy.length) && after.length > v.unhealthy.length;
    },
  },
  {
    name: 'counted as Cluster API: a deleting target is never healthy, unhealthy or remediated; healthy ≤ the count before revision 10',
    holds: (ev, i) => {
      if (!i.countAsClusterApi) return true;
      const v = ev(i);
      const deleting = i.targets.filter((t) => t.deleting).map((t) => t.machine);
      const before = ev({ ...i, countAsClusterApi: undefined, targets: i.targets.filter((t) => !t.deleting) });
      return deleting.every((m) => !v.unhealthy.includes(m) && !v.remediate.includes(m)) && v.healthy <= before.healthy && v.healthy <= i.targets.length - deleting.length;
    },
  },
  {
    name: 'deterministic, and the input is not mutated',
    holds: (ev, i) => {
      const json = JSON.stringify(i);
      const a = JSON.stringify(ev(i));
      return JSON.stringify(ev(i)) === a && JSON.stringify(i) === json;
    },
  },
];

describe('evaluateHealth: properties', () => {
  for (const p of properties) {
    it(p.name, () => {
      fc.assert(fc.property(arbInput, (i) => p.holds(evaluateHealth, i)), { numRuns: 3000 });
    });
  }
  it('each property catches its planted violation', () => {
    const planted: Record<string, Evaluate> = {
      // Remediates machines nobody will replace.
      [properties[0]!.name]: (i) => {
        const v = evaluateHealth(i);
        return { ...v, remediate: v.shortCircuited ? [] : v.unhealthy };
      },
      // Forgets a condition's unhealthy time once it is long (a timeout that resets).
      [properties[1]!.name]: (i) => evaluateHealth(Date.parse(i.now) > T0 + 60_000 ? { ...i, unhealthyNodeConditions: [] } : i),
      // Says to look again later than the moment something expires.
      [properties[2]!.name]: (i) => {
        const v = evaluateHealth(i);
        return v.nextCheckInSeconds === undefined ? v : { ...v, nextCheckInSeconds: v.nextCheckInSeconds + 5 };
      },
      // Counts a deleting machine with a Ready Node as healthy (it is on its way out).
      [properties[3]!.name]: (i) => {
        const v = evaluateHealth(i);
        return { ...v, healthy: v.healthy + i.targets.filter((t) => t.deleting && t.nodeName && !t.nodeMissing).length };
      },
      // Marks what it decided on the caller's objects.
      [properties[4]!.name]: (i) => {
        const v = evaluateHealth(i);
        for (const t of i.targets) if (v.unhealthy.includes(t.machine)) t.failed = true;
        return v;
      },
    };
    for (const p of properties) {
      const r = fc.check(fc.property(arbInput, (i) => p.holds(planted[p.name]!, structuredClone(i))), { numRuns: 3000 });
      expect(r.failed, p.name).toBe(true);
    }
  });
});

describe('healthTargets (what the activity hands the check)', () => {
  const labels: Record<string, string> = { 'cluster.capstan.dev/deployment-name': 'md' };
  const machines = (['Running', 'Deleting', 'Deleted'] as const).map((phase, i) => ({ name: `m${i}`, workflowId: `machine/default/m${i}`, phase, nodeName: `m${i}`, facts: { labels, ownerKind: 'MachineSet' as const, createdAt: at(-60) } }));
  const nodes = machines.map((m) => ({ metadata: { name: m.nodeName }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }));
  const selector = { matchLabels: labels, matchExpressions: [] };
  it('leaves a deleting machine out before revision 10, and lists it marked `deleting` from revision 10; a deleted one never', () => {
    expect(healthTargets(machines, nodes, selector).map((t) => [t.machine, !!t.deleting])).toEqual([['m0', false]]);
    expect(healthTargets(machines, nodes, selector, true).map((t) => [t.machine, !!t.deleting])).toEqual([['m0', false], ['m1', true]]);
  });
  it('marks a machine of a deployment\'s set other than its current one pendingRollout; none while the deployment says nothing', () => {
    const inSets = machines.slice(0, 2).map((m, i) => ({ ...m, phase: 'Running', facts: { ...m.facts, labels: { ...labels, 'cluster.capstan.dev/set-name': i === 0 ? 'md-old' : 'md-new' } } }));
    expect(healthTargets(inSets, nodes, selector, true, { md: 'md-new' }).map((t) => [t.machine, !!t.pendingRollout])).toEqual([['m0', true], ['m1', false]]);
    expect(healthTargets(inSets, nodes, selector, true, { other: 'x' }).some((t) => t.pendingRollout)).toBe(false);
    expect(healthTargets(inSets, nodes, selector, true).some((t) => t.pendingRollout)).toBe(false);
  });
  it('leaves out a machine with skip-remediation and marks one with remediate-machine, as Cluster API', () => {
    const running = machines.slice(0, 1);
    const marked = (remediation: string[]) => running.map((m) => ({ ...m, remediation }));
    expect(healthTargets(marked(['cluster.capstan.dev/skip-remediation']), nodes, selector, true)).toEqual([]);
    expect(healthTargets(marked(['cluster.capstan.dev/paused']), nodes, selector, true)).toEqual([]);
    expect(healthTargets(marked(['cluster.capstan.dev/paused', 'cluster.capstan.dev/remediate-machine']), nodes, selector, true)).toEqual([]);
    expect(healthTargets(marked(['cluster.capstan.dev/remediate-machine', 'cluster.capstan.dev/skip-remediation']), nodes, selector, true)).toEqual([]);
    expect(healthTargets(marked(['cluster.capstan.dev/remediate-machine']), nodes, selector, true).map((t) => [t.machine, t.remediateAnnotation])).toEqual([['m0', true]]);
    expect(healthTargets(running, nodes, selector, true)[0]).not.toHaveProperty('remediateAnnotation');
  });
  it("carries its deployment's maxInFlight on each of its machines; none for another deployment's, or without one", () => {
    const running = machines.slice(0, 1);
    expect(healthTargets(running, nodes, selector, true, {}, { md: 2 })[0]).toMatchObject({ machine: 'm0', owner: 'MachineDeployment/md', maxInFlight: 2 });
    expect(healthTargets(running, nodes, selector, true, {}, { other: 2 })[0]).not.toHaveProperty('maxInFlight');
    expect(healthTargets(running, nodes, selector, true)[0]).not.toHaveProperty('maxInFlight');
    expect(healthTargets(running, nodes, selector, true, {}, { md: 1 }, { md: '50%' })[0]).toMatchObject({ maxInFlight: 1, maxInFlightSpec: '50%' });
  });
});
