// Workflow IDs: one workflow per object, `<kind>/<namespace>/<name>`, so a second start of the
// same object finds the running one instead of starting another.
export interface ObjectKey {
  namespace: string;
  name: string;
}

export type WorkflowKind = 'cluster' | 'kubeadmcontrolplane' | 'machinedeployment' | 'machineset' | 'machine' | 'machinehealthcheck';

export function workflowId(kind: WorkflowKind, key: ObjectKey): string {
  return `${kind}/${key.namespace}/${key.name}`;
}

export const clusterWorkflowId = (key: ObjectKey) => workflowId('cluster', key);
export const controlPlaneWorkflowId = (key: ObjectKey) => workflowId('kubeadmcontrolplane', key);
export const machineWorkflowId = (key: ObjectKey) => workflowId('machine', key);
export const machineSetWorkflowId = (key: ObjectKey) => workflowId('machineset', key);
export const machineDeploymentWorkflowId = (key: ObjectKey) => workflowId('machinedeployment', key);
export const machineHealthCheckWorkflowId = (key: ObjectKey) => workflowId('machinehealthcheck', key);

export function parseWorkflowId(id: string): { kind: string; namespace: string; name: string } | undefined {
  const parts = id.split('/');
  if (parts.length !== 3) return undefined;
  const [kind, namespace, name] = parts as [string, string, string];
  return { kind, namespace, name };
}

export const keyString = (key: ObjectKey) => `${key.namespace}/${key.name}`;
