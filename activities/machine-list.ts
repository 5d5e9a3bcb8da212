// The running Machines of one cluster, read from Temporal's visibility: each Machine's search
// attributes (phase, Node) and its static start memo (labels, owner, creation time). One list
// call per page, no query per machine (a query is a billed action).
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import type { ObjectKey } from '../workflows/ids.js';
import { MACHINE_FACTS_MEMO, type MachineFacts } from '../workflows/list-memo.js';
import { SA_CLUSTER, SA_KIND, SA_NAMESPACE, SA_NODE_NAME, SA_PHASE } from '../workflows/search-attributes.js';
import { failure } from './errors.js';
import type { NodeWatches } from './node-watch.js';

/** How often the machine list is read again while nothing suggests a change (a list is one visibility call per page). */
const RELIST_MS = 30_000;
/** A Node no listed machine claims (a machine that just came up) triggers a list, at most this often. */
const RELIST_ON_UNKNOWN_NODE_MS = 1000;

export interface MachineRecord {
  name: string;
  workflowId: string;
  /** Absent for a machine started before machines carried their facts. */
  facts?: MachineFacts;
  phase?: string;
  nodeName?: string;
}

/** The cluster's running Machine workflows, sorted by name. */
export async function listMachines(temporal: Client | undefined, cluster: ObjectKey, who: string): Promise<MachineRecord[]> {
  if (!temporal) throw failure('InvalidConfiguration', `this worker has no Temporal client: it cannot run ${who}`);
  const query = `${SA_KIND.name} = 'Machine' AND ${SA_CLUSTER.name} = '${cluster.name}' AND ${SA_NAMESPACE.name} = '${cluster.namespace}' AND ExecutionStatus = 'Running'`;
  const out: MachineRecord[] = [];
  for await (const wf of temporal.workflow.list({ query })) {
    const facts = wf.memo?.[MACHINE_FACTS_MEMO] as MachineFacts | undefined;
    out.push({
      name: wf.workflowId.split('/').at(-1)!,
      workflowId: wf.workflowId,
      ...(facts ? { facts } : {}),
      phase: wf.typedSearchAttributes.get(SA_PHASE),
      nodeName: wf.typedSearchAttributes.get(SA_NODE_NAME) || undefined,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Waits until `pick` answers over the cluster's running Machines (visibility) and Nodes (the
 * worker's Node watch). The machine list is read again every `relistMs` (30 s), and sooner when a
 * Node that no listed machine claims appears (a new machine), so an idle cluster costs few list calls.
 */
export async function waitOnMachinesAndNodes<T>(
  deps: { temporal?: Client; nodeWatches: NodeWatches; graceMs: number },
  cluster: ObjectKey,
  who: string,
  pick: (machines: MachineRecord[], nodes: readonly V1Node[]) => T | undefined,
  relistMs = RELIST_MS,
): Promise<T> {
  for (;;) {
    const machines = await listMachines(deps.temporal, cluster, who);
    const listedAt = Date.now();
    const claimed = new Set(machines.map((m) => m.nodeName).filter(Boolean));
    const r = await deps.nodeWatches.waitFor(
      cluster,
      (nodes) => {
        const answer = pick(machines, nodes);
        if (answer !== undefined) return { answer };
        const age = Date.now() - listedAt;
        if (age >= relistMs) return null;
        if (age >= RELIST_ON_UNKNOWN_NODE_MS && nodes.some((n) => !claimed.has(n.metadata?.name))) return null;
        return undefined;
      },
      { waiting: () => `${who}: watching ${machines.length} machine(s) of cluster ${cluster.name}`, graceMs: deps.graceMs },
    );
    if (r) return r.answer;
  }
}
