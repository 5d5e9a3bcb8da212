// The running Machines of one cluster, read from Temporal's visibility: each Machine's search
// attributes (phase, Node) and its static start memo (labels, owner, creation time). One list
// call per page, no query per machine (a query is a billed action).
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import type { ObjectKey } from '../workflows/ids.js';
import { CURRENT_SET_MEMO, MACHINE_FACTS_MEMO, MAX_IN_FLIGHT_MEMO, MAX_IN_FLIGHT_SPEC_MEMO, type MachineFacts, remediationShown } from '../workflows/list-memo.js';
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
  /** Its remediation annotations (remediate-machine, skip-remediation) that are set, sorted; absent when none. */
  remediation?: string[];
}

/** The cluster's running workflows of one kind, from visibility (`who` is named when this worker has no Temporal client). */
function listRunning(temporal: Client | undefined, kind: 'Machine' | 'MachineDeployment', cluster: ObjectKey, who: string) {
  if (!temporal) throw failure('InvalidConfiguration', `this worker has no Temporal client: it cannot run ${who}`);
  const query = `${SA_KIND.name} = '${kind}' AND ${SA_CLUSTER.name} = '${cluster.name}' AND ${SA_NAMESPACE.name} = '${cluster.namespace}' AND ExecutionStatus = 'Running'`;
  return temporal.workflow.list({ query });
}

/** The cluster's running Machine workflows, sorted by name. */
export async function listMachines(temporal: Client | undefined, cluster: ObjectKey, who: string): Promise<MachineRecord[]> {
  const out: MachineRecord[] = [];
  for await (const wf of listRunning(temporal, 'Machine', cluster, who)) {
    const facts = wf.memo?.[MACHINE_FACTS_MEMO] as MachineFacts | undefined;
    const remediation = remediationShown(wf.memo);
    out.push({
      name: wf.workflowId.split('/').at(-1)!,
      workflowId: wf.workflowId,
      ...(facts ? { facts } : {}),
      phase: wf.typedSearchAttributes.get(SA_PHASE),
      nodeName: wf.typedSearchAttributes.get(SA_NODE_NAME) || undefined,
      ...(remediation ? { remediation } : {}),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** How often `alsoList` is read between lists of the machines (a few cheap rows: the cluster's deployments). */
export const ALSO_LIST_MS = 3_000;

/** What a health check reads of the cluster's deployments: each one's current set, and its remediation limit when it has one. */
export interface DeploymentFacts {
  currentSets: Record<string, string>;
  maxInFlight: Record<string, number>;
  /** A limit that is a percentage, as the spec says it. */
  maxInFlightSpec?: Record<string, string>;
}

/**
 * Revision 10: each running MachineDeployment of the cluster, its current set (its memo,
 * list-memo.ts CURRENT_SET_MEMO) and its remediation limit (MAX_IN_FLIGHT_MEMO), from
 * visibility: no query.
 */
export async function listDeployments(temporal: Client | undefined, cluster: ObjectKey, who: string): Promise<DeploymentFacts> {
  const out: DeploymentFacts = { currentSets: {}, maxInFlight: {} };
  for await (const wf of listRunning(temporal, 'MachineDeployment', cluster, who)) {
    const name = wf.workflowId.split('/').at(-1)!;
    const current = wf.memo?.[CURRENT_SET_MEMO];
    if (typeof current === 'string') out.currentSets[name] = current;
    const limit = wf.memo?.[MAX_IN_FLIGHT_MEMO];
    if (typeof limit === 'number') out.maxInFlight[name] = limit;
    const percent = wf.memo?.[MAX_IN_FLIGHT_SPEC_MEMO];
    if (typeof percent === 'string') (out.maxInFlightSpec ??= {})[name] = percent;
  }
  return out;
}

/**
 * Waits until `pick` answers over the cluster's running Machines (visibility) and Nodes (the
 * worker's Node watch). The machine list is read again every `relistMs` (30 s), and sooner when a
 * Node that no listed machine claims appears (a new machine), so an idle cluster costs few list calls.
 */
export async function waitOnMachinesAndNodes<T, X = undefined>(
  deps: { temporal?: Client; nodeWatches: NodeWatches; graceMs: number },
  cluster: ObjectKey,
  who: string,
  pick: (machines: MachineRecord[], nodes: readonly V1Node[], extra: X) => T | undefined,
  relistMs = RELIST_MS,
  /** Read with every list of the machines and every ALSO_LIST_MS between them, and handed to `pick`. */
  alsoList?: () => Promise<X>,
): Promise<T> {
  for (;;) {
    const [machines, listed] = await Promise.all([listMachines(deps.temporal, cluster, who), alsoList ? alsoList() : (undefined as X)]);
    let extra = listed;
    const listedAt = Date.now();
    const claimed = new Set(machines.map((m) => m.nodeName).filter(Boolean));
    const r = await deps.nodeWatches.waitFor(
      cluster,
      (nodes) => {
        const answer = pick(machines, nodes, extra);
        if (answer !== undefined) return { answer };
        const age = Date.now() - listedAt;
        if (age >= relistMs) return null;
        if (age >= RELIST_ON_UNKNOWN_NODE_MS && nodes.some((n) => !claimed.has(n.metadata?.name))) return null;
        return undefined;
      },
      {
        waiting: () => `${who}: watching ${machines.length} machine(s) of cluster ${cluster.name}`,
        graceMs: deps.graceMs,
        ...(alsoList ? { periodic: { everyMs: ALSO_LIST_MS, run: async () => void (extra = await alsoList()) } } : {}),
      },
    );
    if (r) return r.answer;
  }
}
