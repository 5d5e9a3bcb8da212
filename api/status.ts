// Each kind's status as the watcher writes it to the management cluster (client/object-mirror.ts),
// described for the CRDs (api/crd.ts): `kubectl explain machinedeployment.status` shows these
// fields, and the API server keeps only them (a structural schema prunes the rest), as Cluster
// API's v1beta2 kinds declare theirs. Every field is optional: the mirror writes what it knows.
// These are documentation and the API server's schema; the workflows' own types are in each kind's
// file (ClusterStatus, MachineStatus, …).
import { z } from 'zod';
import type { KindName } from './kinds.js';

const count = (what: string) => z.number().int().min(0).optional().describe(what);
const observedGeneration = () => z.number().int().min(0).optional().describe('observedGeneration is the latest metadata.generation capstan has acted on.');
const selector = (what: string) => z.string().optional().describe(`selector is the label selector, in string form, of the Machines ${what} (the scale subresource's labelSelectorPath).`);

/** metav1.Condition, as Cluster API v1beta2 writes it. */
function conditions(types: string) {
  return z
    .array(
      z.object({
        type: z.string().describe('type of the condition, in CamelCase.'),
        status: z.enum(['True', 'False', 'Unknown']).describe('status of the condition: True, False or Unknown.'),
        reason: z.string().optional().describe('reason is a CamelCase word for the last transition.'),
        message: z.string().optional().describe('message is a human readable account of the last transition.'),
        lastTransitionTime: z.string().optional().describe('lastTransitionTime is when the condition last changed status (RFC 3339).'),
        observedGeneration: z.number().int().min(0).optional().describe('observedGeneration is the metadata.generation the condition was set for.'),
      }),
    )
    .optional()
    .describe(`conditions represent the observations of its current state: ${types}.`)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
}

const replicaCounts = (of: string) => ({
  replicas: count(`replicas is the number of ${of} Machines, deleting ones included.`),
  readyReplicas: count(`readyReplicas is the number of ${of} Machines whose Ready condition is True.`),
  availableReplicas: count(`availableReplicas is the number of ${of} Machines Ready for at least minReadySeconds.`),
  upToDateReplicas: count(`upToDateReplicas is the number of ${of} Machines made from the current template.`),
});

/** `initialization`: flags that turn true once, each with its doc. */
const initialization = (what: string, flags: Record<string, string>) =>
  z
    .object(Object.fromEntries(Object.entries(flags).map(([flag, doc]) => [flag, z.boolean().optional().describe(doc)])))
    .optional()
    .describe(what);

const endpoint = () =>
  z
    .object({ host: z.string().optional().describe('host is the endpoint\'s address.'), port: z.number().int().optional().describe('port is the endpoint\'s port.') })
    .optional()
    .describe('controlPlaneEndpoint is the endpoint of the workload cluster\'s API server.');

