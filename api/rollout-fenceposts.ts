// A MachineDeployment's RollingUpdate fenceposts, as Kubernetes' ResolveFenceposts: maxSurge
// and maxUnavailable, each an integer or a percentage of replicas, as machine counts. Pure and
// import-free: the API validates with it at apply, the rollout planner (workflow code) plans
// with it, so both refuse the same strategies in the same words.

export interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

const ROLLING_UPDATE = 'rollout.strategy.rollingUpdate';

/**
 * maxSurge (default 1) and maxUnavailable (default 0) as machine counts for `replicas`:
 * an integer, or a percentage of `replicas` — surge rounds up, unavailable rounds down.
 */
export function resolveFenceposts(
  replicas: number,
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string },
): Fenceposts {
  const surge = parseIntOrPercent(rollingUpdate?.maxSurge ?? 1, `${ROLLING_UPDATE}.maxSurge`);
  const unavailable = parseIntOrPercent(rollingUpdate?.maxUnavailable ?? 0, `${ROLLING_UPDATE}.maxUnavailable`);
  // Safety rule: a rollout that may neither add a machine nor remove an available one can
  // never replace anything, so such a strategy is refused rather than left to hang.
  if (surge.value === 0 && unavailable.value === 0) {
    throw new Error(`${ROLLING_UPDATE}: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)`);
  }
  const maxSurge = surge.percent ? Math.ceil((surge.value * replicas) / 100) : surge.value;
  let maxUnavailable = unavailable.percent ? Math.floor((unavailable.value * replicas) / 100) : unavailable.value;
  // Percentages that round both to 0: Kubernetes' ResolveFenceposts allows one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

function parseIntOrPercent(v: number | string, field: string): { value: number; percent: boolean } {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${field}: ${v} is not a non-negative integer`);
    return { value: v, percent: false };
  }
  const m = /^([0-9]+)%$/.exec(v);
  if (!m) throw new Error(`${field}: ${JSON.stringify(v)} is neither a non-negative integer nor a percentage such as "25%"`);
  return { value: Number(m[1]), percent: true };
}
