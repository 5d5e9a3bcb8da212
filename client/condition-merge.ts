// Conditions the watcher computes itself, merged into those a workflow reported: its own replaces
// the workflow's of the same type, with a transition time that moves only when the status does.
import type { Condition } from '../api/meta.js';

/**
 * `conditions` with the one of `want`'s type replaced by `want` (added when absent), its transition
 * time kept from the object's or the workflow's when the status is the same (a watcher writes the
 * same thing every pass), else `now`.
 */
export function withCondition(conditions: readonly Condition[], want: Omit<Condition, 'lastTransitionTime'>, written: readonly Condition[] | undefined, now: Date): Condition[] {
  const same = (c: Condition | undefined) => (c?.status === want.status && c.lastTransitionTime ? c.lastTransitionTime : undefined);
  const at = same(written?.find((c) => c.type === want.type)) ?? same(conditions.find((c) => c.type === want.type)) ?? now.toISOString();
  const c = { ...want, lastTransitionTime: at } as Condition;
  const i = conditions.findIndex((x) => x.type === want.type);
  return i < 0 ? [...conditions, c] : conditions.map((x, j) => (j === i ? { ...x, ...c } : x));
}
