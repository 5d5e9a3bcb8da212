// `capstan annotate machine NAME KEY=VALUE... KEY-...`: kubectl annotate for a Machine. Its spec
// is immutable, its annotations are not: they carry Cluster API's deletion hooks and the
// delete-machine mark. The Machine's workflow validates the keys; a refusal names the field.
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { machineWorkflowId } from '../workflows/ids.js';
import { annotateMachineUpdate } from '../workflows/messages.js';
import { ApplyError } from './apply.js';

export interface AnnotationChange {
  set: Record<string, string>;
  remove: string[];
}

/** KEY=VALUE sets, KEY- removes (kubectl's syntax); anything else is a usage error (returned). */
export function parseAnnotationArgs(args: string[]): AnnotationChange | string {
  const change: AnnotationChange = { set: {}, remove: [] };
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) change.set[a.slice(0, eq)] = a.slice(eq + 1);
    else if (a.endsWith('-') && a.length > 1) change.remove.push(a.slice(0, -1));
    else return `"${a}" is neither KEY=VALUE nor KEY-`;
  }
  return change;
}

export async function annotateMachine(client: Client, namespace: string, name: string, change: AnnotationChange): Promise<string> {
  try {
    await client.workflow.getHandle(machineWorkflowId({ namespace, name })).executeUpdate(annotateMachineUpdate, { args: [change] });
    return `machine.cluster.capstan.dev/${name} annotated`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApplyError(`machines "${name}" not found in namespace "${namespace}"`);
    if (err instanceof WorkflowUpdateFailedError) throw new ApplyError(err.cause?.message ?? err.message);
    throw err;
  }
}
