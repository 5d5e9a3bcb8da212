// The MachineHealthCheck decision: which targets need remediation, which are remediated now,
// and when to look again. One pure function, as Cluster API's machinehealthcheck_targets.go
// decides it (needsRemediation, healthCheckTargets, isAllowedRemediation). Workflow code:
// deterministic, no I/O, clock, random or module state; the input is never mutated.
//
// A target needs remediation when
// - it carries the remediate-machine annotation (`remediateAnnotation`: manual remediation); or
// - it reports a terminal failure; or
// - it had a Node and the Node is gone (`nodeMissing`); or
// - it has no Node yet and nodeStartupTimeoutSeconds (default 600; 0 disables) has passed since
//   it was created, or since its infrastructure became ready if that is later; or
// - one of its Node's conditions has had an unhealthy status for longer than that check's
//   timeout (since the condition's lastTransitionTime).
// "Longer than" is strict, as Cluster API's `LastTransitionTime.Add(timeout).Before(now)`: at
// exactly the timeout the target is still healthy and its next check is in 0 s.
//
// Short-circuit (Cluster API's isAllowedRemediation): the unhealthy count is the expected
// machines minus the healthy ones — healthy means not needing remediation *and* having a Node,
// so a machine still starting counts against the limit, as in Cluster API. With unhealthyRange
// "[min-max]" remediation is allowed while min ≤ count ≤ max; otherwise while count ≤
// maxUnhealthy (an integer, or a percentage of the targets rounded down; default 100%).
// When it is not allowed, nothing is remediated. With `countAsClusterApi` (revision 10) the count
// is exactly Cluster API's healthCheckTargets: a target whose check timeout is still running
// ("likely to go unhealthy") is not healthy either, and a target being deleted (a remediation in
// flight, or any other deletion) is a target that is never healthy and never remediated again —
// so with maxUnhealthy 1, a second machine failing while the first one's replacement is under way
// stops remediation. Before, both counted as healthy or were not targets at all.
// Only targets whose owner replaces them
// (`remediationAllowed`: a MachineSet or a control plane) are remediated; the others are
// reported unhealthy and left alone.

import { ANNOTATIONS } from '../../api/meta.js';

export interface HealthTarget {
  machine: string;
  remediationAllowed: boolean; // owned by a MachineSet or a control plane
  machineCreatedAt: string; // RFC3339
  infrastructureReadyAt?: string; // when its infrastructure became ready, if it has
  failed?: boolean; // the machine reports a terminal failure
  /** The machine carries cluster.capstan.dev/remediate-machine (Cluster API's manual remediation). */
  remediateAnnotation?: boolean;
  nodeName?: string; // absent = no node yet
  nodeMissing?: boolean; // it had a node and the node is gone
  nodeConditions?: { type: string; status: 'True' | 'False' | 'Unknown'; lastTransitionTime: string }[];
  /** Being deleted (revision 10 lists such machines): counted, never healthy, never remediated again. */
  deleting?: boolean;
  /**
   * Revision 10: a machine of a MachineDeployment's set other than its current one. Unhealthy, it
   * is reported and not remediated, as Cluster API's MachineSet leaves it: "pending removal due to
   * rollout" (the rollout deletes it; its old set would replace it from the old template).
   */
  pendingRollout?: boolean;
}

export interface HealthInput {
  now: string;
  nodeStartupTimeoutSeconds?: number; // default 600; 0 disables
  unhealthyNodeConditions: { type: string; status: 'True' | 'False' | 'Unknown'; timeoutSeconds: number }[];
  maxUnhealthy?: number | string; // default '100%'
  unhealthyRange?: string; // '[1-3]'; wins over maxUnhealthy when set
  targets: HealthTarget[];
  /** Revision 10: count healthy targets as Cluster API does (see above). */
  countAsClusterApi?: boolean;
  /**
   * Remediation is an external controller's (spec.remediation.templateRef): a `pendingRollout`
   * target is remediated as any other, as Cluster API's health check requests it whatever the
   * set (only a MachineSet's own remediation waits for the rollout).
   */
  externalRemediation?: boolean;
}

