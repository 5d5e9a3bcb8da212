// The MachineDeployment rollout planner: one pure step from the observed MachineSets to the
// desired spec.replicas of each, as Kubernetes' Deployment controller (rolling.go, sync.go,
// deployment_util.go) and Cluster API's MachineDeployment controller decide it. It returns
// intents and never acts; MachineDeploymentWorkflow applies them and calls it again once the
// sets have moved. Workflow code: deterministic, no I/O, clock, random or module state.
//
// Decisions this file makes where the references leave room (tests pin each one):
// - "Oldest set" is the order of `oldSets` as given: the caller lists them oldest first
//   (Kubernetes sorts by creation timestamp; the workflow knows the creation order).
// - An old set's unavailable machines are `replicas − availableReplicas`, and the planner
//   relies on the MachineSet deleting unavailable machines first (Cluster API's deletion
//   priority): scaling a set down by k costs max(0, k − unavailable) available machines.
// - `availableReplicas` above `replicas` (machines still being deleted) counts only up to
//   `replicas`: a machine on its way out is no help to availability.
// - maxSurge and maxUnavailable both given as 0 (or "0%") are refused. When percentages round
//   both to 0 (maxSurge "0%" is the only surge percent that does, or replicas 0), maxUnavailable
//   becomes 1, as Kubernetes' ResolveFenceposts does, so the rollout can still progress.
// - Replicas raised mid-rollout: the new set absorbs the increase within maxSurge; old sets
//   are never scaled up (Kubernetes would grow them proportionally, only to shrink them again).
// - Replicas lowered mid-rollout, or a total above replicas + maxSurge: every set is scaled
//   down proportionally to its size (largest remainder; on a tie the older set gives more),
//   the new set never above replicas, to a total of at most replicas + maxSurge — while
//   availability stays at least min(available now, replicas − maxUnavailable): when the
//   proportional share would cost more available machines, unavailable ones elsewhere go
//   instead. That step only scales; the rolling step follows on the next call.
// - OnDelete (Cluster API's planOnDelete): old sets are never scaled up and keep their machines
//   until the user deletes them; the new set takes what they give up (up to replicas − Σ all
//   sets' replicas more, never above replicas). Replicas below the total (a scale down) come off
//   the old sets, oldest first, never off the new set. The caller lowers an old set's replicas to
//   the machines it has left as the user deletes them, and tells it not to replace them (Cluster
//   API's disable-machine-create annotation).
// - `done`: the new set's replicas and availableReplicas both equal `replicas`, and every
//   old set has replicas 0 and no available machine left.
// - Paused: no rollout step; a change of replicas is still applied, proportionally across the
//   sets (Kubernetes' scale() for a paused Deployment): `scalePaused` sizes them to a total of
//   replicas + maxSurge (replicas for OnDelete) — down as `scaleProportionally` does, keeping
//   availability; up in proportion to each set's size (largest remainder, the new set first on
//   a tie; sets at 0 all at once: the new set, or the newest old one, takes it all).

// The fencepost rule (maxSurge/maxUnavailable to machine counts, both 0 refused) is the API's:
// one rule, refused at apply and at plan time with the same words.
import { type Fenceposts, resolveFenceposts } from '../../api/rollout-fenceposts.js';

export { resolveFenceposts, type Fenceposts } from '../../api/rollout-fenceposts.js';

export interface SetState {
  name: string;
  replicas: number;
  availableReplicas: number;
}

export interface RolloutInput {
  replicas: number;
  strategy:
    | { type: 'RollingUpdate'; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } }
    | { type: 'OnDelete' };
  newSet: SetState | null; // the set matching the desired template; null = none yet
  oldSets: SetState[];
}

export interface RolloutStep {
  newSetReplicas: number; // desired spec.replicas of the new set (create it when null and > 0)
  oldSetReplicas: Record<string, number>; // desired spec.replicas for every old set
  done: boolean; // new set has `replicas` available and every old set is at 0
}


