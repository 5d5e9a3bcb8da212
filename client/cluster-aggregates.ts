// A Cluster's conditions that Cluster API's Cluster controller aggregates from its descendants:
// RollingOut, ScalingUp and ScalingDown from its control plane's and MachineDeployments' own (and,
// for scaling, its own MachineSets': those no deployment owns), and
// Remediating from its machines (as a set's, with "(not to be remediated)"). The watcher computes
// them from the objects it already mirrors; the Cluster's workflow keeps the others.
import type { Condition } from '../api/meta.js';
import { objectList } from '../workflows/planners/machine-set.status.js';

type C = Omit<Condition, 'lastTransitionTime'>;

/** A descendant's condition of one type, as its object shows it. */
export interface Descendant {
  kind: 'KubeadmControlPlane' | 'MachineDeployment' | 'MachineSet';
  name: string;
  condition?: Pick<Condition, 'status' | 'message'>;
}

const REASONS: Record<string, [yes: string, no: string]> = {
  RollingOut: ['RollingOut', 'NotRollingOut'],
  ScalingUp: ['ScalingUp', 'NotScalingUp'],
  ScalingDown: ['ScalingDown', 'NotScalingDown'],
};

/** Names in code-point order, as Go's sort.Strings orders them. */
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const BULLET = /^\s*\*\s+/;

/**
 * A descendant's message after `* Kind names:` as Cluster API's aggregate writes it: on the same
 * line when it is one line and no list; else on the lines below, indented — a line without a
 * bullet gets one, a bulleted line under it goes one level deeper.
 */
export function indentIfMultiline(message: string): string {
  if (!message.includes('\n') && !BULLET.test(message)) return ` ${message}`;
  const lines = message.split('\n');
  const unbulleted = lines.some((l) => !BULLET.test(l));
  return '\n' + lines.map((l) => (unbulleted ? (BULLET.test(l) ? '    ' : '  * ') : '  ') + l).join('\n');
}

/** `* Kind a, b, c, ... (2 more):` and the message (Cluster API's aggregate line). */
export function aggregateLine(kind: string, names: readonly string[], message: string): string {
  return `* ${objectList(kind, names)}:${indentIfMultiline(message)}`;
}

/**
 * The Cluster's `type` (RollingOut, ScalingUp or ScalingDown): True while a descendant's is, with
 * their messages — descendants of a kind with the same message on one line, a message of several
 * lines indented under it (Cluster API's aggregate) — control plane first; else False.
 */
export function aggregateCondition(type: string, descendants: readonly Descendant[]): C {
  const [yes, no] = REASONS[type] ?? [type, `Not${type}`];
  const groups = new Map<string, { kind: string; message: string; names: string[] }>();
  const order = (k: string) => ['KubeadmControlPlane', 'MachineDeployment', 'MachineSet'].indexOf(k);
  for (const d of [...descendants].sort((a, b) => order(a.kind) - order(b.kind) || compare(a.name, b.name))) {
    if (d.condition?.status !== 'True') continue;
    const message = d.condition.message ?? '';
    const key = `${d.kind}\u0000${message}`;
    const g = groups.get(key) ?? { kind: d.kind, message, names: [] };
    g.names.push(d.name);
    groups.set(key, g);
  }
  if (!groups.size) return { type, status: 'False', reason: no, message: '' };
  const lines = [...groups.values()].map(({ kind, message, names }) => aggregateLine(kind, names, message));
  return { type, status: 'True', reason: yes, message: lines.join('\n') };
}

/** A machine's condition of one type, as its object shows it, and when the object was made. */
export interface MachineSeen {
  name: string;
  condition?: Pick<Condition, 'status' | 'message'>;
  /** ms since the epoch (absent: not yet an object). */
  created?: number;
}

/**
 * The Cluster's ControlPlaneMachinesReady / WorkerMachinesReady (`of` Ready) and …UpToDate (`of`
 * UpToDate) from its machines', as Cluster API's machinesConditionSetter: False naming the machines
 * whose condition is False, with their messages (machines with the same message on one line);
 * Unknown naming those that report it Unknown or not at all (a machine made less than 10 s ago
 * without UpToDate is not counted yet); True when all say True, or there are none (NoReplicas).
 */
export function machinesCondition(type: string, of: 'Ready' | 'UpToDate', machines: readonly MachineSeen[], now: number): C {
  const [yes, no, unknown] = of === 'Ready' ? ['Ready', 'NotReady', 'ReadyUnknown'] : ['UpToDate', 'NotUpToDate', 'UpToDateUnknown'];
  const counted = of === 'UpToDate' ? machines.filter((m) => m.condition || m.created === undefined || now - m.created > 10_000) : machines;
  if (!counted.length) return { type, status: 'True', reason: 'NoReplicas', message: '' };
  const group = (ms: readonly MachineSeen[], message: (m: MachineSeen) => string) => {
    const groups = new Map<string, string[]>();
    for (const m of [...ms].sort((a, b) => compare(a.name, b.name))) groups.set(message(m), [...(groups.get(message(m)) ?? []), m.name]);
    return [...groups].map(([text, names]) => aggregateLine('Machine', names, text));
  };
  const issues = counted.filter((m) => m.condition?.status === 'False');
  const unknowns = counted.filter((m) => !m.condition || m.condition.status === 'Unknown');
  const lines = [...group(issues, (m) => m.condition?.message || `${of} is False`), ...group(unknowns, (m) => (m.condition ? m.condition.message || `${of} is Unknown` : `Condition ${of} not yet reported`))];
  if (issues.length) return { type, status: 'False', reason: no, message: lines.join('\n') };
  if (unknowns.length) return { type, status: 'Unknown', reason: unknown, message: lines.join('\n') };
  return { type, status: 'True', reason: yes, message: '' };
}