export interface HealthVerdict {
  unhealthy: string[]; // need remediation, sorted
  remediate: string[]; // remediated now: allowed and not short-circuited, sorted
  shortCircuited: boolean; // too many unhealthy: nothing is remediated
  healthy: number; // the targets counted healthy (status.currentHealthy)
  failing: number; // targets failing their checks, deleting ones included (Cluster API's len(unhealthy), for messages)
  leftToRollout?: string[]; // unhealthy, and not remediated because their deployment's rollout removes them (sorted; absent when none)
  nextCheckInSeconds?: number; // soonest moment a healthy target could turn unhealthy, if a timeout is running
}

export const DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS = 600;

export function evaluateHealth(input: HealthInput): HealthVerdict {
  const now = time(input.now, 'now');
  const startupTimeout = input.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS;
  if (!Number.isFinite(startupTimeout) || startupTimeout < 0) throw new Error(`nodeStartupTimeoutSeconds: ${startupTimeout} must be >= 0`);
  input.unhealthyNodeConditions.forEach((c, i) => {
    if (!Number.isFinite(c.timeoutSeconds) || c.timeoutSeconds < 0) throw new Error(`unhealthyNodeConditions[${i}].timeoutSeconds: ${c.timeoutSeconds} must be >= 0`);
  });

  const unhealthy: HealthTarget[] = [];
  const nextChecks: number[] = [];
  let healthy = 0;
  let failingDeleting = 0;
  input.targets.forEach((t, i) => {
    const r = check(t, `targets[${i}]`, now, startupTimeout, input.unhealthyNodeConditions);
    if (input.countAsClusterApi && t.deleting) {
      if (r.needsRemediation) failingDeleting++;
      return;
    }
    if (r.needsRemediation) {
      unhealthy.push(t);
      return;
    }
    if (r.nextCheckInSeconds !== undefined) {
      nextChecks.push(r.nextCheckInSeconds);
      if (input.countAsClusterApi) return;
    }
    if (t.nodeName && !t.nodeMissing) healthy++;
  });

  const count = input.targets.length - healthy;
  const allowed = remediationAllowed(count, input.targets.length, input.maxUnhealthy, input.unhealthyRange);
  const names = (ts: HealthTarget[]) => ts.map((t) => t.machine).sort(compare);
  const leftToRollout = input.externalRemediation ? [] : unhealthy.filter((t) => t.pendingRollout);
  return {
    unhealthy: names(unhealthy),
    remediate: allowed ? names(unhealthy.filter((t) => t.remediationAllowed && !leftToRollout.includes(t))) : [],
    shortCircuited: !allowed,
    healthy,
    failing: unhealthy.length + failingDeleting,
    ...(leftToRollout.length ? { leftToRollout: names(leftToRollout) } : {}),
    ...(nextChecks.length ? { nextCheckInSeconds: Math.min(...nextChecks) } : {}),
  };
}

/** Why a target needs remediation, as Cluster API's HealthCheckSucceeded=False reasons say it. */
export interface UnhealthyReason {
  reason: string;
  message: string;
}

/** Cluster API's needsRemediation for one target: whether (and why), and else when to look again (seconds). `where` names the target in errors. */
function check(
  t: HealthTarget,
  where: string,
  now: number,
  startupTimeout: number,
  conditions: HealthInput['unhealthyNodeConditions'],
): { needsRemediation: false; nextCheckInSeconds?: number } | { needsRemediation: true; why: UnhealthyReason } {
  if (t.remediateAnnotation) return { needsRemediation: true, why: { reason: 'HasRemediateAnnotation', message: `Health check failed: marked for remediation via ${ANNOTATIONS.remediateMachine} annotation` } };
  if (t.failed) return { needsRemediation: true, why: { reason: 'UnhealthyMachine', message: 'Health check failed: the Machine reports a terminal failure' } };
  if (t.nodeMissing) return { needsRemediation: true, why: { reason: 'NodeDeleted', message: `Health check failed: Node ${t.nodeName ?? ''} has been deleted` } };
  if (!t.nodeName) {
    if (startupTimeout === 0) return { needsRemediation: false };
    const created = time(t.machineCreatedAt, `${where}.machineCreatedAt`);
    const infra = t.infrastructureReadyAt !== undefined ? time(t.infrastructureReadyAt, `${where}.infrastructureReadyAt`) : created;
    const since = Math.max(created, infra);
    const left = startupTimeout - (now - since) / 1000;
    if (left < 0) return { needsRemediation: true, why: { reason: 'NodeStartupTimeout', message: `Health check failed: Node failed to report startup in ${goDuration(startupTimeout)}` } };
    return { needsRemediation: false, nextCheckInSeconds: left };
  }
  const next: number[] = [];
  for (const c of conditions) {
    const nc = (t.nodeConditions ?? []).find((x) => x.type === c.type);
    if (!nc || nc.status !== c.status) continue;
    const left = c.timeoutSeconds - (now - time(nc.lastTransitionTime, `${where}.nodeConditions[${c.type}].lastTransitionTime`)) / 1000;
    if (left < 0) {
      return { needsRemediation: true, why: { reason: 'UnhealthyNode', message: `Health check failed: Condition ${c.type} on Node is reporting status ${c.status} for more than ${goDuration(c.timeoutSeconds)}` } };
    }
    next.push(left);
  }
  return next.length ? { needsRemediation: false, nextCheckInSeconds: Math.min(...next) } : { needsRemediation: false };
}

