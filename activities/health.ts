// What a MachineHealthCheck looks at: the Machines of its cluster that its selector picks (from
// Temporal's visibility: each Machine's search attributes and its static start memo, no query
// per machine) joined with their Nodes (from the worker's Node watch of that cluster). The
// activity returns the targets as soon as they differ from what the workflow last saw — a Node
// condition changed, a machine came or went — or after maxWaitSeconds; the decision is the
// workflow's (workflows/planners/health.ts).
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import { type LabelSelector, selectorMatches } from '../api/machine-set.js';
import type { ObjectKey } from '../workflows/ids.js';
import { MACHINE_FACTS_MEMO, type MachineFacts } from '../workflows/list-memo.js';
import type { HealthTarget } from '../workflows/planners/health.js';
import { SA_CLUSTER, SA_KIND, SA_NAMESPACE, SA_NODE_NAME, SA_PHASE } from '../workflows/search-attributes.js';
import { failure } from './errors.js';
import { NodeWatches } from './node-watch.js';

/** How often the machine list is read again while nothing on the Nodes changes. */
const RELIST_MS = 5000;

interface MachineRecord {
  name: string;
  facts: MachineFacts;
  phase?: string;
  nodeName?: string;
}

export interface HealthDeps {
  temporal?: Client;
  nodeWatches: NodeWatches;
  unreachableGraceMs?: number;
}

export function healthActivities({ temporal, nodeWatches, unreachableGraceMs = 60_000 }: HealthDeps) {
  async function listMachines(cluster: ObjectKey): Promise<MachineRecord[]> {
    if (!temporal) throw failure('InvalidConfiguration', 'this worker has no Temporal client: it cannot run MachineHealthChecks');
    const query = `${SA_KIND.name} = 'Machine' AND ${SA_CLUSTER.name} = '${cluster.name}' AND ${SA_NAMESPACE.name} = '${cluster.namespace}' AND ExecutionStatus = 'Running'`;
    const out: MachineRecord[] = [];
    for await (const wf of temporal.workflow.list({ query })) {
      const facts = wf.memo?.[MACHINE_FACTS_MEMO] as MachineFacts | undefined;
      if (!facts) continue; // started before machines carried their facts: not a target
      const name = wf.workflowId.split('/').at(-1)!;
      out.push({ name, facts, phase: wf.typedSearchAttributes.get(SA_PHASE), nodeName: wf.typedSearchAttributes.get(SA_NODE_NAME) || undefined });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  return {
    async observeHealthTargets(input: { cluster: ObjectKey; selector: LabelSelector; knownDigest?: string; maxWaitSeconds: number }): Promise<{ digest: string; targets: HealthTarget[] }> {
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      let machines = await listMachines(input.cluster);
      let listedAt = Date.now();
      for (;;) {
        const r = await nodeWatches.waitFor(
          input.cluster,
          (nodes) => {
            const targets = healthTargets(machines, nodes, input.selector);
            const digest = createHash('sha256').update(JSON.stringify(targets)).digest('hex').slice(0, 16);
            if (digest !== input.knownDigest || Date.now() >= deadline) return { digest, targets };
            return Date.now() - listedAt >= RELIST_MS ? null : undefined;
          },
          { waiting: () => `watching ${machines.length} machine(s) of cluster ${input.cluster.name}`, graceMs: unreachableGraceMs },
        );
        if (r) return r;
        machines = await listMachines(input.cluster);
        listedAt = Date.now();
      }
    },
  };
}

/** The selected machines as health targets; machines being deleted are not targets (Cluster API skips them). */
export function healthTargets(machines: MachineRecord[], nodes: readonly V1Node[], selector: LabelSelector): HealthTarget[] {
  const byName = new Map(nodes.map((n) => [n.metadata?.name, n]));
  return machines
    .filter((m) => m.phase !== 'Deleting' && m.phase !== 'Deleted' && selectorMatches(selector, m.facts.labels))
    .map((m): HealthTarget => {
      const node = m.nodeName ? byName.get(m.nodeName) : undefined;
      return {
        machine: m.name,
        remediationAllowed: m.facts.ownerKind !== undefined,
        machineCreatedAt: m.facts.createdAt,
        ...(m.phase === 'Failed' ? { failed: true } : {}),
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
