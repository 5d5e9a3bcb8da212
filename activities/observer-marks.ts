// What a quiet observer saw last, as a short digest (its "mark"). An observer activity that has
// seen nothing change for a while returns its mark, and its workflow stops observing and shows
// the mark in its CapstanQuiet search attribute; the worker's waker (observer-waker.ts) computes
// the same digest from the same machines and Nodes and wakes the workflow when it differs. Both
// sides use these functions, so they agree on what counts as a change.
import { createHash } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { HEALTHY_NODE_KEY, nodeConditions, nodeConditionsKey, type NodeConditions } from '../workflows/planners/node-conditions.js';
import type { MachineRecord } from './machine-list.js';

/** An observer's default quiet period: under half its heartbeatTimeout (2 min), so a quiet round never heartbeats. */
export const OBSERVER_QUIET_MS = 50_000;

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** What to tell, per machine: those of `machines` (Running, with a Node) whose conditions differ from `told` (absent = healthy). */
export function nodeConditionChanges(machines: readonly MachineRecord[], nodes: readonly V1Node[], told: Record<string, string>): { machine: MachineRecord; conditions: NodeConditions; key: string }[] {
  const byName = new Map(nodes.map((n) => [n.metadata?.name, n]));
  const out = [];
  for (const m of machines) {
    if (m.phase !== 'Running' || !m.nodeName) continue;
    const node = byName.get(m.nodeName);
    const conditions = nodeConditions(m.nodeName, node ? { conditions: node.status?.conditions ?? [] } : undefined);
    const key = nodeConditionsKey(conditions);
    if (key !== (told[m.name] ?? HEALTHY_NODE_KEY)) out.push({ machine: m, conditions, key });
  }
  return out;
}

/**
 * The Cluster's Node-conditions mirror: what it would have told each Running machine with a Node
 * (healthy machines left out, as the mirror leaves them out of what it told). A machine coming
 * up or going away healthy changes nothing; a Node turning NotReady, or back, does.
 */
export function nodeConditionsMark(machines: readonly MachineRecord[], nodes: readonly V1Node[]): string {
  const told = nodeConditionChanges(machines, nodes, {}).map((c): [string, string] => [c.machine.name, c.key]);
  return digest(told.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * A MachineHealthCheck's: the cluster's machines (phase, Node) and its Nodes' conditions (type
 * and status; not the kubelet's heartbeat times). Any machine or Node condition change wakes the
 * check, which then decides with its own selector whether a target changed.
 */
export function healthTargetsMark(machines: readonly MachineRecord[], nodes: readonly V1Node[], currentSets?: Record<string, string>, maxInFlight?: Record<string, number>): string {
  // (And a machine's remediation annotations, when it has any: annotating one wakes the check;
  // and how often its labels changed in place, when they did: its check's selector reads them.)
  const ms = machines
    .map((m) => [m.name, m.phase ?? '', m.nodeName ?? '', ...(m.remediation?.length ? [m.remediation.join(',')] : []), ...(m.facts?.changedInPlace ? [`changedInPlace=${m.facts.changedInPlace}`] : [])])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  const ns = nodes
    .map((n) => [n.metadata?.name ?? '', (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort().join(',')])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  // Revision 10: and each deployment's current set (a rollout, or its rollback, changes which
  // unhealthy machines the check leaves to the rollout).
  if (currentSets === undefined) return digest({ ms, ns });
  const sets = Object.entries(currentSets).sort(([a], [b]) => (a < b ? -1 : 1));
  // (And each deployment's remediation limit, where there is one: raising it lets a waiting
  // remediation go. Absent, the mark is as before there were limits.)
  const limits = Object.entries(maxInFlight ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return digest(limits.length ? { ms, ns, sets, limits } : { ms, ns, sets });
}