/** One step of the rollout: the desired replicas of the new set and of every old set. */
export function planRollout(input: RolloutInput): RolloutStep {
  validate(input);
  const replicas = input.replicas;
  const newSet: Working = {
    spec: input.newSet?.replicas ?? 0,
    available: effectiveAvailable(input.newSet),
  };
  const oldSets: Working[] = input.oldSets.map((s) => ({ spec: s.replicas, available: effectiveAvailable(s) }));
  const done = isDone(input);

  let plan: { newSet: number; oldSets: number[] };
  if (input.strategy.type === 'OnDelete') {
    plan = planOnDelete(replicas, newSet, oldSets);
  } else if (input.strategy.type === 'RollingUpdate') {
    const fp = resolveFenceposts(replicas, input.strategy.rollingUpdate);
    plan = planRollingUpdate(replicas, fp, newSet, oldSets);
  } else {
    throw new Error(`rollout.strategy.type: ${JSON.stringify((input.strategy as { type: unknown }).type)} is neither RollingUpdate nor OnDelete`);
  }

  const oldSetReplicas: Record<string, number> = {};
  input.oldSets.forEach((s, i) => {
    oldSetReplicas[s.name] = plan.oldSets[i]!;
  });
  return { newSetReplicas: plan.newSet, oldSetReplicas, done };
}

/**
 * A paused MachineDeployment whose replicas changed: every set scaled in proportion to its size
 * (no rollout step). The caller calls it once per change of replicas, as Kubernetes does on a
 * scaling event, so a rollout paused half-way is not grown to its surge.
 */
export function scalePaused(input: RolloutInput): RolloutStep {
  validate(input);
  const replicas = input.replicas;
  const newSet: Working = { spec: input.newSet?.replicas ?? 0, available: effectiveAvailable(input.newSet) };
  const oldSets: Working[] = input.oldSets.map((s) => ({ spec: s.replicas, available: effectiveAvailable(s) }));
  const fp = input.strategy.type === 'RollingUpdate' ? resolveFenceposts(replicas, input.strategy.rollingUpdate) : { maxSurge: 0, maxUnavailable: 0 };
  const allowed = replicas > 0 ? replicas + fp.maxSurge : 0;
  const specs = [newSet.spec, ...oldSets.map((x) => x.spec)];
  let plan: { newSet: number; oldSets: number[] };
  const active = specs.filter((x) => x > 0).length;
  if (active <= 1) {
    // One active set (or none): it follows replicas, as Kubernetes scales a sole active set.
    const found = specs.findIndex((x) => x > 0);
    const at = found >= 0 ? found : input.newSet !== null ? 0 : specs.length - 1;
    const sized = specs.map((x, i) => (i === at ? replicas : x));
    plan = { newSet: sized[0]!, oldSets: sized.slice(1) };
  } else if (sum(specs) > allowed) {
    plan = scaleProportionally(replicas, fp.maxUnavailable, allowed, newSet, oldSets);
  } else {
    // Sets that exist get the growth; with no new set, index 0 stays at 0.
    const grown = growProportionally(specs, allowed, input.newSet !== null);
    plan = { newSet: grown[0]!, oldSets: grown.slice(1) };
  }
  const oldSetReplicas: Record<string, number> = {};
  input.oldSets.forEach((x, i) => {
    oldSetReplicas[x.name] = plan.oldSets[i]!;
  });
  return { newSetReplicas: plan.newSet, oldSetReplicas, done: isDone(input) };
}

/** `sizes` grown to sum to `target` (≥ their sum) in proportion to each; index 0 is the new set (if `hasNew`). */
function growProportionally(sizes: number[], target: number, hasNew: boolean): number[] {
  const total = sum(sizes);
  if (total === 0 && target > 0) {
    // Nothing to be proportional to: the new set takes it, else the newest old set.
    const out = [...sizes];
    out[hasNew ? 0 : out.length - 1] = target;
    return out;
  }
  return shareProportionally(sizes, Math.max(target, total));
}

