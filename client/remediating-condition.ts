// A MachineSet's, a MachineDeployment's and a Cluster's Remediating condition as Cluster API's controllers set
// it on their objects, from what the watcher knows of their machines: the machines their owner is
// deleting as a remediation (the set's workflow says so), the ones a health check found unhealthy,
// and the ones waiting for the deployment's spec.remediation.maxInFlight (RemediationDeferred, which
// a health check decides here, Cluster API's MachineSet there). The workflows know only the first:
// their own Remediating says nothing of a deferred machine, and takes a Node not Ready for "not
// healthy" where Cluster API reads HealthCheckSucceeded.
import type { Condition } from '../api/meta.js';
import { objectList } from '../workflows/planners/machine-set.status.js';
import { aggregateLine, compare } from './cluster-aggregates.js';
import type { HealthVerdictSeen } from './object-mirror.js';

/** What the health checks and the owner say of some machines. */
export interface RemediationSeen {
  /** Being deleted by their owner as a remediation (OwnerRemediated: "Machine is deleting"). */
  remediating: string[];
  /** Waiting for maxInFlight, and Cluster API's message (their OwnerRemediated). */
  deferred: Record<string, string>;
  /** Found unhealthy by a health check (HealthCheckSucceeded False). */
  unhealthy: string[];
}

/** What the health checks last said of `machines` (names in `namespace`), with the owner's `remediating`. */
export function remediationSeen(namespace: string, machines: readonly string[], remediating: readonly string[], verdicts: Iterable<HealthVerdictSeen>): RemediationSeen {
  const mine = new Set(machines);
  const deferred: Record<string, string> = {};
  const unhealthy = new Set<string>();
  for (const v of [...verdicts].sort((a, b) => compare(a.name, b.name))) {
    if (v.namespace !== namespace) continue;
    for (const m of Object.keys(v.unhealthy)) if (mine.has(m)) unhealthy.add(m);
    for (const [m, message] of Object.entries(v.deferred ?? {})) if (mine.has(m) && !(m in deferred)) deferred[m] = message;
  }
  return { remediating: remediating.filter((m) => mine.has(m)).sort(compare), deferred, unhealthy: [...unhealthy].sort(compare) };
}

/** A key that changes when what `seen` says changes: the watcher asks the owner again then. */
export function remediationKey(seen: RemediationSeen): string {
  return JSON.stringify([seen.remediating, Object.entries(seen.deferred).sort(([a], [b]) => compare(a, b)), seen.unhealthy]);
}


/**
 * Remediating: True while any machine is to be remediated — deleting, or deferred — with their
 * OwnerRemediated messages aggregated (machines with the same message on one line, deleting first);
 * else False, naming the unhealthy machines their owner will not remediate.
 */
export function remediatingCondition(owner: 'MachineSet' | 'MachineDeployment' | 'Cluster', seen: RemediationSeen): Omit<Condition, 'lastTransitionTime'> {
  const groups = new Map<string, string[]>();
  const add = (message: string, m: string) => groups.set(message, [...(groups.get(message) ?? []), m]);
  for (const m of seen.remediating) add('Machine is deleting', m);
  for (const [m, message] of Object.entries(seen.deferred).sort(([a], [b]) => compare(a, b))) if (!seen.remediating.includes(m)) add(message, m);
  if (groups.size > 0) {
    const lines = [...groups].map(([message, names]) => aggregateLine('Machine', names, message));
    return { type: 'Remediating', status: 'True', reason: 'Remediating', message: lines.join('\n') };
  }
  const left = seen.unhealthy.filter((m) => !seen.remediating.includes(m) && !(m in seen.deferred));
  // (A Cluster's names no owner: its machines have several.)
  const by = owner === 'Cluster' ? '' : owner === 'MachineSet' ? ' by MachineSet' : ' by MachineDeployment/MachineSet';
  const message = left.length ? `${objectList('Machine', left)} ${left.length === 1 ? 'is' : 'are'} not healthy (not to be remediated${by})` : '';
  return { type: 'Remediating', status: 'False', reason: 'NotRemediating', message };
}
