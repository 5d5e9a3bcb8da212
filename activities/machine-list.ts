// The running Machines of one cluster, read from Temporal's visibility: each Machine's search
// attributes (phase, Node) and its static start memo (labels, owner, creation time). One list
// call per page, no query per machine (a query is a billed action).
import type { Client } from '@temporalio/client';
import type { ObjectKey } from '../workflows/ids.js';
import { MACHINE_FACTS_MEMO, type MachineFacts } from '../workflows/list-memo.js';
import { SA_CLUSTER, SA_KIND, SA_NAMESPACE, SA_NODE_NAME, SA_PHASE } from '../workflows/search-attributes.js';
import { failure } from './errors.js';

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