const STATUS: Record<KindName, () => z.ZodType> = {
  Cluster: () =>
    z.object({
      phase: z.string().optional().describe('phase is the Cluster\'s phase: Pending, Provisioning, Provisioned, Deleting, Failed.'),
      version: z.string().optional().describe('version is the Kubernetes version of the control plane (its oldest machine\'s, during an upgrade).'),
      controlPlane: z
        .object({ desiredReplicas: count('desiredReplicas is the control plane\'s spec.replicas.'), readyReplicas: count('readyReplicas is the number of control-plane machines whose Node is Ready.') })
        .optional()
        .describe('controlPlane counts the control plane\'s machines.'),
      workers: z
        .object({ desiredReplicas: count('desiredReplicas is the sum of the worker MachineDeployments\', MachineSets\' and Machines\' replicas.'), readyReplicas: count('readyReplicas is the number of worker machines whose Node is Ready.') })
        .optional()
        .describe('workers counts the worker machines.'),
      controlPlaneEndpoint: endpoint(),
      initialization: initialization('initialization tells the Cluster\'s first steps.', {
        infrastructureProvisioned: 'infrastructureProvisioned is true once the cluster infrastructure exists.',
        controlPlaneInitialized: 'controlPlaneInitialized is true once the first control-plane machine has initialized the cluster.',
      }),
      observedGeneration: observedGeneration(),
      conditions: conditions('InfrastructureReady, ControlPlaneInitialized, ControlPlaneAvailable, WorkersAvailable, RemoteConnectionProbe, RollingOut, ScalingUp, ScalingDown, Remediating, Available, Deleting'),
    }),
  Machine: () =>
    z.object({
      phase: z.string().optional().describe('phase is the Machine\'s phase: Pending, Provisioning, Provisioned, Running, Deleting, Failed.'),
      nodeRef: z.object({ name: z.string().optional().describe('name of the Node.') }).optional().describe('nodeRef names the Node of the workload cluster that this Machine is.'),
      observedGeneration: observedGeneration(),
      conditions: conditions('BootstrapConfigReady, InfrastructureReady, NodeReady, NodeHealthy, Ready, UpToDate, Available, HealthCheckSucceeded, OwnerRemediated, Deleting'),
    }),
  MachineSet: () =>
    z.object({
      selector: selector('of the set'),
      ...replicaCounts('the set\'s'),
      observedGeneration: observedGeneration(),
      conditions: conditions('MachinesReady, MachinesUpToDate, ScalingUp, ScalingDown, Remediating, Deleting'),
    }),
  MachineDeployment: () =>
    z.object({
      selector: selector('of the deployment'),
      phase: z.string().optional().describe('phase is the MachineDeployment\'s phase: ScalingUp, ScalingDown, Running, Failed, Unknown.'),
      ...replicaCounts('the deployment\'s'),
      unavailableReplicas: count('unavailableReplicas is replicas − availableReplicas, never below 0.'),
      observedGeneration: observedGeneration(),
      conditions: conditions('Available, RollingOut, ScalingUp, ScalingDown, Paused'),
    }),
  MachineHealthCheck: () =>
    z.object({
      expectedMachines: count('expectedMachines is the number of machines the health check selects.'),
      currentHealthy: count('currentHealthy is the number of those machines that are healthy.'),
      remediationsAllowed: count('remediationsAllowed is how many more machines may be remediated now (maxUnhealthy or unhealthyRange).'),
      targets: z.array(z.string()).optional().describe('targets are the names of the machines the health check selects.'),
      observedGeneration: observedGeneration(),
      conditions: conditions('RemediationAllowed'),
    }),
  KubeadmControlPlane: () =>
    z.object({
      selector: selector('of the control plane'),
      replicas: count('replicas is the number of control-plane machines, deleting ones included.'),
      readyReplicas: count('readyReplicas is the number of control-plane machines whose Ready condition is True.'),
      upToDateReplicas: count('upToDateReplicas is the number of control-plane machines at the desired version.'),
      unavailableReplicas: count('unavailableReplicas is replicas − readyReplicas, never below 0.'),
      version: z.string().optional().describe('version is the oldest Kubernetes version the control-plane machines run.'),
      initialization: initialization('initialization tells the control plane\'s first step.', {
        controlPlaneInitialized: 'controlPlaneInitialized is true once the first machine has initialized the cluster.',
      }),
      observedGeneration: observedGeneration(),
      conditions: conditions('Available'),
    }),
  KubeadmConfig: () =>
    z.object({
      dataSecretName: z.string().optional().describe('dataSecretName is the Secret holding the machine\'s bootstrap data (cloud-init).'),
      initialization: initialization('initialization tells whether the bootstrap data exists.', { dataSecretCreated: 'dataSecretCreated is true once the bootstrap data exists.' }),
      observedGeneration: observedGeneration(),
    }),
  KubeadmConfigTemplate: () => z.object({}).describe('A template has no status.'),
  SimCluster: () =>
    z.object({
      controlPlaneEndpoint: endpoint(),
      initialization: initialization('initialization tells whether the infrastructure exists.', { provisioned: 'provisioned is true once the cluster infrastructure (its load balancer) exists.' }),
      observedGeneration: observedGeneration(),
    }),
  SimMachine: () =>
    z.object({
      initialization: initialization('initialization tells whether the instance exists.', { provisioned: 'provisioned is true once the instance exists (spec.providerID is set).' }),
      observedGeneration: observedGeneration(),
    }),
  SimMachineTemplate: () => z.object({}).describe('A template has no status.'),
};

/** The status schema of a kind, for its CRD. */
export const statusSchema = (kind: KindName): z.ZodType => STATUS[kind]();
