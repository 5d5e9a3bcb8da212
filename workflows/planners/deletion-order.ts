// The MachineSet's deletion order: which machines go first when a set scales down, as Cluster
// API's MachineSet controller ranks them (machineset_deletion_order.go, formerly
// machineset_delete_policy.go). Pure: MachineSetWorkflow and the MachineDeployment planner call
// it with what they observed. Workflow code: deterministic, no I/O, clock, random or module state.
//
// The priority, highest first (Cluster API's tiers, each rule written at its guard below):
//   1. already deleting                          (mustDelete)
//   2. marked with cluster.x-k8s.io/delete-machine (shouldDeleteFirst)
//   3. unhealthy, failed, node not ready, or no nodeRef yet (betterDelete)
//   4. the rest, by the set's deletion.order:
//      Oldest: oldest creationTimestamp first; Newest: newest first; Random: by name.
// Ties in any tier are broken by name, as Cluster API does, so the same input always gives the
// same answer.
//
// Decisions this file makes where the reference leaves room (tests pin each one):
// - Cluster API's "Random" is not random: every healthy machine gets the same priority
//   (couldDelete) and the name breaks the tie. We do the same; no seed is needed.
// - A machine without a nodeRef counts as unhealthy in every order, as Cluster API's
//   isMachineHealthy says (it has not joined, so it serves nothing and is the cheapest to lose).
// - Oldest/Newest compare creation timestamps exactly. Cluster API maps age onto 0..50 with
//   1 − e^(−age/10 days), which saturates (machines older than about a year tie, then go by
//   name) and needs the clock; exact comparison needs no `now` and is the same order otherwise.
// - A timestamp that does not parse is treated as Cluster API treats a zero one: last under
//   Oldest (mustNotDelete) and first among the healthy under Newest (betterDelete − 0).
// - Cluster API's in-place-update tier (shouldDelete, between 2 and 3) has no counterpart:
//   capstan's Machines are never updated in place.
// - Bad input (a count that is not a non-negative integer, a duplicate name, an unknown order)
//   throws, naming what is wrong, as planRollout does: the API layer refuses it long before.

export type DeletionOrder = 'Random' | 'Newest' | 'Oldest';

export interface DeletionCandidate {
  name: string;
  creationTimestamp: string; // RFC 3339
  deleting: boolean; // has a deletionTimestamp
  deleteAnnotation: boolean; // carries cluster.x-k8s.io/delete-machine
  healthy: boolean; // false: unhealthy, failed, or its node is not ready
  nodeRef?: string;
}

/** Cluster API's tiers, highest first; the number is only used to compare. */
export const DeletionTier = {
  Deleting: 3,
  DeleteAnnotation: 2,
  Unhealthy: 1,
  ByOrder: 0,
} as const;
export type DeletionTierValue = (typeof DeletionTier)[keyof typeof DeletionTier];

const ORDERS: readonly string[] = ['Random', 'Newest', 'Oldest'];

/** The tier a machine falls in, whatever the order. */
export function deletionTier(m: DeletionCandidate): DeletionTierValue {
  // Deleting machines go first: otherwise a scale-down would delete more machines while the
  // ones already on their way out are still there.
  if (m.deleting) return DeletionTier.Deleting;
  // The user asked for this machine to go: respect it before any heuristic.
  if (m.deleteAnnotation) return DeletionTier.DeleteAnnotation;
  // Unhealthy machines (and those not yet joined) next: losing them costs no capacity and
  // unblocks a rollout that waits on availability.
  if (!m.healthy || !m.nodeRef) return DeletionTier.Unhealthy;
  return DeletionTier.ByOrder;
}

/**
 * Every machine's name, in the order they should be deleted. `order` defaults to Random, as
 * Cluster API's empty deletion.order does.
 */
export function sortForDeletion(machines: readonly DeletionCandidate[], order: DeletionOrder = 'Random'): string[] {
  validate(machines, order);
  const ranked = machines.map((m) => ({ name: m.name, tier: deletionTier(m), time: parseTime(m.creationTimestamp) }));
  ranked.sort((a, b) => {
    if (a.tier !== b.tier) return b.tier - a.tier;
    if (a.tier === DeletionTier.ByOrder) {
      const byTime = compareByOrder(a.time, b.time, order);
      if (byTime !== 0) return byTime;
    }
    return compareNames(a.name, b.name);
  });
  return ranked.map((r) => r.name);
}

/** The names of the `count` machines to delete (all of them when fewer), highest priority first. */
export function machinesToDelete(machines: readonly DeletionCandidate[], order: DeletionOrder | undefined, count: number): string[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`deletion count: ${count} is not a non-negative integer`);
  return sortForDeletion(machines, order).slice(0, count);
}

// Oldest: earliest first, an unparseable timestamp last. Newest: latest first, an unparseable
// timestamp first. Random: no preference (the name decides).
function compareByOrder(a: number | null, b: number | null, order: DeletionOrder): number {
  if (order === 'Random') return 0;
  if (a === b) return 0;
  if (order === 'Oldest') {
    if (a === null) return 1;
    if (b === null) return -1;
    return a - b;
  }
  if (a === null) return -1;
  if (b === null) return 1;
  return b - a;
}

// Code-unit order, as Go compares strings; localeCompare would depend on the runtime's locale.
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseTime(s: string): number | null {
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

function validate(machines: readonly DeletionCandidate[], order: DeletionOrder): void {
  if (!ORDERS.includes(order)) {
    throw new Error(`deletion.order: unsupported deletion order ${JSON.stringify(order)}; must be one of 'Random', 'Newest', or 'Oldest'`);
  }
  const seen = new Set<string>(); // local only: nothing here crosses continueAsNew
  for (const m of machines) {
    if (seen.has(m.name)) throw new Error(`machines: the name ${JSON.stringify(m.name)} appears more than once`);
    seen.add(m.name);
  }
}
