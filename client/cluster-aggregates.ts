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

/** One aggregate line per kind and message, naming the items that share them, in the order given. */
function groupedLines<T extends { name: string }>(items: readonly T[], kind: (x: T) => string, message: (x: T) => string): string[] {
  const groups = new Map<string, { kind: string; message: string; names: string[] }>();
  for (const x of items) {
    const key = `${kind(x)}\u0000${message(x)}`;
    const g = groups.get(key) ?? { kind: kind(x), message: message(x), names: [] };
    g.names.push(x.name);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => aggregateLine(g.kind, g.names, g.message));
}

/**
 * The Cluster's `type` (RollingOut, ScalingUp or ScalingDown) as Cluster API's aggregate of a
 * negative-polarity condition: True while a descendant's is, with their messages — descendants of
 * a kind with the same message on one line, a message of several lines indented under it — control
 * plane first; else Unknown (`<type>Unknown`) while a deployment or set has not reported it
 * ("Condition RollingOut not yet reported") or reports it Unknown, those lines after the True ones;
 * else False. A control plane that does not report the condition is left out, not Unknown (the
 * control-plane contract does not require it).
 */
export function aggregateCondition(type: string, descendants: readonly Descendant[]): C {
  const [yes, no] = REASONS[type] ?? [type, `Not${type}`];
  const order = (k: string) => ['KubeadmControlPlane', 'MachineDeployment', 'MachineSet'].indexOf(k);
  const sorted = [...descendants].sort((a, b) => order(a.kind) - order(b.kind) || compare(a.name, b.name));
  const lines = (of: readonly Descendant[], message: (d: Descendant) => string) => groupedLines(of, (d) => d.kind, message);
  const issues = sorted.filter((d) => d.condition?.status === 'True');
  const unknowns = sorted.filter((d) => (d.condition ? d.condition.status === 'Unknown' : d.kind !== 'KubeadmControlPlane'));
  const message = [
    ...lines(issues, (d) => d.condition?.message ?? ''),
    ...lines(unknowns, (d) => (d.condition ? d.condition.message || `${type} is Unknown` : `Condition ${type} not yet reported`)),
  ].join('\n');
  if (issues.length) return { type, status: 'True', reason: yes, message };
  if (unknowns.length) return { type, status: 'Unknown', reason: `${type}Unknown`, message };
  return { type, status: 'False', reason: no, message: '' };
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
  const group = (ms: readonly MachineSeen[], message: (m: MachineSeen) => string) => groupedLines([...ms].sort((a, b) => compare(a.name, b.name)), () => 'Machine', message);
  const issues = counted.filter((m) => m.condition?.status === 'False');
  const unknowns = counted.filter((m) => !m.condition || m.condition.status === 'Unknown');
  const lines = [...group(issues, (m) => m.condition?.message || `${of} is False`), ...group(unknowns, (m) => (m.condition ? m.condition.message || `${of} is Unknown` : `Condition ${of} not yet reported`))];
  if (issues.length) return { type, status: 'False', reason: no, message: lines.join('\n') };
  if (unknowns.length) return { type, status: 'Unknown', reason: unknown, message: lines.join('\n') };
  return { type, status: 'True', reason: yes, message: '' };
}
