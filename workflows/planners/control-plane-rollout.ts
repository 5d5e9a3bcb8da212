// What a KubeadmControlPlane does next about its machine count and their versions: scale up, scale
// down, or replace a machine that is not up to date (a version or template change), one machine at
// a time. Cluster API's KCP reconcile, in its order:
// - machines need rollout → RollingUpdate: below replicas + maxSurge, scale up (a new machine joins
//   first); at or above it, scale down one not-up-to-date machine. maxSurge 0 therefore deletes
//   first and replaces after (kept to 3+ replicas by the API's validation);
// - else fewer machines than replicas → scale up; more → scale down.
// Preflight checks as Cluster API's: nothing is created or deleted while a machine is being
// deleted, and nothing while a machine other than the one scaled down is not ready (a new etcd
// member joins, and an old one leaves, only a healthy cluster). The victim of a scale-down is a
// not-up-to-date machine if there is one, else any; of those, one in the failure domain with the
// most machines, the oldest there. A new machine goes to the failure domain with the fewest
// (Cluster API's FailureDomainWithFewestMachines / MachineInFailureDomainWithMostMachines), so a
// control plane stays spread across zones through scales and rollouts.
// Pure: the workflow acts on the step and comes back when something changed.

export interface ControlPlaneMachine {
  name: string;
  /** RFC3339 creation time (older first when choosing whom to delete). */
  created: string;
  /** Made from the current version and machine template. */
  upToDate: boolean;
  /** Its Node is Ready. */
  ready: boolean;
  /** Told to delete, not gone yet. */
  deleting?: boolean;
  /** The zone it runs in. */
  failureDomain?: string;
}

export interface ControlPlanePlanInput {
  replicas: number;
  /** rollout.strategy.rollingUpdate.maxSurge: 1 (default) or 0. */
  maxSurge: 0 | 1;
  machines: ControlPlaneMachine[];
  /** The cluster's failure domains for control-plane machines (absent or empty: none). */
  failureDomains?: string[];
}

export type ControlPlaneStep =
  | { action: 'create'; reason: 'ScalingUp' | 'RollingOut'; message: string; failureDomain?: string }
  | { action: 'delete'; machine: string; reason: 'ScalingDown' | 'RollingOut'; message: string }
  | { action: 'wait'; reason: 'ScalingUp' | 'ScalingDown' | 'RollingOut'; message: string; blockedBy: 'deleting' | 'notReady' }
  | { action: 'none' };

const byAge = (a: ControlPlaneMachine, b: ControlPlaneMachine) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name);
const names = (ms: ControlPlaneMachine[]) => ms.map((m) => m.name).sort().join(', ');

export function planControlPlane(input: ControlPlanePlanInput): ControlPlaneStep {
  const machines = [...input.machines].sort(byAge);
  const count = machines.length;
  const outdated = machines.filter((m) => !m.upToDate);
  const deleting = machines.filter((m) => m.deleting);
  const rollingOut = outdated.length > 0;

  let direction: 'up' | 'down' | undefined;
  if (rollingOut) direction = count < input.replicas + input.maxSurge ? 'up' : 'down';
  else if (count < input.replicas) direction = 'up';
  else if (count > input.replicas) direction = 'down';
  if (!direction) return { action: 'none' };

  const reason = rollingOut ? 'RollingOut' : direction === 'up' ? 'ScalingUp' : 'ScalingDown';
  const what = rollingOut
    ? `Rolling out ${outdated.length} not up-to-date replica${outdated.length === 1 ? '' : 's'}`
    : `Scaling ${direction} from ${count} to ${input.replicas} replicas`;
  if (deleting.length) return { action: 'wait', reason, message: `${what}: waiting for ${names(deleting)} to be deleted`, blockedBy: 'deleting' };

  if (direction === 'up') {
    const notReady = machines.filter((m) => !m.ready);
    if (notReady.length) return { action: 'wait', reason, message: `${what}: waiting for ${names(notReady)} to be ready before a new etcd member joins`, blockedBy: 'notReady' };
    const failureDomain = pickFailureDomain(input.failureDomains ?? [], machines);
    return { action: 'create', reason: rollingOut ? 'RollingOut' : 'ScalingUp', message: what, ...(failureDomain ? { failureDomain } : {}) };
  }

  const victim = inMostPopulatedDomain(outdated.length ? outdated : machines, machines, input.failureDomains ?? []);
  const others = machines.filter((m) => m !== victim && !m.ready);
  if (others.length) return { action: 'wait', reason, message: `${what}: waiting for ${names(others)} to be ready before ${victim.name} leaves etcd`, blockedBy: 'notReady' };
  return { action: 'delete', machine: victim.name, reason: rollingOut ? 'RollingOut' : 'ScalingDown', message: `${what}: deleting ${victim.name}` };
}

/**
 * Cluster API's failuredomains.PickFewest: the domain with the fewest up-to-date machines not being
 * deleted, then the fewest machines overall, then the first listed.
 */
export function pickFailureDomain(domains: string[], machines: ControlPlaneMachine[]): string | undefined {
  const rank = (d: string) => [machines.filter((m) => m.failureDomain === d && m.upToDate && !m.deleting).length, machines.filter((m) => m.failureDomain === d).length];
  return [...domains].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || domains.indexOf(a) - domains.indexOf(b);
  })[0];
}

/**
 * Cluster API's failuredomains.PickMost, then the oldest there: of `eligible` (oldest first), one in
 * the domain with the most eligible machines, then the most machines overall; with no domains, the
 * oldest.
 */
function inMostPopulatedDomain(eligible: ControlPlaneMachine[], all: ControlPlaneMachine[], domains: string[]): ControlPlaneMachine {
  const rank = (d: string) => [eligible.filter((m) => m.failureDomain === d).length, all.filter((m) => m.failureDomain === d).length];
  const candidates = domains.filter((d) => rank(d)[0]! > 0);
  const most = [...candidates].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return y[0]! - x[0]! || y[1]! - x[1]! || domains.indexOf(a) - domains.indexOf(b);
  })[0];
  return (most === undefined ? undefined : eligible.find((m) => m.failureDomain === most)) ?? eligible[0]!;
}

/** Orders Kubernetes versions `v1.36.3` < `v1.37.2` (unparseable ones last, by text). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1, 4).map(Number);
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return x ? -1 : y ? 1 : a.localeCompare(b);
  return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
}
