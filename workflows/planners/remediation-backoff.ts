// How often a MachineHealthCheck may remediate the same slot of an owner. Remediation deletes an
// unhealthy machine and its owner (MachineSet, control plane) creates a replacement; when the
// replacement fails too (an image that never boots, a node that dies at start), deleting it at
// once would recreate machines as fast as they fail. So a machine created by an owner after
// that owner's last remediation is a replacement: its remediation waits until it has lived
// `backoffSeconds(generation)`, doubling with each replacement of a replacement, up to a cap. A
// fleet that fails all at once is not held back: its machines were created before any
// remediation, and each is remediated the moment its timeout expires.

export interface RemediationRecord {
  /** The owner whose slot it was: its MachineDeployment, else its MachineSet, else its control plane. */
  owner: string;
  /** When it was remediated (RFC 3339). */
  at: string;
  /** 1 for a machine that was not a replacement, 2 for a replacement's first failure, ... */
  generation: number;
}

export const REMEDIATION_BACKOFF = {
  /** How long the first replacement must live before it is remediated in turn. */
  initialSeconds: 20,
  maxSeconds: 300,
  /** Remediations older than this are forgotten: a slot healthy this long starts over. */
  windowSeconds: 1800,
  /** A machine that lived this long before it was remediated was no failure loop: its chain starts over. */
  stableSeconds: 600,
} as const;

/** The least lifetime of a generation-`g` machine before its remediation (0 for generation 1). */
export function backoffSeconds(generation: number): number {
  if (generation <= 1) return 0;
  return Math.min(REMEDIATION_BACKOFF.initialSeconds * 2 ** (generation - 2), REMEDIATION_BACKOFF.maxSeconds);
}

export interface RemediationHold {
  generation: number;
  /** Absent: remediate now. Else not before this moment (RFC 3339). */
  notBefore?: string;
}

/**
 * Whether a machine of `owner`, created at `createdAt`, may be remediated at `now`, given the
 * remediations in `log`. Pure; the log is not changed.
 */
export function remediationHold(target: { owner: string; createdAt: string }, log: readonly RemediationRecord[], now: string): RemediationHold {
  const created = Date.parse(target.createdAt);
  const since = Date.parse(now) - REMEDIATION_BACKOFF.windowSeconds * 1000;
  // The remediations of its owner before it was created: the newest generation is the one it replaced.
  const before = log.filter((r) => r.owner === target.owner && Date.parse(r.at) <= created && Date.parse(r.at) >= since);
  const generation = before.length ? Math.max(...before.map((r) => r.generation)) + 1 : 1;
  const notBefore = created + backoffSeconds(generation) * 1000;
  return notBefore > Date.parse(now) ? { generation, notBefore: new Date(notBefore).toISOString() } : { generation };
}

/** The record of remediating, at `now`, a machine of `owner` created at `createdAt` that `hold` let go. */
export function remediationRecord(target: { owner: string; createdAt: string }, hold: RemediationHold, now: string): RemediationRecord {
  const lived = (Date.parse(now) - Date.parse(target.createdAt)) / 1000;
  return { owner: target.owner, at: now, generation: lived >= REMEDIATION_BACKOFF.stableSeconds ? 1 : hold.generation };
}

/** The log without what the window forgot. */
export function pruneRemediations(log: readonly RemediationRecord[], now: string): RemediationRecord[] {
  const since = Date.parse(now) - REMEDIATION_BACKOFF.windowSeconds * 1000;
  return log.filter((r) => Date.parse(r.at) >= since);
}
