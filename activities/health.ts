// What a MachineHealthCheck looks at: the Machines of its cluster that its selector picks (from
// Temporal's visibility: each Machine's search attributes and its static start memo, no query
// per machine) joined with their Nodes (from the worker's Node watch of that cluster). The
// activity returns the targets as soon as they differ from what the workflow last saw — a Node
// condition changed, a machine came or went — and after observerQuietMs without a change it
// returns them with its mark (observer-marks.ts): the check then stops observing until the
// worker's waker sees the mark no longer match. The decision is the workflow's
// (workflows/planners/health.ts).
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import { type LabelSelector, selectorMatches } from '../api/machine-set.js';
import { ANNOTATIONS, LABELS } from '../api/meta.js';
import type { ObjectKey } from '../workflows/ids.js';
import type { OwnedHealthTarget } from '../workflows/types.js';
import { type DeploymentFacts, listDeployments, type MachineRecord, waitOnMachinesAndNodes } from './machine-list.js';
import { NodeWatches } from './node-watch.js';
import { healthTargetsMark, OBSERVER_QUIET_MS } from './observer-marks.js';

export interface HealthDeps {
  temporal?: Client;
  nodeWatches: NodeWatches;
  unreachableGraceMs?: number;
  /** How long an observer sees nothing change before it returns quiet (ms). */
  observerQuietMs?: number;
}

export function healthActivities({ temporal, nodeWatches, unreachableGraceMs = 60_000, observerQuietMs = OBSERVER_QUIET_MS }: HealthDeps) {
  return {
    /**
     * `relistSeconds`: how often to look for new machines while no Node changes (the check asks
     * sooner after it remediated: replacements come). Revision 10 (`asClusterApi`): machines being
     * deleted are targets too, marked `deleting`, as Cluster API counts them; and a machine of a
     * deployment's set other than its current one is marked `pendingRollout` (the deployments'
     * memos, read with each list of the machines).
     */
    async observeHealthTargets(input: { cluster: ObjectKey; selector: LabelSelector; knownDigest?: string; maxWaitSeconds: number; relistSeconds?: number; asClusterApi?: boolean }): Promise<{ digest: string; targets: OwnedHealthTarget[]; quiet?: string }> {
      const deadline = Date.now() + Math.min(input.maxWaitSeconds * 1000, observerQuietMs);
      const deployments = input.asClusterApi ? () => listDeployments(temporal, input.cluster, 'MachineHealthChecks') : undefined;
      return waitOnMachinesAndNodes(
        { temporal, nodeWatches, graceMs: unreachableGraceMs },
        input.cluster,
        'MachineHealthChecks',
        (machines, nodes, facts: DeploymentFacts | undefined) => {
          const sets = facts?.currentSets;
          const targets = healthTargets(machines, nodes, input.selector, input.asClusterApi, sets, facts?.maxInFlight, facts?.maxInFlightSpec);
          const digest = createHash('sha256').update(JSON.stringify(targets)).digest('hex').slice(0, 16);
          if (digest !== input.knownDigest) return { digest, targets };
          return Date.now() >= deadline ? { digest, targets, quiet: healthTargetsMark(machines, nodes, input.asClusterApi ? (sets ?? {}) : undefined, facts?.maxInFlight) } : undefined;
        },
        input.relistSeconds !== undefined ? input.relistSeconds * 1000 : undefined,
        deployments,
      );
    },
  };
}

/** A deployment's remediation limit for its machines' targets (and the percentage it is, when it is one). */
function limitOf(deployment: string | undefined, maxInFlight: Record<string, number> | undefined, spec: Record<string, string> | undefined): { maxInFlight?: number; maxInFlightSpec?: string } {
  const limit = deployment !== undefined ? maxInFlight?.[deployment] : undefined;
  if (limit === undefined) return {};
  const percent = spec?.[deployment!];
  return { maxInFlight: limit, ...(percent !== undefined ? { maxInFlightSpec: percent } : {}) };
}

/** A machine of a deployment's set that is not the deployment's current one (it knows one). */
function pendingRollout(labels: Record<string, string>, currentSets: Record<string, string> | undefined): boolean {
  const md = labels[LABELS.deploymentName];
  const current = md !== undefined ? currentSets?.[md] : undefined;
  return current !== undefined && labels[LABELS.setName] !== current;
}

/**
 * The selected machines as health targets. A machine being deleted is a target marked `deleting`
 * with `includeDeleting` (Cluster API counts it: never healthy), else it is left out (before
 * revision 10); a deleted one never is. As in Cluster API (shouldSkipRemediation), a machine
 * with the skip-remediation or the paused annotation is no target at all, and one with remediate-machine is
 * marked `remediateAnnotation`.
 */
export function healthTargets(
  machines: MachineRecord[],
  nodes: readonly V1Node[],
  selector: LabelSelector,
  includeDeleting = false,
  currentSets?: Record<string, string>,
  maxInFlight?: Record<string, number>,
  maxInFlightSpec?: Record<string, string>,
): OwnedHealthTarget[] {
  const byName = new Map(nodes.map((n) => [n.metadata?.name, n]));
  return machines
    .filter(
      (m) =>
        m.facts &&
        (includeDeleting || m.phase !== 'Deleting') &&
        m.phase !== 'Deleted' &&
        !m.remediation?.includes(ANNOTATIONS.skipRemediation) &&
        !m.remediation?.includes(ANNOTATIONS.paused) &&
        selectorMatches(selector, m.facts.labels),
    )
    .map((m): OwnedHealthTarget => {
      const node = m.nodeName ? byName.get(m.nodeName) : undefined;
      const labels = m.facts!.labels;
      const owner = labels[LABELS.deploymentName] ? `MachineDeployment/${labels[LABELS.deploymentName]}` : labels[LABELS.setName] ? `MachineSet/${labels[LABELS.setName]}` : labels[LABELS.controlPlaneName] ? `KubeadmControlPlane/${labels[LABELS.controlPlaneName]}` : undefined;
      return {
        machine: m.name,
        ...(owner && m.facts!.ownerKind ? { owner } : {}),
        // (Its deployment's spec.remediation.maxInFlight, when it has one.)
        ...limitOf(m.facts!.ownerKind ? labels[LABELS.deploymentName] : undefined, maxInFlight, maxInFlightSpec),
        remediationAllowed: m.facts!.ownerKind !== undefined,
        machineCreatedAt: m.facts!.createdAt,
        ...(m.remediation?.includes(ANNOTATIONS.remediateMachine) ? { remediateAnnotation: true } : {}),
        ...(m.phase === 'Failed' ? { failed: true } : {}),
        ...(m.phase === 'Deleting' ? { deleting: true } : {}),
        ...(pendingRollout(labels, currentSets) ? { pendingRollout: true } : {}),
        ...(m.nodeName ? { nodeName: m.nodeName } : {}),
        ...(m.nodeName && !node ? { nodeMissing: true } : {}),
        ...(node
          ? {
              nodeConditions: (node.status?.conditions ?? []).map((c) => ({
                type: c.type,
                status: c.status as 'True' | 'False' | 'Unknown',
                lastTransitionTime: c.lastTransitionTime ? new Date(c.lastTransitionTime).toISOString() : new Date(0).toISOString(),
              })),
            }
          : {}),
      };
    });
}
