// The workflow bundle's entry: every workflow type the worker registers.
export { ClusterWorkflow } from './cluster.js';
export { ControlPlaneWorkflow } from './control-plane.js';
export { MachineWorkflow } from './machine.js';
export { MachineSetWorkflow } from './machine-set.js';
export { MachineDeploymentWorkflow } from './machine-deployment.js';
export { MachineHealthCheckWorkflow } from './machine-health-check.js';
