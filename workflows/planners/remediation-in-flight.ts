// Cluster API's MachineDeployment spec.remediation.maxInFlight: how many of a deployment's
// machines may be in remediation at once. In Cluster API the newest MachineSet counts its
// machines that are being deleted as a remediation, lets that many fewer go, and remediates the
// newest unhealthy machines first (those failing to come up are the least likely to host
// workloads); the others wait, their OwnerRemediated condition saying why. Here the health check,
// which deletes the machines, applies the same arithmetic to each deployment's targets.

/** A target the health check would remediate now, or one of its remediations not yet gone. */
export interface InFlightTarget {
  machine: string;
  /** Its owner as the health check names it (`MachineDeployment/<name>`, ...). */
  owner?: string;
  machineCreatedAt: string;
  /** The owner's maxInFlight, resolved to a number of machines (absent: no limit). */
  maxInFlight?: number;
  /** maxInFlight as the spec says it, when it is a percentage (for the message). */
  maxInFlightSpec?: string;
}

export interface InFlightInput {
  /** The machines to remediate now, before the limit. */
  candidates: InFlightTarget[];
  /** Every target (to count the remediations in flight). */
  targets: InFlightTarget[];
  /** The machines this check remediated: those of them still targets (being deleted) are in flight. */
  remediated: string[];
}

export interface InFlightVerdict {
  /** Remediated now, in the candidates' order. */
  remediate: string[];
  /** Held back by their owner's maxInFlight, with Cluster API's message. */
  deferred: { machine: string; owner: string; message: string }[];
}

/** maxInFlight (an integer or a percentage of replicas, rounded up, as Cluster API scales it) as a number of machines. */
export function resolveMaxInFlight(maxInFlight: number | string | undefined, replicas: number): number | undefined {
  if (maxInFlight === undefined) return undefined;
  if (typeof maxInFlight === 'number') return maxInFlight;
  const m = /^(\d+)%$/.exec(maxInFlight);
  if (!m) throw new Error(`remediation.maxInFlight: ${JSON.stringify(maxInFlight)} must be an integer or a percentage such as "20%"`);
  return Math.ceil((Number(m[1]) * replicas) / 100);
}

export function limitInFlight(input: InFlightInput): InFlightVerdict {
  const remediated = new Set(input.remediated);
  const inFlight = new Map<string, number>();
  for (const t of input.targets) {
    // (Told to go and not gone yet: in flight whether or not its deletion shows already.)
    if (t.owner && remediated.has(t.machine)) inFlight.set(t.owner, (inFlight.get(t.owner) ?? 0) + 1);
  }
  const limited = new Map<string, InFlightTarget[]>();
  const remediate = new Set<string>();
  for (const c of input.candidates) {
    if (c.owner && c.maxInFlight !== undefined) limited.set(c.owner, [...(limited.get(c.owner) ?? []), c]);
    else remediate.add(c.machine);
  }
  const deferred: InFlightVerdict['deferred'] = [];
  for (const [owner, cs] of limited) {
    const limit = cs[0]!.maxInFlight!;
    const shown = cs[0]!.maxInFlightSpec ?? String(limit);
    const room = Math.max(0, limit - (inFlight.get(owner) ?? 0));
    // Newest first, as Cluster API's MachineSet sorts them (then by name, for a stable order).
    const ordered = [...cs].sort((a, b) => (a.machineCreatedAt === b.machineCreatedAt ? (a.machine < b.machine ? -1 : 1) : a.machineCreatedAt < b.machineCreatedAt ? 1 : -1));
    ordered.slice(0, room).forEach((c) => remediate.add(c.machine));
    for (const c of ordered.slice(room)) {
      deferred.push({ machine: c.machine, owner, message: `Waiting because there are already too many remediations in progress (spec.remediation.maxInFlight is ${shown})` });
    }
  }
  return {
    remediate: input.candidates.map((c) => c.machine).filter((m) => remediate.has(m)),
    deferred: deferred.sort((a, b) => (a.machine < b.machine ? -1 : 1)),
  };
}
