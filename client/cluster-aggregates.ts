// A Cluster's conditions that Cluster API's Cluster controller aggregates from its descendants:
// RollingOut, ScalingUp and ScalingDown from its control plane's and MachineDeployments' own, and
// Remediating from its machines (as a set's, with "(not to be remediated)"). The watcher computes
// them from the objects it already mirrors; the Cluster's workflow keeps the others.
import type { Condition } from '../api/meta.js';

type C = Omit<Condition, 'lastTransitionTime'>;

/** A descendant's condition of one type, as its object shows it. */
export interface Descendant {
  kind: 'KubeadmControlPlane' | 'MachineDeployment';
  name: string;
  condition?: Pick<Condition, 'status' | 'message'>;
}

const REASONS: Record<string, [yes: string, no: string]> = {
  RollingOut: ['RollingOut', 'NotRollingOut'],
  ScalingUp: ['ScalingUp', 'NotScalingUp'],
  ScalingDown: ['ScalingDown', 'NotScalingDown'],
};

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The Cluster's `type` (RollingOut, ScalingUp or ScalingDown): True while a descendant's is, with
 * their messages — descendants of a kind with the same message on one line, a message's further
 * lines indented under it (Cluster API's aggregate) — control plane first; else False.
 */
export function aggregateCondition(type: keyof typeof REASONS | string, descendants: readonly Descendant[]): C {
  const [yes, no] = REASONS[type] ?? [type, `Not${type}`];
  const groups = new Map<string, { kind: string; message: string; names: string[] }>();
  const order = (k: string) => (k === 'KubeadmControlPlane' ? 0 : 1);
  for (const d of [...descendants].sort((a, b) => order(a.kind) - order(b.kind) || compare(a.name, b.name))) {
    if (d.condition?.status !== 'True') continue;
    const message = d.condition.message ?? '';
    const key = `${d.kind}\u0000${message}`;
    const g = groups.get(key) ?? { kind: d.kind, message, names: [] };
    g.names.push(d.name);
    groups.set(key, g);
  }
  if (!groups.size) return { type, status: 'False', reason: no, message: '' };
  const lines = [...groups.values()].map(({ kind, message, names }) => {
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, ... (${names.length - 3} more)` : '');
    const [first, ...rest] = message.split('\n');
    return [`* ${kind}${names.length > 1 ? 's' : ''} ${shown}: ${first}`, ...rest.map((l) => `  ${l}`)].join('\n');
  });
  return { type, status: 'True', reason: yes, message: lines.join('\n') };
}