function remediationAllowed(count: number, total: number, maxUnhealthy: number | string | undefined, unhealthyRange: string | undefined): boolean {
  if (unhealthyRange !== undefined) {
    const m = /^\[(\d+)-(\d+)\]$/.exec(unhealthyRange.trim());
    if (!m || Number(m[1]) > Number(m[2])) throw new Error(`unhealthyRange: ${JSON.stringify(unhealthyRange)} is not a range like "[1-3]" (min <= max)`);
    return count >= Number(m[1]) && count <= Number(m[2]);
  }
  return count <= scaled(maxUnhealthy ?? '100%', total);
}

/**
 * How many more machines may turn unhealthy before remediation stops (Cluster API's
 * remediationsAllowed): the room left under maxUnhealthy, or under the range's maximum.
 */
export function remediationsAllowed(unhealthyCount: number, total: number, maxUnhealthy: number | string | undefined, unhealthyRange: string | undefined): number {
  if (!remediationAllowed(unhealthyCount, total, maxUnhealthy, unhealthyRange)) return 0;
  const max = unhealthyRange !== undefined ? Number(/^\[(\d+)-(\d+)\]$/.exec(unhealthyRange.trim())![2]) : scaled(maxUnhealthy ?? '100%', total);
  return Math.max(0, max - unhealthyCount);
}

/** An int, or a percentage of `total` rounded down (Cluster API's GetScaledValueFromIntOrPercent, roundUp false). */
function scaled(v: number | string, total: number): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`maxUnhealthy: ${v} must be a non-negative integer or a percentage`);
    return v;
  }
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) throw new Error(`maxUnhealthy: ${JSON.stringify(v)} must be a non-negative integer or a percentage like "40%"`);
  return Math.floor((Number(m[1]) * total) / 100);
}

function time(s: string, field: string): number {
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`${field}: ${JSON.stringify(s)} is not an RFC 3339 time`);
  return t;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Why a target is unhealthy, as Cluster API's HealthCheckSucceeded=False reasons say it
 * (UnhealthyMachine, NodeDeleted, NodeStartupTimeout, UnhealthyNode); undefined when it is not.
 */
export function unhealthyReason(t: HealthTarget, input: Pick<HealthInput, 'now' | 'nodeStartupTimeoutSeconds' | 'unhealthyNodeConditions'>): UnhealthyReason | undefined {
  const r = check(t, `target ${t.machine}`, time(input.now, 'now'), input.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS, input.unhealthyNodeConditions);
  return r.needsRemediation ? r.why : undefined;
}

/**
 * Whether a target that is not unhealthy has a timeout running (a Node condition in its unhealthy
 * status, or no Node yet within nodeStartupTimeout): Cluster API's "likely to go unhealthy", whose
 * HealthCheckSucceeded its check leaves as it was until the timeout decides.
 */
export function timeoutPending(t: HealthTarget, input: Pick<HealthInput, 'now' | 'nodeStartupTimeoutSeconds' | 'unhealthyNodeConditions'>): boolean {
  const r = check(t, `target ${t.machine}`, time(input.now, 'now'), input.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS, input.unhealthyNodeConditions);
  return !r.needsRemediation && r.nextCheckInSeconds !== undefined;
}

/** Seconds as Go's time.Duration prints them, as Cluster API's messages show a timeout: 3s, 5m0s, 1h0m0s, 1.5s. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Number((seconds % 60).toFixed(9));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