interface Working {
  spec: number;
  available: number; // at most spec
}

function effectiveAvailable(s: SetState | null): number {
  return s ? Math.min(s.availableReplicas, s.replicas) : 0;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function isDone(input: RolloutInput): boolean {
  const spec = input.newSet?.replicas ?? 0;
  const available = input.newSet?.availableReplicas ?? 0;
  return (
    spec === input.replicas &&
    available === input.replicas &&
    input.oldSets.every((s) => s.replicas === 0 && s.availableReplicas === 0)
  );
}

function validate(input: RolloutInput): void {
  checkCount(input.replicas, 'replicas');
  const names = new Set<string>();
  const checkSet = (s: SetState, path: string) => {
    checkCount(s.replicas, `${path}.replicas`);
    checkCount(s.availableReplicas, `${path}.availableReplicas`);
    if (names.has(s.name)) throw new Error(`${path}.name: MachineSet ${JSON.stringify(s.name)} is listed twice`);
    names.add(s.name);
  };
  if (input.newSet) checkSet(input.newSet, 'newSet');
  input.oldSets.forEach((s, i) => checkSet(s, `oldSets[${i}]`));
}

function checkCount(v: number, path: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${path}: ${v} is not a non-negative integer`);
}

function planOnDelete(replicas: number, newSet: Working, oldSets: Working[]): { newSet: number; oldSets: number[] } {
  const oldSpecs = oldSets.map((s) => s.spec);
  const total = newSet.spec + sum(oldSpecs);
  const next = newSet.spec > replicas ? replicas : total >= replicas ? newSet.spec : newSet.spec + (replicas - total);
  let excess = Math.max(0, sum(oldSpecs) + next - replicas);
  return {
    newSet: next,
    oldSets: oldSpecs.map((spec) => {
      const cut = Math.min(spec, excess);
      excess -= cut;
      return spec - cut;
    }),
  };
}

function planRollingUpdate(
  replicas: number,
  { maxSurge, maxUnavailable }: Fenceposts,
  newSet: Working,
  oldSets: Working[],
): { newSet: number; oldSets: number[] } {
  const oldSpecs = oldSets.map((s) => s.spec);
  const oldTotal = sum(oldSpecs);

  // Nothing left to replace (a plain scale, or the rollout's end): the new set follows
  // replicas directly, as Kubernetes' scale() does for the one active set.
  if (oldTotal === 0) return { newSet: replicas, oldSets: oldSpecs };

  const total = newSet.spec + oldTotal;
  const allowed = replicas > 0 ? replicas + maxSurge : 0;
  if (newSet.spec > replicas || total > allowed) {
    return scaleProportionally(replicas, maxUnavailable, allowed, newSet, oldSets);
  }

  // Scale up: the new set grows while the total stays within replicas + maxSurge.
  let newTarget = newSet.spec;
  if (newSet.spec < replicas) newTarget += Math.min(Math.max(0, allowed - total), replicas - newSet.spec);

  // Scale down: availability must stay at replicas − maxUnavailable. The new set's
  // unavailable machines may never come up, so old machines may go only as far as old
  // replicas + new available ≥ minAvailable (Kubernetes' maxScaledDown).
  const minAvailable = Math.max(0, replicas - maxUnavailable);
  const targets = [...oldSpecs];
  let budget = oldTotal + newSet.available - minAvailable;
  if (budget > 0) {
    // Unavailable old machines first (cleanupUnhealthyReplicas): they cost no availability.
    oldSets.forEach((s, i) => {
      const k = Math.min(budget, targets[i]! - s.available);
      targets[i]! -= k;
      budget -= k;
    });
    // Then available ones, oldest set first, down to minAvailable.
    let healthy = newSet.available + sum(oldSets.map((s) => s.available)) - minAvailable;
    oldSets.forEach((_, i) => {
      if (healthy <= 0) return;
      const k = Math.min(targets[i]!, healthy);
      targets[i]! -= k;
      healthy -= k;
    });
  }
  return { newSet: newTarget, oldSets: targets };
}

/**
 * Replicas lowered (or a total above replicas + maxSurge): every set shrinks in proportion to
 * its size, the new set to at most `replicas`, the total to at most `allowed`. Availability
 * stays at least min(available now, replicas − maxUnavailable): a proportional share that would
 * cost more available machines is swapped for unavailable machines of other sets. Such a swap
 * always exists: the total has to lose Σspec − allowed machines, and
 * Σunavailable + (available − (replicas − maxUnavailable)) ≥ Σspec − replicas − maxSurge.
 */
function scaleProportionally(
  replicas: number,
  maxUnavailable: number,
  allowed: number,
  newSet: Working,
  oldSets: Working[],
): { newSet: number; oldSets: number[] } {
  const sets = [newSet, ...oldSets]; // index 0 is the new set
  const specs = sets.map((s) => s.spec);
  const total = sum(specs);
  const targets = shareProportionally(specs, Math.min(total, allowed));
  targets[0] = Math.min(targets[0]!, replicas);

  const availableNow = sum(sets.map((s) => s.available));
  const floor = Math.min(availableNow, Math.max(0, replicas - maxUnavailable));
  // A set scaled down by r loses max(0, r − unavailable) available machines.
  const lost = (i: number) => Math.max(0, specs[i]! - targets[i]! - (specs[i]! - sets[i]!.available));
  const spareUnavailable = (i: number) => Math.max(0, specs[i]! - sets[i]!.available - (specs[i]! - targets[i]!));
  let deficit = floor - (availableNow - sum(sets.map((_, i) => lost(i))));
  // Keep available machines of the new set first, then of the newest old sets; take
  // unavailable machines from the oldest old sets first, then from the new set.
  const keepOrder = [0, ...oldSets.map((_, i) => oldSets.length - i)];
  const takeOrder = [...oldSets.map((_, i) => i + 1), 0];
  while (deficit > 0) {
    const keep = keepOrder.find((i) => lost(i) > 0 && (i !== 0 || targets[0]! < replicas));
    if (keep === undefined) break; // cannot happen: availability only drops through lost machines
    targets[keep]! += 1;
    const take = takeOrder.find((i) => spareUnavailable(i) > 0);
    if (take !== undefined) targets[take]! -= 1;
    deficit -= 1;
  }
  return { newSet: targets[0]!, oldSets: targets.slice(1) };
}

/**
 * `sizes` scaled to sum to `target` by largest remainder: each gets ⌊size·target/Σ⌋, and the
 * units left go to the largest remainders — on a tie to the new set (index 0), then to the newer
 * old sets, so older sets give up more and gain less (Kubernetes' ReplicaSetsBySizeOlder). A
 * size at 0 stays at 0; below their sum no size grows, above it none shrinks.
 */
function shareProportionally(sizes: number[], target: number): number[] {
  const total = sum(sizes);
  if (target === total || total === 0) return [...sizes];
  const shares = sizes.map((s) => Math.floor((s * target) / total));
  const remainders = sizes.map((s) => (s * target) % total);
  let left = target - sum(shares);
  const byRemainder = sizes
    .map((_, i) => i)
    .sort((a, b) => remainders[b]! - remainders[a]! || tieRank(a) - tieRank(b));
  function tieRank(i: number): number {
    return i === 0 ? -1 : sizes.length - i; // new set first, then newest old set
  }
  for (const i of byRemainder) {
    if (left <= 0) break;
    if (remainders[i] === 0) continue;
    shares[i]! += 1;
    left -= 1;
  }
  return shares;
}
